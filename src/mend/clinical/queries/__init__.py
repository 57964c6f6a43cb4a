"""Reads of the clinical record, one module per noun."""

from mend.clinical.queries.chart import Chart, TimelineEvent, chart
from mend.clinical.queries.goals import (
    GoalView,
    Measurement,
    goal_outcomes,
    goal_views,
    measure_direction,
    measure_label,
    measure_problem,
    measure_range,
    measurements,
)
from mend.clinical.queries.notes import (
    NoteDraft,
    TechniqueRow,
    addendum_content,
    note_content,
    note_prefill,
    signing_refusals,
    technique_row_label,
    technique_warnings,
)
from mend.clinical.queries.plans import plan_conflicts, plan_suggestion
from mend.clinical.queries.referrals import referral_statuses, referrals_with_use, usable_referral
from mend.clinical.queries.screening import TodayFlag, active_findings, screening_from, screening_on, todays_flags

__all__ = [
    "Chart",
    "GoalView",
    "Measurement",
    "NoteDraft",
    "TechniqueRow",
    "TimelineEvent",
    "TodayFlag",
    "active_findings",
    "addendum_content",
    "chart",
    "goal_outcomes",
    "goal_views",
    "measure_direction",
    "measure_label",
    "measure_problem",
    "measure_range",
    "measurements",
    "note_content",
    "note_prefill",
    "plan_conflicts",
    "plan_suggestion",
    "referral_statuses",
    "referrals_with_use",
    "screening_from",
    "screening_on",
    "signing_refusals",
    "technique_row_label",
    "technique_warnings",
    "todays_flags",
    "usable_referral",
]
