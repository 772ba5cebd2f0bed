"""Claiming queued work under a lease: the one way the outbox's deliveries and the webhooks'
deliveries (and whatever queue comes next) are taken by a worker.

A batch is claimed with a conditional UPDATE that stamps a fresh lease token, after selecting the
candidates with `SELECT … FOR UPDATE SKIP LOCKED` where the engine has it (PostgreSQL), so two
workers never take the same row and neither waits for the other. The UPDATE repeats the "due"
condition, so a row another worker claimed between the SELECT and the UPDATE (SQLite, no SKIP
LOCKED) is simply left out. Work is finished only under the same token (`mine`): a worker whose
lease ran out and was re-claimed by another cannot overwrite the newer outcome.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from django.db import connection, transaction
from django.db.models import F, Q, QuerySet


@dataclass
class Report:
    """What one pass of a worker did with the rows it claimed."""

    delivered: int = 0
    retrying: int = 0
    failed: int = 0

    @property
    def claimed(self) -> int:
        return self.delivered + self.retrying + self.failed

    def count(self, outcome: str) -> None:
        setattr(self, outcome, getattr(self, outcome) + 1)

    def add(self, other: Report) -> None:
        self.delivered += other.delivered
        self.retrying += other.retrying
        self.failed += other.failed

    def __str__(self) -> str:
        return f"{self.delivered} delivered, {self.retrying} to retry, {self.failed} failed"


def claim(
    queryset: QuerySet,
    *,
    due: Q,
    order_by: tuple[str, ...],
    limit: int,
    status: str,
    lease_until,
    select_for_update_of: tuple[str, ...] = (),
    **updates,
) -> tuple[str, QuerySet]:
    """Take up to `limit` rows of `queryset` matching `due` (in `order_by` order) under a new lease:
    each gets `status`, `claimed_until=lease_until`, the token, `attempts + 1` and `updates`.
    Returns the token and a queryset of exactly the rows this call claimed."""
    token = secrets.token_hex(16)
    with transaction.atomic():
        candidates = queryset.filter(due).order_by(*order_by)
        if connection.features.has_select_for_update_skip_locked:
            candidates = candidates.select_for_update(skip_locked=True, of=select_for_update_of or ("self",))
        pks = list(candidates.values_list("pk", flat=True)[:limit])
        if not pks:
            return token, queryset.none()
        queryset.model.all_tenants.filter(due, pk__in=pks).update(
            status=status,
            claimed_until=lease_until,
            lease_token=token,
            attempts=F("attempts") + 1,
            **updates,
        )
    return token, queryset.model.all_tenants.filter(lease_token=token, status=status)


def mine(model, pk: int, token: str, status: str) -> QuerySet:
    """The row `pk` if it is still held under `token` (empty once another worker re-claimed it)."""
    return model.all_tenants.filter(pk=pk, lease_token=token, status=status)
