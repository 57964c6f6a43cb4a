"""The actor: a user acting through one membership in the active clinic.

Every query and service takes one, whoever calls it (page, API, command, demo loader), so
"who may" and "what day is it" are answered the same way in every interface.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING

from mend.platform import clock
from mend.platform.roles import CLINICAL_ROLES, MANAGING_ROLES, Role

if TYPE_CHECKING:
    from mend.accounts.models import User
    from mend.clinics.models import Clinic, Membership


@dataclass(frozen=True, slots=True)
class Actor:
    user: User
    membership: Membership

    @property
    def clinic(self) -> Clinic:
        return self.membership.clinic

    @property
    def clinic_id(self) -> int:
        return self.membership.clinic_id

    @property
    def role(self) -> str:
        return self.membership.role

    @property
    def is_owner(self) -> bool:
        return self.role == Role.OWNER

    @property
    def is_admin(self) -> bool:
        return self.role == Role.ADMIN

    @property
    def is_therapist(self) -> bool:
        return self.role == Role.THERAPIST

    @property
    def is_front_desk(self) -> bool:
        return self.role == Role.FRONT_DESK

    @property
    def sees_clinical(self) -> bool:
        return self.role in CLINICAL_ROLES

    @property
    def manages_clinic(self) -> bool:
        return self.role in MANAGING_ROLES

    @property
    def timezone(self) -> str:
        return self.clinic.timezone

    def today(self) -> date:
        """Today in the clinic's zone: the date a person at the front desk would write down."""
        return clock.local_today(self.clinic.timezone)

    def now(self) -> datetime:
        """Now, as an aware datetime in the clinic's zone."""
        return clock.local_now(self.clinic.timezone)

    def local_date(self, moment: datetime) -> date:
        return clock.local_date(moment, self.clinic.timezone)
