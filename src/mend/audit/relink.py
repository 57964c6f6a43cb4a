"""Re-numbering and re-signing the whole audit table: what migration 0004 does, in both directions.

Only a migration calls these. Re-signing needs ``MEND_AUDIT_KEY`` and write access to a table
whose triggers refuse UPDATE, so it can only be done by the operator who runs ``migrate``
(which already holds both); the app itself never re-signs a row.

Every function takes the model class, so the migration can pass its historical model (read through
``_default_manager``: the model has only the one manager, and the base Model declares no ``objects``), and the
signed field list, so the migration keeps signing the fields of its own time whatever
``chain.SIGNED_FIELDS`` becomes later.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from django.db import models

from mend.audit.chain import ChainProblem, Link, first_problem, relink

BATCH = 1000


class UnverifiedChain(Exception):
    """The chain about to be re-signed does not verify: re-signing it would hide the damage."""


def _fail_on_problem(rows: Iterator[dict[str, Any]], *, key: str, signed: Sequence[str], chain: str) -> int:
    checked = 0
    for problem in first_problem(rows, key=key, signed=signed):
        if problem is not None:
            raise UnverifiedChain(_describe(problem, chain, checked))
        checked += 1
    return checked


def _describe(problem: ChainProblem, chain: str, checked: int) -> str:
    return (
        f"The {chain} does not verify at seq {problem.seq} (row id {problem.row_id}): {problem.reason}, "
        f"after {checked} good row(s). Re-signing it would hide that; investigate first (is MEND_AUDIT_KEY "
        "the key the rows were signed with?)."
    )


def check_global_chain(model: type[models.Model], *, key: str, signed: Sequence[str]) -> int:
    """Verify the pre-0004 chain (one chain across the table, in seq order); return its length."""
    rows = model._default_manager.order_by("seq").values("id", "prev_hmac", "hmac", *signed).iterator(chunk_size=BATCH)
    return _fail_on_problem(rows, key=key, signed=signed, chain="global audit chain")


def check_clinic_chains(model: type[models.Model], *, key: str, signed: Sequence[str]) -> int:
    """Verify every per-clinic chain; return how many rows they hold together."""
    total = 0
    for clinic_id in _chain_ids(model):
        rows = (
            model._default_manager.filter(clinic_id=clinic_id)
            .order_by("seq")
            .values("id", "prev_hmac", "hmac", *signed)
            .iterator(chunk_size=BATCH)
        )
        name = f"audit chain of clinic id {clinic_id}" if clinic_id is not None else "no-clinic audit chain"
        total += _fail_on_problem(rows, key=key, signed=signed, chain=name)
    return total


def _chain_ids(model: type[models.Model]) -> list[int | None]:
    # order_by() clears Meta.ordering, which would otherwise join the DISTINCT.
    return list(model._default_manager.order_by().values_list("clinic_id", flat=True).distinct())


def _rewrite(
    model: type[models.Model], batches: Iterator[list[dict[str, Any]]], *, key: str, signed: Sequence[str]
) -> None:
    """Number and sign the rows of ``batches``, in order, as one chain.

    The caller has negated the seqs first: new numbers are positive, so no new (clinic, seq)
    can collide with a row not yet rewritten, whatever order a batched UPDATE applies its rows in.
    """
    after: Link | None = None
    for batch in batches:
        links = list(relink(batch, key=key, signed=signed, after=after))
        model._default_manager.bulk_update(
            [model(pk=link.row_id, seq=link.seq, prev_hmac=link.prev_hmac, hmac=link.hmac) for link in links],
            ["seq", "prev_hmac", "hmac"],
        )
        after = links[-1]


def relink_per_clinic(model: type[models.Model], *, key: str, signed: Sequence[str]) -> None:
    """Split the table into one chain per clinic, each in its old seq order, renumbered from 1."""
    columns = ("id", *signed)
    for clinic_id in _chain_ids(model):
        chain = model._default_manager.filter(clinic_id=clinic_id)
        chain.update(seq=-models.F("seq"))

        def batches(chain: models.QuerySet[Any] = chain) -> Iterator[list[dict[str, Any]]]:
            # Old seqs 1, 2, 3 are now -1, -2, -3 and rewritten rows are positive again: the rows
            # still to do are always the top of the seq < 0 range of the (clinic_id, seq) index.
            while batch := list(chain.filter(seq__lt=0).order_by("-seq").values(*columns)[:BATCH]):
                yield batch

        _rewrite(model, batches(), key=key, signed=signed)


def relink_global(model: type[models.Model], *, key: str, signed: Sequence[str]) -> None:
    """Join every chain back into one, in insertion (id) order, renumbered from 1.

    Ids were handed out under the chain lock, so id order is each clinic's seq order, and for
    rows written before 0004 it is the original global order: a round trip restores the
    original seqs and, with the same key, the original HMACs.
    """
    columns = ("id", *signed)
    model._default_manager.update(seq=-models.F("seq"))

    def batches() -> Iterator[list[dict[str, Any]]]:
        last_id = 0
        while batch := list(model._default_manager.filter(id__gt=last_id).order_by("id").values(*columns)[:BATCH]):
            yield batch
            last_id = batch[-1]["id"]

    _rewrite(model, batches(), key=key, signed=signed)
