"""Progress charts as plain SVG, drawn on the server with pygal.

No JavaScript is needed to read them, so the same markup goes into the PDF reports. pygal writes
a small config ``<script>`` for its optional tooltips even when no script file is asked for; it is
removed, so the SVG is inert. Text (titles, goal descriptions) is escaped by pygal's XML writer.

Each progress chart is drawn twice, for a wide card and for a phone (``responsive``): an SVG
scales its text with its width, so one drawing either leaves a wide card half empty or shrinks
its labels to a few pixels on a phone. The page's CSS shows the one that fits (outcomes.css).
Each drawing is an image with a title and a description that says what it shows in words; the
progress page also has every number as a table.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from html import escape

import pygal
from pygal.style import Style

from mend.outcomes.queries import MeasureSummary, RomSeries, VisitScores
from mend.outcomes.stats import KaplanMeier

_SCRIPT = re.compile(r"<script\b.*?</script>", re.DOTALL | re.IGNORECASE)
_ROOT = re.compile(
    r'<svg xmlns="http://www.w3.org/2000/svg" id="(?P<id>[^"]+)" class="pygal-chart" (?P<box>viewBox="[^"]*")>'
)
DASHED = {"width": 2, "dasharray": "6,4"}
DOTTED = {"width": 2, "dasharray": "2,4"}
# Session days: thin vertical guides across the whole plot, not points on the zero line, which
# read as scores of zero.
SESSION_LINE = {"width": 1, "dasharray": "3,3"}

SCORE, BAND, GOAL, SESSIONS, NORMAL = "#0b6e4f", "#c9a227", "#7b2cbf", "#7b8794", "#9aa5b1"
SLEEP, STRESS, TENSION, MEDICATION = "#1d4ed8", "#be123c", "#b45309", "#0e7490"
LINES = ("#0b6e4f", "#1d4ed8", "#b45309", "#be123c", "#0e7490", "#4d7c0f")

# (None, None) breaks a line (allow_interruptions).
Point = tuple[date, float] | tuple[None, None]
Series = tuple[str | None, Sequence[Point], dict[str, object], str]


@dataclass(frozen=True, slots=True)
class Size:
    """A drawing's size in SVG units, which are CSS pixels when it is shown at that width."""

    name: str
    width: int
    height: int
    ticks: int  # date labels along the x axis
    legend_columns: int


# As wide as the progress card's content on a 1280 px screen; as wide as it is on a 390 px phone.
WIDE = Size("wide", 1100, 360, 7, 3)
NARROW = Size("narrow", 330, 300, 3, 1)


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


def _accessible(svg: str, *, title: str, desc: str, size: Size) -> str:
    """The SVG as one image named by its title and described in words; pygal's own titles and
    descriptions of each dot (tooltip text) are then not read out one by one."""
    svg = _SCRIPT.sub("", svg)
    found = _ROOT.match(svg)
    if found is None:  # pygal changed its root element: keep the chart, unlabelled
        return svg
    chart_id = found["id"]
    root = (
        f'<svg xmlns="http://www.w3.org/2000/svg" id="{chart_id}" class="pygal-chart chart-{size.name}" {found["box"]} '
        f'role="img" aria-labelledby="{chart_id}-title {chart_id}-desc">'
        f'<title id="{chart_id}-title">{escape(title)}</title><desc id="{chart_id}-desc">{escape(desc)}</desc>'
    )
    return root + svg[found.end() :]


def responsive(draw: Callable[[Size], str]) -> str:
    """The chart drawn for a wide card and for a phone; outcomes.css shows one of them."""
    return draw(WIDE) + draw(NARROW)


def _day(d: date) -> str:
    return f"{d.day} {d:%b %Y}"


def _sessions_text(sessions: Sequence[date]) -> str:
    if not sessions:
        return "No signed sessions yet."
    if len(sessions) == 1:
        return f"One session, on {_day(sessions[0])}."
    return f"{len(sessions)} sessions, from {_day(min(sessions))} to {_day(max(sessions))}."


def _render(
    title: str,
    desc: str,
    low: float,
    high: float,
    dates: Sequence[date],
    series: Sequence[Series],
    size: Size,
    y_labels: Sequence[float] | None = None,
) -> str:
    span = (max(dates) - min(dates)).days if dates else 0
    named = sum(1 for name, *_ in series if name)
    columns = min(size.legend_columns, max(1, named))
    # pygal leaves room under the plot for len(series) // columns rows of legend (unnamed series
    # too), and draws a row for every `columns` named ones: the margin makes up the difference.
    rows = max(1, -(-named // columns))
    missing = rows - max(1, len(series) // columns)
    fmt = "%-d %b" if span < 300 else "%b %Y"
    chart = pygal.DateLine(
        style=_style([color for *_, color in series]),
        js=[],
        disable_xml_declaration=True,
        width=size.width,
        # Taller by each row of legend after the first, so that every plot has the same height.
        height=size.height + 18 * (rows - 1),
        title=title,
        range=(low, high),
        legend_at_bottom=True,
        legend_at_bottom_columns=columns,
        margin_bottom=max(0, 8 + 18 * missing),
        show_x_guides=False,
        truncate_legend=-1,
        truncate_label=-1,
        dots_size=4,
        x_value_formatter=lambda d: d.strftime(fmt),
        margin=12,
        no_data_text="No scores yet",
        allow_interruptions=True,
    )
    if y_labels is not None:
        chart.y_labels = list(y_labels)
    if dates:
        first, last = min(dates), max(dates)
        if first == last:
            first, last = first - timedelta(days=3), last + timedelta(days=3)
        chart.x_labels = _ticks(first, last, size.ticks)
    for name, values, options, _color in series:
        chart.add(name, values, **options)
    return _accessible(chart.render(is_unicode=True), title=title, desc=desc, size=size)


def _ticks(first: date, last: date, count: int = 6) -> list[date]:
    step = max(1, (last - first).days // max(1, count - 1))
    ticks = [first + timedelta(days=i * step) for i in range(count) if first + timedelta(days=i * step) <= last]
    return ticks


def _session_lines(sessions: Sequence[date], low: float, high: float) -> Series:
    """A thin line from the bottom to the top of the plot on each session day: one series whose
    lines are broken between days (pygal reserves legend room for every series, named or not)."""
    points: list[Point] = []
    for day in sorted(set(sessions)):
        points += [(day, low), (day, high), (None, None)]
    return ("Session days", points[:-1], {"show_dots": False, "stroke_style": SESSION_LINE}, SESSIONS)


def measure_chart(summary: MeasureSummary, *, goals: Sequence[tuple[str, float]], sessions: Sequence[date]) -> str:
    """A measure's trajectory: scores, the MCID band around the baseline, goal lines, session days."""
    m = summary.measure
    scored = [(r.collected_on, float(r.value)) for r in summary.scored if r.value is not None]
    dates = [d for d, _ in scored] + list(sessions)
    # Session lines first, so they are drawn behind the scores.
    series: list[Series] = [_session_lines(sessions, m.score_min, m.score_max)] if sessions else []
    series.append((m.short, scored, {"stroke_style": {"width": 3}}, SCORE))
    lines: list[str] = []
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
            lines.append(f"Dashed lines: the baseline {baseline.value:g} ± the MCID of {mcid.absolute:g}.")
        elif mcid is not None and mcid.followup_at_most is not None:
            line = [(first, mcid.followup_at_most), (last, mcid.followup_at_most)]
            flat = {"show_dots": False, "stroke_style": DASHED}
            series.append((f"Responder: {mcid.followup_at_most:g} or better", line, flat, BAND))
            lines.append(f"Dashed line: a responder answers {mcid.followup_at_most:g} or better.")
        for label, target in goals:
            line = [(first, target), (last, target)]
            series.append((f"Goal: {label}", line, {"show_dots": False, "stroke_style": DOTTED}, GOAL))
            lines.append(f"Goal {label}: {target:g}.")
    direction = "higher is better" if m.higher_is_better else "lower is better"
    title = f"{m.short} ({m.score_min:g}–{m.score_max:g}, {direction})"
    scores = ", ".join(f"{value:g} on {_day(on)}" for on, value in scored) or "none yet"
    desc = " ".join([f"{m.name} scores: {scores}.", *lines, _sessions_text(sessions)])
    return responsive(lambda size: _render(title, desc, m.score_min, m.score_max, dates, series, size))


def _told(name: str, points: Sequence[tuple[date, float]]) -> str:
    return f"{name}: " + (", ".join(f"{value:g} on {_day(on)}" for on, value in points) or "not recorded") + "."


def visit_chart(visits: Sequence[VisitScores]) -> str:
    """Sleep, stress and muscle tension as the therapist recorded them in each signed note (0–10
    each); no chart when no note recorded any."""
    sleep = [(v.on, float(v.sleep)) for v in visits if v.sleep is not None]
    stress = [(v.on, float(v.stress)) for v in visits if v.stress is not None]
    tension = [(v.on, float(v.tension)) for v in visits if v.tension is not None]
    if not sleep and not stress and not tension:
        return ""
    dates = [v.on for v in visits]
    # Told apart by line pattern and dot as well as colour.
    series: list[Series] = [
        ("Sleep (10 = very good)", sleep, {"stroke_style": {"width": 3}}, SLEEP),
        ("Stress (10 = worst)", stress, {"stroke_style": {"width": 3, "dasharray": "8,4"}}, STRESS),
        ("Muscle tension (10 = worst)", tension, {"stroke_style": {"width": 3, "dasharray": "2,5"}}, TENSION),
    ]
    title = "Sleep, stress and muscle tension at each visit (0–10)"
    desc = " ".join(
        [
            _told("Sleep since the last visit", sleep),
            _told("Stress since the last visit", stress),
            _told("Muscle tension since the last visit", tension),
        ]
    )
    return responsive(lambda size: _render(title, desc, 0, 10, dates, series, size))


def medication_chart(visits: Sequence[VisitScores]) -> str:
    """On how many of the last 7 days the client took pain medication, as told at each signed
    visit: a count of days on its own 0–7 scale, not drawn among the 0–10 ratings."""
    days = [(v.on, float(v.medication_days)) for v in visits if v.medication_days is not None]
    if not days:
        return ""
    dates = [v.on for v in visits]
    series: list[Series] = [("Days with pain medication", days, {"stroke_style": {"width": 3}}, MEDICATION)]
    title = "Days with pain medication at each visit (of the last 7)"
    desc = _told("Days with pain medication of the 7 before each visit", days)
    return responsive(lambda size: _render(title, desc, 0, 7, dates, series, size, y_labels=range(8)))


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
    title = "Range of motion, % of normal"
    desc = " ".join(
        f"{s.label}: " + ", ".join(f"{p.percent:.0f}% on {_day(p.on)}" for p in s.points) + "." for s in rom
    )
    return responsive(lambda size: _render(title, desc, 0, round(top, -1), dates, series, size))


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
