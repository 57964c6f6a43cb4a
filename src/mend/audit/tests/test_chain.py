from datetime import UTC, datetime

from hypothesis import given
from hypothesis import strategies as st

from mend.audit.chain import GENESIS, SIGNED_FIELDS, first_problem, relink, row_hmac

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
    "digest": "sha256:" + "ab" * 32,
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


def test_digest_is_signed():
    assert row_hmac("k", GENESIS, ROW) != row_hmac("k", GENESIS, dict(ROW, digest=""))


def _signed_rows(count: int, key: str = "k") -> list[dict]:
    """A chain of ``count`` rows as the database would hand them back, in seq order."""
    rows = [dict(ROW, id=100 + n, object_id=str(n)) for n in range(count)]
    for row, link in zip(rows, relink(rows, key=key), strict=True):
        row.update(seq=link.seq, prev_hmac=link.prev_hmac, hmac=link.hmac)
    return rows


def _walk(rows, key="k"):
    results = list(first_problem(rows, key=key))
    return results.count(None), results[-1] if results and results[-1] is not None else None


def test_relink_numbers_from_one_and_links_each_row_to_the_one_before():
    rows = _signed_rows(4)
    assert [row["seq"] for row in rows] == [1, 2, 3, 4]
    assert rows[0]["prev_hmac"] == GENESIS
    assert [row["prev_hmac"] for row in rows[1:]] == [row["hmac"] for row in rows[:-1]]
    assert _walk(rows) == (4, None)


def test_relinking_in_batches_gives_the_same_chain_as_in_one_pass():
    rows = [dict(ROW, id=n, object_id=str(n)) for n in range(7)]
    whole = list(relink(rows, key="k"))
    first = list(relink(rows[:3], key="k"))
    rest = list(relink(rows[3:], key="k", after=first[-1]))
    assert first + rest == whole


def test_walk_names_an_altered_row():
    rows = _signed_rows(4)
    rows[2]["user_email"] = "someone@else.example"
    checked, problem = _walk(rows)
    assert (checked, problem.seq, problem.row_id) == (2, 3, 102)
    assert "altered" in problem.reason


def test_walk_names_the_row_after_a_gap():
    rows = _signed_rows(5)
    del rows[1:3]
    checked, problem = _walk(rows)
    assert (checked, problem.seq) == (1, 4)
    assert problem.reason == "row(s) 2–3 removed before it (seq gap)"


def test_walk_names_a_row_that_does_not_link():
    rows = _signed_rows(3)
    rows[1]["prev_hmac"] = "f" * 64
    checked, problem = _walk(rows)
    assert (checked, problem.seq) == (1, 2)
    assert "broken link" in problem.reason


def test_walk_with_another_key_fails_at_the_first_row():
    checked, problem = _walk(_signed_rows(3), key="other")
    assert (checked, problem.seq) == (0, 1)
    assert "altered" in problem.reason
