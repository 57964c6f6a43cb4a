from datetime import date

from hypothesis import given
from hypothesis import strategies as st

from mend.core.search import parse_date, parse_search, phone_digits


def test_iso_and_day_first_dates_are_read_as_date_of_birth():
    assert parse_search("1980-04-23").birth_date == date(1980, 4, 23)
    assert parse_search("23/04/1980").birth_date == date(1980, 4, 23)
    assert parse_search("23.04.1980").birth_date == date(1980, 4, 23)


def test_impossible_date_is_not_a_date():
    assert parse_date("1980-02-30") is None
    assert parse_search("1980-02-30").birth_date is None


def test_phone_punctuation_is_ignored():
    query = parse_search("(416) 555-0101")
    assert query.digits == "4165550101"
    assert not query.words


def test_email_is_recognised_and_lowercased():
    assert parse_search("Carol@Example.NET").email == "carol@example.net"


def test_names_split_into_words():
    assert parse_search("  carol   client ").words == ("carol", "client")


def test_empty_query_matches_everything():
    assert parse_search("   ").is_empty


def test_short_number_is_treated_as_text_not_phone():
    assert parse_search("12").words == ("12",)


@given(st.text(max_size=300))
def test_any_text_parses_without_error_and_is_bounded(text):
    query = parse_search(text)
    assert len(query.raw) <= 200
    assert all(" " not in word for word in query.words)


@given(st.text(max_size=60))
def test_phone_digits_keeps_only_ascii_digits_in_order(text):
    digits = phone_digits(text)
    assert all(c.isdigit() for c in digits)
    assert digits == "".join(c for c in text if c.isdigit())
