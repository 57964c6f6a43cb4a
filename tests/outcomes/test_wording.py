"""Licensed item wording from the clinic's own file (MEND_MEASURE_TEXT)."""

from __future__ import annotations

import json

import pytest
from django.test import override_settings

from mend.outcomes.scoring import measures
from mend.outcomes.wording import WordingError, wording

pytestmark = pytest.mark.django_db


def test_shipped_wording_comes_from_the_registry():
    found = wording(measures()["nprs"])
    assert found is not None and found.source == "registry" and "pain" in found.items[0]


def test_licensed_wording_is_absent_without_a_file():
    with override_settings(MEND_MEASURE_TEXT=""):
        assert wording(measures()["odi"]) is None


def test_licensed_wording_loads_from_the_local_file(tmp_path, login, episode):
    items = [f"Section {n}" for n in range(1, 11)]
    choices = [[f"Statement {n}.{v}" for v in range(6)] for n in range(1, 11)]
    path = tmp_path / "wording.json"
    path.write_text(json.dumps({"odi": {"items": items, "choices": choices}}))
    with override_settings(MEND_MEASURE_TEXT=str(path)):
        found = wording(measures()["odi"])
        assert found is not None and found.items == tuple(items) and found.source == "local file"
        text = login("therapist").get(f"/episodes/{episode.pk}/outcomes/odi/").content.decode()
    assert "Section 10" in text and "Statement 3.5" in text
    assert "Wording licensed" not in text


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ({"odi": {"items": ["one"]}}, "has 10 items"),
        ({"banana": ["x"]}, "not a measure"),
        ({"odi": {"items": ["x"] * 10, "choices": [["a"]] * 10}}, "needs 6 choice labels"),
        ("not json", "not readable JSON"),
    ],
)
def test_a_wording_file_that_does_not_fit_is_refused_by_name(tmp_path, content, message):
    path = tmp_path / "wording.json"
    path.write_text(content if isinstance(content, str) else json.dumps(content))
    with override_settings(MEND_MEASURE_TEXT=str(path)), pytest.raises(WordingError, match=message):
        wording(measures()["odi"])


def test_a_broken_wording_file_shows_on_the_form_not_a_500(tmp_path, login, episode):
    path = tmp_path / "wording.json"
    path.write_text("{")
    with override_settings(MEND_MEASURE_TEXT=str(path)):
        page = login("therapist").get(f"/episodes/{episode.pk}/outcomes/odi/")
    assert page.status_code == 200 and "Wording file problem" in page.content.decode()
