"""Re-link the existing audit rows into one chain per clinic, and re-sign them.

Until 0003 every row linked to the row written just before it, whatever its clinic. Each row
now links to the previous row of its own clinic, and ``digest`` is signed too, so every
existing row gets a new seq, prev_hmac and hmac: in the old seq order within its clinic,
numbered from 1, signed with the current ``MEND_AUDIT_KEY``.

Why a migration may re-sign: the HMAC key lives outside the database so that someone who can
only write the table cannot re-sign altered rows. The operator running ``migrate`` holds both
the database and the key, the same trust as whoever starts the app. Run it with the app
stopped, as any migration.

It re-signs only a chain that verifies: the old chain is walked first and the migration stops,
naming the first bad row, if any row was altered or removed. Re-signing that would launder the
damage. Setting MEND_AUDIT_RELINK_UNVERIFIED=yes re-links anyway, after the operator has
recorded what ``mend audit verify`` reported (for instance after rotating the key without
re-signing).

Reversible until a digest is recorded: backwards, the per-clinic chains are verified and joined
again into one chain in id order, signed without ``digest``. For rows that predate this
migration, that restores their original seqs and, with the same key, their original HMACs. Once
any row carries a digest (a signed note's seal) it refuses: 0003's reverse would drop the column,
and with it the trail's only record of what was signed.

The append-only triggers refuse the UPDATEs, so they are dropped for the duration and
re-created from 0002's own statements, inside the migration's transaction.
"""

import importlib
import sys

from django.conf import settings
from django.db import migrations

from mend.audit import relink
from mend.env import env_bool

triggers = importlib.import_module("mend.audit.migrations.0002_append_only_triggers")

# Frozen here on purpose: this migration must sign what was signed when it was written.
SIGNED_BEFORE = (
    "seq",
    "at",
    "user_id",
    "user_email",
    "role",
    "clinic_id",
    "action",
    "object_type",
    "object_id",
    "client_id",
    "ip",
    "request_id",
)
SIGNED_AFTER = (*SIGNED_BEFORE, "digest")
OVERRIDE = "MEND_AUDIT_RELINK_UNVERIFIED"


def _statements(vendor, direction):
    by_vendor = {
        "sqlite": {"down": triggers.SQLITE_DOWN, "up": triggers.SQLITE_UP},
        "postgresql": {"down": triggers.POSTGRES_DOWN, "up": triggers.POSTGRES_UP},
    }
    if vendor not in by_vendor:
        raise RuntimeError(f"No append-only triggers for {vendor}")
    return by_vendor[vendor][direction]


def _with_triggers_dropped(schema_editor, work):
    connection = schema_editor.connection
    with connection.cursor() as cursor:
        for statement in _statements(connection.vendor, "down"):
            cursor.execute(statement)
        work()
        for statement in _statements(connection.vendor, "up"):
            cursor.execute(statement)


def _checked(check, model, signed):
    try:
        check(model, key=settings.MEND_AUDIT_KEY, signed=signed)
    except relink.UnverifiedChain as problem:
        if not env_bool(OVERRIDE, False):
            raise RuntimeError(f"{problem} To re-sign anyway, set {OVERRIDE}=yes.") from None
        print(f"\n  {OVERRIDE} is set; re-signing an unverified chain: {problem}", file=sys.stderr)


def forward(apps, schema_editor):
    model = apps.get_model("audit", "AuditEvent")
    _checked(relink.check_global_chain, model, SIGNED_BEFORE)
    _with_triggers_dropped(
        schema_editor, lambda: relink.relink_per_clinic(model, key=settings.MEND_AUDIT_KEY, signed=SIGNED_AFTER)
    )


def backward(apps, schema_editor):
    model = apps.get_model("audit", "AuditEvent")
    with_digest = model.objects.exclude(digest="").count()
    if with_digest:
        raise RuntimeError(
            f"{with_digest} audit row(s) carry a digest (a signed note's seal); going back before "
            "audit 0003 would drop them from the trail. This migration cannot be reversed any more."
        )
    _checked(relink.check_clinic_chains, model, SIGNED_AFTER)
    _with_triggers_dropped(
        schema_editor, lambda: relink.relink_global(model, key=settings.MEND_AUDIT_KEY, signed=SIGNED_BEFORE)
    )


class Migration(migrations.Migration):
    dependencies = [("audit", "0003_chain_per_clinic")]

    operations = [migrations.RunPython(forward, backward)]
