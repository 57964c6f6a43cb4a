from datetime import date, timedelta

from hypothesis import given
from hypothesis import strategies as st

from mend.core.credentials import LicenceState, licence_status

TODAY = date(2026, 11, 23)


def test_licence_expiring_within_sixty_days_is_flagged():
    status = licence_status(TODAY + timedelta(days=30), TODAY)
    assert status.state is LicenceState.EXPIRING
    assert status.label == "expires in 30 days"


def test_licence_expiring_on_day_sixty_is_flagged_and_day_sixty_one_is_not():
    assert licence_status(TODAY + timedelta(days=60), TODAY).state is LicenceState.EXPIRING
    assert licence_status(TODAY + timedelta(days=61), TODAY).state is LicenceState.VALID


def test_licence_is_valid_through_its_expiry_day():
    status = licence_status(TODAY, TODAY)
    assert status.state is LicenceState.EXPIRING
    assert status.label == "expires today"


def test_licence_is_expired_the_day_after():
    status = licence_status(TODAY - timedelta(days=1), TODAY)
    assert status.state is LicenceState.EXPIRED
    assert status.label == "expired 1 day ago"
    assert status.needs_attention


@given(offset=st.integers(min_value=-3650, max_value=3650), window=st.integers(min_value=1, max_value=365))
def test_licence_state_is_monotonic_in_days_left(offset, window):
    status = licence_status(TODAY + timedelta(days=offset), TODAY, window)
    assert status.days_left == offset
    if offset < 0:
        assert status.state is LicenceState.EXPIRED
    elif offset <= window:
        assert status.state is LicenceState.EXPIRING
    else:
        assert status.state is LicenceState.VALID
        assert not status.needs_attention
