"""A plan's measures are stored as structured schedules: the plan service checks them by row and
field, the plan page has a tick box or number per part, the API takes the structured form (and
converts the old "when" text on input only), and a migration converted the stored texts."""

from __future__ import annotations

import importlib
from datetime import timedelta
from typing import Any

import pytest
from django.core.exceptions import ValidationError

from mend.clinical import queries as clinical_queries
from mend.clinical import services as clinical
from mend.clinical.models import PlanOfCare
from mend.testing import harbour_today

from .conftest import planned

# clock: dates here are the clinic's; scripts/test.sh runs this module at hours where UTC's differ.
pytestmark = [pytest.mark.django_db, pytest.mark.clock]

DOSE = {"sessions_per_week": 1, "weeks": 6, "session_minutes": 60}
TECHNIQUES = [{"technique": "myofascial_release", "region": "lower_back", "side": "", "pressure": 3}]


@pytest.fixture
def open_episode(personas, tess):
    return clinical.episode_open(
        actor=tess,
        client=personas.carol,
        data={"title": "Low back", "condition": "low_back_pain", "started_on": harbour_today() - timedelta(7)},
    )


def save(tess, episode, measures):
    return clinical.plan_save(actor=tess, episode=episode, data={**DOSE, "measures": measures}, techniques=TECHNIQUES)


# --- The service ------------------------------------------------------------------------------------


def test_the_plan_stores_each_measure_as_structured_fields(tess, open_episode):
    plan = save(
        tess,
        open_episode,
        [planned("nprs", every_sessions=4, discharge=True), planned("pgic", baseline=False, discharge=True)],
    )
    plan.refresh_from_db()
    assert plan.measures == [
        {"measure": "nprs", "baseline": True, "every_sessions": 4, "every_weeks": None, "discharge": True},
        {"measure": "pgic", "baseline": False, "every_sessions": None, "every_weeks": None, "discharge": True},
    ]


@pytest.mark.parametrize(
    ("bad", "path"),
    [
        (planned("odi", every_sessions=0), "measures[1].every_sessions"),
        (planned("odi", every_weeks=99), "measures[1].every_weeks"),
        (planned("banana"), "measures[1].measure"),
        (planned("nprs"), "measures[1].measure"),  # twice in one plan
        (planned("odi", baseline=False), "measures[1]"),  # never collected
        ({"measure": "odi", "when": "baseline, every 4 sessions"}, "measures[1]"),  # free text is not stored
    ],
)
def test_a_bad_measure_is_refused_naming_its_row_and_field(tess, open_episode, bad, path):
    with pytest.raises(ValidationError) as refused:
        save(tess, open_episode, [planned("nprs"), bad])
    assert path in refused.value.message_dict, refused.value.message_dict
    assert not PlanOfCare.objects.filter(episode=open_episode).exists()


def test_the_suggested_plan_schedules_its_measures_as_fields(open_episode):
    suggestion = clinical_queries.plan_suggestion("low_back_pain")
    assert suggestion["measures"] and all("when" not in item for item in suggestion["measures"])
    assert suggestion["measures"][0] == {
        "measure": suggestion["measures"][0]["measure"],
        "baseline": True,
        "every_sessions": 4,
        "every_weeks": None,
        "discharge": True,
    }


# --- The page -------------------------------------------------------------------------------------


def _rows(prefix: str, items: list[dict[str, Any]]) -> dict[str, Any]:
    data: dict[str, Any] = {
        f"{prefix}-TOTAL_FORMS": str(len(items)),
        f"{prefix}-INITIAL_FORMS": "0",
        f"{prefix}-MIN_NUM_FORMS": "0",
        f"{prefix}-MAX_NUM_FORMS": "1000",
    }
    for n, item in enumerate(items):
        data.update({f"{prefix}-{n}-{key}": value for key, value in item.items()})
    return data


def _post(measure_rows: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "sessions_per_week": "1", "weeks": "6", "session_minutes": "60", "re_evaluation_on": "", "home_care": "",
        **_rows("technique", [{"technique": "myofascial_release", "region": "lower_back", "side": "", "pressure": ""}]),
        **_rows("measure", measure_rows),
        **_rows("home", []),
    }  # fmt: skip


def test_the_plan_page_asks_when_with_a_tick_box_or_number_per_part(login, open_episode):
    page = login("therapist").get(f"/episodes/{open_episode.pk}/plan/").content.decode()
    row = page.split('id="measure-row-0"')[1].split('id="measure-row-1"')[0]
    assert 'type="checkbox" name="measure-0-baseline"' in row and 'type="checkbox" name="measure-0-discharge"' in row
    assert (
        'type="number" name="measure-0-every_sessions"' in row and 'type="number" name="measure-0-every_weeks"' in row
    )
    assert 'name="measure-0-when"' not in page


def test_the_plan_page_saves_the_fields_it_was_given(login, open_episode):
    response = login("therapist").post(
        f"/episodes/{open_episode.pk}/plan/",
        _post([
            {"measure": "nprs", "baseline": "on", "every_sessions": "2", "every_weeks": "", "discharge": "on"},
            {"measure": "pgic", "every_weeks": "3"},
            {"measure": "", "every_sessions": "", "every_weeks": ""},  # the empty row, skipped
        ]),
    )  # fmt: skip
    assert response.status_code == 302, response.content.decode()
    assert PlanOfCare.objects.get(episode=open_episode).measures == [
        {"measure": "nprs", "baseline": True, "every_sessions": 2, "every_weeks": None, "discharge": True},
        {"measure": "pgic", "baseline": False, "every_sessions": None, "every_weeks": 3, "discharge": False},
    ]


def test_the_plan_page_marks_a_bad_number_beside_its_field_and_keeps_the_rest(login, open_episode):
    response = login("therapist").post(
        f"/episodes/{open_episode.pk}/plan/",
        _post([{"measure": "nprs", "baseline": "on", "every_sessions": "0"}, {"measure": "odi", "every_weeks": ""}]),
    )
    assert response.status_code == 400
    page = response.content.decode()
    first = page.split('id="measure-row-0"')[1].split('id="measure-row-1"')[0]
    assert 'id="id_measure-0-every_sessions_error"' in first
    second = page.split('id="measure-row-1"')[1]
    assert "Say when to collect it" in second.split('id="measure-row-')[0]
    assert not PlanOfCare.objects.filter(episode=open_episode).exists()


def test_an_old_text_that_was_not_understood_stays_on_the_plan_when_it_is_saved_again(login, tess, open_episode):
    save(tess, open_episode, [{**planned("nprs"), "legacy_when": "when the moon is full"}])
    http = login("therapist")
    page = http.get(f"/episodes/{open_episode.pk}/plan/").content.decode()
    assert "when the moon is full" in page
    assert "when the moon is full" in http.get(f"/episodes/{open_episode.pk}/").content.decode()  # the chart


# --- The API ----------------------------------------------------------------------------------------


@pytest.fixture
def put_plan(api):
    """PUT Tess's plan for an episode, with these measures, through the API."""
    tess = api("therapist")

    def put(episode, measures):
        return tess.put(f"/episodes/{episode.pk}/plan", {**DOSE, "techniques": TECHNIQUES, "measures": measures})

    return put


def test_the_api_takes_and_returns_structured_measures(put_plan, open_episode):
    response = put_plan(open_episode, [planned("nprs", every_sessions=4, discharge=True)])
    assert response.status_code == 200, response.content
    assert response.json()["measures"] == [
        {"measure": "nprs", "baseline": True, "every_sessions": 4, "every_weeks": None, "discharge": True,
         "legacy_when": ""}
    ]  # fmt: skip


def test_the_api_converts_an_old_when_text_on_input(put_plan, open_episode):
    response = put_plan(open_episode, [{"measure": "odi", "when": "baseline, every 2 weeks, discharge"}])
    assert response.status_code == 200, response.content
    assert PlanOfCare.objects.get(episode=open_episode).measures == [
        {"measure": "odi", "baseline": True, "every_sessions": None, "every_weeks": 2, "discharge": True}
    ]


@pytest.mark.parametrize(
    ("measures", "path"),
    [
        ([planned("nprs"), {"measure": "odi", "when": "when the moon is full"}], "measures.1.when"),
        ([planned("nprs"), planned("odi", every_sessions=0)], "measures.1.every_sessions"),
        ([planned("nprs", baseline=False)], "measures.0"),
    ],
)
def test_the_api_names_the_row_and_field_of_a_bad_measure(put_plan, open_episode, measures, path):
    response = put_plan(open_episode, measures)
    assert response.status_code == 422
    assert path in response.json()["errors"], response.json()


# --- The migration ----------------------------------------------------------------------------------


def test_the_migration_converts_each_when_text_and_back():
    migration = importlib.import_module("mend.clinical.migrations.0003_plan_measure_schedules")
    old = [
        {"measure": "nprs", "when": "baseline, every 4 sessions, discharge"},
        {"measure": "pgic", "when": "discharge"},
        {"measure": "odi", "when": "fortnightly"},
        {"measure": "psfs", "when": ""},
        {"measure": "ndi", "when": "every 2 visits, when the moon is full"},
    ]
    new = [migration.to_fields(item) for item in old]
    # Every measure was due at baseline under the text, whatever it said: the fields keep that.
    assert new == [
        {"measure": "nprs", "baseline": True, "every_sessions": 4, "every_weeks": None, "discharge": True},
        {"measure": "pgic", "baseline": True, "every_sessions": None, "every_weeks": None, "discharge": True},
        {"measure": "odi", "baseline": True, "every_sessions": None, "every_weeks": 2, "discharge": False},
        {"measure": "psfs", "baseline": True, "every_sessions": None, "every_weeks": None, "discharge": False},
        {"measure": "ndi", "baseline": True, "every_sessions": 2, "every_weeks": None, "discharge": False,
         "legacy_when": "when the moon is full"},
    ]  # fmt: skip
    assert migration.to_fields(new[0]) == new[0]  # already converted: left alone
    back = [migration.to_text(item) for item in new]
    assert back[0] == {"measure": "nprs", "when": "baseline, every 4 sessions, discharge"}
    assert back[4] == {"measure": "ndi", "when": "baseline, every 2 sessions, when the moon is full"}


def test_the_migration_converts_stored_plans_both_ways(tess, open_episode):
    """The migration's own functions over the database's rows (the schema is unchanged, so the app
    registry stands in for the historical one; a real migrate would flush the append-only audit)."""
    from django.apps import apps

    migration = importlib.import_module("mend.clinical.migrations.0003_plan_measure_schedules")
    save(
        tess,
        open_episode,
        [planned("nprs", every_sessions=4, discharge=True), planned("pgic", baseline=False, discharge=True)],
    )
    migration.backwards(apps, None)
    assert PlanOfCare.objects.get(episode=open_episode).measures == [
        {"measure": "nprs", "when": "baseline, every 4 sessions, discharge"},
        {"measure": "pgic", "when": "discharge"},
    ]
    migration.forwards(apps, None)
    assert PlanOfCare.objects.get(episode=open_episode).measures == [
        planned("nprs", every_sessions=4, discharge=True),
        planned("pgic", discharge=True),  # baseline, as the text always made it due at the start
    ]
    migration.forwards(apps, None)  # run twice: converted items are left alone
    assert PlanOfCare.objects.get(episode=open_episode).measures[1] == planned("pgic", discharge=True)
