"""What a therapist and a client see on the outcome measure forms: plain licence notes, readable
item topics, one clear error per problem tied to its field, a way to clear an answer, scales that
wrap evenly with a visible border, the send page's unavailable measures, and the client's pages."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.contrib.staticfiles import finders
from django.test import Client
from django.test.html import Element, parse_html

from mend.clinical import services as clinical
from mend.outcomes import services
from mend.outcomes.forms import ItemRow, item_topic
from mend.outcomes.models import QuestionnaireLink
from mend.testing import harbour_today

from .conftest import planned, token_from_mail

# clock: dates here are the clinic's; scripts/test.sh runs this module at hours where UTC's differ.
pytestmark = [pytest.mark.django_db, pytest.mark.clock]

LICENSED = ["odi", "ndi", "lefs", "quickdash", "fiqr", "pss10", "hit6"]


# --- A small reader for the rendered pages --------------------------------------------------


def _walk(node: Element) -> Iterator[Element]:
    for child in node.children:
        if isinstance(child, Element):
            yield child
            yield from _walk(child)


def find_all(node: Element, tag: str | None = None, **attrs: str | None) -> list[Element]:
    """Elements by tag and attributes; ``class_`` matches one class among several."""
    found = []
    for element in _walk(node):
        if tag is not None and element.name != tag:
            continue
        have = dict(element.attributes)
        wanted_class = attrs.get("class_")
        if wanted_class is not None and wanted_class not in (have.get("class") or "").split():
            continue
        if all(have.get(k) == v for k, v in attrs.items() if k != "class_"):
            found.append(element)
    return found


def attr(element: Element, name: str) -> str | None:
    return dict(element.attributes).get(name)


def has_attr(element: Element, name: str) -> bool:
    return name in dict(element.attributes)


def text(node: Element | str) -> str:
    if isinstance(node, str):
        return node
    return re.sub(r"\s+", " ", " ".join(text(c) for c in node.children)).strip()


def by_id(page: Element, element_id: str) -> Element:
    found = [e for e in _walk(page) if attr(e, "id") == element_id]
    assert len(found) == 1, f"{len(found)} elements with id {element_id!r}"
    return found[0]


def page_of(response) -> Element:  # type: ignore[no-untyped-def]
    return parse_html(response.content.decode())


def static_text(path: str) -> str:
    found = finders.find(path)
    assert found, f"static file {path} not found"
    return Path(str(found)).read_text()


def relative_luminance(hex_colour: str) -> float:
    channels = [int(hex_colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    linear = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast_on_white(hex_colour: str) -> float:
    return 1.05 / (relative_luminance(hex_colour) + 0.05)


@pytest.fixture
def no_wording(settings):
    """No licensed wording loaded: the licensed measures show their topics only."""
    settings.MEND_MEASURE_TEXT = ""


# --- 1. Licensed measures without their wording --------------------------------------------


@pytest.mark.parametrize("measure_id", LICENSED)
def test_licence_note_speaks_to_the_therapist_and_names_the_setting_only_for_the_administrator(
    login, episode, no_wording, measure_id
):
    page = page_of(login("therapist").get(f"/episodes/{episode.pk}/outcomes/{measure_id}/"))
    (note,) = find_all(page, class_="outcome-licence")
    paragraphs = find_all(note, "p")
    main, admin = paragraphs[0], paragraphs[-1]
    assert "Wording licensed: load from local file" in text(main)
    assert "paper form" in text(main) and "clinic owner" in text(main) and "docs/outcomes.md" in text(main)
    assert "MEND_MEASURE_TEXT" not in text(main)
    assert "MEND_MEASURE_TEXT" in text(admin) and "muted" in (attr(admin, "class") or "").split()


@pytest.mark.parametrize(
    ("measure_id", "topics"),
    [
        ("odi", ["Pain intensity", "Sex life", "Social life"]),
        ("lefs", ["Walk 2 blocks", "Stairs 10", "Roll in bed"]),
        ("quickdash", ["Open jar", "Arm pain"]),
        ("fiqr", ["Item 1", "Item 21"]),
    ],
)
def test_items_without_wording_show_readable_topics_not_ids(login, episode, no_wording, measure_id, topics):
    page = page_of(login("therapist").get(f"/episodes/{episode.pk}/outcomes/{measure_id}/"))
    legends = [text(e) for e in find_all(page, class_="scale-text")]
    for topic in topics:
        assert topic in legends
    assert not any("_" in legend or "·" in legend for legend in legends), legends


def test_item_topic_replaces_underscores_capitalises_and_keeps_numbers():
    assert item_topic("sex_life") == "Sex life"
    assert item_topic("walk_2_blocks") == "Walk 2 blocks"
    assert item_topic("item 1") == "Item 1"


def test_title_does_not_repeat_a_short_name_equal_to_the_name(login, episode, no_wording):
    http = login("therapist")
    quickdash = page_of(http.get(f"/episodes/{episode.pk}/outcomes/quickdash/"))
    (h1,) = find_all(quickdash, "h1")
    assert text(h1) == "QuickDASH"
    odi = page_of(http.get(f"/episodes/{episode.pk}/outcomes/odi/"))
    (h1,) = find_all(odi, "h1")
    assert text(h1) == "Oswestry Disability Index 2.1a (ODI)"


# --- 2. The send page ------------------------------------------------------------------------


def _send_page(http: Client, episode) -> Element:  # type: ignore[no-untyped-def]
    response = http.get(f"/episodes/{episode.pk}/outcomes/send/")
    assert response.status_code == 200
    return page_of(response)


def test_send_page_lists_psfs_and_unloaded_licensed_measures_disabled_with_the_reason(
    login, episode, emailable, no_wording
):
    page = _send_page(login("therapist"), episode)
    (group,) = find_all(page, "fieldset", class_="send-measures")
    (legend,) = find_all(group, "legend")
    assert text(legend) == "Questionnaires to send"
    boxes = {attr(b, "value") or attr(b, "id"): b for b in find_all(group, "input", type="checkbox")}
    assert set(boxes) == {"nprs", "unavailable_odi", "unavailable_psfs"}
    assert not has_attr(boxes["nprs"], "disabled") and has_attr(boxes["nprs"], "checked")
    for measure_id, reason in [
        ("odi", "in clinic only: wording not loaded"),
        ("psfs", "in clinic only, the client names activities with you"),
    ]:
        box = boxes[f"unavailable_{measure_id}"]
        assert has_attr(box, "disabled") and not has_attr(box, "name")
        assert reason in text(by_id(page, attr(box, "aria-describedby") or ""))
    assert find_all(page, "label", **{"for": ""}) == []


def test_send_page_offers_a_licensed_measure_once_its_wording_is_loaded(login, episode, emailable):
    page = _send_page(login("therapist"), episode)  # the conftest loads ODI's wording
    (odi,) = find_all(page, "input", type="checkbox", value="odi")
    assert not has_attr(odi, "disabled")


def test_a_measure_listed_as_unavailable_is_not_accepted_when_posted(login, episode, emailable, no_wording):
    response = login("therapist").post(f"/episodes/{episode.pk}/outcomes/send/", {"measures": ["odi"]})
    assert response.status_code == 400
    assert not QuestionnaireLink.objects.exists()


def test_send_page_without_any_sendable_measure_says_so_and_offers_no_send_button(
    login, tess, episode, emailable, no_wording
):
    clinical.plan_save(
        actor=tess,
        episode=episode,
        data={"sessions_per_week": 1, "weeks": 6, "session_minutes": 60,
              "measures": [planned("odi"), planned("psfs")]},
        techniques=[{"technique": "myofascial_release", "region": "lower_back", "side": "", "pressure": 3}],
    )  # fmt: skip
    page = _send_page(login("therapist"), episode)
    assert [attr(b, "id") for b in find_all(page, "input", type="checkbox")] == ["unavailable_odi", "unavailable_psfs"]
    assert "None of this episode's questionnaires can be answered by email" in text(page)
    assert not [b for b in find_all(page, "button") if "Email the link" in text(b)]


def test_sending_nothing_says_once_to_choose_a_questionnaire(login, episode, emailable):
    response = login("therapist").post(f"/episodes/{episode.pk}/outcomes/send/", {})
    assert response.status_code == 400
    body = response.content.decode()
    assert body.count("Choose at least one questionnaire to send.") == 1
    assert "This field is required." not in body
    page = page_of(response)
    (group,) = find_all(page, "fieldset", class_="send-measures")
    assert "has-error" in (attr(group, "class") or "").split()
    (box,) = find_all(group, "input", value="nprs")
    assert attr(box, "aria-invalid") == "true"
    assert text(by_id(page, attr(box, "aria-describedby") or "")) == "Choose at least one questionnaire to send."


# --- 3. Errors on the measure forms ---------------------------------------------------------


def test_a_blank_collected_on_names_the_field_and_links_to_it(login, episode):
    response = login("therapist").post(f"/episodes/{episode.pk}/outcomes/nprs/", {"item_0": "4", "collected_on": ""})
    assert response.status_code == 400
    page = page_of(response)
    assert "This field is required." not in response.content.decode()
    date = by_id(page, "id_collected_on")
    assert attr(date, "aria-invalid") == "true"
    assert text(by_id(page, attr(date, "aria-describedby") or "")) == "Enter the day the measure was collected."
    summary = by_id(page, "form-errors")
    links = {attr(a, "href"): text(a) for a in find_all(summary, "a")}
    assert links == {"#id_collected_on": "Enter the day the measure was collected."}


def test_psfs_errors_mark_their_box_and_field_and_the_summary_links_to_each(login, episode):
    response = login("therapist").post(
        f"/episodes/{episode.pk}/outcomes/psfs/",
        {"activity_0": "", "item_0": "4", "activity_1": "Lifting", "item_1": "",
         "collected_on": harbour_today().isoformat()},
    )  # fmt: skip
    assert response.status_code == 400
    page = page_of(response)

    activity = by_id(page, "id_activity_0")
    assert attr(activity, "aria-invalid") == "true"
    assert text(by_id(page, attr(activity, "aria-describedby") or "")) == "Name the activity this score is for."
    (box,) = [b for b in find_all(page, "div", class_="psfs-activity") if find_all(b, "input", id="id_activity_0")]
    assert "has-error" in (attr(box, "class") or "").split()

    rating = by_id(page, "id_item_1_0")
    assert attr(rating, "aria-invalid") == "true"
    assert "Rate “Lifting” from 0 to 10" in text(by_id(page, attr(rating, "aria-describedby") or ""))
    assert attr(by_id(page, "id_item_0_0"), "aria-invalid") is None  # the answered items are left alone

    summary = by_id(page, "form-errors")
    hrefs = [attr(a, "href") for a in find_all(summary, "a")]
    assert hrefs == ["#id_activity_0", "#id_item_1_0"]
    for href in hrefs:
        by_id(page, (href or "#")[1:])  # each link leads to a control on the page


# --- 4. Clearing an answer ------------------------------------------------------------------


def test_each_item_of_a_multi_item_measure_has_a_clear_button_hidden_until_the_script_runs(login, episode):
    http = login("therapist")
    page = page_of(http.get(f"/episodes/{episode.pk}/outcomes/odi/"))
    items = find_all(page, "fieldset", class_="scale-item")
    assert len(items) == 10
    for item in items:
        (button,) = find_all(item, "button", class_="scale-clear")
        assert attr(button, "type") == "button" and has_attr(button, "hidden") and has_attr(button, "data-scale-clear")
    assert find_all(page, "script", src="/static/outcomes/measure-forms.js")
    single = page_of(http.get(f"/episodes/{episode.pk}/outcomes/nprs/"))
    assert find_all(single, "button", class_="scale-clear") == []  # one item: nothing to leave blank among others


def test_the_clear_script_unchecks_the_items_radios_and_shows_its_buttons():
    script = static_text("outcomes/measure-forms.js")
    assert "[data-scale-clear]" in script and ".scale-item" in script
    assert "button.hidden = false" in script and "radio.checked = false" in script


# --- 5. The answer scales -------------------------------------------------------------------


def test_unselected_answer_buttons_have_a_border_of_at_least_3_to_1():
    css = static_text("outcomes/measure-forms.css")
    match = re.search(r"\.measure-form \.scale-option span \{ border-color: (#[0-9a-fA-F]{6}); \}", css)
    assert match, "the scale's border colour rule is missing"
    assert contrast_on_white(match.group(1)) >= 3


@pytest.mark.parametrize(("count", "columns"), [(11, 6), (6, 6), (5, 5), (15, 5), (7, 4), (2, 2)])
def test_a_scale_wraps_into_rows_of_equal_length_on_a_phone(count, columns):
    row = ItemRow(1, "x", "X", "", "item_0", "id_item_0", tuple(range(count)), [])  # type: ignore[arg-type]
    assert row.narrow_columns == columns


def test_the_0_to_10_scale_carries_its_phone_columns_and_the_stylesheet_uses_them(login, episode):
    page = page_of(login("therapist").get(f"/episodes/{episode.pk}/outcomes/nprs/"))
    (scale,) = find_all(page, "div", role="radiogroup")
    assert {"scale-cols-11", "scale-narrow-6"} <= set(attr(scale, "class").split())
    css = static_text("outcomes/measure-forms.css")
    assert ".scale-cols-11 { --scale-columns: 11; }" in css and ".scale-narrow-6 { --scale-columns-narrow: 6; }" in css
    narrow = re.search(r"@media \(max-width: [\d.]+rem\) \{(.*?)\n\}", css, re.S)
    assert narrow and "repeat(var(--scale-columns-narrow" in narrow.group(1)
    assert find_all(page, "link", rel="stylesheet", href="/static/outcomes/measure-forms.css")


@pytest.mark.parametrize("measure_id", ["nprs", "odi", "psfs"])
def test_every_radiogroup_is_named_by_its_legend(login, episode, measure_id):
    page = page_of(login("therapist").get(f"/episodes/{episode.pk}/outcomes/{measure_id}/"))
    items = find_all(page, "fieldset", class_="scale-item")
    assert items
    for item in items:
        (legend,) = find_all(item, "legend")
        (group,) = find_all(item, role="radiogroup")
        assert (attr(group, "aria-labelledby") or "").split()[0] == attr(legend, "id")


# --- 6. The client's pages ------------------------------------------------------------------


def _send_link(tess, episode, capture, measures=("nprs",)) -> str:  # type: ignore[no-untyped-def]
    with capture(execute=True):
        services.link_create_and_send(actor=tess, episode=episode, measure_ids=list(measures), base_url="http://t/")
    return token_from_mail()


def _logo_is_not_a_link(page: Element) -> None:
    (header,) = find_all(page, "header")
    assert find_all(header, "a") == []
    assert find_all(header, class_="brand")  # the logo is still there


def test_client_pages_show_the_logo_without_a_link_to_the_staff_sign_in(
    client, tess, episode, emailable, django_capture_on_commit_callbacks
):
    token = _send_link(tess, episode, django_capture_on_commit_callbacks)
    form = client.get(f"/q/{token}/")
    assert form.status_code == 200
    _logo_is_not_a_link(page_of(form))
    answered = client.post(f"/q/{token}/", {"nprs-item_0": "3"})
    assert answered.status_code == 302
    _logo_is_not_a_link(page_of(client.get("/q/thanks/")))
    used = client.get(f"/q/{token}/")
    assert used.status_code == 410
    _logo_is_not_a_link(page_of(used))
    unknown = client.get("/q/not-a-token/")
    assert unknown.status_code == 404
    _logo_is_not_a_link(page_of(unknown))


def test_the_thanks_page_confirms_only_after_a_submission_in_this_session(
    client, tess, episode, emailable, django_capture_on_commit_callbacks
):
    direct = client.get("/q/thanks/")
    assert direct.status_code == 200
    assert "reached the clinic" not in direct.content.decode()
    assert "open the link in the email" in direct.content.decode()

    token = _send_link(tess, episode, django_capture_on_commit_callbacks)
    assert client.post(f"/q/{token}/", {"nprs-item_0": "3"})["Location"] == "/q/thanks/"
    after = client.get("/q/thanks/").content.decode()
    assert "Your answers reached the clinic." in after

    elsewhere = Client().get("/q/thanks/").content.decode()
    assert "reached the clinic" not in elsewhere


def test_a_refused_client_answer_is_listed_as_a_link_to_the_item(
    client, tess, episode, emailable, django_capture_on_commit_callbacks
):
    token = _send_link(tess, episode, django_capture_on_commit_callbacks, measures=("nprs", "odi"))
    response = client.post(f"/q/{token}/", {"nprs-item_0": "3", "odi-item_2": "9"})
    assert response.status_code == 400
    page = page_of(response)
    summary = by_id(page, "form-errors")
    (link,) = find_all(summary, "a")
    assert attr(link, "href") == "#id_odi-item_2_0" and "Item 3" in text(link)
    radio = by_id(page, "id_odi-item_2_0")
    assert attr(radio, "aria-invalid") == "true"
    assert "9 is not one of the available choices" in text(by_id(page, attr(radio, "aria-describedby") or ""))
    assert find_all(page, "script", src="/static/outcomes/measure-forms.js")
