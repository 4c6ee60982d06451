"""The ``routeql`` command run inside the test process: ``main`` with its output captured."""

from __future__ import annotations

import contextlib
import io
import subprocess
import sys


def in_process(*argv: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    """``routeql ARGV`` through the same ``main`` as the entry point, without a new process
    (a process costs a second of imports: variants of one behaviour keep the suite fast).
    ``stdin``, when given, is what the command reads from standard input."""
    from routeql.cli import main

    out, err = io.StringIO(), io.StringIO()
    saved = sys.stdin
    if stdin is not None:
        sys.stdin = io.TextIOWrapper(io.BytesIO(stdin.encode("utf-8")), encoding="utf-8")
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = main(list(argv))
    finally:
        sys.stdin = saved
    return subprocess.CompletedProcess(list(argv), code, out.getvalue(), err.getvalue())
