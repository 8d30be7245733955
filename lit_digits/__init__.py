"""lit_digits: the classic small-image classifier recipes on TPU, GPU or CPU with Lightning."""

from lit_digits.accelerators import XLACPUAccelerator
from lit_digits.channels_last import ChannelsLast
from lit_digits.data import CIFAR10DataModule, ImageDataModule, MNISTDataModule
from lit_digits.errors import LitDigitsError
from lit_digits.models import DavidNet, ImageClassifier, TPUConvNet
from lit_digits.xla_compiles import XLAGraphCheck

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
