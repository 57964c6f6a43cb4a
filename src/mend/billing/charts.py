"""The reports' charts as plain SVG drawn on the server with pygal, the way ``mend.outcomes.charts``
draws progress: no JavaScript, pygal's tooltip ``<script>`` removed, one image with a title and a
description in words (the page has every number in a table beside it). The page inlines the SVG
with ``inline_svg``, which gives its ``<style>`` the page's CSP nonce.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

import pygal

from mend.billing.queries.reports import Amount
from mend.outcomes.charts import WIDE, _accessible, _style

REVENUE = "#0b6e4f"


def revenue_chart(months: Sequence[Amount], *, currency: str, basis: str) -> str:
    """Revenue by month as bars."""
    title = f"Revenue by month ({basis}, {currency})"
    total = sum((m.amount for m in months), Decimal("0"))
    if months:
        best = max(months, key=lambda m: m.amount)
        desc = (
            f"{len(months)} month{'s' if len(months) != 1 else ''}, {total} {currency} in all; "
            f"the highest month is {best.label} at {best.amount} {currency}."
        )
    else:
        desc = "No months in the period."
    chart = pygal.Bar(
        style=_style([REVENUE]),
        js=[],
        disable_xml_declaration=True,
        width=WIDE.width,
        height=WIDE.height,
        title=title,
        show_legend=False,
        margin=12,
        truncate_label=-1,
        x_label_rotation=-30 if len(months) > 12 else 0,
        no_data_text="No revenue in this period",
        value_formatter=lambda v: f"{v:,.2f}",
    )
    chart.x_labels = [m.label for m in months]
    chart.add("Revenue", [float(m.amount) for m in months])
    return _accessible(chart.render(is_unicode=True), title=title, desc=desc, size=WIDE)
