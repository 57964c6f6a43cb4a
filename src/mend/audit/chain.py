"""The audit chain's arithmetic: which fields are signed, how, how a chain is walked and re-linked.

Plain Python, no Django: the services, the queries and the migrations share it.
"""

from __future__ import annotations

import hashlib
import hmac as hmac_lib
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

GENESIS = "0" * 64
SIGNED_FIELDS = (
    "seq",
    "at",
    "user_id",
    "user_email",
    "role",
    "clinic_id",
    "action",
    "object_type",
    "object_id",
    "client_id",
    "ip",
    "request_id",
    "digest",
)


def _text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.isoformat(timespec="microseconds")
    return str(value)


def row_hmac(key: str, prev_hmac: str, fields: Mapping[str, object], *, signed: Sequence[str] = SIGNED_FIELDS) -> str:
    """HMAC-SHA256 over the previous row's HMAC and this row's signed fields.

    Fields are joined with the unit separator (0x1f), which cannot be typed into any field
    Mend writes, so two different rows can never serialise to the same message. ``signed``
    exists for the migrations, which must keep signing the fields of their own time.
    """
    message = "\x1f".join([prev_hmac, *(_text(fields[name]) for name in signed)])
    return hmac_lib.new(key.encode(), message.encode(), hashlib.sha256).hexdigest()


@dataclass(frozen=True, slots=True)
class ChainProblem:
    """The first row of a chain that does not check out."""

    seq: int
    row_id: int
    reason: str


def first_problem(
    rows: Iterable[Mapping[str, Any]], *, key: str, signed: Sequence[str] = SIGNED_FIELDS
) -> Iterator[ChainProblem | None]:
    """Walk one chain's rows in seq order: yield None for each good row, then the first bad one.

    A row whose fields were edited fails its own HMAC; a removed row leaves a gap in the
    sequence and breaks the link from the row after it. A generator so callers can count rows
    and show progress as the walk goes.
    """
    expected_prev = GENESIS
    expected_seq = 1
    for row in rows:
        seq = row["seq"]
        if seq != expected_seq:
            missing = f"{expected_seq}" if seq == expected_seq + 1 else f"{expected_seq}–{seq - 1}"
            if seq < expected_seq:
                yield ChainProblem(seq, row["id"], f"repeats or goes back to seq {seq} after {expected_seq - 1}")
            else:
                yield ChainProblem(seq, row["id"], f"row(s) {missing} removed before it (seq gap)")
            return
        if row["prev_hmac"] != expected_prev:
            yield ChainProblem(seq, row["id"], "does not link to the row before it (broken link)")
            return
        if row_hmac(key, row["prev_hmac"], row, signed=signed) != row["hmac"]:
            yield ChainProblem(seq, row["id"], "was altered (HMAC mismatch)")
            return
        expected_prev = row["hmac"]
        expected_seq += 1
        yield None


@dataclass(frozen=True, slots=True)
class Link:
    """A row's place in a re-linked chain."""

    row_id: int
    seq: int
    prev_hmac: str
    hmac: str


def relink(
    rows: Iterable[Mapping[str, Any]],
    *,
    key: str,
    signed: Sequence[str] = SIGNED_FIELDS,
    after: Link | None = None,
) -> Iterator[Link]:
    """Number and sign rows, in the order given, as one chain continuing after ``after``.

    Only the migrations call this: re-signing is what the key's holder may do, never the app.
    """
    seq, prev = (after.seq, after.hmac) if after is not None else (0, GENESIS)
    for row in rows:
        seq += 1
        signature = row_hmac(key, prev, {**row, "seq": seq}, signed=signed)
        yield Link(row["id"], seq, prev, signature)
        prev = signature
