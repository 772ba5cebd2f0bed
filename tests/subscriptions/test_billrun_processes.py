"""The bill run as processes: killed with SIGKILL mid-run then run again (every due period billed
exactly once, nothing half-billed), and on PostgreSQL three runs at once over 2,000 subscriptions
(no duplicate, none missed, invoice numbers gapless). Each test has a database of its own, seeded
by `tests.subscriptions.billrun_world` in a subprocess, and reads the outcome with plain SQL."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.subscriptions.billrun_world import PERIOD_TOTAL, THREE_LATE

ROOT = Path(__file__).resolve().parents[2]
PG = os.environ.get("DATABASE_URL", "")


def _env(url: str) -> dict:
    return dict(
        os.environ,
        DATABASE_URL=url,
        PORTICO_DEMO="true",
        EMAIL_URL="locmem://",
        DJANGO_SETTINGS_MODULE="portico.settings",
        PYTHONPATH=os.pathsep.join([str(ROOT), str(ROOT / "src")]),
        TASKS_BACKEND="django_tasks.backends.dummy.DummyBackend",
    )


def _seed(url: str, count: int) -> None:
    subprocess.run(
        [sys.executable, "-m", "tests.subscriptions.billrun_world", str(count)],
        cwd=ROOT,
        env=_env(url),
        check=True,
        capture_output=True,
        timeout=600,
    )


def _billrun(url: str, batch: int) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "manage.py", "billrun", "--at", THREE_LATE.isoformat(), "--batch-size", str(batch)],
        cwd=ROOT,
        env=_env(url),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


CHECKS = {
    "periods_per_subscription": (
        "SELECT COUNT(p.id) FROM subscriptions_subscription s LEFT JOIN subscriptions_billingperiod p "
        "ON p.subscription_id = s.id GROUP BY s.id"
    ),
    "invoices": "SELECT COUNT(*), COALESCE(SUM(total_minor), 0) FROM billing_invoice",
    "lines": "SELECT COUNT(*) FROM billing_invoiceline",
    "numbers": "SELECT number FROM billing_invoice",
    "counter": "SELECT next_value FROM billing_numbersequence WHERE kind = 'invoice'",
    "unbilled_invoices": (
        "SELECT COUNT(*) FROM billing_invoice i WHERE NOT EXISTS "
        "(SELECT 1 FROM subscriptions_billingperiod p WHERE p.invoice_id = i.id)"
    ),
}


def _state(query) -> dict:
    periods = [row[0] for row in query(CHECKS["periods_per_subscription"])]
    [(invoices, total)] = query(CHECKS["invoices"])
    numbers = sorted(int(row[0].removeprefix("INV-")) for row in query(CHECKS["numbers"]))
    counter = query(CHECKS["counter"])
    return {
        "periods": periods,
        "invoices": invoices,
        "total": total,
        "lines": query(CHECKS["lines"])[0][0],
        "numbers": numbers,
        "counter": counter[0][0] if counter else 1,
        "unbilled": query(CHECKS["unbilled_invoices"])[0][0],
    }


def _assert_whole(state: dict, subscriptions: int, *, complete: bool) -> None:
    # A subscription is billed in one batch: all three of its periods, or none yet.
    assert set(state["periods"]) <= ({3} if complete else {0, 3}), sorted(set(state["periods"]))
    assert len(state["periods"]) == subscriptions
    billed = sum(state["periods"])
    assert state["invoices"] == billed and state["lines"] == 2 * billed and state["unbilled"] == 0
    assert state["total"] == billed * PERIOD_TOTAL
    assert state["numbers"] == list(range(1, billed + 1))  # unique and gapless
    assert state["counter"] == billed + 1


def test_a_bill_run_killed_mid_run_leaves_whole_batches_and_the_rerun_bills_each_period_once(tmp_path):
    path = tmp_path / "billrun.sqlite3"
    url = f"sqlite:///{path}"
    count = 1500
    _seed(url, count)
    run = _billrun(url, batch=50)
    started = time.monotonic()
    while True:  # kill it once a batch has committed (it prints a line per batch)
        line = run.stdout.readline()
        assert line or run.poll() is None, run.stderr.read()
        if line.startswith("batch 2:"):
            break
        assert time.monotonic() - started < 300
    os.kill(run.pid, signal.SIGKILL)
    run.wait(timeout=30)
    assert run.returncode == -signal.SIGKILL

    def query(sql):
        with sqlite3.connect(path) as db:
            return db.execute(sql).fetchall()

    partial = _state(query)
    _assert_whole(partial, count, complete=False)
    assert 0 < partial["invoices"] < 3 * count  # killed mid-run, after some batches committed

    rerun = _billrun(url, batch=200)
    out, err = rerun.communicate(timeout=600)
    assert rerun.returncode == 0, err
    done = _state(query)
    _assert_whole(done, count, complete=True)
    assert f"renewed {count - partial['invoices'] // 3}," in out


@pytest.mark.postgres
def test_three_bill_runs_in_parallel_on_postgresql_bill_each_period_once_with_gapless_numbers():
    import psycopg

    assert PG.startswith("postgres"), "runs against the PostgreSQL of DATABASE_URL"
    name = f"billrun_parallel_{os.getpid()}"
    admin = PG.replace("postgres://", "postgresql://", 1)
    with psycopg.connect(admin, autocommit=True) as c:
        c.execute(f"DROP DATABASE IF EXISTS {name}")
        c.execute(f"CREATE DATABASE {name}")
    url = PG.rsplit("/", 1)[0] + f"/{name}"
    try:
        count = 2000
        _seed(url, count)
        runs = [_billrun(url, batch=50) for _ in range(3)]
        outputs = [run.communicate(timeout=900) for run in runs]
        for run, (_out, err) in zip(runs, outputs, strict=True):
            assert run.returncode == 0, err
        renewed = [int(out.rsplit("renewed ", 1)[1].split(",")[0]) for out, _err in outputs]
        assert sum(renewed) == count and all(renewed), renewed  # each ran batches; none billed twice

        def query(sql):
            with psycopg.connect(url.replace("postgres://", "postgresql://", 1)) as db:
                return db.execute(sql).fetchall()

        _assert_whole(_state(query), count, complete=True)
    finally:
        with psycopg.connect(admin, autocommit=True) as c:
            c.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
