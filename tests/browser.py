"""Headless Chromium for the tests of HTML pages (the stats report, the flow matrix)."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest


def chromium() -> str:
    """Chromium's path; installed from Debian's packages when missing (the tests run as root)."""
    for name in ("chromium", "chromium-browser"):
        path = shutil.which(name)
        if path:
            return path
    if os.geteuid() != 0:
        pytest.skip("Chromium is not installed, and installing it (apt-get install chromium) needs root")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    r = subprocess.run(["apt-get", "install", "-y", "chromium"], capture_output=True, text=True, env=env, timeout=1200)
    if r.returncode != 0:
        subprocess.run(["apt-get", "update"], capture_output=True, env=env, timeout=600)
        r = subprocess.run(["apt-get", "install", "-y", "chromium"], capture_output=True, text=True, env=env,
                           timeout=1200)
    path = shutil.which("chromium")
    if r.returncode != 0 or path is None:
        pytest.skip(f"could not install Chromium: apt-get said: {(r.stderr or r.stdout).strip()[-300:]}")
    return path


def browse(browser: str, url: str, profile: Path, *mode: str, size: str = "1200,2400") -> subprocess.CompletedProcess[str]:
    """Headless Chromium with no network of its own (the flags this machine needs)."""
    flags = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
             "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic",
             f"--user-data-dir={profile}", "--enable-logging=stderr", "--v=0", f"--window-size={size}",
             "--hide-scrollbars"]
    return subprocess.run([browser, *flags, *mode, url], capture_output=True, text=True, timeout=120)
