"""The techniques every recipe runs, before those it names."""

from lit_digits.models.non_finite import NonFiniteGuard
from lit_digits.models.precision import Float32BatchNorm
from lit_digits.models.whitening_fit import FitWhitening
from lit_digits.technique import Technique


def always_on() -> list[Technique]:
    """Fit patch-whitening layers to the first training images, keep BatchNorm in float32, stop on a
    non-finite training loss."""
    return [FitWhitening(), Float32BatchNorm(), NonFiniteGuard()]
