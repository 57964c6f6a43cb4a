"""The evidence report page and its CSV: same numbers, same filters, who may open them, audit, queries."""

from __future__ import annotations

import csv
import io
import re
from datetime import timedelta
from html import unescape as html_unescape

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from mend.audit.models import Action, AuditEvent
from tests.outcomes.test_evidence import START, back_pain, build_episode  # noqa: F401  (fixture)

PAGE, CSV, CURVES = "/outcomes/evidence/", "/outcomes/evidence.csv", "/outcomes/evidence/curves.svg"
CELL = re.compile(r'<span data-col="([a-z_]+)"(?: hidden)?>([^<]*)</span>')


def page_rows(html: str) -> list[dict[str, str]]:
    rows = []
    for chunk in html.split("<tr data-row>")[1:]:
        chunk = chunk.split("</tr>")[0]
        rows.append({name: value.replace("&#x27;", "'").replace("&amp;", "&") for name, value in CELL.findall(chunk)})
    return rows


def csv_rows(body: bytes) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(body.decode())))


def test_page_shows_the_reports_numbers_intervals_and_curve(login, back_pain):  # noqa: F811
    html = login("owner").get(PAGE).content.decode()
    [row] = page_rows(html)
    assert row["condition"] == "M54.5 Low back pain"
    assert (row["episodes"], row["followed_up"], row["mean_change"]) == ("5", "4", "1.5")
    assert (row["responder_rate"], row["responder_low"], row["responder_high"]) == ("50.0", "15.0", "85.0")
    assert row["median_sessions_to_mcid"] == "6"
    assert row["responder_rule"] == "2 points or 30% better than baseline"
    # The curves are drawn on demand: the page embeds each as a lazy image in a closed section.
    assert "M54.5 Low back pain: sessions to MCID" not in html
    curves = html_unescape(
        re.search(r'<details class="evidence-curve">.*?<img src="([^"]+)" loading="lazy"', html, re.S)[1]
    )
    assert curves == CURVES + "?condition=M54.5"
    drawn = login("owner").get(curves)
    assert drawn["Content-Type"].startswith("image/svg+xml")
    assert b"M54.5 Low back pain: sessions to MCID" in drawn.content and b"<script" not in drawn.content
    assert "Cherkin" in html and "Sherman" in html and "70% improvement" in html


# Columns the CSV leaves blank when they are computed over fewer than five followed-up episodes.
OVER_FOLLOWED_UP = {
    "baseline_mean", "latest_mean", "mean_change", "mean_change_low", "mean_change_high",
    "responders", "responder_rate", "responder_low", "responder_high",
}  # fmt: skip


def followed_up_five(personas):
    """Five more M54.5 episodes followed up, so the group's change statistics may leave Mend."""
    for n in range(5):
        build_episode(personas, nprs=[(1, 7), (3, 4 + n % 2)], sessions=3)


@pytest.mark.parametrize(
    "query", ["", "?technique=myofascial_release", "?started_from=2026-01-01&started_to=2026-12-31"]
)
def test_csv_holds_the_cells_the_page_shows_for_groups_of_five_or_more(login, personas, back_pain, query):  # noqa: F811
    client = login("owner")
    followed_up_five(personas)
    build_episode(personas, code="", condition="neck_pain", nprs=[(1, 6), (2, 3)], sessions=2)
    html = client.get(PAGE + query).content.decode()
    shown = page_rows(html.partition('<details class="evidence-small">')[0])
    exported = csv_rows(client.get(CSV + query).content)
    assert shown and [(r["condition_code"], r["measure"]) for r in exported] == [
        (r["condition_code"], r["measure"]) for r in shown
    ]
    for on_page, in_csv in zip(shown, exported, strict=True):
        for name, value in on_page.items():
            assert in_csv[name] == value, name
        # Every column of the CSV that has a value is on the page.
        assert {k for k, v in in_csv.items() if v} <= set(on_page)


def test_csv_leaves_out_groups_of_fewer_than_five_episodes(login, personas, back_pain):  # noqa: F811
    """One neck pain episode is one client's scores: the page sets it apart, the export omits it."""
    build_episode(personas, code="M54.2", condition="neck_pain", nprs=[(1, 6), (2, 3)], sessions=2)
    client = login("owner")
    assert "M54.2 Cervicalgia" in client.get(PAGE).content.decode()
    exported = csv_rows(client.get(CSV).content)
    assert [r["condition_code"] for r in exported] == ["M54.5"]


def test_csv_blanks_statistics_over_fewer_than_five_followed_up_episodes(login, back_pain):  # noqa: F811
    """Five episodes, four followed up: counts, drop-out and the Kaplan–Meier median (over all five)
    are exported; the means, change and responders (over the four) are not."""
    [row] = csv_rows(login("owner").get(CSV).content)
    assert (row["episodes"], row["followed_up"], row["median_sessions_to_mcid"]) == ("5", "4", "6")
    assert (row["dropped_out"], row["dropout_rate"]) == ("1", "20.0")
    assert {name: row[name] for name in OVER_FOLLOWED_UP} == dict.fromkeys(OVER_FOLLOWED_UP, "")


def test_csv_filtered_down_to_one_therapists_single_client_is_empty(login, personas, back_pain):  # noqa: F811
    theo = personas.memberships["therapist2"].pk
    client = login("owner")
    assert page_rows(client.get(f"{PAGE}?therapist={theo}").content.decode())[0]["episodes"] == "1"
    response = client.get(f"{CSV}?therapist={theo}")
    assert response.status_code == 200
    assert csv_rows(response.content) == []


def test_a_therapists_csv_holds_only_their_own_episodes(login, personas, back_pain):  # noqa: F811
    """Tess has four episodes of back_pain and Theo one; with a fifth of Tess's the group is exported,
    counting hers only, whatever therapist the query names."""
    build_episode(personas, nprs=[(1, 7), (3, 4)], sessions=3)
    theo = personas.memberships["therapist2"].pk
    tess = login("therapist")
    for query in ("", f"?therapist={theo}"):
        [row] = csv_rows(tess.get(CSV + query).content)
        assert (row["condition_code"], row["episodes"]) == ("M54.5", "5")
    assert csv_rows(login("therapist2").get(CSV).content) == []


@pytest.mark.parametrize("query", ["?therapist=999999", "?technique=not-a-technique"])
def test_an_unknown_filter_value_shows_no_results(login, back_pain, query):  # noqa: F811
    response = login("owner").get(PAGE + query)
    assert response.status_code == 400
    assert "<tr data-row>" not in response.content.decode()


def test_the_summary_counts_matching_and_measured_episodes(login, personas, back_pain):  # noqa: F811
    build_episode(personas, nprs=[], sessions=1)
    html = login("owner").get(PAGE).content.decode()
    assert "6 episodes match, 5 with an outcome score." in html
    html = login("owner").get(PAGE + "?technique=swedish").content.decode()
    assert "Episodes of care matching the filters" in html and "1 episode matches." in html


def test_small_groups_are_listed_apart_and_collapsed(login, personas, back_pain):  # noqa: F811
    build_episode(personas, code="M54.2", condition="neck_pain", nprs=[(1, 6), (2, 3)], sessions=2)
    html = login("owner").get(PAGE).content.decode()
    main, _, rest = html.partition('<details class="evidence-small">')
    assert [r["condition_code"] for r in page_rows(main)] == ["M54.5"]
    assert '<th scope="rowgroup" colspan="8">M54.5 Low back pain</th>' in main
    assert "1 smaller group (fewer than 5 episodes each)" in rest
    assert [(r["condition"], r["episodes"]) for r in page_rows(rest)] == [("M54.2 Cervicalgia", "1")]
    # Its curve is not offered: one episode says nothing about time to respond.
    assert "condition=M54.5" in html and "condition=M54.2" not in html
    assert login("owner").get(CURVES + "?condition=M54.2").status_code == 404


def test_filters_apply_to_page_and_csv(login, personas, back_pain):  # noqa: F811
    client = login("owner")
    theo = personas.memberships["therapist2"].pk
    assert page_rows(client.get(f"{PAGE}?therapist={theo}").content.decode())[0]["episodes"] == "1"
    assert csv_rows(client.get(f"{CSV}?technique=myofascial_release").content) == []  # four episodes
    later = (START + timedelta(days=1)).isoformat()
    assert "No episode with a baseline" in client.get(f"{PAGE}?started_from={later}").content.decode()


def test_a_reversed_date_range_is_a_form_error(login, back_pain):  # noqa: F811
    response = login("owner").get(f"{PAGE}?started_from=2026-05-01&started_to=2026-01-01")
    assert response.status_code == 400
    html = response.content.decode()
    assert "after its end" in html
    # No numbers from filters that do not hold, and no download of them.
    assert "<tr data-row>" not in html and "No results until the filters are corrected" in html
    assert 'href="/outcomes/evidence.csv' not in html
    # Named beside the field to correct, which keeps what was typed.
    assert '<ul class="errorlist" id="id_started_to_error">' in html and 'value="2026-01-01"' in html


def test_a_therapist_sees_their_own_episodes_and_has_no_therapist_filter(login, back_pain):  # noqa: F811
    html = login("therapist").get(PAGE).content.decode()
    assert page_rows(html)[0]["episodes"] == "4"
    assert 'name="therapist"' not in html


@pytest.mark.parametrize(
    ("persona", "status"),
    [("owner", 200), ("admin", 200), ("therapist", 200), ("front_desk", 403), ("outsider", 200)],
)
@pytest.mark.parametrize("path", [PAGE, CSV])
def test_who_may_open_the_report(login, back_pain, persona, status, path):  # noqa: F811
    response = login(persona).get(path)
    assert response.status_code == status
    if persona == "outsider":  # their own clinic's report: none of Harbour's episodes
        assert b"M54.5 " not in response.content


def test_report_and_export_are_audited_without_client_ids(login, back_pain):  # noqa: F811
    client = login("owner")
    client.get(PAGE)
    client.get(CSV)
    events = AuditEvent.objects.filter(object_type="outcomes.evidence").order_by("seq")
    assert [e.action for e in events] == [Action.VIEW, Action.EXPORT]
    assert all(e.client_id is None for e in events)


def test_navigation_links_the_report_for_clinical_roles_only(login):
    assert b'href="/outcomes/evidence/"' in login("therapist").get("/").content
    assert b'href="/outcomes/evidence/"' not in login("front_desk").get("/").content


def _count(client, path: str) -> tuple[int, list[str]]:
    client.get(path)
    with CaptureQueriesContext(connection) as captured:
        response = client.get(path)
    assert response.status_code == 200
    return len(captured.captured_queries), [q["sql"] for q in captured.captured_queries]


@pytest.mark.parametrize("path", [PAGE, CSV + "?technique=myofascial_release"])
def test_query_count_does_not_grow_with_the_clinic(login, personas, path):
    # Session and user, membership, audit write; then the report's four reads: episodes, first
    # referrals, signed-session counts, scores (and the therapist list for the page's filter).
    client = login("owner")
    for i in range(2):
        build_episode(personas, nprs=[(1, 7), (3, 4)], sessions=3, reason="goals_met" if i else "")
    small = _count(client, path)
    for i in range(20):
        build_episode(personas, code="M79.18" if i % 2 else "M54.2", nprs=[(1, 7), (3, 6 - i % 4)], sessions=3,
                      reason="lost_to_follow_up" if i % 5 == 0 else "")  # fmt: skip
    large = _count(client, path)
    assert small[0] == large[0], "\n".join(["small:", *small[1], "large:", *large[1]])


def test_the_headline_tops_the_page_only_for_groups_that_may_be_quoted(login, personas, back_pain):  # noqa: F811
    client = login("owner")
    assert "data-headline" not in client.get(PAGE).content.decode()  # four followed up: under the rule
    followed_up_five(personas)
    html = client.get(PAGE).content.decode()
    sentence = re.search(r"<p class=\"evidence-headline-text\" data-headline>([^<]+)</p>", html).group(1)
    assert sentence.startswith("78% of clients treated for low back pain (M54.5) reached a meaningful change")
    assert html.index("data-headline") < html.index('id="results-heading"')


def test_csv_names_the_responder_rule_beside_the_rate(login, personas, back_pain):  # noqa: F811
    followed_up_five(personas)
    [row] = csv_rows(login("owner").get(CSV).content)
    assert row["responder_rule"] == "2 points or 30% better than baseline"


def test_cherkin_is_not_set_beside_sciatica_or_disc_groups(login, personas, back_pain):  # noqa: F811
    # Cherkin 2011 enrolled nonspecific low back pain: sciatica (M54.4) and disc disease (M51) were excluded.
    for code in ("M54.41", "M51.26"):
        for _ in range(5):
            build_episode(personas, code=code, nprs=[(1, 7), (3, 4)], sessions=3)
    html = login("owner").get(PAGE).content.decode()
    cherkin = html.split("<h3>Chronic low back pain: massage vs usual care</h3>")[1].split("</article>")[0]
    assert "M54.5 Low back pain, NPRS" in cherkin
    assert "M54.4" not in cherkin.split("Not set beside this trial")[0]
    assert "M51" not in cherkin.split("Not set beside this trial")[0]
    note = cherkin.split("Not set beside this trial: ")[1]
    assert note.startswith("M51.2 ") and ", M54.4 Lumbago with sciatica. Cherkin 2011 enrolled nonspecific" in note


def test_sherman_panel_says_its_ndi_response_differs_from_mends(login, back_pain):  # noqa: F811
    html = login("owner").get(PAGE).content.decode()
    sherman = html.split("<h3>Chronic neck pain: dose of massage vs wait list</h3>")[1].split("</article>")[0]
    assert "an improvement of 5 points or more on the 0–50 Neck Disability Index" in html_unescape(sherman)
    assert "NDI responders are 20 points better than baseline: a different threshold" in html_unescape(sherman)


def test_sherman_panel_sets_the_clinics_ndi_rate_by_the_trials_rule_beside_it(login, personas):
    from django.utils import timezone

    from mend.outcomes.models import MeasureResponse

    # NDI 40 → 28, 30, 34, 18, 40 (of 100): by Sherman's 10 (5 of 50) three respond; by Mend's 20, one.
    for latest in (28, 30, 34, 18, 40):
        episode = build_episode(personas, code="M54.2", condition="neck_pain", sessions=4)
        for i, (session, value) in enumerate([(1, 40), (4, latest)]):
            MeasureResponse.objects.create(
                clinic=episode.clinic, client=episode.client, episode=episode, measure_id="ndi",
                answers=[value // 10] * 5 + [0] * 5, value=value, scoring_version="2026.1",
                collected_on=START + timedelta(days=7 * i), collected_at=timezone.now(), session_number=session,
                recorded_by=personas.memberships["therapist"],
            )  # fmt: skip
    html = html_unescape(login("owner").get(PAGE).content.decode())
    sherman = html.split("<h3>Chronic neck pain: dose of massage vs wait list</h3>")[1].split("</article>")[0]
    assert re.search(r"M54\.2 Cervicalgia, NDI</th>\s*<td class=\"num\">1 of 5 · 20%", sherman)
    assert "By the trial's rule, this clinic's M54.2 Cervicalgia, NDI: 3 of 5 · 60%" in sherman


def test_curves_follow_the_filters_and_a_therapists_scope(login, personas, back_pain):  # noqa: F811
    # Five M54.5 episodes, one of them therapist2's: therapist1 has four, too few for a curve.
    assert login("owner").get(CURVES + "?condition=M54.5").status_code == 200
    assert login("therapist").get(CURVES + "?condition=M54.5").status_code == 404
    assert login("owner").get(CURVES + "?condition=M54.5&technique=swedish").status_code == 404
    assert login("owner").get(CURVES + "?condition=M54.5&started_from=nonsense").status_code == 404
    assert login("owner").get(CURVES + "?condition=M54.5&started_from=2026-01-01").status_code == 200
    html = login("owner").get(PAGE + "?started_from=2026-01-01").content.decode()
    assert 'src="/outcomes/evidence/curves.svg?started_from=2026-01-01&amp;condition=M54.5"' in html


def test_curves_are_audited_as_a_read_of_the_report(login, back_pain):  # noqa: F811
    before = AuditEvent.objects.filter(object_type="outcomes.evidence", action=Action.VIEW).count()
    login("owner").get(CURVES + "?condition=M54.5")
    assert AuditEvent.objects.filter(object_type="outcomes.evidence", action=Action.VIEW).count() == before + 1


def test_curves_query_count_does_not_grow_with_the_clinic(login, personas):
    # As the report page: session and user, membership, audit write, the report's four reads and the
    # therapist list of the filter form.
    client = login("owner")
    for _ in range(5):
        build_episode(personas, nprs=[(1, 7), (3, 4)], sessions=3)
    small = _count(client, CURVES + "?condition=M54.5")
    for i in range(20):
        build_episode(personas, code="M54.2" if i % 2 else "M54.50", nprs=[(1, 7), (3, 6 - i % 4)], sessions=3)
    large = _count(client, CURVES + "?condition=M54.5")
    assert small[0] == large[0], "\n".join(["small:", *small[1], "large:", *large[1]])


def test_the_stress_plan_dose_is_rapaport_2016s():
    from mend import knowledge

    dose = knowledge.conditions()["stress_sleep"].dose
    # Rapaport 2016: Swedish massage twice a week for six weeks (verified), 45-minute sessions (secondary).
    assert (dose.per_week, dose.weeks, dose.minutes, dose.source) == (2, 6, 45, "rapaport2016")
    assert "Rapaport MH et al. J Clin Psychiatry 2016;77:e883" in dose.source_text
