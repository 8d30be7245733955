"""lit_digits: the classic small-image classifier recipes on TPU, GPU or CPU with Lightning."""

import os

# torch-xla bakes the Python scalars 0 and 1 into its graphs as constants, so a learning rate
# that reaches 0 (the end of a schedule, a group trained only for the first epochs) compiles
# the step again. It reads this switch when it is imported, so it is set before anything imports it.
os.environ.setdefault("XLA_NO_SPECIAL_SCALARS", "1")

from lit_digits.accelerators import XLACPUAccelerator
from lit_digits.callbacks.channels_last import ChannelsLast
from lit_digits.callbacks.xla_graphs import XLAGraphCheck
from lit_digits.data import CIFAR10DataModule, ImageDataModule, MNISTDataModule
from lit_digits.errors import LitDigitsError
from lit_digits.models import DavidNet, ImageClassifier, TPUConvNet

__all__ = [
    "CIFAR10DataModule",
    "ChannelsLast",
    "DavidNet",
    "ImageClassifier",
    "ImageDataModule",
    "LitDigitsError",
    "MNISTDataModule",
    "TPUConvNet",
    "XLACPUAccelerator",
    "XLAGraphCheck",
]
