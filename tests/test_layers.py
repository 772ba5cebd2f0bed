"""The layers of DESIGN.md are enforced: `lint-imports` (the contract in pyproject.toml, run by
`make check`) passes on the real tree and fails on an import that goes the wrong way."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LINT_IMPORTS = Path(sys.executable).parent / "lint-imports"


def _lint_imports(root: Path) -> subprocess.CompletedProcess:
    """Run import-linter on the `portico` package under `root/src` with `root/pyproject.toml`."""
    env = {**os.environ, "PYTHONPATH": str(root / "src")}
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache", "--no-logo", str(root / "pyproject.toml")],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def _only_python(directory, names):
    """Copy packages and modules only: templates, static files and caches are not imports."""
    return [
        name
        for name in names
        if name == "__pycache__" or (not name.endswith(".py") and not (Path(directory) / name).is_dir())
    ]


def test_the_real_tree_keeps_its_layers():
    result = _lint_imports(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


def test_core_importing_billing_breaks_the_contract():
    # A throw-away copy of the package: the probe never touches the real tree, and the directory
    # is removed whatever happens (TemporaryDirectory cleans up on failure too).
    with tempfile.TemporaryDirectory(prefix="portico-layers-") as temporary:
        copy = Path(temporary)
        shutil.copytree(ROOT / "src" / "portico", copy / "src" / "portico", ignore=_only_python)
        shutil.copy(ROOT / "pyproject.toml", copy / "pyproject.toml")
        probe = copy / "src" / "portico" / "core" / "_layer_probe.py"
        probe.write_text("from portico.billing import models  # noqa: F401  (the wrong way)\n")

        result = _lint_imports(copy)

    assert result.returncode != 0, result.stdout
    assert "portico.core is not allowed to import portico.billing" in result.stdout
    assert "portico.core._layer_probe -> portico.billing.models" in result.stdout
    assert not Path(temporary).exists()
    assert not (ROOT / "src" / "portico" / "core" / "_layer_probe.py").exists()
