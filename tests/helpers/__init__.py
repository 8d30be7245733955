"""What the tests of every part share: running the command line (``helpers.cli``), tiny data sets in the
real formats (``helpers.tiny_data``), servers (``helpers.servers``) and a browser (``helpers.browser``).
Importable from every folder of the tests (``pythonpath = tests`` in setup.cfg)."""
