"""What every scheduling test shares: the invariant "never a double booking" is checked after each one.

After every test that used the database, no two active appointments without an owner's recorded
override overlap for a therapist or a room, in any clinic (``overlapping_active``). The check runs
before the test's transaction is rolled back, so it sees what the test wrote.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest


@pytest.fixture(autouse=True)
def _never_a_double_booking(request: pytest.FixtureRequest) -> Iterator[None]:
    names = set(request.fixturenames)
    database = next((name for name in ("transactional_db", "db") if name in names), None)
    if database is None:
        yield
        return
    # Set up the database first, so this fixture's check runs before its rollback.
    request.getfixturevalue(database)
    yield
    from django.db import connection

    if connection.vendor == "postgresql" and connection.needs_rollback:
        return  # the test left its transaction broken on purpose; nothing can be read in it
    from mend.clinics.models import Clinic
    from mend.scheduling.services import overlapping_active

    found = {pk: overlapping_active(pk) for pk in Clinic.objects.values_list("pk", flat=True)}
    found = {pk: pairs for pk, pairs in found.items() if pairs}
    assert not found, f"active appointments overlap for a therapist or a room (clinic: pairs of ids): {found}"
