"""What the therapist asks at every visit besides pain, sleep and stress: muscle tension since the
last visit (0–10) and on how many of the last 7 days the client took pain medication, with what
they took as they say it.

All three start empty on the notes already written, so a note signed before keeps its seal (the
sealed content leaves these out while they are empty, see ``queries.notes.note_content``).

On SQLite, Django adds the non-null ``medication_note`` column by rebuilding the table, which
the immutability triggers of 0002 do not survive (the rebuild drops the note table's own, and the
technique table's triggers name the note table, so the rebuild's rename fails). They are dropped
before the change and re-created from 0002's own statements after it, in both directions, inside
the migration's transaction. PostgreSQL adds the columns in place and keeps its triggers.
"""

import importlib

import django.core.validators
from django.db import migrations, models

_triggers = importlib.import_module("mend.clinical.migrations.0002_signed_notes_immutable")


def _sqlite(statements):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor == "sqlite":
            for statement in statements:
                schema_editor.execute(statement, params=None)

    return run


drop_sqlite_triggers = _sqlite(_triggers.SQLITE_DOWN)
create_sqlite_triggers = _sqlite(_triggers.SQLITE_UP)


class Migration(migrations.Migration):
    dependencies = [("clinical", "0006_health_history_answers")]

    operations = [
        migrations.RunPython(drop_sqlite_triggers, create_sqlite_triggers),
        migrations.AddField(
            model_name="treatmentnote",
            name="muscle_tension",
            field=models.PositiveSmallIntegerField(
                blank=True,
                null=True,
                validators=[
                    django.core.validators.MinValueValidator(0),
                    django.core.validators.MaxValueValidator(10),
                ],
                verbose_name="muscle tension since last visit (0–10)",
            ),
        ),
        migrations.AddField(
            model_name="treatmentnote",
            name="medication_days",
            field=models.PositiveSmallIntegerField(
                blank=True,
                null=True,
                validators=[
                    django.core.validators.MinValueValidator(0),
                    django.core.validators.MaxValueValidator(7),
                ],
                verbose_name="days with pain medication in the last 7",
            ),
        ),
        migrations.AddField(
            model_name="treatmentnote",
            name="medication_note",
            field=models.CharField(blank=True, max_length=200, verbose_name="pain medication taken"),
        ),
        migrations.RunPython(create_sqlite_triggers, drop_sqlite_triggers),
    ]
