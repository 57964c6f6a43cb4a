"""Money as Decimal: rounding to the currency's minor unit, invoice lines, fair splits, typed amounts.

Plain Python, no Django, and never a float: a float cannot hold 0.10, so every amount here is a
``Decimal`` (or an ``int``) and a float handed in is a TypeError, not a rounding surprise.

The rounding rules (invoices, receipts and credit notes all follow them):

- **Minor unit by ISO 4217.** Amounts round to the currency's minor unit: cents for CAD and USD, whole
  yen for JPY, thousandths for the three-decimal dinars. A currency not listed in ``_EXPONENTS`` has two
  decimals, as most do.
- **Half away from zero** (``ROUND_HALF_UP``): 0.005 becomes 0.01 and -0.005 becomes -0.01. Rounding is
  symmetric, so a credit note's negated line rounds to exactly the negative of the invoice line. A
  result of zero is never "-0.00".
- **Tax per line, totals by sum.** A line's net is rounded, its tax is the rounded net times the rate,
  rounded once, and the line total is net plus tax. An invoice's net, tax and total are the sums of its
  lines (:func:`sum_lines`), never recomputed from the subtotal. Tax on a subtotal can differ from the
  sum of the lines' tax by a cent (55.55 less 5.00, and 11.11, at 13 %: 6.57 + 1.44 = 8.01 by line but
  8.02 on 61.66), and a credit note refunding some of the lines must refund exactly the tax the invoice
  charged for them. Summed by line, an invoice and its reversal cancel to the cent: a reversal never
  leaves 0.01 owing.
- **Splits by largest remainder.** :func:`allocate` gives each part its proportional share rounded
  towards zero to the minor unit, then hands the minor units left over one each to the parts with the
  largest remainders (the earlier part first on a tie), so the parts always add up to the total.

Arithmetic before the final rounding runs in a context that refuses to round (``Inexact`` trapped), so
Decimal's default 28 significant digits never round an intermediate product silently.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Context, Decimal, Inexact, InvalidOperation, Overflow
from fractions import Fraction

DEFAULT_CURRENCY = "CAD"
DEFAULT_EXPONENT = 2
# ISO 4217 minor-unit exponents other than 2 (pycountry carries none).
_ZERO_DECIMALS = ("BIF", "CLP", "DJF", "GNF", "ISK", "JPY", "KMF", "KRW", "PYG", "RWF", "UGX", "UYI", "VND", "VUV")
_ZERO_DECIMALS_CFA = ("XAF", "XOF", "XPF")
_THREE_DECIMALS = ("BHD", "IQD", "JOD", "KWD", "LYD", "OMR", "TND")
_FOUR_DECIMALS = ("CLF", "UYW")
_EXPONENTS = {
    **dict.fromkeys(_ZERO_DECIMALS + _ZERO_DECIMALS_CFA, 0),
    **dict.fromkeys(_THREE_DECIMALS, 3),
    **dict.fromkeys(_FOUR_DECIMALS, 4),
}
_ISO_CODE = re.compile(r"[A-Z]{3}")

_PRECISION = 60  # significant digits; invoice amounts are far shorter, so exact arithmetic never runs out
_EXACT = Context(prec=_PRECISION, traps=[Inexact, InvalidOperation, Overflow])
_ROUNDING = Context(prec=_PRECISION, rounding=ROUND_HALF_UP, traps=[InvalidOperation, Overflow])

_AMOUNT = re.compile(r"(?P<sign>-?)\$?(?P<whole>[0-9]{1,3}(?:,[0-9]{3})+|[0-9]*)(?:\.(?P<fraction>[0-9]*))?")
MAX_AMOUNT_CHARS = 32  # "$999,999,999,999.99" is 19; anything longer is a paste gone wrong
ENTER_AMOUNT = "Enter an amount such as 45.00."


@dataclass(frozen=True, slots=True)
class LineAmounts:
    """One invoice line after discount (``net``), its ``tax`` and ``total``, each in the minor unit."""

    net: Decimal
    tax: Decimal
    total: Decimal

    def __neg__(self) -> LineAmounts:
        return LineAmounts(net=-self.net, tax=-self.tax, total=-self.total)


def minor_unit_exponent(currency: str) -> int:
    """Decimal places of ``currency``'s minor unit: 2 for CAD, 0 for JPY, 3 for KWD."""
    if not _ISO_CODE.fullmatch(currency):
        raise ValueError(f"Currency must be a three-letter ISO 4217 code such as CAD (got {currency!r}).")
    return _EXPONENTS.get(currency, DEFAULT_EXPONENT)


def quantize(amount: Decimal | int, currency: str = DEFAULT_CURRENCY) -> Decimal:
    """``amount`` rounded half away from zero to ``currency``'s minor unit (12.345 CAD → 12.35)."""
    exponent = minor_unit_exponent(currency)
    rounded = _decimal(amount, "amount").quantize(Decimal(1).scaleb(-exponent), context=_ROUNDING)
    # -0.004 rounds to -0.00; an invoice should say 0.00.
    return rounded.copy_abs() if rounded.is_zero() else rounded


def line_amounts(
    quantity: Decimal, unit_price: Decimal, discount: Decimal, tax_rate_percent: Decimal, currency: str
) -> LineAmounts:
    """Net, tax and total of one line: ``quantity`` × ``unit_price`` less ``discount``, taxed at the rate.

    ``discount`` is an amount off: zero or more, and no more than the line is worth. It brings the line
    towards zero whatever its sign, so a credit note line (negative ``quantity``) carrying the invoice
    line's discount comes out as exactly the negative of that line, field by field.
    """
    quantity = _decimal(quantity, "quantity")
    unit_price = _decimal(unit_price, "unit_price")
    discount = _decimal(discount, "discount")
    rate = _decimal(tax_rate_percent, "tax_rate_percent")
    if discount < 0:
        raise ValueError(f"A discount is an amount off and cannot be negative (got {discount}).")
    if rate < 0:
        raise ValueError(f"A tax rate cannot be negative (got {rate} %).")
    gross = _EXACT.multiply(quantity, unit_price)
    if discount > abs(gross):
        raise ValueError(f"The discount ({discount}) is more than the line is worth ({abs(gross)}).")
    net = quantize(_EXACT.subtract(gross, discount if gross >= 0 else -discount), currency)
    tax = quantize(_EXACT.divide(_EXACT.multiply(net, rate), Decimal(100)), currency)
    return LineAmounts(net=net, tax=tax, total=_EXACT.add(net, tax))


def sum_lines(lines: Iterable[LineAmounts]) -> LineAmounts:
    """An invoice's (or credit note's) amounts: the sums of its lines, never recomputed from a subtotal."""
    net = tax = total = Decimal(0)
    for line in lines:
        net, tax, total = _EXACT.add(net, line.net), _EXACT.add(tax, line.tax), _EXACT.add(total, line.total)
    return LineAmounts(net=net, tax=tax, total=total)


def allocate(total: Decimal, weights: Sequence[int | Decimal], currency: str) -> list[Decimal]:
    """``total`` split into parts proportional to ``weights`` that add up to it exactly.

    Each part is its exact share rounded towards zero to the minor unit (so splitting -10.00 gives
    the negatives of splitting 10.00); the minor units left over go one each to the parts with the
    largest remainders, the earlier part first on a tie. Every part is within one minor unit of its
    exact share, and a zero weight gets zero. ``total`` must already be in the minor unit.
    """
    exponent = minor_unit_exponent(currency)
    total = _decimal(total, "total")
    if quantize(total, currency) != total:
        raise ValueError(f"Round {total} to the {currency} minor unit before splitting it.")
    shares = [Fraction(_decimal(weight, "weight")) for weight in weights]
    if any(share < 0 for share in shares):
        raise ValueError("Weights for splitting an amount cannot be negative.")
    weight_sum = sum(shares, Fraction(0))
    if weight_sum == 0:
        raise ValueError("Splitting an amount needs at least one weight above zero.")

    units = int(total.scaleb(exponent, _EXACT))  # a whole number of minor units, checked above
    magnitude = abs(units)
    exact = [magnitude * share / weight_sum for share in shares]
    parts = [int(part) for part in exact]  # floor, every share being non-negative
    left = magnitude - sum(parts)
    by_remainder = sorted(range(len(exact)), key=lambda i: (-(exact[i] - parts[i]), i))
    for i in by_remainder[:left]:
        parts[i] += 1
    sign = -1 if units < 0 else 1
    return [quantize(Decimal(sign * part).scaleb(-exponent, _EXACT), currency) for part in parts]


def parse_amount(text: str, allow_negative: bool = False, *, currency: str | None = None) -> Decimal:
    """The amount a person typed: "55.55", "1,234.50" and "$12" are fine; "1e3", "NaN" and "Infinity" are not.

    Thousands separators must group by three. A minus sign is refused unless ``allow_negative``. With
    ``currency``, more decimal places than its minor unit are refused too (12.345 is not a CAD amount).
    The ValueError's message is written for the person who typed the text.
    """
    text = text.strip()
    match = _AMOUNT.fullmatch(text) if len(text) <= MAX_AMOUNT_CHARS else None
    if match is None or not (match["whole"] or match["fraction"]):
        raise ValueError(ENTER_AMOUNT)
    if match["sign"] and not allow_negative:
        raise ValueError("Enter an amount of zero or more, such as 45.00.")
    fraction = match["fraction"] or ""
    if currency is not None and len(fraction) > (places := minor_unit_exponent(currency)):
        example = "45" if places == 0 else "45." + "0" * places
        raise ValueError(f"Enter {currency} amounts with at most {places} decimal places, such as {example}.")
    whole = (match["whole"] or "0").replace(",", "")
    amount = Decimal(f"{match['sign']}{whole}.{fraction}" if fraction else f"{match['sign']}{whole}")
    return amount.copy_abs() if amount.is_zero() else amount


def _decimal(value: Decimal | int, name: str) -> Decimal:
    # bool is an int and a float can arrive from untyped callers; neither is money.
    if isinstance(value, bool) or not isinstance(value, Decimal | int):
        raise TypeError(f"{name} must be a Decimal or an int, not {type(value).__name__}.")
    amount = Decimal(value)
    if not amount.is_finite():
        raise ValueError(f"{name} must be a finite amount (got {amount}).")
    return amount
