"""The audit trail: what a read records, that the database refuses changes, and that the chain exposes them."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.core.management import CommandError, call_command
from django.db import DatabaseError, connection, transaction

from mend.audit.models import Action, AuditEvent
from mend.audit.services import audit_record
from mend.people.models import Client
from mend.platform import context

TABLE = AuditEvent._meta.db_table


def _events(**filters):
    return list(AuditEvent.objects.filter(**filters).order_by("seq"))


# --- What a read writes ------------------------------------------------------------------


def test_opening_a_client_page_writes_one_audit_row(login, personas):
    http = login("therapist")
    before = AuditEvent.objects.count()
    response = http.get(f"/clients/{personas.carol.pk}/", HTTP_X_REQUEST_ID="req-test-0001")
    assert response.status_code == 200
    assert response["X-Request-ID"] == "req-test-0001"

    rows = _events(seq__gt=before)
    assert len(rows) == 1
    event = rows[0]
    assert event.action == Action.VIEW
    assert event.object_type == "people.client"
    assert event.object_id == str(personas.carol.pk)
    assert event.client_id == personas.carol.pk
    assert event.user_id == personas.therapist.pk
    assert event.user_email == personas.therapist.email
    assert event.role == "therapist"
    assert event.clinic_id == personas.harbour.pk
    assert event.ip == "127.0.0.1"
    assert event.request_id == "req-test-0001"
    assert event.at is not None


def test_audit_rows_hold_no_client_information(login, personas):
    http = login("owner")
    created = http.post(
        "/clients/new/",
        {
            "legal_given_name": "Philippa",
            "legal_family_name": "Quasimodo",
            "chosen_name": "Pip",
            "date_of_birth": "1977-07-17",
            "sex": "female",
            "phone": "(647) 555-0199",
            "email": "pip.q@example.org",
            "preferred_language": "Welsh",
            "notes": "Allergic to arnica; lymphoedema left arm",
        },
    )
    assert created.status_code == 302
    pip = Client.objects.get(legal_family_name="Quasimodo")
    http.get(f"/clients/{pip.pk}/")
    http.get("/clients/?q=quasimodo")
    events = _events(clinic_id=personas.harbour.pk)
    assert {e.action for e in events} >= {Action.CREATE, Action.VIEW, Action.SEARCH}
    stored = " ".join(
        str(getattr(event, f.attname)) for event in events for f in AuditEvent._meta.concrete_fields
    ).lower()
    for secret in ["philippa", "quasimodo", "pip.q", "555-0199", "6475550199", "1977-07-17", "welsh", "arnica"]:
        assert secret not in stored, secret


def test_malformed_request_id_is_replaced(login, personas):
    response = login("owner").get(f"/clients/{personas.carol.pk}/", HTTP_X_REQUEST_ID="bad id; <x>")
    event = AuditEvent.objects.order_by("-seq").first()
    assert event.request_id == response["X-Request-ID"]
    assert event.request_id != "bad id; <x>"
    assert len(event.request_id) == 32


def test_listing_and_searching_clients_are_audited(login, personas):
    http = login("owner")
    http.get("/clients/")
    http.get("/clients/?q=carol")
    actions = [e.action for e in _events(object_type="people.client_list")]
    assert actions == [Action.VIEW, Action.SEARCH]


# --- The database refuses changes --------------------------------------------------------


@pytest.fixture
def chain(personas):
    """Five events in one chain, as a command would write them."""
    with context.acting(user_id=personas.owner.pk, clinic_id=personas.harbour.pk, role="owner"):
        for _ in range(5):
            audit_record(action=Action.VIEW, obj=personas.carol, client_id=personas.carol.pk, user=personas.owner)
    return _events()


def _refused(sql: str, params=()):
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql, params)


def test_update_is_refused_by_the_database(chain):
    _refused(f"UPDATE {TABLE} SET action = %s WHERE seq = %s", ["delete", 2])
    assert AuditEvent.objects.get(seq=2).action == Action.VIEW


def test_delete_is_refused_by_the_database(chain):
    _refused(f"DELETE FROM {TABLE} WHERE seq = %s", [3])
    assert AuditEvent.objects.count() == len(chain)


def test_orm_update_and_delete_are_refused(chain):
    with pytest.raises(DatabaseError), transaction.atomic():
        AuditEvent.objects.filter(seq=1).update(user_email="someone@else.example")
    with pytest.raises(DatabaseError), transaction.atomic():
        AuditEvent.objects.filter(seq=1).delete()
    assert AuditEvent.objects.get(seq=1).user_email == "owner@test.example"


@pytest.mark.skipif(connection.vendor != "postgresql", reason="TRUNCATE is a PostgreSQL statement")
def test_truncate_is_refused_on_postgresql(chain):
    _refused(f"TRUNCATE {TABLE}")
    assert AuditEvent.objects.count() == len(chain)


# --- The chain exposes changes made with the triggers dropped ------------------------------


def _drop_triggers() -> None:
    """What someone with full database access could do. The test transaction restores them."""
    statements = {
        "sqlite": ["DROP TRIGGER audit_event_no_update", "DROP TRIGGER audit_event_no_delete"],
        "postgresql": [f"DROP TRIGGER audit_event_no_update_delete ON {TABLE}"],
    }[connection.vendor]
    with connection.cursor() as cursor:
        for statement in statements:
            cursor.execute(statement)


def test_intact_chain_verifies(chain, capsys):
    call_command("audit", "verify")
    out = capsys.readouterr().out
    assert f"Audit chain intact: {len(chain)} row(s) verified." in out


def test_altered_field_breaks_the_chain_at_that_row(chain):
    _drop_triggers()
    with connection.cursor() as cursor:
        cursor.execute(f"UPDATE {TABLE} SET user_email = %s WHERE seq = %s", ["innocent@example.net", 3])
    with pytest.raises(CommandError, match=r"seq 3\b") as failure:
        call_command("audit", "verify")
    assert "altered" in str(failure.value)
    assert failure.value.returncode != 0


def test_altered_time_breaks_the_chain(chain):
    _drop_triggers()
    AuditEvent.objects.filter(seq=2).update(at=chain[1].at - timedelta(days=30))
    with pytest.raises(CommandError, match=r"seq 2\b"):
        call_command("audit", "verify")


def test_deleted_middle_row_breaks_the_chain_at_the_next_row(chain):
    _drop_triggers()
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {TABLE} WHERE seq = %s", [3])
    with pytest.raises(CommandError, match=r"seq 4\b") as failure:
        call_command("audit", "verify")
    assert "removed" in str(failure.value)
    assert failure.value.returncode != 0


def test_resequenced_rows_after_a_delete_still_break_the_chain(chain):
    """Hiding the gap by renumbering does not help: row 4 (now 3) no longer links to row 2."""
    _drop_triggers()
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {TABLE} WHERE seq = %s", [3])
        for seq in (4, 5):
            cursor.execute(f"UPDATE {TABLE} SET seq = %s WHERE seq = %s", [seq - 1, seq])
    with pytest.raises(CommandError, match=r"seq 3\b"):
        call_command("audit", "verify")


# --- The owners' audit page ---------------------------------------------------------------


@pytest.fixture
def trail(login, personas, client):
    """Views by the owner and by Tess, a view of Dan, a failed sign-in, and Northside's own activity."""
    login("owner").get(f"/clients/{personas.carol.pk}/")
    login("owner").get(f"/clients/{personas.dan.pk}/")
    login("therapist").get(f"/clients/{personas.carol.pk}/")
    client.logout()
    client.post("/accounts/login/", {"username": personas.front_desk.email, "password": "wrong password"})
    login("outsider").get(f"/clients/{personas.stranger.pk}/")
    return personas


def _shown(response) -> list[AuditEvent]:
    assert response.status_code == 200, response.content[:300]
    return list(response.context["page"].object_list)


def test_audit_page_shows_only_this_clinics_events(login, trail):
    events = _shown(login("owner").get("/audit/"))
    assert events
    assert {e.clinic_id for e in events} == {trail.harbour.pk}
    assert trail.stranger.pk not in {e.client_id for e in events}


def test_audit_page_filters_by_user(login, trail):
    events = _shown(login("owner").get(f"/audit/?user={trail.therapist.pk}"))
    assert events
    assert {e.user_id for e in events} == {trail.therapist.pk}


def test_audit_page_filters_by_client(login, trail):
    events = _shown(login("owner").get(f"/audit/?client={trail.dan.pk}"))
    assert [(e.action, e.client_id) for e in events] == [(Action.VIEW, trail.dan.pk)]


def test_audit_page_filters_by_action(login, trail):
    response = login("owner").get("/audit/?action=failed_login")
    events = _shown(response)
    assert [e.user_email for e in events] == [trail.front_desk.email]
    assert b"Failed login" in response.content


def test_audit_page_filters_by_date(login, trail):
    today = datetime.now(ZoneInfo(trail.harbour.timezone)).date()
    http = login("owner")
    harbour_events = AuditEvent.objects.filter(clinic_id=trail.harbour.pk).count()
    assert harbour_events == 4
    assert len(_shown(http.get(f"/audit/?date_from={today}&date_to={today}"))) == harbour_events
    assert _shown(http.get(f"/audit/?date_from={today + timedelta(days=1)}")) == []
    assert _shown(http.get(f"/audit/?date_to={today - timedelta(days=1)}")) == []


def test_audit_page_rejects_an_inverted_date_range(login, trail):
    today = datetime.now(ZoneInfo(trail.harbour.timezone)).date()
    response = login("owner").get(f"/audit/?date_from={today}&date_to={today - timedelta(days=3)}")
    assert response.status_code == 200
    assert b"The end date is before the start date." in response.content


def test_audit_page_sorts_by_whitelisted_columns(login, trail):
    http = login("owner")
    events = _shown(http.get("/audit/?sort=user"))
    assert [e.user_email for e in events] == sorted(e.user_email for e in events)
    events = _shown(http.get("/audit/?sort=-at"))
    assert [e.at for e in events] == sorted((e.at for e in events), reverse=True)


@pytest.mark.parametrize("sort", ["hmac", "-prev_hmac", "seq; DROP TABLE audit_auditevent", "user_email", "__class__"])
def test_audit_page_ignores_a_sort_not_on_the_list(login, trail, sort):
    response = login("owner").get("/audit/", {"sort": sort})
    events = _shown(response)
    assert response.context["sort"] == "-at"
    assert [e.at for e in events] == sorted((e.at for e in events), reverse=True)
    assert AuditEvent.objects.exists()


def test_an_unknown_sort_keeps_the_other_filters(login, trail):
    response = login("owner").get("/audit/", {"action": "failed_login", "sort": "seq; DROP TABLE audit_auditevent"})
    events = _shown(response)
    assert response.context["sort"] == "-at"
    assert [e.action for e in events] == [Action.FAILED_LOGIN]
