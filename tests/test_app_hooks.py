"""Where one app shows another's data without importing it: the client page's episodes of care
(clinical, plugged in by the web shell) and the audit report's names (lent by people and clinics)."""

from __future__ import annotations

from mend.clinical import services as clinical_services


def _open_episode(personas):
    return clinical_services.episode_open(
        actor=personas.actor("therapist"),
        client=personas.carol,
        data={"title": "Chronic low back pain", "condition": "low_back_pain", "started_on": personas.today},
    )


def test_client_page_lists_the_clients_episodes_for_clinical_roles(login, personas):
    episode = _open_episode(personas)
    for persona in ("owner", "therapist"):
        response = login(persona).get(f"/clients/{personas.carol.pk}/")
        assert [e.pk for e in response.context["episodes"]] == [episode.pk], persona
        assert "Chronic low back pain" in response.content.decode()


def test_client_page_shows_front_desk_no_sign_of_an_episode(login, personas):
    _open_episode(personas)
    response = login("front_desk").get(f"/clients/{personas.carol.pk}/")
    assert response.status_code == 200
    assert not response.context.get("episodes")
    assert "Episodes of care" not in response.content.decode()


def test_audit_report_names_clients_and_offers_the_clinics_members(login, personas):
    http = login("owner")
    http.get(f"/clients/{personas.carol.pk}/")
    response = http.get(f"/audit/?client={personas.carol.pk}")
    events = list(response.context["page"].object_list)
    assert events
    assert {e.client_name for e in events} == {personas.carol.legal_family_name}
    offered = dict(response.context["form"].fields["user"].choices)
    assert offered[personas.therapist.pk] == personas.therapist.email
    assert personas.outsider.pk not in offered
