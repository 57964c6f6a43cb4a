from __future__ import annotations

import pytest
from django.test import Client as HttpClient

from mend.testing import Personas, build_personas


@pytest.fixture
def personas(db) -> Personas:
    return build_personas()


@pytest.fixture
def login(client: HttpClient, personas: Personas):
    """Sign the test client in as a persona by name: ``login("therapist")``."""

    def _login(name: str) -> HttpClient:
        user = getattr(personas, name)
        client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
        return client

    return _login
