"""``lit_digits serve``: a trained model as an HTTP service, with LitServe (the ``serve`` extra, imported
by the modules of this folder, not by this file)."""

MAX_BATCH_SIZE = 16
"""The most requests classified in one run of the model, by default."""
BATCH_TIMEOUT = 0.005
"""How long a batch waits to fill, by default, in seconds: at most this much is added to a request's time."""
