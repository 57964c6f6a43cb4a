"""Writes of the clinical record, one module per noun. Each service checks access, validates, enforces
every rule of the write (safety rules included), writes in one transaction and audits it."""

from mend.clinical.services.assessments import (
    ASSESSMENT_FIELDS,
    PainInput,
    PalpationInput,
    PsfsInput,
    RomInput,
    assessment_save,
)
from mend.clinical.services.common import (
    HEALTH_HISTORY_VERSION,
    MAX_DOCUMENT_BYTES,
    NoteLocked,
    SigningRefused,
    check_document,
)
from mend.clinical.services.episodes import EPISODE_FIELDS, episode_discharge, episode_open, episode_update
from mend.clinical.services.intake import client_intake_review, client_intake_send, client_intake_submit
from mend.clinical.services.notes import (
    MODALITIES,
    NOTE_FIELDS,
    TechniqueInput,
    addendum_add,
    note_delete_draft,
    note_sign,
    note_start,
    note_update,
)
from mend.clinical.services.plans import GOAL_FIELDS, PLAN_FIELDS, goal_delete, goal_save, plan_save
from mend.clinical.services.referrals import REFERRAL_FIELDS, referral_close, referral_save
from mend.clinical.services.screening import (
    CHECK_FIELDS,
    CLEARANCE_FIELDS,
    HEALTH_HISTORY_FIELDS,
    FindingInput,
    clearance_record,
    finding_add,
    finding_resolve,
    health_history_record,
    pre_session_check_record,
)

__all__ = [
    "ASSESSMENT_FIELDS",
    "CHECK_FIELDS",
    "CLEARANCE_FIELDS",
    "EPISODE_FIELDS",
    "GOAL_FIELDS",
    "HEALTH_HISTORY_FIELDS",
    "HEALTH_HISTORY_VERSION",
    "MAX_DOCUMENT_BYTES",
    "MODALITIES",
    "NOTE_FIELDS",
    "PLAN_FIELDS",
    "REFERRAL_FIELDS",
    "FindingInput",
    "NoteLocked",
    "PainInput",
    "PalpationInput",
    "PsfsInput",
    "RomInput",
    "SigningRefused",
    "TechniqueInput",
    "addendum_add",
    "assessment_save",
    "check_document",
    "clearance_record",
    "client_intake_review",
    "client_intake_send",
    "client_intake_submit",
    "episode_discharge",
    "episode_open",
    "episode_update",
    "finding_add",
    "finding_resolve",
    "goal_delete",
    "goal_save",
    "health_history_record",
    "note_delete_draft",
    "note_sign",
    "note_start",
    "note_update",
    "plan_save",
    "pre_session_check_record",
    "referral_close",
    "referral_save",
]
