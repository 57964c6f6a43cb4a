"""No two active appointments overlap for one therapist or one room: PostgreSQL enforces it itself.

Exclusion constraints over ``tstzrange(starts_at, ends_at, '[)')`` (half-open, so 10:00–11:00 and
11:00–12:00 coexist) need btree_gist for the ``=`` on the id. Requests and cancelled appointments
hold no time, and an owner's recorded override (``override_reason``) is left out on purpose.
SQLite has no such constraint: there every transaction begins IMMEDIATE (settings), so the booking
service's overlap check and its insert hold the database's write lock together.
"""

from django.db import migrations

ACTIVE = "status IN ('booked', 'arrived', 'completed', 'no_show') AND override_reason = ''"

FORWARD = [
    "CREATE EXTENSION IF NOT EXISTS btree_gist",
    "ALTER TABLE scheduling_appointment ADD CONSTRAINT appointment_no_therapist_overlap "
    "EXCLUDE USING gist (therapist_id WITH =, tstzrange(starts_at, ends_at, '[)') WITH &&) "
    f"WHERE ({ACTIVE})",
    "ALTER TABLE scheduling_appointment ADD CONSTRAINT appointment_no_room_overlap "
    "EXCLUDE USING gist (room_id WITH =, tstzrange(starts_at, ends_at, '[)') WITH &&) "
    f"WHERE (room_id IS NOT NULL AND {ACTIVE})",
]
BACKWARD = [
    "ALTER TABLE scheduling_appointment DROP CONSTRAINT IF EXISTS appointment_no_room_overlap",
    "ALTER TABLE scheduling_appointment DROP CONSTRAINT IF EXISTS appointment_no_therapist_overlap",
]


def _run(statements: list[str]):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor != "postgresql":
            return
        for statement in statements:
            schema_editor.execute(statement)

    return run


class Migration(migrations.Migration):
    dependencies = [("scheduling", "0001_calendar")]

    operations = [migrations.RunPython(_run(FORWARD), _run(BACKWARD))]
