"""What a recipe's test accuracies over seeds say: their mean with its confidence interval, and
the difference between two recipes' means with Welch's t-test, as speed-record tables report them.

Seeds of one recipe are taken as independent draws of its accuracy; the intervals are Student t
intervals, which assume the accuracy is roughly normal over seeds.
"""

import math
from collections.abc import Sequence
from dataclasses import dataclass

from scipy import stats

CONFIDENCE = 0.95
MIN_SEEDS_FOR_INTERVAL = 3
"""Below this no interval is given: with 2 seeds Student's quantile is 12.7 and the interval is
twenty times the two values' spread, which says nothing one could use."""
MIN_SEEDS_FOR_TEST = 2
"""A t-test needs each side's variance, so at least 2 values a side."""


@dataclass(frozen=True)
class Summary:
    """``n`` values: their mean, sample standard deviation (None for one value) and the
    ``CONFIDENCE`` interval of the mean (None below ``MIN_SEEDS_FOR_INTERVAL``)."""

    n: int
    mean: float
    std: float | None
    interval: tuple[float, float] | None


@dataclass(frozen=True)
class Difference:
    """The difference of two means, its ``CONFIDENCE`` interval (None unless each side has
    ``MIN_SEEDS_FOR_INTERVAL`` values), the test's two-sided p-value and degrees of freedom (None
    unless each side has ``MIN_SEEDS_FOR_TEST``)."""

    difference: float
    interval: tuple[float, float] | None
    p_value: float | None
    df: float | None


def summary_from_moments(mean: float, std: float | None, n: int) -> Summary:
    """The summary of ``n`` values known only by their mean and sample standard deviation."""
    if n < 1:
        raise ValueError("no values to summarize")
    interval = None
    if n >= MIN_SEEDS_FOR_INTERVAL:
        half_width = float(stats.t.ppf((1 + CONFIDENCE) / 2, n - 1)) * std / math.sqrt(n)
        interval = (mean - half_width, mean + half_width)
    return Summary(n, mean, std, interval)


def summarize(values: Sequence[float]) -> Summary:
    """Mean, sample standard deviation and the Student t interval of the mean of ``values``."""
    if not values:
        raise ValueError("no values to summarize")
    n = len(values)
    mean = math.fsum(values) / n
    std = math.sqrt(math.fsum((value - mean) ** 2 for value in values) / (n - 1)) if n > 1 else None
    return summary_from_moments(mean, std, n)


def welch(a: Sequence[float], b: Sequence[float]) -> Difference:
    """mean(a) - mean(b), with Welch's interval and t-test (which do not assume equal variances)."""
    difference = summarize(a).mean - summarize(b).mean
    if min(len(a), len(b)) < MIN_SEEDS_FOR_TEST:
        return Difference(difference, None, None, None)
    result = stats.ttest_ind(a, b, equal_var=False)
    interval = None
    if min(len(a), len(b)) >= MIN_SEEDS_FOR_INTERVAL:
        low, high = result.confidence_interval(CONFIDENCE)
        interval = (float(low), float(high))
    return Difference(difference, interval, float(result.pvalue), float(result.df))


def against_reference(values: Sequence[float], reference: float) -> Difference:
    """mean(values) - ``reference``, a mean taken as exact (such as one of hundreds of runs), with the
    one-sample t-test; its interval is the interval of the mean, shifted."""
    summary = summarize(values)
    if summary.n < MIN_SEEDS_FOR_TEST:
        return Difference(summary.mean - reference, None, None, None)
    result = stats.ttest_1samp(values, reference)
    interval = None if summary.interval is None else tuple(bound - reference for bound in summary.interval)
    return Difference(summary.mean - reference, interval, float(result.pvalue), float(result.df))
