"""Assessment pages and the body map: what a therapist records, how bad input comes back, and who
may see it."""

from __future__ import annotations

import re

import pytest
from django.db import connection
from django.template.loader import render_to_string
from django.test.utils import CaptureQueriesContext

from mend import knowledge
from mend.audit.models import Action, AuditEvent
from mend.clinical import body_map, services
from mend.clinical.models import Assessment
from mend.clinical.services import FindingInput, PainInput, PsfsInput, RomInput
from mend.testing import harbour_today

# clock: dates here are the clinic's; scripts/test.sh runs this module at hours where UTC's differ.
pytestmark = [pytest.mark.django_db, pytest.mark.clock]


def _rows(prefix: str, rows: list[dict[str, object]], initial: int = 0) -> dict[str, object]:
    data: dict[str, object] = {f"{prefix}-TOTAL_FORMS": str(len(rows)), f"{prefix}-INITIAL_FORMS": str(initial)}
    for n, row in enumerate(rows):
        for key, value in row.items():
            data[f"{prefix}-{n}-{key}"] = value
    return data


def _assessment_post(**overrides: object) -> dict[str, object]:
    data: dict[str, object] = {
        "kind": "initial",
        "assessed_on": harbour_today().isoformat(),
        "chief_complaint": "Low back ache when sitting",
        "history": "Six months, worse after long drives.",
        "nprs": "6",
        "posture": "Anterior pelvic tilt",
        "notes": "",
        **_rows(
            "pain",
            [
                {"region": "lower_back", "side": "", "intensity": "6", "quality": "aching"},
                {"region": "gluteal", "side": "right", "intensity": "4", "quality": "tingling"},
            ],
        ),
        **_rows(
            "rom",
            [
                {"motion": "thoracolumbar_flexion", "side": "", "mode": "active", "degrees": "60"},
                {"motion": "hip_flexion", "side": "right", "mode": "active", "degrees": "100"},
            ],
        ),
        **_rows(
            "psfs",
            [
                {"activity": "Sitting through a film", "score": "3"},
                {"activity": "Driving an hour", "score": "5"},
                {"activity": "Tying shoes", "score": "7"},
                {"activity": "", "score": ""},
            ],
        ),
        **_rows("palpation", [{"region": "lower_back", "side": "left", "kind": "trigger_point", "note": "QL"}]),
    }
    data.update(overrides)
    return data


def test_assessment_is_saved_with_every_part(login, episode):
    response = login("therapist").post(f"/episodes/{episode.pk}/assessments/new/", _assessment_post())
    assert response.status_code == 302, response.content.decode()[:2000]
    assessment = Assessment.objects.get(episode=episode)
    assert response["Location"] == f"/assessments/{assessment.pk}/"
    assert assessment.nprs == 6
    assert [(p.region, p.side, p.intensity) for p in assessment.pain_regions.all()] == [
        ("lower_back", "", 6),
        ("gluteal", "right", 4),
    ]
    assert [(r.motion, r.degrees) for r in assessment.rom.all()] == [
        ("thoracolumbar_flexion", 60),
        ("hip_flexion", 100),
    ]
    assert [(s.activity, s.score) for s in assessment.psfs.all()] == [
        ("Sitting through a film", 3),
        ("Driving an hour", 5),
        ("Tying shoes", 7),
    ]
    assert [(f.kind, f.note) for f in assessment.palpation.all()] == [("trigger_point", "QL")]


def test_rom_of_400_and_pain_of_11_come_back_beside_their_rows_with_everything_kept(login, episode):
    data = _assessment_post(
        **{"rom-1-degrees": "400", "pain-1-intensity": "11", "nprs": "6", "chief_complaint": "Back and hip"}
    )
    response = login("therapist").post(f"/episodes/{episode.pk}/assessments/new/", data)
    assert response.status_code == 400
    html = response.content.decode()
    assert "Hip flexion of 400° is not possible" in html
    assert "Pain intensity is 0 to 10; 11 is out of range." in html
    # Each message sits in the error row right after its own row.
    rom_row = re.search(r'name="rom-1-degrees" value="400".*?</tr>\s*<tr class="row-errors">(.*?)</tr>', html, re.S)
    assert rom_row and "Row 2: Hip flexion of 400°" in rom_row.group(1)
    pain_row = re.search(r'name="pain-1-intensity" value="11".*?</tr>\s*<tr class="row-errors">(.*?)</tr>', html, re.S)
    assert pain_row and "11 is out of range" in pain_row.group(1)
    for kept in (
        'value="Sitting through a film"',
        "Six months, worse after long drives.</textarea>",
        "Back and hip</textarea>",
        'name="rom-0-degrees" value="60"',
        'name="palpation-0-note" value="QL"',
        '<option value="gluteal" selected>',
    ):
        assert kept in html, kept
    assert not Assessment.objects.exists()


def test_nprs_out_of_range_is_a_field_error(login, episode):
    response = login("therapist").post(f"/episodes/{episode.pk}/assessments/new/", _assessment_post(nprs="12"))
    assert response.status_code == 400
    html = response.content.decode()
    assert re.search(r'class="field has-error[^"]*">\s*<label for="id_nprs"', html)


def test_same_region_twice_on_the_pain_map_is_refused(login, episode):
    data = _assessment_post(**{"pain-1-region": "lower_back", "pain-1-side": ""})
    response = login("therapist").post(f"/episodes/{episode.pk}/assessments/new/", data)
    assert response.status_code == 400
    assert "on the pain map twice" in response.content.decode()


def test_edit_keeps_untouched_rows_and_removes_marked_ones(login, episode, tess):
    assessment = services.assessment_save(
        actor=tess,
        episode=episode,
        data={"chief_complaint": "Neck", "nprs": 5},
        pain=[PainInput("neck", 5), PainInput("shoulder", 3, side="left")],
        psfs=[PsfsInput("Driving", 4), PsfsInput("Reading", 6), PsfsInput("Sleeping", 5)],
    )
    http = login("therapist")
    page = http.get(f"/assessments/{assessment.pk}/edit/")
    assert page.status_code == 200
    data = {
        "kind": "initial",
        "assessed_on": assessment.assessed_on.isoformat(),
        "chief_complaint": "Neck",
        "nprs": "4",
        **_rows(
            "pain",
            [
                {"region": "neck", "side": "", "intensity": "5", "quality": ""},
                {"region": "shoulder", "side": "left", "intensity": "3", "quality": "", "DELETE": "on"},
            ],
            initial=2,
        ),
        **_rows("rom", []),
        **_rows(
            "psfs",
            [
                {"activity": "Driving", "score": "4"},
                {"activity": "Reading", "score": "6"},
                {"activity": "Sleeping", "score": "5"},
            ],
            initial=3,
        ),
        **_rows("palpation", []),
    }
    response = http.post(f"/assessments/{assessment.pk}/edit/", data)
    assert response.status_code == 302
    assessment.refresh_from_db()
    assert assessment.nprs == 4
    assert [p.region for p in assessment.pain_regions.all()] == ["neck"]
    assert [s.activity for s in assessment.psfs.all()] == ["Driving", "Reading", "Sleeping"]


def test_a_re_evaluation_suggests_last_activities_and_motions(login, episode, tess):
    services.assessment_save(
        actor=tess,
        episode=episode,
        data={"chief_complaint": "Back"},
        rom=[RomInput("hip_flexion", 90, side="left")],
        psfs=[PsfsInput("Gardening", 2), PsfsInput("Kneeling", 3), PsfsInput("Walking the dog", 4)],
    )
    html = login("therapist").get(f"/episodes/{episode.pk}/assessments/new/").content.decode()
    assert '<option value="re_evaluation" selected>' in html
    assert 'value="Gardening"' in html and '<option value="hip_flexion" selected>' in html
    # Left untouched, a suggestion is not recorded.
    data = _assessment_post(kind="re_evaluation")
    data.update(_rows("psfs", [{"activity": "Gardening", "score": ""}]))
    response = login("therapist").post(f"/episodes/{episode.pk}/assessments/new/", data)
    assert response.status_code == 302
    latest = Assessment.objects.filter(episode=episode).order_by("-id").first()
    assert list(latest.psfs.all()) == []


def test_detail_shows_rom_as_percent_of_normal_with_its_source_and_is_audited(login, episode, tess):
    services.finding_add(actor=tess, episode=episode, finding=FindingInput("open_wound", region="knee", side="left"))
    assessment = services.assessment_save(
        actor=tess,
        episode=episode,
        data={"chief_complaint": "Shoulder", "nprs": 7},
        pain=[PainInput("shoulder", 7, side="right", quality="sharp")],
        rom=[RomInput("shoulder_flexion", 135, side="right"), RomInput("knee_extension", 0, side="left")],
        psfs=[PsfsInput("Reaching a high shelf", 3), PsfsInput("Swimming", 5), PsfsInput("Washing hair", 4)],
    )
    response = login("therapist").get(f"/assessments/{assessment.pk}/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "<strong>75.0%</strong>" in html
    assert "Norkin" in html and ">AAOS</abbr>" in html
    assert "Right shoulder: <strong>7/10</strong>, sharp" in html
    assert "Avoid:</strong> Left knee" in html
    assert "<strong>4.0</strong>" in html  # PSFS average
    assert "Carol" in html and episode.title in html
    assert AuditEvent.objects.filter(action=Action.VIEW, object_id=str(assessment.pk)).exists()


def test_detail_queries_do_not_grow_with_rows(login, episode, tess):
    def measure(n: int) -> int:
        assessment = services.assessment_save(
            actor=tess,
            episode=episode,
            data={"chief_complaint": "Back"},
            pain=[PainInput(r, 3) for r in list(knowledge.body_regions())[:n]],
            rom=[RomInput("hip_flexion", 90 + i, side="left") for i in range(n)],
            psfs=[PsfsInput(f"Activity {i}", 5) for i in range(3 if n < 5 else 5)],  # PSFS takes 3 to 5
        )
        http = login("therapist")
        with CaptureQueriesContext(connection) as ctx:
            assert http.get(f"/assessments/{assessment.pk}/").status_code == 200
        return len(ctx.captured_queries)

    assert measure(2) == measure(12)


@pytest.mark.parametrize(
    ("persona", "status"), [("front_desk", 403), ("outsider", 404), ("therapist2", 404), ("admin", 200)]
)
def test_assessment_pages_access(login, episode, tess, persona, status):
    assessment = services.assessment_save(actor=tess, episode=episode, data={"chief_complaint": "Back"})
    http = login(persona)
    for url in (
        f"/episodes/{episode.pk}/assessments/new/",
        f"/assessments/{assessment.pk}/",
        f"/assessments/{assessment.pk}/edit/",
    ):
        assert http.get(url).status_code == status, url
    if status != 200:
        assert http.post(f"/episodes/{episode.pk}/assessments/new/", _assessment_post()).status_code == status
        assert Assessment.objects.count() == 1


# --- The body map ---------------------------------------------------------------------------


def _svg_shapes(html: str) -> list[tuple[str, str, str]]:
    return re.findall(r'<(?:path|ellipse|rect)[^>]*class="bm-shape([^"]*)" data-region="(\w+)" data-side="(\w*)"', html)


def test_body_map_has_a_shape_for_every_region_and_side():
    html = render_to_string("clinical/_body_map.html", {"pain_regions": [], "avoided": [], "mode": "view"})
    drawn = {(region, side) for _, region, side in _svg_shapes(html)}
    for region in knowledge.body_regions().values():
        if region.lateral:
            assert (region.id, "left") in drawn and (region.id, "right") in drawn, region.id
        else:
            assert (region.id, "") in drawn, region.id
        assert f'aria-label="{body_map.region_label(region.id, "left" if region.lateral else "")}' in html
    assert html.count("<title>") == len(_svg_shapes(html))


def test_body_map_front_view_puts_the_clients_right_on_the_viewers_left():
    shapes = body_map.shapes("front")
    right = next(s for s in shapes if s.region == "shoulder" and s.side == "right")
    left = next(s for s in shapes if s.region == "shoulder" and s.side == "left")
    assert "matrix(-1" not in right.transform and left.transform.startswith("matrix(-1")
    back = body_map.shapes("back")
    assert next(s for s in back if s.region == "shoulder" and s.side == "left").transform == ""


def test_body_map_colours_pain_and_hatches_avoided_regions():
    from types import SimpleNamespace

    html = render_to_string(
        "clinical/_body_map.html",
        {
            "pain_regions": [SimpleNamespace(region="knee", side="right", intensity=8, quality="sharp")],
            "avoided": [("lower_leg", "left"), ("sacrum", None)],
            "mode": "view",
        },
    )
    shapes = _svg_shapes(html)
    assert all("bm-p8" in cls for cls, region, side in shapes if (region, side) == ("knee", "right"))
    assert not any("bm-p" in cls for cls, region, side in shapes if (region, side) == ("knee", "left"))
    assert all(
        "bm-avoid" in cls for cls, region, side in shapes if (region, side) in {("lower_leg", "left"), ("sacrum", "")}
    )
    assert not any("bm-avoid" in cls for cls, region, side in shapes if (region, side) == ("lower_leg", "right"))
    assert html.count('class="bm-avoid-overlay"') == 4  # lower leg front and back, sacrum, the legend
    assert "Avoid" in html and "Right knee: <strong>8/10</strong>, sharp" in html


def test_body_map_in_edit_mode_is_focusable_and_loads_its_script():
    html = render_to_string("clinical/_body_map.html", {"pain_regions": [], "avoided": [], "mode": "edit"})
    assert html.count('tabindex="0" role="button"') == len(_svg_shapes(html))
    assert "clinical/body_map.js" in html and "data-bodymap-edit" in html


@pytest.mark.parametrize("count", [2, 6])
def test_psfs_with_fewer_than_three_or_more_than_five_activities_is_refused_on_its_section(login, episode, count):
    """Stratford 1995: the client names 3 to 5 activities. The page says so on the PSFS section and
    keeps what was typed; nothing is saved."""
    rows = [{"activity": f"Activity {n}", "score": "4"} for n in range(count)]
    response = login("therapist").post(
        f"/episodes/{episode.pk}/assessments/new/", _assessment_post(**_rows("psfs", rows))
    )
    assert response.status_code == 400
    html = response.content.decode()
    assert f"The PSFS takes 3 to 5 activities, each rated; {count} were given." in html
    assert 'value="Activity 1"' in html
    assert not Assessment.objects.exists()
