from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.billing.fake_stripe import FakeStripe


@pytest.fixture
def fake_stripe() -> Iterator[FakeStripe]:
    """Stripe's API on a local port, fresh for each test: ``.base_url``, ``.secret_key``, ``.webhook_secret``."""
    with FakeStripe() as fake:
        yield fake
