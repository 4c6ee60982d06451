"""A rule set and loaded fixtures -> one result per case and consent state (and coverage).

>>> from routeql import loads
>>> from routeql.testing.fixtures import parse_fixture
>>> rules = loads('destination crm { when type = "identify" }')
>>> fx = parse_fixture("- {name: a page, event: {type: page}, expect: {crm: true}}", "f.yaml")
>>> result = run(rules, [fx])
>>> result.counts
{'passed': 0, 'failed': 1, 'errors': 0, 'skipped': 0}
>>> result.results[0].failures[0].message.splitlines()[0]
'expected delivered, but skipped at when: the condition is false [<string>:1:19]'

"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, field
from typing import Any, Sequence

from ..engine import RuleSet
from ..errors import RouteQLError
from .checks import Failure, check_case
from .coverage import Coverage
from .fixtures import Case, Fixture, check_against, expand
from .source import FixtureError, Problem

__all__ = ["CaseResult", "SuiteResult", "prepare", "run", "run_case"]


@dataclass
class CaseResult:
    """The outcome of one case: passed, failed (with failures), error, or skipped."""

    case: Case
    status: str  # "passed" | "failed" | "error" | "skipped"
    failures: list[Failure] = field(default_factory=list)
    #: why the case could not run (status "error"), or why it was skipped
    message: str = ""
    duration: float = 0.0
    #: the consent state the case was routed with: category -> granted
    consent: dict[str, bool] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.status in ("passed", "skipped")

    def to_dict(self) -> dict[str, Any]:
        c = self.case
        return {"file": c.file, "line": c.line, "name": c.name, "case": c.base, "state": c.state,
                "consent_given": c.consent, "consent": self.consent, "status": self.status,
                "message": self.message, "duration": round(self.duration, 6),
                "failures": [f.to_dict() for f in self.failures]}


@dataclass
class SuiteResult:
    """Every case's result, in file and case order, and coverage when asked for."""

    results: list[CaseResult]
    files: list[str]
    version: str
    duration: float = 0.0
    coverage: Coverage | None = None

    @property
    def counts(self) -> dict[str, int]:
        out = {"passed": 0, "failed": 0, "errors": 0, "skipped": 0}
        for r in self.results:
            out["errors" if r.status == "error" else r.status] += 1
        return out

    @property
    def ok(self) -> bool:
        return all(r.ok for r in self.results)


def run_case(rules: RuleSet, case: Case, coverage: Coverage | None = None) -> CaseResult:
    """Route the case's event with its consent and check every expectation."""
    if case.skip is not None:
        return CaseResult(case, "skipped", message=case.skip)
    start = time.perf_counter()
    try:
        routing = rules.route(case.event, case.consent, trace=True)
        trace = routing.trace
    except RouteQLError as e:
        return CaseResult(case, "error", message=f"routing failed: {e.message}", duration=time.perf_counter() - start)
    except Exception as e:  # an engine bug: report it on this case and go on with the others
        return CaseResult(case, "error", message=f"internal error while routing: {type(e).__name__}: {e}",
                          duration=time.perf_counter() - start)
    failures = check_case(case, routing)
    if coverage is not None:
        coverage.record(case.event, routing)
    state = trace.consent
    consent = {c: state.granted(c) for c in state.categories}
    return CaseResult(case, "failed" if failures else "passed", failures, duration=time.perf_counter() - start,
                      consent=consent)


def prepare(rules: RuleSet, fixtures: Sequence[Fixture]) -> list[Case]:
    """Every case of every fixture, checked against the rules (FixtureError otherwise)."""
    problems: list[Problem] = []
    for fx in fixtures:
        problems.extend(check_against(fx, rules))
    if problems:
        raise FixtureError(problems)
    return [case for fx in fixtures for case in expand(fx, rules)]


def run(rules: RuleSet, fixtures: Sequence[Fixture], *, coverage: bool = False,
        select: str | None = None) -> SuiteResult:
    """Run every case (``select``: a regular expression searched in ``file::name``)."""
    start = time.perf_counter()
    cases = prepare(rules, fixtures)
    if select is not None:
        try:
            pattern = re.compile(select)
        except re.error as e:
            raise RouteQLError(f"--run: not a regular expression: {e}") from None
        cases = [c for c in cases if pattern.search(f"{c.file}::{c.name}")]
    cov = Coverage(rules) if coverage else None
    results = [run_case(rules, c, cov) for c in cases]
    return SuiteResult(results, [fx.name for fx in fixtures], rules.version, time.perf_counter() - start, cov)
