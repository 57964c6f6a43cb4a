"""The audit trail: what a read records, that the database refuses changes, and that the chain exposes them."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.management import CommandError, call_command
from django.db import DatabaseError, IntegrityError, connection, transaction

from mend.audit.chain import GENESIS, SIGNED_FIELDS, row_hmac
from mend.audit.models import Action, AuditEvent
from mend.audit.queries import verify_chain
from mend.audit.services import _CHAIN_LOCK_KEY, Entry, audit_record, audit_record_many
from mend.people.models import Client
from mend.platform import context

TABLE = AuditEvent._meta.db_table


def _events(**filters):
    return list(AuditEvent.objects.filter(**filters).order_by("seq"))


# --- What a read writes ------------------------------------------------------------------


def test_opening_a_client_page_writes_one_audit_row(login, personas):
    http = login("therapist")
    before = AuditEvent.objects.order_by("-id").values_list("id", flat=True).first() or 0
    response = http.get(f"/clients/{personas.carol.pk}/", HTTP_X_REQUEST_ID="req-test-0001")
    assert response.status_code == 200
    assert response["X-Request-ID"] == "req-test-0001"

    rows = _events(id__gt=before)
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
    event = AuditEvent.objects.order_by("-id").first()
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


def _append(personas, clinic, count: int = 1, **fields) -> list[AuditEvent]:
    owner = personas.owner if clinic == personas.harbour else personas.outsider
    with context.acting(user_id=owner.pk, clinic_id=clinic.pk, role="owner"):
        return [
            audit_record(action=Action.VIEW, obj=personas.carol, client_id=personas.carol.pk, user=owner, **fields)
            for _ in range(count)
        ]


@pytest.fixture
def chain(personas):
    """Five events in Harbour's chain, as a command would write them."""
    _append(personas, personas.harbour, 5)
    return _events(clinic_id=personas.harbour.pk)


@pytest.fixture
def two_chains(personas):
    """Harbour's and Northside's appends interleaved, and two failed sign-ins for unknown emails."""
    for _ in range(3):
        _append(personas, personas.harbour)
        _append(personas, personas.northside, 2)
    for email in ("nobody@example.net", "noone@example.net"):
        audit_record(action=Action.FAILED_LOGIN, object_type="accounts.user", user_email=email)
    return personas


def _row(clinic, seq: int) -> AuditEvent:
    return AuditEvent.objects.get(clinic_id=clinic.pk, seq=seq)


def _refused(sql: str, params=()):
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql, params)


def test_update_is_refused_by_the_database(chain):
    _refused(f"UPDATE {TABLE} SET action = %s WHERE id = %s", ["delete", chain[1].pk])
    assert AuditEvent.objects.get(pk=chain[1].pk).action == Action.VIEW


def test_delete_is_refused_by_the_database(chain):
    _refused(f"DELETE FROM {TABLE} WHERE id = %s", [chain[2].pk])
    assert AuditEvent.objects.count() == len(chain)


def test_orm_update_and_delete_are_refused(chain):
    first = AuditEvent.objects.filter(pk=chain[0].pk)
    with pytest.raises(DatabaseError), transaction.atomic():
        first.update(user_email="someone@else.example")
    with pytest.raises(DatabaseError), transaction.atomic():
        first.delete()
    assert first.get().user_email == "owner@test.example"


@pytest.mark.skipif(connection.vendor != "postgresql", reason="TRUNCATE is a PostgreSQL statement")
def test_truncate_is_refused_on_postgresql(chain):
    _refused(f"TRUNCATE {TABLE}")
    assert AuditEvent.objects.count() == len(chain)


# --- One chain per clinic -------------------------------------------------------------------


def test_each_clinic_numbers_its_own_chain_from_one(two_chains):
    p = two_chains
    harbour = _events(clinic_id=p.harbour.pk)
    northside = _events(clinic_id=p.northside.pk)
    unknown = _events(clinic_id=None)
    assert [e.seq for e in harbour] == [1, 2, 3]
    assert [e.seq for e in northside] == [1, 2, 3, 4, 5, 6]
    assert [(e.seq, e.action) for e in unknown] == [(1, Action.FAILED_LOGIN), (2, Action.FAILED_LOGIN)]
    for chain in (harbour, northside, unknown):
        assert chain[0].prev_hmac == GENESIS
        assert [e.prev_hmac for e in chain[1:]] == [e.hmac for e in chain[:-1]]


def test_interleaved_chains_all_verify(two_chains, capsys):
    call_command("audit", "verify")
    out = capsys.readouterr().out
    assert "no clinic: 2 row(s) verified." in out
    assert "clinic harbour: 3 row(s) verified." in out
    assert "clinic northside: 6 row(s) verified." in out
    assert "Audit chains intact: 11 row(s) in 3 chain(s) verified." in out


def test_database_refuses_a_second_row_with_the_same_seq_in_a_chain(two_chains):
    """The backstop if two appends ever read the same tail: a fork cannot be stored."""
    p = two_chains
    for clinic_id in (p.harbour.pk, None):
        copy = AuditEvent.objects.filter(clinic_id=clinic_id, seq=1).values().get()
        del copy["id"]
        with pytest.raises(IntegrityError), transaction.atomic():
            AuditEvent.objects.create(**copy)


def test_newest_row_of_a_clinic_is_one_index_lookup(two_chains):
    """What every append reads under the lock: no scan of other clinics' rows, no sort."""
    for clinic_id in (two_chains.northside.pk, None):
        tail = AuditEvent.objects.filter(clinic_id=clinic_id).order_by("-seq").values_list("seq", "hmac")[:1]
        with transaction.atomic():
            if connection.vendor == "postgresql":
                with connection.cursor() as cursor:  # a handful of rows would be scanned otherwise
                    cursor.execute("SET LOCAL enable_seqscan = off")
            plan = tail.explain()
        if connection.vendor == "sqlite":
            # The (clinic_id, seq) constraint's index, under SQLite's own name for it.
            assert "SEARCH audit_auditevent USING INDEX" in plan and "TEMP B-TREE" not in plan, plan
        else:
            assert "Index Scan Backward using audit_" in plan and "Sort" not in plan, plan


@pytest.mark.skipif(connection.vendor != "postgresql", reason="SQLite has one write lock for the whole database")
def test_appending_locks_only_that_clinics_chain_on_postgresql(personas):
    def advisory_locks() -> set[tuple[int, int]]:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT classid::bigint, objid::bigint FROM pg_locks"
                " WHERE locktype = 'advisory' AND pid = pg_backend_pid() AND objsubid = 2"
            )
            return set(cursor.fetchall())

    # Transaction-level locks: held until the test's transaction ends, so they accumulate.
    _append(personas, personas.northside)
    assert advisory_locks() == {(_CHAIN_LOCK_KEY, personas.northside.pk)}
    audit_record(action=Action.FAILED_LOGIN, object_type="accounts.user", user_email="nobody@example.net")
    assert advisory_locks() == {(_CHAIN_LOCK_KEY, personas.northside.pk), (_CHAIN_LOCK_KEY, 0)}


def test_digest_is_recorded_and_signed(personas):
    seal = "sha256:" + "5e" * 32
    [event] = _append(personas, personas.harbour, digest=seal)
    assert AuditEvent.objects.get(pk=event.pk).digest == seal
    assert verify_chain(clinic_id=personas.harbour.pk).ok


@pytest.mark.parametrize("digest", ["x" * 129, "sha256 abc", "sha256:\x1fabc"])
def test_a_digest_that_is_not_a_printable_token_is_refused(personas, digest):
    with pytest.raises(ValueError, match="digest"):
        _append(personas, personas.harbour, digest=digest)
    assert not AuditEvent.objects.exists()


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


def _execute(sql: str, params=()) -> None:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


def _verify_fails(*args: str) -> str:
    with pytest.raises(CommandError) as failure:
        call_command("audit", "verify", *args)
    assert failure.value.returncode == 1
    return str(failure.value)


def test_intact_chain_verifies(chain, capsys):
    call_command("audit", "verify")
    out = capsys.readouterr().out
    assert f"clinic harbour: {len(chain)} row(s) verified." in out
    assert f"Audit chains intact: {len(chain)} row(s) in 1 chain(s) verified." in out


def test_altered_field_breaks_the_chain_at_that_row(chain):
    _drop_triggers()
    _execute(f"UPDATE {TABLE} SET user_email = %s WHERE id = %s", ["innocent@example.net", chain[2].pk])
    message = _verify_fails()
    assert f"Audit chain of clinic harbour broken at seq 3 (row id {chain[2].pk}): was altered" in message
    assert "2 row(s) before it verified" in message


def test_altered_time_breaks_the_chain(chain):
    _drop_triggers()
    AuditEvent.objects.filter(pk=chain[1].pk).update(at=chain[1].at - timedelta(days=30))
    assert "clinic harbour broken at seq 2 " in _verify_fails()


def test_altered_digest_breaks_the_chain(personas):
    _append(personas, personas.harbour, 2, digest="sha256:" + "5e" * 32)
    _drop_triggers()
    AuditEvent.objects.filter(clinic_id=personas.harbour.pk, seq=2).update(digest="sha256:" + "00" * 32)
    assert "clinic harbour broken at seq 2 " in _verify_fails()


def test_deleted_middle_row_breaks_the_chain_at_the_next_row(chain):
    _drop_triggers()
    _execute(f"DELETE FROM {TABLE} WHERE id = %s", [chain[2].pk])
    message = _verify_fails()
    assert "clinic harbour broken at seq 4 " in message
    assert "row(s) 3 removed before it (seq gap)" in message


def test_resequenced_rows_after_a_delete_still_break_the_chain(chain):
    """Hiding the gap by renumbering does not help: row 4 (now 3) no longer links to row 2."""
    _drop_triggers()
    _execute(f"DELETE FROM {TABLE} WHERE id = %s", [chain[2].pk])
    for row in chain[3:]:
        _execute(f"UPDATE {TABLE} SET seq = %s WHERE id = %s", [row.seq - 1, row.pk])
    message = _verify_fails()
    assert "clinic harbour broken at seq 3 " in message
    assert "broken link" in message


def test_rows_resigned_with_another_key_are_named_as_altered(chain):
    """Someone without MEND_AUDIT_KEY can rebuild a consistent chain, but not one that verifies."""
    _drop_triggers()
    prev = chain[1].hmac
    for row in chain[2:]:
        fields = dict(AuditEvent.objects.filter(pk=row.pk).values(*SIGNED_FIELDS).get(), user_email="x@example.net")
        forged = row_hmac("a guessed key", prev, fields)
        update = f"UPDATE {TABLE} SET user_email = %s, prev_hmac = %s, hmac = %s WHERE id = %s"
        _execute(update, ["x@example.net", prev, forged, row.pk])
        prev = forged
    assert "clinic harbour broken at seq 3 " in _verify_fails()


def test_a_broken_chain_is_named_for_its_clinic_and_the_others_still_verify(two_chains, capsys):
    p = two_chains
    _drop_triggers()
    _execute(f"UPDATE {TABLE} SET object_id = %s WHERE id = %s", ["0", _row(p.northside, 4).pk])
    message = _verify_fails()
    assert "Audit chain of clinic northside broken at seq 4 " in message
    assert "harbour" not in message
    out = capsys.readouterr().out
    assert "clinic harbour: 3 row(s) verified." in out
    assert "no clinic: 2 row(s) verified." in out


def test_verify_one_clinic_walks_only_its_chain(two_chains, capsys):
    p = two_chains
    _drop_triggers()
    _execute(f"DELETE FROM {TABLE} WHERE id = %s", [_row(p.northside, 2).pk])
    call_command("audit", "verify", "--clinic", "harbour")
    out = capsys.readouterr().out
    assert "clinic harbour: 3 row(s) verified." in out
    assert "northside" not in out
    assert "clinic northside broken at seq 3 " in _verify_fails("--clinic", "northside")


def test_verify_an_unknown_clinic_is_a_usage_error_naming_it(two_chains):
    with pytest.raises(CommandError, match="No clinic with the slug 'harbor'") as failure:
        call_command("audit", "verify", "--clinic", "harbor")
    assert failure.value.returncode == 2


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


def test_audit_page_breaks_ties_in_time_by_the_clinics_own_chain_order(login, personas):
    """Rows written in the same microsecond show newest first: seq orders within the clinic."""
    with time_machine.travel(datetime(2026, 12, 1, 15, 0, tzinfo=ZoneInfo("UTC")), tick=False):
        _append(personas, personas.northside, 4)  # higher seqs in another chain must not matter
        rows = _append(personas, personas.harbour, 3)
    events = _shown(login("owner").get("/audit/"))
    assert [e.pk for e in events] == [row.pk for row in reversed(rows)]


def test_a_bulk_append_chains_and_signs_each_row_like_single_appends(personas):
    """Loaders append thousands of events at once; the chain they leave verifies row by row."""
    clinic = personas.harbour.pk
    audit_record(action=Action.VIEW, object_type="people.client", object_id=1, clinic_id=clinic)
    entries = [Entry("update", "clinical.treatmentnote", n, client_id=7, digest=f"seal-{n}") for n in range(1, 1201)]
    assert audit_record_many(clinic_id=clinic, entries=entries, role="therapist") == 1200
    audit_record(action=Action.VIEW, object_type="people.client", object_id=2, clinic_id=clinic)
    rows = list(AuditEvent.objects.filter(clinic_id=clinic).order_by("seq"))
    assert [r.seq for r in rows] == list(range(1, len(rows) + 1))
    assert rows[-2].digest == "seal-1200" and rows[-1].prev_hmac == rows[-2].hmac
    report = verify_chain(clinic_id=clinic)
    assert report.problem is None and report.rows_checked == len(rows)
