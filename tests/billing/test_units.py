"""CPT units by the CMS 8-minute rule and the AMA per-code rule (``mend.billing.units``).

The CMS examples are the manual's (Pub 100-04, Ch. 5, §20.2); where the manual leaves a tie to the
clinician, a test accepts any winner and another pins the winner the module documents.
"""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mend.billing.units import (
    CPT_CODES,
    TIMED_CODES,
    UNTIMED_CODES,
    is_timed,
    timed_units,
    units_for_minutes,
)

# Timed codes from the manual's examples that this practice does not bill (97116 gait, 97035 ultrasound)
# count like any other timed code.
CODES = sorted(TIMED_CODES | {"97116", "97035"})
day_minutes = st.dictionaries(st.sampled_from(CODES), st.integers(min_value=0, max_value=150), max_size=len(CODES))


def total_units(units: dict[str, int]) -> int:
    return sum(units.values())


# --- The unit table ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("minutes", "units"),
    [
        (0, 0),
        (7, 0),
        (8, 1),
        (22, 1),
        (23, 2),
        (37, 2),
        (38, 3),
        (52, 3),
        (53, 4),
        (67, 4),
        (68, 5),
        (82, 5),
        (83, 6),
        (97, 6),
        (98, 7),
        (112, 7),
        (113, 8),
        (127, 8),
        (128, 9),
        (142, 9),
        (143, 10),
        (240, 16),
        (247, 16),
        (248, 17),
    ],
)
def test_unit_table_changes_at_the_eighth_minute_of_each_quarter_hour(minutes, units):
    assert units_for_minutes(minutes) == units


@given(n=st.integers(min_value=1, max_value=200))
def test_unit_table_pattern_holds_beyond_two_hours(n):
    """Unit n covers 15n - 7 to 15n + 7 minutes, however long the day ("the pattern remains the same")."""
    assert units_for_minutes(15 * n - 8) == n - 1
    assert units_for_minutes(15 * n - 7) == n
    assert units_for_minutes(15 * n + 7) == n


def test_unit_table_refuses_negative_minutes():
    with pytest.raises(ValueError, match="negative"):
        units_for_minutes(-1)


@given(minutes=st.integers(min_value=0, max_value=600), rule=st.sampled_from(["cms", "ama"]))
def test_a_single_code_gets_the_unit_table_under_either_rule(minutes, rule):
    assert timed_units({"97124": minutes}, rule) == {"97124": units_for_minutes(minutes)}


# --- CMS: the manual's worked examples -----------------------------------------------------------


def test_cms_example_1_the_longer_service_takes_the_third_unit():
    assert timed_units({"97112": 24, "97110": 23}) == {"97112": 2, "97110": 1}


def test_cms_example_2_equal_services_split_two_and_one_never_three_of_one():
    units = timed_units({"97112": 20, "97110": 20})
    assert total_units(units) == 3
    assert sorted(units.values()) == [1, 2]


def test_cms_example_2_tie_goes_to_the_lowest_code():
    assert timed_units({"97112": 20, "97110": 20}) == {"97112": 1, "97110": 2}


def test_cms_example_3_seven_minutes_beat_three_left_over():
    assert timed_units({"97110": 33, "97140": 7}) == {"97110": 2, "97140": 1}


def test_cms_example_4_the_shortest_of_four_services_earns_nothing():
    units = timed_units({"97110": 18, "97140": 13, "97116": 10, "97035": 8})
    assert units == {"97110": 1, "97140": 1, "97116": 1, "97035": 0}


def test_cms_example_5_three_short_services_bill_one_unit_of_one_code():
    units = timed_units({"97112": 7, "97110": 7, "97140": 7})
    assert total_units(units) == 1
    assert set(units.values()) == {0, 1}


def test_cms_example_5_tie_goes_to_the_lowest_code():
    assert timed_units({"97112": 7, "97110": 7, "97140": 7}) == {"97112": 0, "97110": 1, "97140": 0}


def test_cms_tie_on_minutes_left_over_goes_to_the_code_with_more_minutes():
    """22 and 7 minutes both leave 7 past the quarter hour: the longer service takes the second unit."""
    assert timed_units({"97140": 7, "97530": 22}) == {"97140": 0, "97530": 2}


def test_cms_short_services_bill_the_one_with_the_most_minutes():
    """Rule 5: services of 7 minutes or less adding up to 8 or more bill one unit of the longest."""
    assert timed_units({"97112": 3, "97110": 6, "97140": 5}) == {"97112": 0, "97110": 1, "97140": 0}


def test_default_rule_is_cms():
    minutes = {"97110": 18, "97140": 13, "97116": 10, "97035": 8}
    assert timed_units(minutes) == timed_units(minutes, "cms")


# --- AMA: each code on its own minutes -----------------------------------------------------------


def test_ama_counts_each_code_on_its_own_minutes():
    """18/13/10/8 minutes earn 4 units per code where the CMS total earns 3."""
    units = timed_units({"97110": 18, "97140": 13, "97116": 10, "97035": 8}, "ama")
    assert units == {"97110": 1, "97140": 1, "97116": 1, "97035": 1}
    assert total_units(units) == 4


def test_ama_seven_minutes_of_manual_therapy_earn_nothing_however_long_the_rest():
    assert timed_units({"97110": 33, "97140": 7}, "ama") == {"97110": 2, "97140": 0}
    assert timed_units({"97110": 33, "97140": 7}, "cms") == {"97110": 2, "97140": 1}


@given(minutes=day_minutes)
def test_ama_total_is_the_sum_of_each_codes_table_units(minutes):
    units = timed_units(minutes, "ama")
    assert units == {code: units_for_minutes(spent) for code, spent in minutes.items()}
    assert total_units(units) == sum(units_for_minutes(spent) for spent in minutes.values())


# --- CMS properties ------------------------------------------------------------------------------


@given(minutes=day_minutes)
def test_cms_total_is_the_unit_table_on_the_days_total_minutes(minutes):
    """Never more units than the day's timed minutes allow, and never fewer."""
    units = timed_units(minutes)
    assert list(units) == list(minutes)
    assert total_units(units) == units_for_minutes(sum(minutes.values()))


@given(minutes=day_minutes)
def test_cms_service_of_fifteen_minutes_gets_a_unit_and_thirty_gets_two(minutes):
    """Rule 4 as the manual words it: ≥15 minutes, at least 1 unit; ≥30, at least 2 — unconditionally."""
    units = timed_units(minutes)
    for code, spent in minutes.items():
        assert units[code] >= spent // 15


@given(minutes=day_minutes)
def test_cms_code_never_gets_more_than_one_unit_beyond_its_whole_quarter_hours(minutes):
    units = timed_units(minutes)
    for code, spent in minutes.items():
        assert spent // 15 <= units[code] <= spent // 15 + (1 if spent % 15 else 0)


@given(minutes=day_minutes)
def test_cms_longer_service_never_gets_fewer_units_than_a_shorter_one(minutes):
    units = timed_units(minutes)
    for longer, long_spent in minutes.items():
        for shorter, short_spent in minutes.items():
            if long_spent > short_spent:
                assert units[longer] >= units[shorter]


@given(minutes=day_minutes, data=st.data())
def test_cms_order_of_entry_does_not_change_the_units(minutes, data):
    order = data.draw(st.permutations(list(minutes)))
    assert timed_units({code: minutes[code] for code in order}) == timed_units(minutes)


@given(
    minutes=st.dictionaries(st.sampled_from(CODES), st.integers(min_value=0, max_value=7), min_size=2).filter(
        lambda day: 8 <= sum(day.values()) <= 22
    )
)
def test_cms_short_services_adding_to_one_unit_bill_it_to_a_longest_one(minutes):
    units = timed_units(minutes)
    (billed,) = [code for code, count in units.items() if count]
    assert units[billed] == 1
    assert minutes[billed] == max(minutes.values())


# --- Codes and bad input -------------------------------------------------------------------------


def test_practice_codes_are_timed_except_hot_and_cold_packs():
    assert {"97124", "97140", "97110", "97112", "97530", "97750"} == TIMED_CODES
    assert {"97010"} == UNTIMED_CODES
    assert all(is_timed(code) for code in TIMED_CODES)
    assert not is_timed("97010")
    assert all(entry.label for entry in CPT_CODES.values())


def test_is_timed_refuses_a_code_the_practice_does_not_bill():
    with pytest.raises(ValueError, match="99999"):
        is_timed("99999")


def test_unknown_rule_is_refused_by_name():
    with pytest.raises(ValueError, match="'medicaid'"):
        timed_units({"97124": 30}, "medicaid")


def test_negative_minutes_are_refused_naming_the_code():
    with pytest.raises(ValueError, match="97140"):
        timed_units({"97124": 30, "97140": -5})


def test_untimed_code_minutes_are_refused_not_counted():
    """Rule 6: hot-pack minutes never add to the timed total."""
    with pytest.raises(ValueError, match="97010"):
        timed_units({"97124": 15, "97010": 10})


@pytest.mark.parametrize("rule", ["cms", "ama"])
def test_zero_minutes_earn_zero_units_and_stay_in_the_answer(rule):
    assert timed_units({"97124": 0, "97140": 0}, rule) == {"97124": 0, "97140": 0}
    assert timed_units({"97124": 30, "97140": 0}, rule) == {"97124": 2, "97140": 0}
    assert timed_units({}, rule) == {}
