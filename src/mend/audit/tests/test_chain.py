from datetime import UTC, datetime

from hypothesis import given
from hypothesis import strategies as st

from mend.audit.chain import GENESIS, SIGNED_FIELDS, row_hmac

ROW = {
    "seq": 1,
    "at": datetime(2026, 11, 23, 14, 5, 6, 123456, tzinfo=UTC),
    "user_id": 7,
    "user_email": "tess@test.example",
    "role": "therapist",
    "clinic_id": 3,
    "action": "view",
    "object_type": "people.client",
    "object_id": "42",
    "client_id": 42,
    "ip": "127.0.0.1",
    "request_id": "abc123",
}


def test_same_row_and_key_give_the_same_hmac():
    assert row_hmac("k", GENESIS, ROW) == row_hmac("k", GENESIS, dict(ROW))


def test_another_key_gives_another_hmac():
    assert row_hmac("k1", GENESIS, ROW) != row_hmac("k2", GENESIS, ROW)


def test_hmac_depends_on_the_previous_row():
    assert row_hmac("k", GENESIS, ROW) != row_hmac("k", "f" * 64, ROW)


@given(field=st.sampled_from(SIGNED_FIELDS), value=st.text(min_size=1, max_size=20))
def test_changing_any_signed_field_changes_the_hmac(field, value):
    altered = dict(ROW)
    if str(altered[field]) == value:
        value += "x"
    altered[field] = value
    assert row_hmac("k", GENESIS, ROW) != row_hmac("k", GENESIS, altered)


def test_moving_text_between_adjacent_fields_changes_the_hmac():
    a = dict(ROW, object_type="people.client", object_id="42")
    b = dict(ROW, object_type="people.client4", object_id="2")
    assert row_hmac("k", GENESIS, a) != row_hmac("k", GENESIS, b)
