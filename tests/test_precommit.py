"""The pre-commit hooks point at real subcommands with sensible arguments."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent


def test_hooks_are_valid_and_run() -> None:
    hooks = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text(encoding="utf-8"))
    by_id = {h["id"]: h for h in hooks}
    assert set(by_id) == {"routeql-check", "routeql-fmt"}
    for h in hooks:
        assert h["language"] == "python" and h["files"] == r"\.rq$" and h["entry"].startswith("routeql ")
    check = by_id["routeql-check"]
    assert check["pass_filenames"] is False  # names are global: check the whole rule set
    cmd = check["entry"].split()[1:] + check["args"]
    out = subprocess.run([sys.executable, "-m", "routeql.cli", *cmd], cwd=ROOT, capture_output=True, text=True)
    assert out.returncode == 0, out.stdout + out.stderr
