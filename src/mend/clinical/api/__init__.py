"""API routes for the clinical record, under /api/v1 (one router per tag).

Every route loads through the access loaders (front desk: 403; another clinic's or another care
team's record: 404), writes through ``mend.clinical.services`` (which audit each write), and
audits each read of client information with the client's id.
"""

from __future__ import annotations

from mend.clinical.api.assessments import router as assessments_router
from mend.clinical.api.episodes import router as episodes_router
from mend.clinical.api.notes import router as notes_router
from mend.clinical.api.plans import goals_router, plans_router
from mend.clinical.api.referrals import router as referrals_router
from mend.clinical.api.screening import router as screening_router

# Paths are written in full in each router (/episodes/{id}/referrals lives with the referrals),
# so every router mounts at the API's root.
ROUTERS = (
    episodes_router,
    referrals_router,
    screening_router,
    assessments_router,
    goals_router,
    plans_router,
    notes_router,
)

__all__ = ["ROUTERS"]
