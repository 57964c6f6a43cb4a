"""The API counts dates as the clinic does: at 22:30 in Toronto it is still that day in Toronto,
whatever the date in UTC."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import time_machine

from mend.accounts.services import api_token_create

# 03:30 UTC on 1 July is 23:30 on 30 June in Toronto (the Harbour clinic's zone).
LATE_EVENING = datetime(2031, 7, 1, 3, 30, tzinfo=ZoneInfo("UTC"))


def test_licence_expiring_today_in_the_clinic_is_not_yet_expired(client, personas):
    assert personas.harbour.timezone == "America/Toronto"
    personas.licence.expires_on = date(2031, 6, 30)
    personas.licence.save()
    with time_machine.travel(LATE_EVENING, tick=False):
        # Issued at that instant: a token issued today would have expired by 2031.
        token = api_token_create(user=personas.owner, clinic=personas.harbour).raw
        found = client.get(
            f"/api/v1/therapists/{personas.therapist_profile.pk}", HTTP_AUTHORIZATION=f"Bearer {token}"
        ).json()
    [licence] = [lic for lic in found["licences"] if lic["id"] == personas.licence.pk]
    assert (licence["status"], licence["days_left"]) == ("expiring", 0)
