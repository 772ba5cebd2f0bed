"""A test that moves the schema to an older migration must put it back (the other tests of its
worker share the database): every such test goes through the `migrator` fixture of tests/conftest.py,
which does. Guarded here by reading the test tree, so a new migration test cannot slip past."""

from __future__ import annotations

from pathlib import Path

TESTS = Path(__file__).resolve().parents[1]


def test_only_the_migrator_fixture_migrates_the_test_database():
    offenders = [
        str(path.relative_to(TESTS))
        for path in TESTS.rglob("*.py")
        if path.name != "conftest.py" or path.parent != TESTS
        if "MigrationExecutor" in path.read_text(encoding="utf-8") and path != Path(__file__)
    ]
    assert offenders == [], "migrate through the `migrator` fixture (it restores the latest schema)"
