"""Store every sign-in email lower case, the form sign-in looks it up in (normalise_email).

Two accounts whose addresses differ only in case cannot both keep theirs: the migration stops and
names them, so a person decides which account stays, rather than the migration picking one.
"""

from django.db import migrations


def lowercase_emails(apps, schema_editor):
    User = apps.get_model("accounts", "User")
    seen: dict[str, int] = {}
    changed = []
    for user in User.objects.order_by("pk"):
        normal = user.email.strip().lower()
        if normal in seen:
            raise RuntimeError(
                f"Accounts {seen[normal]} and {user.pk} both sign in as {normal} (in different case). "
                "Change one account's email, then migrate again."
            )
        seen[normal] = user.pk
        if user.email != normal:
            user.email = normal
            changed.append(user)
    User.objects.bulk_update(changed, ["email"])


class Migration(migrations.Migration):

    dependencies = [
        ('accounts', '0004_passkey'),
    ]

    # Lower case is a valid form of every address; nothing to undo.
    operations = [migrations.RunPython(lowercase_emails, migrations.RunPython.noop)]
