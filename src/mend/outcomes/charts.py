"""Progress charts as plain SVG, drawn on the server with pygal.

No JavaScript is needed to read them, so the same markup goes into the PDF reports. pygal writes
a small config ``<script>`` for its optional tooltips even when no script file is asked for; it is
removed, so the SVG is inert. Text (titles, goal descriptions) is escaped by pygal's XML writer.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import date, timedelta

import pygal
from pygal.style import Style

from mend.outcomes.queries import MeasureSummary, RomSeries
from mend.outcomes.stats import KaplanMeier

_SCRIPT = re.compile(r"<script\b.*?</script>", re.DOTALL | re.IGNORECASE)
DASHED = {"width": 2, "dasharray": "6,4"}
DOTTED = {"width": 2, "dasharray": "2,4"}

SCORE, BAND, GOAL, SESSIONS, NORMAL = "#0b6e4f", "#c9a227", "#7b2cbf", "#52606d", "#9aa5b1"
LINES = ("#0b6e4f", "#1d4ed8", "#b45309", "#be123c", "#0e7490", "#4d7c0f")

Series = tuple[str | None, list[tuple[date, float]], dict[str, object], str]


def _style(colors: Sequence[str]) -> Style:
    # pygal colours series by position, so each chart gets the colours of the series it draws.
    return Style(
        background="#ffffff",
        plot_background="#ffffff",
        foreground="#1f2933",
        foreground_strong="#1f2933",
        foreground_subtle="#d2d8de",
        font_family="system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif",
        label_font_size=12,
        major_label_font_size=12,
        legend_font_size=12,
        title_font_size=14,
        colors=tuple(colors) or (SCORE,),
        guide_stroke_color="#e4e7eb",
        major_guide_stroke_color="#cbd2d9",
        guide_stroke_dasharray="0",
        major_guide_stroke_dasharray="0",
        stroke_opacity=1,
        stroke_opacity_hover=1,
    )


def _render(title: str, low: float, high: float, dates: Sequence[date], series: Sequence[Series]) -> str:
    span = (max(dates) - min(dates)).days if dates else 0
    named = sum(1 for name, *_ in series if name)
    fmt = "%-d %b" if span < 300 else "%b %Y"
    chart = pygal.DateLine(
        style=_style([color for *_, color in series]),
        js=[],
        disable_xml_declaration=True,
        width=860,
        height=320,
        title=title,
        range=(low, high),
        legend_at_bottom=True,
        legend_at_bottom_columns=min(3, max(1, named)),
        # pygal sizes the legend by every series, titled or not; the margin keeps a second row visible.
        margin_bottom=8 + 22 * ((named - 1) // 3),
        show_x_guides=False,
        truncate_legend=-1,
        dots_size=4,
        x_value_formatter=lambda d: d.strftime(fmt),
        margin=12,
        no_data_text="No scores yet",
    )
    if dates:
        first, last = min(dates), max(dates)
        if first == last:
            first, last = first - timedelta(days=3), last + timedelta(days=3)
        chart.x_labels = _ticks(first, last)
    for name, values, options, _color in series:
        chart.add(name, values, **options)
    return _SCRIPT.sub("", chart.render(is_unicode=True))


def _ticks(first: date, last: date, count: int = 6) -> list[date]:
    step = max(1, (last - first).days // (count - 1))
    ticks = [first + timedelta(days=i * step) for i in range(count) if first + timedelta(days=i * step) <= last]
    return ticks


def measure_chart(summary: MeasureSummary, *, goals: Sequence[tuple[str, float]], sessions: Sequence[date]) -> str:
    """A measure's trajectory: scores, the MCID band around the baseline, goal lines, session days."""
    m = summary.measure
    scored = [(r.collected_on, float(r.value)) for r in summary.scored if r.value is not None]
    dates = [d for d, _ in scored] + list(sessions)
    series: list[Series] = [(m.short, scored, {"stroke_style": {"width": 3}}, SCORE)]
    if dates:
        first, last = min(dates), max(dates)
        baseline, mcid = summary.baseline, m.mcid
        if baseline is not None and baseline.value is not None and mcid is not None and mcid.absolute is not None:
            # Inside the band a change is smaller than the minimal clinically important difference.
            up = min(m.score_max, baseline.value + mcid.absolute)
            down = max(m.score_min, baseline.value - mcid.absolute)
            flat = {"show_dots": False, "stroke_style": DASHED}
            series.append((f"Baseline ± MCID ({mcid.absolute:g})", [(first, up), (last, up)], flat, BAND))
            series.append((None, [(first, down), (last, down)], flat, BAND))
        elif mcid is not None and mcid.followup_at_most is not None:
            line = [(first, mcid.followup_at_most), (last, mcid.followup_at_most)]
            flat = {"show_dots": False, "stroke_style": DASHED}
            series.append((f"Responder: {mcid.followup_at_most:g} or better", line, flat, BAND))
        for label, target in goals:
            line = [(first, target), (last, target)]
            series.append((f"Goal: {label}", line, {"show_dots": False, "stroke_style": DOTTED}, GOAL))
        if sessions:
            marks = [(d, m.score_min) for d in sessions]
            series.append(("Sessions", marks, {"stroke": False, "dots_size": 3}, SESSIONS))
    direction = "higher is better" if m.higher_is_better else "lower is better"
    title = f"{m.short} ({m.score_min:g}–{m.score_max:g}, {direction})"
    return _render(title, m.score_min, m.score_max, dates, series)


def rom_chart(rom: Sequence[RomSeries]) -> str:
    """Range of motion over time as a percentage of the normal range, one line per motion and side."""
    dates = [p.on for s in rom for p in s.points]
    top = max([110.0] + [p.percent + 10 for s in rom for p in s.points])
    series: list[Series] = []
    for n, s in enumerate(rom):
        values = [(p.on, round(p.percent, 1)) for p in s.points]
        series.append((s.label, values, {"stroke_style": {"width": 3}}, LINES[n % len(LINES)]))
    if dates:
        first, last = min(dates), max(dates)
        series.append(
            ("Normal (100%)", [(first, 100.0), (last, 100.0)], {"show_dots": False, "stroke_style": DASHED}, NORMAL)
        )
        for n, s in enumerate(rom):
            if s.goal_percent is not None:
                line = [(first, round(s.goal_percent, 1)), (last, round(s.goal_percent, 1))]
                flat = {"show_dots": False, "stroke_style": DOTTED}
                series.append((f"Goal: {s.label}", line, flat, LINES[n % len(LINES)]))
    return _render("Range of motion, % of normal", 0, round(top, -1), dates, series)


def _km_points(km: KaplanMeier) -> list[tuple[float, float]]:
    """1 − S(t) as a step line: flat until each event time, then up."""
    points: list[tuple[float, float]] = [(0.0, 0.0)]
    reached = 0.0
    for step in km.steps:
        points.append((step.time, round(reached * 100, 1)))
        reached = step.reached
        points.append((step.time, round(reached * 100, 1)))
    return points


def km_chart(curves: Sequence[tuple[str, KaplanMeier]], *, title: str) -> str:
    """Share of episodes that reached the MCID by each session (1 − Kaplan–Meier), one step line per
    measure; open dots mark where episodes were censored."""
    last = max((step.time for _, km in curves for step in km.steps), default=1.0)
    colors = [LINES[i % len(LINES)] for i in range(len(curves))]
    chart = pygal.XY(
        style=_style(colors + colors),
        js=[],
        disable_xml_declaration=True,
        width=440,
        height=290,
        title=title,
        range=(0, 100),
        xrange=(0, max(1.0, last)),
        show_legend=True,
        legend_at_bottom=True,
        legend_at_bottom_columns=min(3, max(1, len(curves))),
        # pygal sizes the legend by every series, titled or not; the margin keeps a second row visible.
        margin_bottom=8 + 22 * ((len(curves) - 1) // 3),
        truncate_legend=-1,
        show_x_guides=False,
        dots_size=2,
        margin=8,
        x_title="Sessions",
        y_title="% reached MCID",
        x_value_formatter=lambda x: f"{x:g}",
        value_formatter=lambda y: f"{y:g}%",
        no_data_text="No episodes",
    )
    # Told apart by line pattern as well as colour, for readers who do not see the colours.
    patterns = ("", "9,5", "2,4", "12,4,2,4")
    for i, (label, km) in enumerate(curves):
        style: dict[str, object] = {"width": 3}
        if patterns[i % len(patterns)]:
            style["dasharray"] = patterns[i % len(patterns)]
        chart.add(f"{label} (n={km.n})", _km_points(km), show_dots=False, stroke_style=style)
    for _label, km in curves:
        censored = [(s.time, round(s.reached * 100, 1)) for s in km.steps if s.censored]
        # Unnamed: the censoring marks share their measure's colour and stay out of the legend.
        chart.add(None, censored, stroke=False, dots_size=3)
    return _SCRIPT.sub("", chart.render(is_unicode=True))
