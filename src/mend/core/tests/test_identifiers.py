import pytest
from hypothesis import given
from hypothesis import strategies as st

from mend.core.identifiers import is_valid_npi, npi_check_digit


def test_cms_worked_example_npi_is_valid():
    # CMS "NPI check digit" worked example: 123456789 gets check digit 3.
    assert npi_check_digit("123456789") == "3"
    assert is_valid_npi("1234567893")


@pytest.mark.parametrize("npi", ["1234567890", "123456789", "12345678931", "abcdefghij", ""])
def test_malformed_or_wrong_check_digit_npi_is_rejected(npi):
    assert not is_valid_npi(npi)


@given(st.text(alphabet="0123456789", min_size=9, max_size=9))
def test_appending_the_check_digit_always_gives_a_valid_npi(first_nine):
    assert is_valid_npi(first_nine + npi_check_digit(first_nine))


@given(st.text(alphabet="0123456789", min_size=9, max_size=9), st.integers(min_value=1, max_value=9))
def test_any_single_digit_change_of_the_check_digit_is_caught(first_nine, delta):
    good = int(npi_check_digit(first_nine))
    assert not is_valid_npi(first_nine + str((good + delta) % 10))
