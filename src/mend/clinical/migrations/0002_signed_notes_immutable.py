"""Signed treatment notes and addenda cannot change, in the database itself.

The services refuse first, with a clear message; these triggers stop any other path (a shell,
a bulk update, a bug). A draft note may change freely; signing is the one allowed update of a
draft (status draft → signed).
"""

from django.db import migrations

SQLITE_UP = [
    """
    CREATE TRIGGER clinical_signed_note_no_update BEFORE UPDATE ON clinical_treatmentnote
    WHEN OLD.status = 'signed'
    BEGIN SELECT RAISE(ABORT, 'signed treatment note is immutable: add an addendum'); END;
    """,
    """
    CREATE TRIGGER clinical_signed_note_no_delete BEFORE DELETE ON clinical_treatmentnote
    WHEN OLD.status = 'signed'
    BEGIN SELECT RAISE(ABORT, 'signed treatment note cannot be deleted'); END;
    """,
    """
    CREATE TRIGGER clinical_signed_technique_no_insert BEFORE INSERT ON clinical_notetechnique
    WHEN (SELECT status FROM clinical_treatmentnote WHERE id = NEW.note_id) = 'signed'
    BEGIN SELECT RAISE(ABORT, 'signed treatment note is immutable: add an addendum'); END;
    """,
    """
    CREATE TRIGGER clinical_signed_technique_no_update BEFORE UPDATE ON clinical_notetechnique
    WHEN (SELECT status FROM clinical_treatmentnote WHERE id = OLD.note_id) = 'signed'
    BEGIN SELECT RAISE(ABORT, 'signed treatment note is immutable: add an addendum'); END;
    """,
    """
    CREATE TRIGGER clinical_signed_technique_no_delete BEFORE DELETE ON clinical_notetechnique
    WHEN (SELECT status FROM clinical_treatmentnote WHERE id = OLD.note_id) = 'signed'
    BEGIN SELECT RAISE(ABORT, 'signed treatment note is immutable: add an addendum'); END;
    """,
    """
    CREATE TRIGGER clinical_addendum_no_update BEFORE UPDATE ON clinical_addendum
    BEGIN SELECT RAISE(ABORT, 'addenda are immutable'); END;
    """,
    """
    CREATE TRIGGER clinical_addendum_no_delete BEFORE DELETE ON clinical_addendum
    BEGIN SELECT RAISE(ABORT, 'addenda are immutable'); END;
    """,
]
SQLITE_DOWN = [
    f"DROP TRIGGER IF EXISTS {name};"
    for name in (
        "clinical_signed_note_no_update",
        "clinical_signed_note_no_delete",
        "clinical_signed_technique_no_insert",
        "clinical_signed_technique_no_update",
        "clinical_signed_technique_no_delete",
        "clinical_addendum_no_update",
        "clinical_addendum_no_delete",
    )
]

POSTGRES_UP = [
    """
    CREATE OR REPLACE FUNCTION clinical_refuse_signed_change() RETURNS trigger AS $$
    BEGIN
        IF TG_TABLE_NAME = 'clinical_addendum' THEN
            RAISE EXCEPTION 'addenda are immutable: % refused', TG_OP USING ERRCODE = 'insufficient_privilege';
        END IF;
        IF TG_TABLE_NAME = 'clinical_treatmentnote' THEN
            IF OLD.status = 'signed' THEN
                RAISE EXCEPTION 'signed treatment note is immutable: % refused', TG_OP
                    USING ERRCODE = 'insufficient_privilege';
            END IF;
            IF TG_OP = 'DELETE' THEN RETURN OLD; END IF;
            RETURN NEW;
        END IF;
        -- clinical_notetechnique
        IF EXISTS (
            SELECT 1 FROM clinical_treatmentnote
            WHERE status = 'signed' AND id IN (
                CASE WHEN TG_OP = 'INSERT' THEN NEW.note_id ELSE OLD.note_id END
            )
        ) THEN
            RAISE EXCEPTION 'signed treatment note is immutable: % refused', TG_OP
                USING ERRCODE = 'insufficient_privilege';
        END IF;
        IF TG_OP = 'DELETE' THEN RETURN OLD; END IF;
        RETURN NEW;
    END;
    $$ LANGUAGE plpgsql;
    """,
    """
    CREATE TRIGGER clinical_signed_note_guard BEFORE UPDATE OR DELETE ON clinical_treatmentnote
    FOR EACH ROW EXECUTE FUNCTION clinical_refuse_signed_change();
    """,
    """
    CREATE TRIGGER clinical_signed_technique_guard BEFORE INSERT OR UPDATE OR DELETE ON clinical_notetechnique
    FOR EACH ROW EXECUTE FUNCTION clinical_refuse_signed_change();
    """,
    """
    CREATE TRIGGER clinical_addendum_guard BEFORE UPDATE OR DELETE ON clinical_addendum
    FOR EACH ROW EXECUTE FUNCTION clinical_refuse_signed_change();
    """,
]
POSTGRES_DOWN = [
    "DROP TRIGGER IF EXISTS clinical_addendum_guard ON clinical_addendum;",
    "DROP TRIGGER IF EXISTS clinical_signed_technique_guard ON clinical_notetechnique;",
    "DROP TRIGGER IF EXISTS clinical_signed_note_guard ON clinical_treatmentnote;",
    "DROP FUNCTION IF EXISTS clinical_refuse_signed_change();",
]


def _run(statements_by_vendor):
    def run(apps, schema_editor):
        statements = statements_by_vendor.get(schema_editor.connection.vendor)
        if statements is None:
            raise RuntimeError(f"No immutability triggers for {schema_editor.connection.vendor}")
        for statement in statements:
            schema_editor.execute(statement, params=None)

    return run


class Migration(migrations.Migration):
    dependencies = [("clinical", "0001_episode_of_care")]

    operations = [
        migrations.RunPython(
            _run({"sqlite": SQLITE_UP, "postgresql": POSTGRES_UP}),
            _run({"sqlite": SQLITE_DOWN, "postgresql": POSTGRES_DOWN}),
        ),
    ]
