"""What every command shows: lit_digits' own messages, without those a user cannot act on."""

import logging
import warnings

NOISE = (
    "Defaulting to PJRT_DEVICE=CPU",  # importing torch-xla on a machine without a TPU
    "💡 Tip:",  # Lightning's advertisements for litlogger and litmodels
    "to estimate number of stepping batches",  # Lightning reading the training data's length before fit
)
"""Messages that tell a user nothing they can act on, dropped from every command's output."""

IGNORED_WARNINGS = (
    ".*The dirpath has changed from",  # test/validate/predict load a checkpoint outside its run folder, on purpose
    "Precision .* is not supported by the model summary",
    r"`isinstance\(treespec, LeafSpec\)` is deprecated",  # Lightning 2.6 on the newest torch, at every command
)


def _quiet(record: logging.LogRecord) -> bool:
    return not any(noise in record.getMessage() for noise in NOISE)


def set_up_output() -> None:
    """Drop ``NOISE`` from the logs (torch-xla logs to the root logger, Lightning to its own),
    ignore ``IGNORED_WARNINGS``, and show lit_digits' own log lines as plain messages."""
    logging.getLogger().addFilter(_quiet)
    for handler in logging.getLogger("lightning.pytorch").handlers:
        handler.addFilter(_quiet)
    for message in IGNORED_WARNINGS:
        warnings.filterwarnings("ignore", message=message)
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(message)s"))
    package_log = logging.getLogger("lit_digits")
    package_log.addHandler(handler)
    package_log.setLevel(logging.INFO)
    package_log.propagate = False
