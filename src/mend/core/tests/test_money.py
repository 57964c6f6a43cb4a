import re
from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mend.core.money import (
    ENTER_AMOUNT,
    LineAmounts,
    allocate,
    line_amounts,
    minor_unit_exponent,
    parse_amount,
    quantize,
    sum_lines,
)

D = Decimal
HST = D(13)
CURRENCIES = ["CAD", "JPY", "KWD"]


def amounts(places=4, bound="100000"):
    return st.decimals(
        min_value=D(f"-{bound}"), max_value=D(bound), places=places, allow_nan=False, allow_infinity=False
    )


@st.composite
def lines(draw):
    """Quantity, unit price, a discount no bigger than the line, a tax rate and a currency."""
    quantity = draw(st.decimals(min_value=D("-20"), max_value=D("20"), places=2))
    unit_price = draw(st.decimals(min_value=D("0"), max_value=D("5000"), places=2))
    gross = abs(quantity * unit_price)
    discount = draw(st.decimals(min_value=D(0), max_value=gross, places=4))
    rate = draw(st.decimals(min_value=D(0), max_value=D(30), places=3))
    return quantity, unit_price, discount, rate, draw(st.sampled_from(CURRENCIES))


# --- The worked invoice: 55.55 less 5.00, and 11.11, at 13 % --------------------------------------


def invoice_lines(sign=1):
    return [
        line_amounts(D(sign), D("55.55"), D("5.00"), HST, "CAD"),
        line_amounts(D(sign), D("11.11"), D("0"), HST, "CAD"),
    ]


def test_invoice_tax_is_the_sum_of_each_lines_tax():
    first, second = invoice_lines()
    assert first == LineAmounts(net=D("50.55"), tax=D("6.57"), total=D("57.12"))
    assert second == LineAmounts(net=D("11.11"), tax=D("1.44"), total=D("12.55"))
    invoice = sum_lines([first, second])
    assert invoice == LineAmounts(net=D("61.66"), tax=D("8.01"), total=D("69.67"))
    # Why by line: tax on the subtotal would say 8.02, a cent the lines never charged.
    assert quantize(invoice.net * HST / 100) == D("8.02")


def test_credit_note_reverses_the_invoice_to_the_cent():
    invoice = sum_lines(invoice_lines())
    credit_note = sum_lines(invoice_lines(sign=-1))
    assert credit_note == LineAmounts(net=D("-61.66"), tax=D("-8.01"), total=D("-69.67"))
    assert invoice.total + credit_note.total == D("0.00")


def test_partial_credit_note_refunds_exactly_the_tax_charged_on_its_line():
    _, second = invoice_lines()
    refund = line_amounts(D(-1), D("11.11"), D("0"), HST, "CAD")
    assert refund.tax == -second.tax == D("-1.44")


@given(st.lists(lines(), max_size=8))
def test_reversing_every_line_never_leaves_a_minor_unit_owing(drawn):
    invoice = [line_amounts(q, p, d, r, "CAD") for q, p, d, r, _ in drawn]
    credit_note = [line_amounts(-q, p, d, r, "CAD") for q, p, d, r, _ in drawn]
    assert sum_lines(invoice).total + sum_lines(credit_note).total == 0
    assert sum_lines(credit_note) == -sum_lines(invoice)


@given(lines())
def test_negated_quantity_negates_every_field_of_the_line(line):
    quantity, unit_price, discount, rate, currency = line
    assert line_amounts(-quantity, unit_price, discount, rate, currency) == -line_amounts(
        quantity, unit_price, discount, rate, currency
    )


@given(lines())
def test_line_amounts_are_in_the_minor_unit_and_total_is_net_plus_tax(line):
    quantity, unit_price, discount, rate, currency = line
    result = line_amounts(quantity, unit_price, discount, rate, currency)
    for value in (result.net, result.tax, result.total):
        assert quantize(value, currency) == value
    assert result.total == result.net + result.tax
    assert abs(result.net) == quantize(abs(quantity * unit_price) - discount, currency)
    assert result.tax == quantize(result.net * rate / 100, currency)


def test_discount_larger_than_the_line_is_refused():
    with pytest.raises(ValueError, match="more than the line is worth"):
        line_amounts(D(1), D("20.00"), D("20.01"), HST, "CAD")


def test_discount_of_the_whole_line_makes_it_free():
    assert line_amounts(D(2), D("10.00"), D("20.00"), HST, "CAD") == LineAmounts(D("0.00"), D("0.00"), D("0.00"))


def test_negative_discount_and_negative_tax_rate_are_refused():
    with pytest.raises(ValueError, match="discount"):
        line_amounts(D(1), D("20.00"), D("-1"), HST, "CAD")
    with pytest.raises(ValueError, match="tax rate"):
        line_amounts(D(1), D("20.00"), D("0"), D("-13"), "CAD")


# --- Rounding --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("amount", "currency", "rounded"),
    [
        ("0.005", "CAD", "0.01"),
        ("-0.005", "CAD", "-0.01"),
        ("2.675", "CAD", "2.68"),  # the amount a float stores as 2.67499…
        ("0.0049", "CAD", "0.00"),
        ("1234.5", "JPY", "1235"),
        ("-1234.5", "JPY", "-1235"),
        ("1.0005", "KWD", "1.001"),
        ("7", "CAD", "7.00"),
    ],
)
def test_quantize_rounds_half_away_from_zero_to_the_minor_unit(amount, currency, rounded):
    result = quantize(D(amount), currency)
    assert result == D(rounded)
    assert str(result) == rounded


def test_quantize_never_gives_negative_zero():
    assert str(quantize(D("-0.004"))) == "0.00"


def test_jpy_has_no_decimals_and_unlisted_currencies_have_two():
    assert minor_unit_exponent("JPY") == 0
    assert minor_unit_exponent("CAD") == 2
    assert minor_unit_exponent("KWD") == 3
    assert minor_unit_exponent("XYZ") == 2
    assert line_amounts(D(3), D(1980), D(0), D(10), "JPY") == LineAmounts(D(5940), D(594), D(6534))
    assert line_amounts(D(1), D(1999), D(0), D(8), "JPY").tax == D(160)  # 159.92 yen rounds to whole yen


def test_quantize_refuses_floats_and_malformed_currencies():
    with pytest.raises(TypeError, match="float"):
        quantize(0.1)
    with pytest.raises(ValueError, match="ISO 4217"):
        quantize(D(1), "cad")
    with pytest.raises(ValueError, match="finite"):
        quantize(D("NaN"))


@given(amount=amounts(places=6), currency=st.sampled_from(CURRENCIES))
def test_quantize_is_idempotent(amount, currency):
    once = quantize(amount, currency)
    assert quantize(once, currency) == once
    assert once.as_tuple().exponent == -minor_unit_exponent(currency)


@given(amount=amounts(places=6), currency=st.sampled_from(CURRENCIES))
def test_quantize_is_symmetric_around_zero(amount, currency):
    assert quantize(-amount, currency) == -quantize(amount, currency)


# --- Splitting an amount ---------------------------------------------------------------------------


def test_allocate_gives_the_extra_cent_to_the_earliest_of_equal_parts():
    assert allocate(D("10.00"), [1, 1, 1], "CAD") == [D("3.34"), D("3.33"), D("3.33")]
    assert allocate(D("-10.00"), [1, 1, 1], "CAD") == [D("-3.34"), D("-3.33"), D("-3.33")]


def test_allocate_gives_the_extra_cent_to_the_largest_remainder():
    assert allocate(D("100.00"), [D("0.2"), D("0.35"), D("0.45")], "CAD") == [D("20.00"), D("35.00"), D("45.00")]
    assert allocate(D("0.05"), [3, 1, 1], "CAD") == [D("0.03"), D("0.01"), D("0.01")]


def test_allocate_in_yen_splits_whole_yen_and_skips_zero_weights():
    assert allocate(D(1000), [1, 0, 2], "JPY") == [D(333), D(0), D(667)]


def test_allocate_refuses_weights_that_cannot_split():
    for weights in ([], [0, 0], [1, -1]):
        with pytest.raises(ValueError, match=r"(?i)weight"):
            allocate(D("10.00"), weights, "CAD")


def test_allocate_refuses_a_total_finer_than_the_minor_unit():
    with pytest.raises(ValueError, match="minor unit"):
        allocate(D("10.005"), [1, 1], "CAD")


@given(
    cents=st.integers(min_value=-(10**9), max_value=10**9),
    weights=st.lists(
        st.one_of(st.integers(min_value=0, max_value=1000), st.decimals(min_value=0, max_value=100, places=3)),
        min_size=1,
        max_size=8,
    ).filter(any),
    currency=st.sampled_from(CURRENCIES),
)
def test_allocate_adds_up_exactly_and_each_part_is_within_one_minor_unit_of_its_share(cents, weights, currency):
    minor = Fraction(1, 10 ** minor_unit_exponent(currency))
    total = quantize(D(cents).scaleb(-minor_unit_exponent(currency)), currency)
    parts = allocate(total, weights, currency)
    assert len(parts) == len(weights)
    assert sum(parts) == total
    weight_sum = sum(Fraction(w) for w in weights)
    for part, weight in zip(parts, weights, strict=True):
        assert quantize(part, currency) == part
        assert abs(Fraction(part) - Fraction(total) * Fraction(weight) / weight_sum) < minor
        if weight == 0:
            assert part == 0
    assert allocate(-total, weights, currency) == [-part for part in parts]


# --- Amounts people type ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "amount"),
    [("55.55", "55.55"), ("1,234.50", "1234.50"), ("$12", "12"), (" 45.00 ", "45.00"), (".5", "0.5"), ("0", "0")],
)
def test_parse_amount_reads_what_people_type(text, amount):
    assert parse_amount(text) == D(amount)


@pytest.mark.parametrize(
    "text", ["1e3", "NaN", "Infinity", "inf", "", "$", "1,23", "12,34.5", "1.2.3", "12 34", "0x10"]
)
def test_parse_amount_refuses_anything_but_plain_digits(text):
    with pytest.raises(ValueError, match=re.escape(ENTER_AMOUNT)):
        parse_amount(text)


def test_parse_amount_refuses_negative_unless_allowed():
    with pytest.raises(ValueError, match="zero or more"):
        parse_amount("-5.00")
    assert parse_amount("-5.00", allow_negative=True) == D("-5.00")
    assert parse_amount("-$1,000", allow_negative=True) == D("-1000")


def test_parse_amount_refuses_more_decimals_than_the_currency_has():
    with pytest.raises(ValueError, match="at most 2 decimal places"):
        parse_amount("12.345", currency="CAD")
    with pytest.raises(ValueError, match=r"such as 45\.$"):
        parse_amount("12.5", currency="JPY")
    assert parse_amount("12.345") == D("12.345")


@given(amount=st.decimals(min_value=0, max_value=D("999999999.99"), places=2))
def test_parse_amount_reads_back_a_formatted_amount(amount):
    assert parse_amount(f"${amount:,}", currency="CAD") == amount
    assert parse_amount(f"{amount}") == amount
