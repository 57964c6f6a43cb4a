"""Charts under the Content-Security-Policy: pygal's <style> inside each SVG carries the response's
nonce, which the header allows, and the SVG has no style attribute (the policy allows none)."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from mend.outcomes import services
from mend.testing import harbour_today

pytestmark = [pytest.mark.django_db, pytest.mark.clock]


def test_progress_chart_styles_carry_the_nonce_the_policy_allows(login, tess, episode):
    today = harbour_today()
    services.response_record(
        actor=tess, episode=episode, measure_id="nprs", answers=[7], collected_on=today - timedelta(days=20)
    )
    services.response_record(actor=tess, episode=episode, measure_id="nprs", answers=[4])
    response = login("therapist").get(f"/episodes/{episode.pk}/progress/")
    assert response.status_code == 200
    policy = response["Content-Security-Policy"]
    style_src = next(part.split()[1:] for part in policy.split(";") if part.split()[0] == "style-src")
    nonces = [value[len("'nonce-") : -1] for value in style_src if value.startswith("'nonce-")]
    assert len(nonces) == 1, policy
    html = response.content.decode()
    styles = re.findall(r"<style\b[^>]*>", html)
    assert styles, "the chart should style itself"
    assert all(f'nonce="{nonces[0]}"' in tag for tag in styles), styles
    assert not re.search(r"<[a-z][^>]*\sstyle=", html), "a style attribute is refused by the policy"


def test_a_page_without_a_chart_asks_for_no_nonce(login, episode):
    response = login("therapist").get(f"/episodes/{episode.pk}/")
    assert "'nonce-" not in response["Content-Security-Policy"]
