"""LightningModules: the shared recipe class, the published recipes built on it, and the techniques a recipe names."""

from lit_digits.models.averaging import WeightAverage
from lit_digits.models.classifier import ImageClassifier
from lit_digits.models.compiling import Compile
from lit_digits.models.davidnet import DavidNet
from lit_digits.models.tpu_convnet import TPUConvNet
from lit_digits.models.views import AveragedViews, SelectiveViews

__all__ = ["AveragedViews", "Compile", "DavidNet", "ImageClassifier", "SelectiveViews", "TPUConvNet", "WeightAverage"]
