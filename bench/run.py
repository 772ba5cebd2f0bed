"""`make bench`: run every benchmark module on SQLite, then on PostgreSQL when reachable.

Each database runs in its own process on a fresh database (var/bench/bench.sqlite3, or the
`portico_bench` database on the PostgreSQL server of TEST_DATABASE_URL). Figures are printed,
never asserted. `--only NAME` runs one module; `--db sqlite|postgres` one database; `--match TEXT`
only the figures whose name contains TEXT (e.g. `--only ledger --match "statement PDF"`).
"""

from __future__ import annotations

import argparse
import importlib
import os
import pkgutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MODULES = [
    m.name
    for m in pkgutil.iter_modules([str(ROOT / "bench")])
    if m.name not in {"run", "harness", "settings", "urls"}
]


def _child(database: str, only: list[str], requests: int, match: list[str]) -> None:
    import django

    os.environ["DJANGO_SETTINGS_MODULE"] = "bench.settings"
    django.setup()
    from django.core.management import call_command

    from bench.harness import Harness

    call_command("migrate", verbosity=0, interactive=False)
    harness = Harness(database, requests=requests, match=match)
    for name in only or MODULES:
        importlib.import_module(f"bench.{name}").run(harness)
    print(harness.report(), flush=True)


def _postgres_url() -> str | None:
    import psycopg

    base = os.environ.get("TEST_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/test")
    try:
        with psycopg.connect(
            base.replace("postgres://", "postgresql://", 1), autocommit=True, connect_timeout=3
        ) as c:
            c.execute("DROP DATABASE IF EXISTS portico_bench")
            c.execute("CREATE DATABASE portico_bench")
    except Exception as exc:
        print(f"PostgreSQL not reachable ({exc}); benchmarks ran on SQLite only.")
        return None
    return base.rsplit("/", 1)[0] + "/portico_bench"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--db", choices=["sqlite", "postgres"], action="append")
    parser.add_argument("--only", action="append", default=[])
    parser.add_argument("--requests", type=int, default=int(os.environ.get("BENCH_REQUESTS", "200")))
    parser.add_argument("--match", action="append", default=[], help="run only figures named so")
    parser.add_argument(
        "--subscriptions",
        type=int,
        default=int(os.environ.get("BENCH_SUBSCRIPTIONS", "50000")),
        help="due subscriptions of the bill-run bench (a quick run: 5000)",
    )
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        _child(args.child, args.only, args.requests, args.match)
        return
    databases = args.db or ["sqlite", "postgres"]
    failed = False
    for database in databases:
        # This checkout's code, whatever the virtualenv's editable install points to (a shared one).
        paths = [str(ROOT), str(ROOT / "src"), os.environ.get("PYTHONPATH", "")]
        env = dict(
            os.environ,
            PYTHONPATH=os.pathsep.join(p for p in paths if p),
            BENCH_SUBSCRIPTIONS=str(args.subscriptions),
        )
        if database == "sqlite":
            path = ROOT / "var" / "bench" / "bench.sqlite3"
            path.parent.mkdir(parents=True, exist_ok=True)
            for suffix in ("", "-wal", "-shm"):
                Path(f"{path}{suffix}").unlink(missing_ok=True)
            env["DATABASE_URL"] = f"sqlite:///{path}"
        else:
            url = _postgres_url()
            if url is None:
                continue
            env["DATABASE_URL"] = url
        cmd = [sys.executable, "-m", "bench.run", "--child", database, "--requests", str(args.requests)]
        for name in args.only:
            cmd += ["--only", name]
        for text in args.match:
            cmd += ["--match", text]
        failed |= subprocess.call(cmd, cwd=ROOT, env=env) != 0
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
