"""A trained model out of lit_digits: the network with its normalization, as ONNX or a torch.export program."""

from lit_digits.export.deployed import DeployedClassifier
from lit_digits.export.formats import FORMATS, export, run_exported

__all__ = ["FORMATS", "DeployedClassifier", "export", "run_exported"]
