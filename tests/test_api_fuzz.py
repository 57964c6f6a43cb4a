"""schemathesis against /api/v1/openapi.json: no request an API client can send gets a server error.

Every operation of the schema is sent generated requests (valid and invalid bodies, query strings
and path ids: the coverage phase's boundary cases and a bounded number of random ones, derandomised
so a run repeats) through Django's WSGI application, with the owner's bearer token, over Harbour's
data: clients, a therapist, and an episode of care with a referral. The one check is schemathesis's
``not_a_server_error``: a malformed value must be a 4xx naming what is wrong, never a 500.
"""

from __future__ import annotations

import pytest
import schemathesis
from django.core.wsgi import get_wsgi_application
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error

from mend.accounts.services import api_token_create
from mend.api import api
from mend.clinical import services as clinical_services
from mend.testing import Personas

# Generated requests per operation, on top of schemathesis's coverage phase (each parameter's
# boundary and wrong-type values): the 53 operations take about a minute on two cores.
EXAMPLES = 5


# The document /api/v1/openapi.json serves, built without a request (no database at collection).
schema = schemathesis.openapi.from_dict(api.get_openapi_schema())
schema.app = get_wsgi_application()


@pytest.fixture
def harbour_record(personas: Personas, tess) -> None:
    """Carol's episode with a referral, so routes that take an id have one to find."""
    episode = clinical_services.episode_open(
        actor=tess,
        client=personas.carol,
        data={"title": "Chronic low back pain", "condition": "low_back_pain", "started_on": tess.today()},
    )
    clinical_services.referral_save(
        actor=tess,
        episode=episode,
        provider=personas.referrer,
        diagnoses=["M54.50"],
        data={"referred_on": tess.today()},
    )


@pytest.fixture
def owner_token(personas: Personas) -> str:
    return api_token_create(user=personas.owner, clinic=personas.harbour, name="schemathesis").raw


@schema.parametrize()
@settings(
    max_examples=EXAMPLES,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=list(HealthCheck),
)
def test_no_request_gets_a_server_error(case, harbour_record, owner_token):
    case.call_and_validate(headers={"Authorization": f"Bearer {owner_token}"}, checks=[not_a_server_error])
