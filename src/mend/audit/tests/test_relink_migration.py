"""Migration 0004: a global chain written before it becomes one verified chain per clinic, and back."""

from __future__ import annotations

import importlib
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import pytest
from django.conf import settings
from django.db import DatabaseError, connection, transaction
from django.db.migrations.executor import MigrationExecutor
from django.db.migrations.loader import MigrationLoader

from mend.audit import relink
from mend.audit.chain import GENESIS, row_hmac
from mend.audit.models import AuditEvent
from mend.audit.queries import verify_chain
from mend.audit.services import audit_record

pytestmark = pytest.mark.django_db

migration = importlib.import_module("mend.audit.migrations.0004_relink_chains_per_clinic")
TABLE = AuditEvent._meta.db_table
# The clinics of a chain written before 0004, in the order the rows were appended.
CLINICS = [3, 5, None, 3, 3, 5, None, 3, 5, 3]


@pytest.fixture(scope="module")
def apps_before_0004():
    loader = MigrationLoader(None, ignore_no_migrations=True)
    return loader.project_state(("audit", "0004_relink_chains_per_clinic"), at_end=False).apps


def _write_global_chain(model, clinics=CLINICS) -> list[dict]:
    """Rows as 0002's code appended them: one chain across every clinic, signed without digest."""
    start = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
    prev, rows = GENESIS, []
    for seq, clinic_id in enumerate(clinics, start=1):
        fields = {
            "seq": seq,
            "at": start + timedelta(minutes=seq, microseconds=seq),
            "user_id": 7,
            "user_email": "tess@test.example",
            "role": "therapist",
            "clinic_id": clinic_id,
            "action": "view",
            "object_type": "people.client",
            "object_id": str(40 + seq),
            "client_id": 40 + seq,
            "ip": "127.0.0.1",
            "request_id": f"req-{seq}",
        }
        signature = row_hmac(settings.MEND_AUDIT_KEY, prev, fields, signed=migration.SIGNED_BEFORE)
        row = model.objects.create(prev_hmac=prev, hmac=signature, **fields)
        rows.append({"id": row.pk, "seq": seq, "prev_hmac": prev, "hmac": signature, "clinic_id": clinic_id})
        prev = signature
    return rows


def _run(direction, apps) -> None:
    # The migration only asks its schema editor for the connection; a real one cannot be
    # opened on SQLite inside the test's transaction.
    direction(apps, SimpleNamespace(connection=connection))


def _stored() -> dict[int, tuple]:
    return {row[0]: row[1:] for row in AuditEvent.objects.values_list("id", "clinic_id", "seq", "prev_hmac", "hmac")}


def _assert_append_only() -> None:
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"UPDATE {TABLE} SET action = 'delete'")


def test_global_chain_becomes_one_verified_chain_per_clinic(apps_before_0004, monkeypatch):
    monkeypatch.setattr(relink, "BATCH", 2)  # so the chains cross batch boundaries
    written = _write_global_chain(apps_before_0004.get_model("audit", "AuditEvent"))

    _run(migration.forward, apps_before_0004)

    stored = _stored()
    for clinic_id in (3, 5, None):
        ids = [row["id"] for row in written if row["clinic_id"] == clinic_id]
        assert [stored[pk][1] for pk in ids] == list(range(1, len(ids) + 1)), clinic_id  # old order, from 1
        assert stored[ids[0]][2] == GENESIS
        report = verify_chain(clinic_id=clinic_id)
        assert (report.ok, report.rows_checked) == (True, len(ids))
    _assert_append_only()


def test_migrating_back_restores_the_original_global_chain(apps_before_0004):
    written = _write_global_chain(apps_before_0004.get_model("audit", "AuditEvent"))
    _run(migration.forward, apps_before_0004)
    _run(migration.backward, apps_before_0004)
    stored = _stored()
    original = [(row["seq"], row["prev_hmac"], row["hmac"]) for row in written]
    assert [stored[row["id"]][1:] for row in written] == original
    _assert_append_only()


def test_migrating_back_is_refused_once_a_digest_is_recorded(apps_before_0004):
    """Going back would drop the digest column, and with it the seals of signed notes."""
    _write_global_chain(apps_before_0004.get_model("audit", "AuditEvent"))
    _run(migration.forward, apps_before_0004)
    audit_record(action="update", object_type="clinical.treatmentnote", object_id=1, clinic_id=3, digest="ab" * 32)
    before = _stored()
    with pytest.raises(RuntimeError, match=r"1 audit row\(s\) carry a digest"):
        _run(migration.backward, apps_before_0004)
    assert _stored() == before


def test_a_chain_that_does_not_verify_is_not_resigned(apps_before_0004, monkeypatch):
    """Re-signing an altered row would launder it: the migration stops and names the row."""
    _write_global_chain(apps_before_0004.get_model("audit", "AuditEvent"))
    with connection.cursor() as cursor:
        for statement in migration._statements(connection.vendor, "down"):
            cursor.execute(statement)
        cursor.execute(f"UPDATE {TABLE} SET user_email = 'innocent@example.net' WHERE seq = 4")
    before = _stored()

    with pytest.raises(RuntimeError, match=r"seq 4 .*altered.*MEND_AUDIT_RELINK_UNVERIFIED=yes"):
        _run(migration.forward, apps_before_0004)
    assert _stored() == before

    monkeypatch.setenv("MEND_AUDIT_RELINK_UNVERIFIED", "yes")
    _run(migration.forward, apps_before_0004)
    assert verify_chain(clinic_id=3).ok  # as the operator was warned: the alteration is signed now


@pytest.mark.skipif(connection.vendor != "postgresql", reason="SQLite cannot alter a schema inside a transaction")
def test_migrate_from_0002_relinks_rows_written_before_it():
    """The real migrations, end to end, on PostgreSQL's transactional DDL (rolled back after)."""
    executor = MigrationExecutor(connection)
    executor.migrate([("audit", "0002_append_only_triggers")])
    old_model = executor.loader.project_state(("audit", "0002_append_only_triggers")).apps.get_model(
        "audit", "AuditEvent"
    )
    written = _write_global_chain(old_model)

    executor = MigrationExecutor(connection)
    executor.migrate([("audit", "0004_relink_chains_per_clinic")])

    for clinic_id in (3, 5, None):
        report = verify_chain(clinic_id=clinic_id)
        assert (report.ok, report.rows_checked) == (True, sum(row["clinic_id"] == clinic_id for row in written))
    _assert_append_only()
