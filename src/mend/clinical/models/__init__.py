"""The clinical record: one episode of care from referral to discharge.

Every row carries its clinic (tenancy) and its client (the audit trail names the client of each
read and write). Writes go through ``services.py``; reads through ``queries.py``.
"""

from mend.clinical.models.assessments import (
    Assessment,
    AssessmentKind,
    PainQuality,
    PainRegion,
    PalpationFinding,
    PalpationKind,
    PsfsActivity,
    RomMeasurement,
    RomMode,
)
from mend.clinical.models.common import SIDE_CHOICES
from mend.clinical.models.episodes import DischargeReason, Episode
from mend.clinical.models.intake import ClientIntake
from mend.clinical.models.notes import Addendum, NoteStatus, NoteTechnique, TreatmentNote
from mend.clinical.models.plans import Goal, PlanOfCare

# Migrations name the upload paths by their old home, mend.clinical.models.
from mend.clinical.models.referrals import Referral, referral_upload_path
from mend.clinical.models.screening import (
    Clearance,
    FindingSource,
    HealthHistory,
    PreSessionCheck,
    ScreeningFinding,
    clearance_upload_path,
)

__all__ = [
    "SIDE_CHOICES",
    "Addendum",
    "Assessment",
    "AssessmentKind",
    "Clearance",
    "ClientIntake",
    "DischargeReason",
    "Episode",
    "FindingSource",
    "Goal",
    "HealthHistory",
    "NoteStatus",
    "NoteTechnique",
    "PainQuality",
    "PainRegion",
    "PalpationFinding",
    "PalpationKind",
    "PlanOfCare",
    "PreSessionCheck",
    "PsfsActivity",
    "Referral",
    "RomMeasurement",
    "RomMode",
    "ScreeningFinding",
    "TreatmentNote",
    "clearance_upload_path",
    "referral_upload_path",
]
