"""LightningModules: the shared recipe class and the published recipes built on it."""

from lit_digits.models.classifier import ImageClassifier
from lit_digits.models.davidnet import DavidNet
from lit_digits.models.tpu_convnet import TPUConvNet

__all__ = ["DavidNet", "ImageClassifier", "TPUConvNet"]
