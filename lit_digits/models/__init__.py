"""LightningModules: the shared classifier base and one file per network."""

from lit_digits.models.classifier import ImageClassifier
from lit_digits.models.davidnet import DavidNet
from lit_digits.models.mlp import MLP
from lit_digits.models.tpu_convnet import TPUConvNet

__all__ = ["MLP", "DavidNet", "ImageClassifier", "TPUConvNet"]
