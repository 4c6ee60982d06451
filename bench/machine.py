"""Nothing in, a description of this machine and of the software measured out.

>>> info = describe()
>>> sorted(info)[:4]
['commit', 'cores', 'cpu', 'date']
>>> info["python"].count(".") >= 2
True
"""

from __future__ import annotations

import os
import platform
import subprocess
from datetime import datetime, timezone
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

__all__ = ["describe", "load_average", "PACKAGES"]

#: distributions whose versions a result depends on
PACKAGES = ("routeql", "rule-engine", "cel-python", "json-logic-qubit", "fastjsonschema", "lark", "cachetools", "pytest-benchmark")

ROOT = Path(__file__).resolve().parent.parent


def _cpu() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text(encoding="utf-8", errors="replace").splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine() or "unknown"


def _memory() -> str:
    try:
        for line in Path("/proc/meminfo").read_text(encoding="utf-8").splitlines():
            if line.startswith("MemTotal:"):
                return f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
    except (OSError, ValueError, IndexError):
        pass
    return "unknown"


def _commit() -> str:
    try:
        head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True,
                              timeout=5).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--", "routeql"], cwd=ROOT, capture_output=True,
                               text=True, timeout=5).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    if not head:
        return "unknown"
    return head + (" + uncommitted changes under routeql/" if dirty else "")


def _version(dist: str) -> str:
    try:
        return version(dist)
    except PackageNotFoundError:
        return "not installed"


def load_average() -> float | None:
    """The 1-minute load average (runnable processes), or None where the OS does not say.

    Above the number of cores, other work competed with the benchmark for the CPU.
    """
    try:
        return os.getloadavg()[0]
    except (OSError, AttributeError):
        return None


def describe() -> dict[str, Any]:
    """CPU model, cores, memory, load, OS, Python, package versions, git commit and the date (UTC)."""
    return {
        "load_average": load_average(),
        "cpu": _cpu(),
        "cores": os.cpu_count() or 0,
        "memory": _memory(),
        "os": f"{platform.system()} {platform.release()}",
        "python": f"{platform.python_implementation()} {platform.python_version()}",
        "packages": {p: _version(p) for p in PACKAGES},
        "commit": _commit(),
        "date": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
    }
