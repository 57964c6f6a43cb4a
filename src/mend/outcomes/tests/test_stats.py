"""The evidence report's statistics against textbook examples and statsmodels' independent results."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given
from hypothesis import strategies as st
from scipy import stats as scipy_stats
from statsmodels.duration.survfunc import SurvfuncRight
from statsmodels.stats.proportion import proportion_confint
from statsmodels.stats.weightstats import DescrStatsW

from mend.outcomes.stats import dropout_rate, kaplan_meier, mean_ci, proportion_ci

# --- Mean with a t interval -------------------------------------------------------------------


def test_mean_ci_of_one_to_five_matches_the_hand_computed_t_interval():
    # mean 3, sd √2.5 = 1.5811, t(0.975, 4) = 2.776445 → half-width 2.776445 × 1.5811 / √5 = 1.9632.
    found = mean_ci([1, 2, 3, 4, 5])
    assert found.n == 5
    assert found.mean == pytest.approx(3.0)
    assert found.sd == pytest.approx(1.5811388)
    assert found.low == pytest.approx(1.0367568, abs=1e-6)
    assert found.high == pytest.approx(4.9632432, abs=1e-6)


def test_mean_ci_matches_scipy_ttest_and_statsmodels():
    values = [2.5, -1.0, 4.0, 3.0, 0.5, 6.0, 2.0]
    found = mean_ci(values)
    reference = scipy_stats.ttest_1samp(values, 0).confidence_interval(0.95)
    assert (found.low, found.high) == pytest.approx((reference.low, reference.high))
    assert (found.low, found.high) == pytest.approx(DescrStatsW(values).tconfint_mean(alpha=0.05))


def test_mean_ci_has_no_interval_from_one_value_and_nothing_from_none():
    one = mean_ci([4.0])
    assert (one.mean, one.low, one.high, one.sd) == (4.0, None, None, None)
    assert mean_ci([]) is None


# --- Proportion with a Wilson interval ----------------------------------------------------------


def test_wilson_interval_for_8_of_10_matches_the_textbook():
    # Newcombe 1998 / Wilson 1927: 8/10 → 0.4902 to 0.9433.
    found = proportion_ci(8, 10)
    assert found.estimate == pytest.approx(0.8)
    assert found.low == pytest.approx(0.4902, abs=1e-4)
    assert found.high == pytest.approx(0.9433, abs=1e-4)


def test_wilson_interval_at_zero_does_not_collapse_like_wald():
    # 0/10: z²/(2n) twice over (1 + z²/n) = 0.38415 / 1.38415 = 0.2775 upper bound; lower bound 0.
    found = proportion_ci(0, 10)
    assert found.low == 0.0
    assert found.high == pytest.approx(0.2775, abs=1e-4)


@pytest.mark.parametrize(("k", "n"), [(0, 1), (1, 1), (3, 7), (17, 40), (120, 121), (5000, 10000)])
def test_wilson_interval_matches_statsmodels(k, n):
    found = proportion_ci(k, n)
    assert (found.low, found.high) == pytest.approx(proportion_confint(k, n, alpha=0.05, method="wilson"), abs=1e-9)


def test_proportion_of_nothing_is_none_and_impossible_counts_raise():
    assert proportion_ci(0, 0) is None
    with pytest.raises(ValueError):
        proportion_ci(3, 2)


def test_dropout_rate_is_a_wilson_proportion():
    assert dropout_rate(2, 10) == proportion_ci(2, 10)


@given(st.integers(min_value=1, max_value=2000).flatmap(lambda n: st.tuples(st.integers(0, n), st.just(n))))
def test_wilson_interval_contains_the_estimate_within_zero_and_one(pair):
    k, n = pair
    found = proportion_ci(k, n)
    assert 0.0 <= found.low <= found.estimate <= found.high <= 1.0


@given(st.lists(st.floats(min_value=-100, max_value=100, allow_nan=False), min_size=2, max_size=60))
def test_mean_interval_contains_the_mean(values):
    found = mean_ci(values)
    assert found.low <= found.mean + 1e-9
    assert found.mean <= found.high + 1e-9


# --- Kaplan–Meier -------------------------------------------------------------------------------


def test_kaplan_meier_with_censoring_matches_the_hand_computation():
    # Sessions to MCID for six episodes; False = discharged or still in care without reaching it.
    #   t=1: 6 at risk, 1 event          → S = 5/6
    #   t=2: 5 at risk, 1 event, 1 lost  → S = 5/6 × 4/5 = 2/3
    #   t=3: 3 at risk, 1 event          → S = 2/3 × 2/3 = 4/9
    #   t=4: 2 at risk, 1 lost           → S = 4/9
    #   t=5: 1 at risk, 1 event          → S = 0
    km = kaplan_meier([1, 2, 2, 3, 4, 5], [True, True, False, True, False, True])
    assert [s.time for s in km.steps] == [1, 2, 3, 4, 5]
    assert [s.at_risk for s in km.steps] == [6, 5, 3, 2, 1]
    assert [(s.events, s.censored) for s in km.steps] == [(1, 0), (1, 1), (1, 0), (0, 1), (1, 0)]
    assert [s.survival for s in km.steps] == pytest.approx([5 / 6, 2 / 3, 4 / 9, 4 / 9, 0.0])
    assert km.median == 3
    assert km.survival_at(0) == 1.0
    assert km.survival_at(3.5) == pytest.approx(4 / 9)
    assert km.steps[2].reached == pytest.approx(5 / 9)
    assert (km.n, km.events) == (6, 4)


def test_kaplan_meier_with_no_event_stays_at_one():
    km = kaplan_meier([3, 6, 6], [False, False, False])
    assert [s.survival for s in km.steps] == [1.0, 1.0]
    assert km.median is None
    assert kaplan_meier([], []) is None


@st.composite
def censored_samples(draw):
    n = draw(st.integers(min_value=1, max_value=40))
    times = draw(st.lists(st.integers(min_value=1, max_value=12), min_size=n, max_size=n))
    reached = draw(st.lists(st.booleans(), min_size=n, max_size=n))
    return times, reached


@given(censored_samples())
def test_kaplan_meier_is_non_increasing_within_zero_and_one(sample):
    km = kaplan_meier(*sample)
    survivals = [s.survival for s in km.steps]
    assert all(0.0 <= s <= 1.0 for s in survivals)
    assert all(a >= b - 1e-12 for a, b in itertools.pairwise(survivals))


@given(censored_samples())
def test_kaplan_meier_matches_statsmodels(sample):
    times, reached = sample
    km = kaplan_meier(times, reached)
    if not any(reached):
        return
    reference = SurvfuncRight(times, [int(r) for r in reached])
    for time, probability in zip(reference.surv_times, reference.surv_prob, strict=True):
        assert km.survival_at(float(time)) == pytest.approx(float(probability), abs=1e-9)


# --- The median where the curve sits exactly at 0.5: R's survfit convention ----------------------


def test_median_of_a_curve_flat_at_one_half_is_the_midpoint_of_the_flat():
    # Four episodes reach the MCID at sessions 1, 2, 3, 4: S = 3/4, 1/2, 1/4, 0. The curve sits at 0.5
    # from session 2 until the next event at 3, so the median is 2.5 (R: median(survfit(...)) = 2.5,
    # and the plain median of 1, 2, 3, 4), not 2.
    km = kaplan_meier([1, 2, 3, 4], [True, True, True, True])
    assert km.median == 2.5


def test_median_of_a_curve_that_ends_flat_at_one_half_runs_to_the_last_time_observed():
    # Events at 1 and 2, then both others censored at 3 and 4: S stays 1/2 from 2 to the end (4).
    km = kaplan_meier([1, 2, 3, 4], [True, True, False, False])
    assert km.median == 3


def test_median_just_below_one_half_is_the_first_time_there():
    # The hand-computed curve above: 2/3 at 2, 4/9 at 3; nothing sits at 0.5 exactly.
    assert kaplan_meier([1, 2, 2, 3, 4, 5], [True, True, False, True, False, True]).median == 3


@pytest.mark.parametrize(
    ("share", "expected"),
    # therneau/survival tests/quantile.R: times 9, 1, 1, 6, 6, 8, 10 with status 1, 1, 0, 1, 1, 0, 0,
    # S = 6/7 at 1, 18/35 at 6, 9/35 at 9; quantiles at 1 − (13/14, 6/7, 2/3, 1/2, 9/35, 1/10) are
    # 1, 3.5 (flat at 6/7 from 1 to 6), 6, 9, 9.5 (flat at 9/35 from 9 to the last time, 10) and none.
    [(1 / 14, 1), (1 / 7, 3.5), (1 / 3, 6), (1 / 2, 9), (26 / 35, 9.5), (9 / 10, None)],
)
def test_quantiles_follow_r_survfit_on_its_own_worked_example(share, expected):
    km = kaplan_meier([9, 1, 1, 6, 6, 8, 10], [True, True, False, True, True, False, False])
    assert km.time_to(share) == expected
