"""The progress page's charts: drawn to fill their card on a wide screen and on a phone, session
days as vertical guides (not as scores of zero), sleep, stress, muscle tension and pain medication
days from every signed note, and each chart an image named and described in words."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from mend.clinical import services as clinical
from mend.outcomes import services
from mend.testing import harbour_today, signed_note

# clock: dates here are the clinic's; scripts/test.sh runs this module at hours where UTC's differ.
pytestmark = [pytest.mark.django_db, pytest.mark.clock]

SVG = "{http://www.w3.org/2000/svg}"
CHART = re.compile(r"<svg\b.*?</svg>", re.DOTALL)


def _charts(text: str) -> list[ET.Element]:
    return [ET.fromstring(svg) for svg in CHART.findall(text)]


def _titled(text: str, title: str) -> list[ET.Element]:
    """The drawings (wide and narrow) of the chart with this title."""
    found = [svg for svg in _charts(text) if svg.findtext(f"{SVG}title") == title]
    assert found, f"no chart titled {title!r}"
    return found


def _serie(svg: ET.Element, legend: str) -> list[ET.Element]:
    """The plot groups (lines, dots) of the series whose legend entry reads ``legend``."""
    legends = svg.find(f".//{SVG}g[@class='legends']")
    assert legends is not None
    ids = [g.get("id", "") for g in legends if "".join(g.itertext()).strip() == legend]
    assert ids, f"no legend entry {legend!r}"
    number = ids[0].removeprefix("activate-serie-")
    return [g for g in svg.iter(f"{SVG}g") if (g.get("class") or "").startswith(f"series serie-{number} ")]


def _progress(login, episode) -> str:
    response = login("therapist").get(f"/episodes/{episode.pk}/progress/")
    assert response.status_code == 200
    return response.content.decode()


def _note(tess, episode, *, on, sleep, stress, tension=None, medication=None, sign=True):
    note = clinical.note_start(actor=tess, episode=episode, visit_on=on)
    clinical.note_update(
        actor=tess,
        note=note,
        data={
            "subjective": "Sleeping better.",
            "pain_pre": 5,
            "pain_post": 3,
            "sleep_quality": sleep,
            "stress": stress,
            "muscle_tension": tension,
            "medication_days": medication,
        },
        techniques=[clinical.TechniqueInput("myofascial_release", "lower_back", 30, 2)],
    )
    return clinical.note_sign(actor=tess, note=note) if sign else note


def _scores(tess, episode):
    today = harbour_today()
    services.response_record(
        actor=tess, episode=episode, measure_id="nprs", answers=[7], collected_on=today - timedelta(days=20)
    )
    services.response_record(actor=tess, episode=episode, measure_id="nprs", answers=[4])


def test_session_days_are_vertical_guides_not_points_on_the_zero_line(login, tess, episode):
    """A session without a score used to be drawn as a dot at 0, which reads as a pain score of 0."""
    today = harbour_today()
    _scores(tess, episode)
    for days in (14, 7):
        signed_note(tess, episode, on=today - timedelta(days=days))
    for svg in _titled(_progress(login, episode), "NPRS (0–10, lower is better)"):
        sessions = _serie(svg, "Session days")
        assert not [c for g in sessions for c in g.iter(f"{SVG}circle")], "session days are drawn as dots"
        lines = [p.get("d", "") for g in sessions for p in g.iter(f"{SVG}path")]
        assert len(lines) == 2, lines
        for d in lines:
            (x1, y1), (x2, y2) = [tuple(map(float, xy)) for xy in re.findall(r"([\d.]+) ([\d.]+)", d)]
            assert x1 == x2 and abs(y1 - y2) > 100, f"not a vertical guide across the plot: {d}"


def test_each_chart_is_drawn_for_a_wide_card_and_for_a_phone(login, tess, episode):
    _scores(tess, episode)
    wide, narrow = _titled(_progress(login, episode), "NPRS (0–10, lower is better)")
    assert "chart-wide" in wide.get("class", "") and "chart-narrow" in narrow.get("class", "")
    # The SVG units are CSS pixels at the card's width: 12 px labels stay 12 px, on a 1280 px screen
    # (a card about 1100 px wide) and on a 390 px phone (about 320 px).
    assert wide.get("viewBox", "").split()[2] == "1100" and narrow.get("viewBox", "").split()[2] == "330"
    for svg in (wide, narrow):
        assert svg.get("width") is None and svg.get("height") is None, "a fixed size does not fill the card"


def test_a_chart_is_one_image_named_by_its_title_and_described_in_words(login, tess, episode):
    _scores(tess, episode)
    signed_note(tess, episode, on=harbour_today() - timedelta(days=14))
    text = _progress(login, episode)
    for svg in _titled(text, "NPRS (0–10, lower is better)"):
        assert svg.get("role") == "img"
        title_id, desc_id = svg.get("aria-labelledby", "").split()
        assert svg.find(f"{SVG}title").get("id") == title_id
        desc = svg.find(f"{SVG}desc")
        assert desc.get("id") == desc_id
        day = harbour_today() - timedelta(days=20)
        assert f"Numeric Pain Rating Scale scores: 7 on {day.day} {day:%b %Y}, 4 on " in desc.text
        assert "Dashed lines: the baseline 7 ± the MCID of 2." in desc.text
        assert "One session, on " in desc.text
    assert "<script" not in text.split("<svg", 1)[1]


VISITS_0_10 = "Sleep, stress and muscle tension at each visit (0–10)"
MEDICATION = "Days with pain medication at each visit (of the last 7)"


def _dots(svg: ET.Element, legend: str) -> list[ET.Element]:
    return [c for g in _serie(svg, legend) for c in g.iter(f"{SVG}circle")]


def test_what_every_signed_note_asks_is_plotted_and_tabled(login, tess, episode):
    today = harbour_today()
    _note(tess, episode, on=today - timedelta(days=14), sleep=3, stress=8, tension=8, medication=6)
    _note(tess, episode, on=today - timedelta(days=7), sleep=6, stress=5, tension=5, medication=2)
    # a draft is not plotted yet
    _note(tess, episode, on=today, sleep=9, stress=9, tension=1, medication=0, sign=False)
    text = _progress(login, episode)
    svgs = _titled(text, VISITS_0_10)
    assert len(svgs) == 2
    for svg in svgs:
        assert len(_dots(svg, "Sleep (10 = very good)")) == 2 and len(_dots(svg, "Stress (10 = worst)")) == 2
        assert len(_dots(svg, "Muscle tension (10 = worst)")) == 2
        desc = svg.findtext(f"{SVG}desc")
        assert re.search(r"Sleep since the last visit: 3 on .*, 6 on .*\.", desc), desc
        assert re.search(r"Stress since the last visit: 8 on .*, 5 on [^,]*\.", desc), desc
        assert re.search(r"Muscle tension since the last visit: 8 on .*, 5 on [^,]*\.$", desc), desc
    # Medication days are a count of days, on their own 0–7 chart, not among the 0–10 ratings.
    medication = _titled(text, MEDICATION)
    assert len(medication) == 2
    for svg in medication:
        assert len(_dots(svg, "Days with pain medication")) == 2
        assert re.search(
            r"pain medication of the 7 before each visit: 6 on .*, 2 on [^,]*\.$", svg.findtext(f"{SVG}desc")
        )
        labels = [
            t.text for g in svg.iter(f"{SVG}g") if g.get("class") == "axis y always_show" for t in g.iter(f"{SVG}text")
        ]
        assert labels == [str(n) for n in range(8)], labels
    for svg in svgs:
        assert "Days with pain medication" not in "".join(svg.itertext())
    # The same numbers as a table.
    table = text.split('id="visits-heading"', 1)[1].split("</table>", 1)[0]
    rows = [re.findall(r"<td[^>]*>(.*?)</td>", row) for row in re.findall(r"<tr>.*?</tr>", table)[1:]]
    assert rows == [["3", "8", "8", "6"], ["6", "5", "5", "2"]]
    # Which is which: these are the visit's questions, not the questionnaires of the same names.
    assert "Asked at each visit</h2>" in text and "The questionnaires the client fills in" in text


def test_medication_days_alone_draw_only_their_own_chart(login, tess, episode):
    _note(tess, episode, on=harbour_today() - timedelta(days=3), sleep=None, stress=None, medication=4)
    text = _progress(login, episode)
    assert len(_titled(text, MEDICATION)) == 2
    assert f"{VISITS_0_10}</title>" not in text
    table = text.split('id="visits-heading"', 1)[1].split("</table>", 1)[0]
    rows = [re.findall(r"<td[^>]*>(.*?)</td>", row) for row in re.findall(r"<tr>.*?</tr>", table)[1:]]
    assert rows == [["—", "—", "—", "4"]]


def test_without_anything_asked_at_the_visits_recorded_the_page_says_so(login, tess, episode):
    signed_note(tess, episode, on=harbour_today() - timedelta(days=3))
    text = _progress(login, episode)
    assert "No signed note records sleep, stress, muscle tension or pain medication yet." in text
    assert f"{VISITS_0_10}</title>" not in text and f"{MEDICATION}</title>" not in text


def _count(http, path):
    http.get(path)
    with CaptureQueriesContext(connection) as captured:
        response = http.get(path)
    assert response.status_code == 200
    return len(captured.captured_queries), [q["sql"] for q in captured.captured_queries]


def test_progress_page_queries_do_not_grow_with_the_notes(login, tess, episode):
    """The signed notes' days and what was asked at each come in one query, however many notes."""
    http = login("therapist")
    path = f"/episodes/{episode.pk}/progress/"
    today = harbour_today()
    _note(tess, episode, on=today - timedelta(days=20), sleep=4, stress=6, tension=7, medication=5)
    small = _count(http, path)
    for days in range(19, 1, -1):
        _note(
            tess,
            episode,
            on=today - timedelta(days=days),
            sleep=days % 10,
            stress=(days + 3) % 10,
            tension=(days + 5) % 10,
            medication=days % 8,
        )
    large = _count(http, path)
    if small[0] != large[0]:
        pytest.fail("\n".join([f"1 note: {small[0]}", *small[1], "", f"19 notes: {large[0]}", *large[1]]))
