"""A short pass of every fuzz target (part of ``make test``), and the fuzz harness itself.

``make fuzz`` runs the same targets for as long as you like (docs/security.md); here each
gets a couple of seconds: enough to catch a regression on the inputs Hypothesis tries
first (edge values, mutated seeds), not a substitute for a long run.
Raise the time with ``FUZZ_SHORT_SECONDS=30 make test``.
"""

from __future__ import annotations

import os
import subprocess
import sys
from typing import Any

import pytest

from fuzz.engines import atheris_available, run_atheris, run_hypothesis
from fuzz.harness import TIME_BOUND, Finding, Target, run_one
from fuzz.known import KNOWN, KnownBug
from fuzz.targets import TARGETS
from routeql.errors import RouteQLError
from tests.conftest import ROOT

SECONDS = float(os.environ.get("FUZZ_SHORT_SECONDS", "2"))


@pytest.mark.parametrize("name", sorted(TARGETS))
def test_short_fuzz_pass(name: str) -> None:
    report = run_hypothesis(TARGETS[name], SECONDS, rounds_of=8)
    assert report.ok, "\n\n".join(report.findings)
    assert report.inputs >= 8
    assert report.slowest <= TIME_BOUND


@pytest.mark.parametrize("bug", [pytest.param(b, id=b.id, marks=pytest.mark.xfail(strict=True, reason=f"bug: {b.summary}"))
                                 for b in KNOWN])
def test_known_bug(bug: KnownBug) -> None:
    """While a known bug is there this fails (xfail); once it is fixed it passes, strict
    xfail turns that red: delete the entry from fuzz/known.py."""
    try:
        bug.repro()
    except RouteQLError:
        pass


# ------------------------------------------------------------------ the harness finds what it must


def _target(check: Any, strategy: Any = None) -> Target:
    from hypothesis import strategies as st

    return Target("probe", "a probe", lambda: strategy or st.integers(0, 10), check)


def test_an_unexpected_exception_is_a_finding() -> None:
    report = run_hypothesis(_target(lambda x: {}["key"] if x > 3 else None), 0.1, rounds_of=50)
    assert not report.ok and "KeyError" in report.findings[0]
    assert "x=4" in report.findings[0] or "4" in report.findings[0], "the shrunk input is reported"


def test_a_finding_on_an_input_too_deep_to_print_is_still_reported() -> None:
    # Hypothesis reports a finding by printing its input; for one nested thousands deep the
    # printing fails (RecursionError) and used to hide what was found
    from hypothesis import strategies as st

    from fuzz.values import deep

    def check(x: Any) -> None:
        raise Finding("wrong", "deep input refused")

    target = Target("deep_probe", "a check that refuses deep lists", lambda: st.integers(2000, 4000).map(deep), check)
    report = run_hypothesis(target, 0.1, rounds_of=5)
    assert not report.ok
    assert any(f.startswith("(as raised) wrong: deep input refused") for f in report.findings), report.findings


def test_whatever_escapes_a_check_is_a_finding() -> None:
    # a check catches the errors its contract allows (RouteQLError, mostly): the rest escape
    def allowed(x: int) -> None:
        try:
            raise RouteQLError("bad input")
        except RouteQLError:
            pass

    assert run_one(_target(allowed), 1) is None
    for check in (lambda x: 1 / 0, lambda x: (_ for _ in ()).throw(RouteQLError("not allowed here"))):
        with pytest.raises(Finding) as f:
            run_one(_target(check), 1)
        assert f.value.kind == "exception"


def test_a_slow_input_is_a_finding() -> None:
    def burn(x: int) -> None:
        n = 0
        while True:  # a hang: the CPU-time alarm interrupts it
            n += 1

    with pytest.raises(Finding) as f:
        run_one(_target(burn), 1, bound=0.05)
    assert f.value.kind == "slow" and "interrupted" in str(f.value)


def test_a_known_bug_is_counted_not_failed() -> None:
    bug = KNOWN[0] if KNOWN else None
    if bug is None:
        pytest.skip("no known bug listed")

    def check(x: int) -> None:
        bug.repro()

    report = run_hypothesis(_target(check), 0.1, rounds_of=5)
    assert report.ok and report.known.get(bug.id, 0) >= 5


def test_the_runner_command() -> None:
    proc = subprocess.run([sys.executable, "-m", "fuzz", "--list"], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0 and all(name in proc.stdout for name in TARGETS)
    proc = subprocess.run([sys.executable, "-m", "fuzz", "--seconds", "0.5", "--target", "predicate",
                           "--engine", "hypothesis"], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "predicate" in proc.stdout and "no findings" in proc.stdout
    proc = subprocess.run([sys.executable, "-m", "fuzz", "--seconds", "0"], cwd=ROOT, capture_output=True, text=True,
                          timeout=60)
    assert proc.returncode == 2


@pytest.mark.skipif(not atheris_available(), reason="atheris is not installed (pip install atheris: the fuzz extra)")
def test_atheris_engine_runs_a_target() -> None:
    report = run_atheris(TARGETS["predicate"], 2)
    assert report.ok, report.findings
