"""The Trainer callbacks of lit_digits: the ones every run gets, and ``ChannelsLast`` for configs."""

from lit_digits.callbacks.channels_last import ChannelsLast
from lit_digits.callbacks.epoch_lines import EpochLines
from lit_digits.callbacks.predictions import PrintPredictions
from lit_digits.callbacks.progress import TimedProgressBar
from lit_digits.callbacks.run_checkpoints import RunCheckpoints
from lit_digits.callbacks.xla_graphs import XLAGraphCheck

__all__ = ["ChannelsLast", "EpochLines", "PrintPredictions", "RunCheckpoints", "TimedProgressBar", "XLAGraphCheck"]
