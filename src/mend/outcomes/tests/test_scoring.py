"""Scores and change classifications against the published rules and MCID papers (reference §1)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mend.outcomes import ScoringError, change, measures, score

# --- Worked examples from the scoring rules -------------------------------------------------------


def test_odi_sums_sections_over_five_per_answered_section():
    # 16 of 50 → 32 %; the same 16 with one section blank → 16/45 = 35.56 % (never truncated to 35.5).
    assert score("odi", [3, 2, 1, 2, 2, 1, 2, 1, 2, 0]).value == pytest.approx(32.0)
    blank_one = score("odi", [3, 2, 1, 2, 2, 1, 2, None, 2, 1])
    assert blank_one.value == pytest.approx(16 / 45 * 100)
    assert blank_one.value != 35.5


@pytest.mark.parametrize(
    ("total", "band"),
    [(0, "Minimal disability"), (10, "Minimal disability"), (11, "Moderate disability"), (25, "Severe disability"),
     (35, "Crippled"), (50, "Bed-bound")],
)  # fmt: skip
def test_odi_bands(total, band):
    answers = [5] * (total // 5) + ([total % 5] if total % 5 else [])
    answers += [0] * (10 - len(answers))
    assert score("odi", answers).band == band


def test_ndi_is_raw_times_two_and_prorates_one_blank_item():
    full = score("ndi", [2, 2, 1, 1, 3, 2, 1, 1, 2, 0])
    assert (full.raw, full.value, full.band) == (15, 30, "Moderate disability")
    one_blank = score("ndi", [2, 2, 1, 1, 3, 2, 1, 1, 2, None])
    assert one_blank.raw == pytest.approx(15 + 15 / 9)  # the mean of the other nine is added
    assert score("ndi", [2, 2, 1, 1, 3, 2, 1, 1, None, None]) is None


@pytest.mark.parametrize(("raw", "band"), [(4, "No disability"), (5, "Mild disability"), (14, "Mild disability"),
                                           (15, "Moderate disability"), (25, "Severe disability"),
                                           (35, "Complete disability")])  # fmt: skip
def test_ndi_bands_follow_vernon(raw, band):
    answers = [5] * (raw // 5) + ([raw % 5] if raw % 5 else [])
    answers += [0] * (10 - len(answers))
    assert score("ndi", answers).band == band


def test_lefs_is_the_sum_and_needs_every_item():
    assert score("lefs", [4] * 20).value == 80
    assert score("lefs", [2] * 19 + [3]).value == 41
    assert score("lefs", [2] * 19 + [None]) is None


def test_quickdash_formula_and_missing_rule():
    assert score("quickdash", [1] * 11).value == 0
    assert score("quickdash", [5] * 11).value == 100
    # ten answered summing 21: (21/10 − 1) × 25 = 27.5
    assert score("quickdash", [2, 3, 1, 2, 3, 2, 1, 2, 3, 2, None]).value == 27.5
    assert score("quickdash", [3] * 9 + [None, None]) is None


def test_fiqr_domains_and_weighting_for_blanks():
    assert score("fiqr", [10] * 21).value == pytest.approx(100)
    assert score("fiqr", [5] * 21).value == pytest.approx(50)  # 45/3 + 10/1 + 50/2
    # One blank function item: the function sum is weighted by 9/8.
    answers = [4] * 8 + [None] + [6, 6] + [2] * 10
    assert score("fiqr", answers).value == pytest.approx(32 * 9 / 8 / 3 + 12 + 20 / 2)
    assert score("fiqr", [None] * 9 + [5] * 12) is None


def test_pss10_reverses_the_positive_items():
    # Items 4, 5, 7, 8 reversed: 1→3, 2→2, 1→3, 2→2.
    result = score("pss10", [2, 1, 3, 1, 2, 3, 1, 2, 2, 1])
    assert (result.value, result.band) == (22, "Moderate stress")
    assert score("pss10", [0, 0, 0, 4, 4, 0, 4, 4, 0, 0]).value == 0
    assert score("pss10", [4, 4, 4, 0, 0, 4, 0, 0, 4, 4]).value == 40


def test_hit6_item_points_and_bands():
    assert score("hit6", [0] * 6).value == 36
    assert score("hit6", [4] * 6).value == 78
    result = score("hit6", [2, 2, 3, 1, 2, 2])  # 10+10+11+8+10+10
    assert (result.value, result.band) == (59, "Substantial impact")
    assert score("hit6", [2, 2, 2, 2, 2, None]) is None


def test_psfs_averages_the_activities_rated():
    assert score("psfs", [3, 5, 7]).value == 5
    assert score("psfs", [3, None, 6]).value == 4.5
    assert score("psfs", [None, None]) is None


def test_single_items_and_global_ratings():
    assert score("nprs", [7]).value == 7
    assert score("pgic", [2]).band == "Much improved"
    assert score("groc", [-3]).value == -3
    assert score("sleep", [8]).band == "Good"


@pytest.mark.parametrize(
    ("measure", "answers"),
    [("nprs", [11]), ("nprs", [1, 2]), ("odi", [6] + [0] * 9), ("quickdash", [0] * 11), ("hit6", [5] * 6),
     ("pgic", [0]), ("nope", [1])],
)  # fmt: skip
def test_answers_outside_the_instrument_are_refused(measure, answers):
    with pytest.raises(ScoringError):
        score(measure, answers)


# --- Change and responders against MCID papers ------------------------------------------------


def test_nprs_responder_at_two_points_farrar_2001():
    assert change("nprs", 7, 5).responder is True  # exactly 2: inclusive
    assert change("nprs", 7, 6).responder is False
    assert change("nprs", 4, 6).improvement == -2  # worse is negative
    assert change("nprs", 8, 5).meets(relative=0.30) is True  # 37.5 %
    assert change("nprs", 10, 8).meets(relative=0.30) is False  # 20 %


def test_odi_ten_points_ostelo_2008():
    assert change("odi", 40, 30).responder is True
    assert change("odi", 50, 42).responder is False  # 8 points
    # Ostelo's consensus is "10 points or 30 %": 20 → 14 is 6 points but 30 %.
    assert change("odi", 20, 14).responder is True
    assert change("odi", 20, 15).responder is False
    # Any other rule stays available to a clinic that asks for it.
    assert change("odi", 20, 14).meets(absolute=10) is False


def test_lefs_nine_points_binkley_1999():
    assert change("lefs", 40, 49).responder is True
    assert change("lefs", 40, 48).responder is False
    assert change("lefs", 40, 49).improvement == 9  # higher is better on LEFS


def test_quickdash_fourteen_points_sorensen_2013():
    baseline = score("quickdash", [3] * 11)  # 50
    followup = score("quickdash", [2] * 5 + [3] * 6)  # 38.6…
    assert change("quickdash", baseline, followup).responder is False
    assert change("quickdash", 50, 36).responder is True


def test_pgic_responder_is_much_or_very_much_improved():
    assert change("pgic", 4, 2).responder is True
    assert change("pgic", 4, 3).responder is False


def test_relative_change_is_none_from_a_zero_baseline():
    result = change("nprs", 0, 0)
    assert result.relative is None
    assert result.meets(relative=0.3) is None
    assert result.meets(absolute=2) is False


def test_measures_without_an_mcid_have_no_responder_verdict():
    assert change("stress", 8, 3).responder is None


def test_every_mcid_names_its_source_and_licensed_wording_does_not_ship():
    for measure in measures().values():
        assert measure.mcid is None or measure.mcid.source
        if measure.id in {"odi", "ndi", "lefs", "quickdash", "fiqr", "pss10", "hit6"}:
            assert not measure.ships_text and not measure.item_text
        if measure.id in {"nprs", "psfs", "pgic", "groc"}:
            assert measure.ships_text and measure.item_text


# --- Properties --------------------------------------------------------------------------------


def _answers(measure_id: str):
    m = measures()[measure_id]
    count = m.items or 5
    value = st.integers(int(m.min), int(m.max))
    return st.lists(st.none() | value, min_size=count, max_size=count)


@pytest.mark.parametrize("measure_id", sorted(measures()))
def test_scores_stay_within_the_published_range(measure_id):
    m = measures()[measure_id]

    @given(_answers(measure_id))
    def check(answers):
        result = score(measure_id, answers)
        if result is not None:
            assert m.score_min - 1e-9 <= result.value <= m.score_max + 1e-9

    check()


@pytest.mark.parametrize("measure_id", sorted(measures()))
def test_all_blank_is_never_scored_as_zero(measure_id):
    m = measures()[measure_id]
    assert score(measure_id, [None] * (m.items or 3)) is None


@given(st.sampled_from(sorted(measures())), st.floats(0, 50), st.floats(0, 50))
def test_improvement_is_antisymmetric(measure_id, a, b):
    assert change(measure_id, a, b).improvement == pytest.approx(-change(measure_id, b, a).improvement)


# --- The registry lives below the apps ----------------------------------------------------------


def test_every_scoring_rule_the_registry_allows_is_implemented():
    from mend.knowledge.outcome_measures import SCORING_RULES
    from mend.outcomes.scoring import RULES

    assert set(RULES) == SCORING_RULES


def test_the_registry_is_the_same_objects_from_knowledge_and_outcomes():
    from mend.knowledge import outcome_measures

    assert measures() is outcome_measures.measures()
    assert {m.rule for m in measures().values()} <= outcome_measures.SCORING_RULES


def test_the_registry_loads_without_the_outcomes_app():
    """The clinical app checks plan measures against the registry, so it must not need mend.outcomes."""
    import subprocess
    import sys

    code = (
        "import sys; from mend.knowledge.outcome_measures import measures; assert 'nprs' in measures(); "
        "assert not [m for m in sys.modules if m.startswith(('mend.outcomes', 'django'))], sorted(sys.modules)"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
