"""``lit_digits demo``: a web page to try a trained model, by drawing a digit or giving image files."""

from lit_digits.cli.run_parser import run_parser
from lit_digits.cli.serve_command import add_address, serve_modules

USAGE = ("lit_digits demo RUN_DIR_OR_CHECKPOINT [--host HOST] [--port N] [--data_dir DIR] [--no_browser] "
         "[--trusted_modules PACKAGE ...]")  # fmt: skip


def demo_command(argv: list[str]) -> None:
    """Serve the demo page of the run's checkpoint until Ctrl-C or SIGTERM."""
    parser = run_parser(
        "lit_digits demo",
        USAGE,
        "Try a run's model (runs/<config>/version_N: its checkpoints/best.ckpt, else last.ckpt; or a checkpoint "
        "file) in a web page: draw a digit (MNIST recipes), or drop, paste or pick an image file, or click one of "
        "the data set's test images, and see the class probabilities. Images are read as lit_digits predict reads "
        "them. The page is served with the model by lit_digits serve's server, whose POST /predict it asks.",
    )
    add_address(parser, default_port=None)
    parser.add_argument("--data_dir", default=None, metavar="DIR",
                        help="where the data set is, if not where the run had it: its test images become examples")  # fmt: skip
    parser.add_argument("--no_browser", action="store_true", help="do not open the page in a browser")
    args = parser.parse_args(argv)
    serve_modules("demo")
    from lit_digits.serve.demo import demo  # the serve extra's packages, imported only by this command

    demo(args.run, args.host, args.port, args.data_dir, args.trusted_modules, not args.no_browser)
