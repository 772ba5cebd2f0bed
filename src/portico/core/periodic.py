"""Work that runs on a timer (settling stale payments, card expiry notices): a small registry and
the loop of `portico periodic`, which `make run` starts beside the task worker.

django-tasks has no scheduler, and cron is one more thing to deploy, so each app registers its
periodic jobs here (`@periodic("payments.reconcile", every=dt.timedelta(minutes=5))`, imported in
its `AppConfig.ready()`), and `portico periodic` runs each one when it starts and then every
`every`. A job must be safe to run in several processes at once and to run again after a crash
(claim with conditional UPDATEs): running two `periodic` processes is harmless, only redundant.
The schedule lives in the process; a restart runs every job again at once.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from dataclasses import dataclass

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Job:
    name: str
    every: dt.timedelta
    function: Callable[[], object]


_jobs: dict[str, Job] = {}


def periodic(name: str, *, every: dt.timedelta) -> Callable[[Callable[[], object]], Callable[[], object]]:
    """Register `function` to run every `every`; what it returns (a report) is logged."""

    def register(function: Callable[[], object]) -> Callable[[], object]:
        _jobs[name] = Job(name, every, function)
        return function

    return register


def jobs() -> list[Job]:
    return sorted(_jobs.values(), key=lambda job: job.name)


def run_job(job: Job) -> str:
    """Run one job, never raising: one job's failure must not stop the others (it runs again later)."""
    try:
        return f"{job.name}: {job.function()}"
    except Exception:
        log.exception("periodic job %s failed", job.name)
        return f"{job.name}: failed"


def run_due(last_run: dict[str, float], now: float) -> list[str]:
    """Run the jobs whose time has come (never run counts as due) and note when; `now` in seconds
    of a monotonic clock."""
    outcomes = []
    for job in jobs():
        if job.name not in last_run or now - last_run[job.name] >= job.every.total_seconds():
            last_run[job.name] = now
            outcomes.append(run_job(job))
    return outcomes
