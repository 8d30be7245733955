"""benchmarks/seed_statistics.py against values worked out by hand: Student's t has a closed-form
distribution function at 2 and 4 degrees of freedom, and its 97.5% quantile at 4 is in every table."""

import math
import sys

import pytest
from helpers.cli import CONFIGS

sys.path.append(str(CONFIGS.parent / "benchmarks"))
from seed_statistics import against_reference, summarize, summary_from_moments, welch

T_975_4 = 2.7764451051977987
"""Student's t, 4 degrees of freedom, 97.5% quantile (tables give 2.776)."""
CIFAR_AIR = [93.84, 94.06, 94.25, 94.13, 93.99]


def t4_cdf(x: float) -> float:
    """Student's t distribution function at 4 degrees of freedom, in closed form."""
    return 0.5 + 3 / 8 * x / math.sqrt(1 + x * x / 4) * (1 - x * x / (12 * (1 + x * x / 4)))


def test_the_closed_form_gives_the_tables_quantile():
    assert t4_cdf(T_975_4) == pytest.approx(0.975)


def test_the_interval_of_the_mean_is_students_with_n_minus_one_degrees_of_freedom():
    summary = summarize(CIFAR_AIR)
    # mean 470.27 / 5; squared deviations 0.045796 + 0.000036 + 0.038416 + 0.005776 + 0.004096 = 0.09412, / (5 - 1)
    std = math.sqrt(0.09412 / 4)
    half_width = T_975_4 * std / math.sqrt(5)
    assert (summary.n, summary.mean, summary.std) == (5, pytest.approx(94.054), pytest.approx(std))
    assert summary.interval == pytest.approx((94.054 - half_width, 94.054 + half_width))
    assert half_width == pytest.approx(0.19046, abs=1e-5)


def test_the_interval_from_mean_and_std_is_the_one_from_the_values():
    summary = summarize(CIFAR_AIR)
    assert summary_from_moments(summary.mean, summary.std, 5).interval == pytest.approx(summary.interval)


def test_fewer_than_three_values_give_no_interval_and_one_value_no_spread():
    assert summarize([94.00, 94.12]).interval is None
    assert summarize([94.00, 94.12]).std == pytest.approx(0.12 / math.sqrt(2))
    assert summarize([95.17]) == summary_from_moments(95.17, None, 1)
    assert summarize([95.17]).std is None and summarize([95.17]).interval is None


def test_welch_matches_students_closed_form_at_four_degrees_of_freedom():
    # Equal variances (1) and sizes (3): Welch's degrees of freedom are 2 (3 - 1) = 4 and t = -2 / sqrt(2/3) = -sqrt(6)
    result = welch([1.0, 2.0, 3.0], [3.0, 4.0, 5.0])
    assert result.difference == pytest.approx(-2.0) and result.df == pytest.approx(4.0)
    assert result.p_value == pytest.approx(2 * (1 - t4_cdf(math.sqrt(6))))
    assert result.p_value == pytest.approx(0.070484, abs=1e-6)
    assert result.interval == pytest.approx((-2 - T_975_4 * math.sqrt(2 / 3), -2 + T_975_4 * math.sqrt(2 / 3)))


def test_welch_does_not_pool_unequal_variances():
    # Welch-Satterthwaite: (1/3 + 250/5)^2 / ((1/3)^2 / 2 + (250/5)^2 / 4) = 4.0532; Student's pooled test would have 6
    result = welch([1.0, 2.0, 3.0], [10.0, 20.0, 30.0, 40.0, 50.0])
    assert result.df == pytest.approx(4.053151, abs=1e-6)
    assert result.difference == pytest.approx(-28.0)


def test_two_values_a_side_give_a_p_value_but_no_interval():
    # Two degrees of freedom: F(t) = 1/2 + t / (2 sqrt(2 + t^2)); t = -3 / sqrt(2), so p = 1 - 3 / sqrt(13)
    result = welch([1.0, 3.0], [4.0, 6.0])
    assert result.p_value == pytest.approx(1 - 3 / math.sqrt(13)) and result.df == pytest.approx(2.0)
    assert result.interval is None


def test_one_value_on_a_side_gives_no_test():
    result = welch([93.84], [94.00, 94.12])
    assert result.difference == pytest.approx(-0.22)
    assert (result.interval, result.p_value, result.df) == (None, None, None)
    assert against_reference([95.17], 95.01).p_value is None


def test_a_reference_mean_is_tested_by_the_one_sample_t_test():
    result = against_reference(CIFAR_AIR, 94.01)
    t = (94.054 - 94.01) / (math.sqrt(0.09412 / 4) / math.sqrt(5))
    assert result.difference == pytest.approx(0.044) and result.df == 4
    assert result.p_value == pytest.approx(2 * (1 - t4_cdf(t)))
    low, high = summarize(CIFAR_AIR).interval
    assert result.interval == pytest.approx((low - 94.01, high - 94.01))
