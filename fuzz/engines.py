"""A target and a time budget -> a Report: the two ways of fuzzing it (Hypothesis, atheris).

``hypothesis`` draws structured and mutated inputs (fuzz.mutate) in rounds until the
budget is spent; it also steers towards slow inputs with ``hypothesis.target`` (targeted
property-based search on the time per input), and shrinks any finding to a small input.
It needs nothing beyond the dev extras.

``atheris`` (``pip install atheris``: the optional ``fuzz`` extra; wheels exist for
CPython on Linux x86-64) is coverage-guided: libFuzzer mutates inputs towards new
branches of the instrumented ``routeql`` package.  Byte-level targets get raw bytes and
the seed corpus; the others go through Hypothesis's ``fuzz_one_input``, so libFuzzer
mutates the choices that build a structured input.  It runs in a subprocess, because
libFuzzer ends the process when its time is up.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import target as hypothesis_target
from hypothesis.database import DirectoryBasedExampleDatabase, ExampleDatabase

from .harness import TIME_BOUND, Finding, Target, _show, cpu_seconds, run_one

__all__ = ["Report", "run_hypothesis", "run_atheris", "atheris_available"]

ROOT = Path(__file__).resolve().parent.parent


@dataclass
class Report:
    target: str
    engine: str
    inputs: int = 0
    seconds: float = 0.0
    slowest: float = 0.0
    known: dict[str, int] = field(default_factory=dict)
    findings: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.findings

    def line(self) -> str:
        known = ", ".join(f"{k} x{n}" for k, n in sorted(self.known.items()))
        slowest = f"slowest {self.slowest * 1000:7.1f} ms CPU, " if self.engine == "hypothesis" else ""
        return (f"{self.target:<14} {self.engine:<10} {self.inputs:>8} inputs in {self.seconds:6.1f} s, "
                f"{slowest}{len(self.findings)} finding(s)"
                + (f"; known bugs hit: {known}" if known else ""))


def run_hypothesis(target: Target, seconds: float, *, database: ExampleDatabase | None = None,
                   bound: float = TIME_BOUND, rounds_of: int = 100,
                   on_input: Callable[[Any], None] | None = None) -> Report:
    """Fuzz ``target`` with Hypothesis for about ``seconds`` (at least one round)."""
    report = Report(target.name, "hypothesis")
    strategy = target.strategy()
    start = time.monotonic()
    end = start + seconds

    raw: dict[str, str] = {}  # each finding as raised, before Hypothesis shrinks and reports it

    def body(value: Any) -> None:
        t0 = cpu_seconds()
        try:
            bug = run_one(target, value, bound)
        except Finding as f:
            if len(raw) < 5:
                raw.setdefault(f"{f.kind}: {f.message}", f"{f}\n{_show(value)}"[:4000])
            raise
        elapsed = cpu_seconds() - t0
        hypothesis_target(elapsed, label="CPU seconds per input")
        report.inputs += 1
        report.slowest = max(report.slowest, elapsed)
        if bug is not None:
            report.known[bug.id] = report.known.get(bug.id, 0) + 1
        if on_input is not None:
            on_input(value)

    test = settings(
        max_examples=rounds_of, deadline=None, database=database, derandomize=False,
        phases=[Phase.explicit, Phase.reuse, Phase.generate, Phase.target, Phase.shrink],
        suppress_health_check=list(HealthCheck),
    )(given(strategy)(body))
    while True:
        try:
            test()
        except (Finding, ExceptionGroup) as failure:
            report.findings.extend(_describe(failure))
            break
        except Exception as failure:  # the harness itself failed (e.g. drawing an input)
            report.findings.append(f"harness error: {type(failure).__name__}: {failure}"[:2000])
            break
        finally:
            # Hypothesis reports a finding by printing its input, shrunk; for an input nested
            # thousands deep that printing can itself fail (RecursionError) and hide what was
            # found: each finding as it was raised is reported too
            if raw and not all(any(key in f for f in report.findings) for key in raw):
                report.findings.extend(f"(as raised) {text}" for text in raw.values())
        if time.monotonic() >= end:
            break
    report.seconds = time.monotonic() - start
    return report


def _describe(failure: BaseException) -> list[str]:
    """Each finding with Hypothesis's notes (the falsifying, shrunk input)."""
    if isinstance(failure, BaseExceptionGroup):
        return [text for sub in failure.exceptions for text in _describe(sub)]
    notes = "\n".join(getattr(failure, "__notes__", ()))
    return [f"{failure}\n{notes}".strip()]


def atheris_available() -> bool:
    try:
        import atheris  # noqa: F401
    except ImportError:
        return False
    return True


def run_atheris(target: Target, seconds: float, *, artifacts: Path | None = None) -> Report:
    """Fuzz ``target`` with atheris (coverage-guided) in a subprocess for ``seconds``."""
    report = Report(target.name, "atheris")
    artifacts = artifacts or ROOT / "fuzz" / "artifacts"
    artifacts.mkdir(parents=True, exist_ok=True)
    start = time.monotonic()
    with tempfile.TemporaryDirectory(prefix=f"routeql-fuzz-{target.name}-") as corpus_dir:
        for i, seed in enumerate(target.seeds() if target.seeds is not None else ()):
            Path(corpus_dir, f"seed-{i}").write_bytes(seed)
        cmd = [sys.executable, "-m", "fuzz.atheris_main", target.name,
               f"-max_total_time={max(1, int(seconds))}", f"-timeout={int(TIME_BOUND * 5)}",
               "-rss_limit_mb=4096", f"-artifact_prefix={artifacts}/{target.name}-", corpus_dir]
        proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, errors="replace",
                              env={**os.environ, "PYTHONPATH": os.pathsep.join(
                                  [str(ROOT), *filter(None, [os.environ.get("PYTHONPATH")])])})
    report.seconds = time.monotonic() - start
    for line in proc.stderr.splitlines():
        if " DONE " in line or line.startswith("Done "):
            words = line.split()
            if line.startswith("Done "):
                report.inputs = int(words[1])
        if line.startswith("known bug: "):
            bug = line.split()[2]
            report.known[bug] = report.known.get(bug, 0) + 1
    if proc.returncode != 0:
        tail = "\n".join(proc.stderr.splitlines()[-40:])
        report.findings.append(f"atheris exited with {proc.returncode} (artifacts in {artifacts}):\n{tail}")
    return report


def default_database() -> ExampleDatabase:
    """Failing inputs found by ``make fuzz`` are replayed first on the next run."""
    return DirectoryBasedExampleDatabase(str(ROOT / ".hypothesis" / "fuzz"))
