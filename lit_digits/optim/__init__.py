"""Optimizers the recipes use beyond torch's, and the recipe's optimizer as data (parameter groups)."""

from lit_digits.optim.combined import CombinedOptimizer
from lit_digits.optim.groups import ParamGroup
from lit_digits.optim.muon import Muon
from lit_digits.optim.sgd import LrBeforeMomentumSGD

__all__ = ["CombinedOptimizer", "LrBeforeMomentumSGD", "Muon", "ParamGroup"]
