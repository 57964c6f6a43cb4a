"""schemathesis against /api/v1/openapi.json: no request an API client can send gets a server error.

Every operation of the schema is sent generated requests (valid and invalid bodies, query strings
and path ids: the coverage phase's boundary cases and a bounded number of random ones, derandomised
so a run repeats) through Django's WSGI application, with the owner's bearer token, over Harbour's
data: clients, a therapist, and an episode of care with a referral. The one check is schemathesis's
``not_a_server_error``: a malformed value must be a 4xx naming what is wrong, never a 500.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error

from mend.accounts.services import api_token_create
from mend.api import api
from mend.clinical import services as clinical_services
from mend.testing import Personas

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment

# Generated requests per operation, on top of schemathesis's coverage phase (each parameter's
# boundary and wrong-type values): the 53 operations take about a minute on two cores.
EXAMPLES = 5


def _in_test_transaction(app: WSGIApplication) -> WSGIApplication:
    """Mend's WSGI application as the test client runs it: Django closes the database connection
    when a request starts and ends (``close_old_connections``), which on PostgreSQL would end the
    test's transaction; the response is read and closed while that is switched off."""

    def wsgi(environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        request_started.disconnect(close_old_connections)
        request_finished.disconnect(close_old_connections)
        try:
            response = app(environ, start_response)
            body = list(response)
            getattr(response, "close", lambda: None)()
            return body
        finally:
            request_started.connect(close_old_connections)
            request_finished.connect(close_old_connections)

    return wsgi


# The document /api/v1/openapi.json serves, built without a request (no database at collection).
schema = schemathesis.openapi.from_dict(api.get_openapi_schema())
schema.app = _in_test_transaction(get_wsgi_application())


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
