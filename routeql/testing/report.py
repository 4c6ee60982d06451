"""Suite results -> a human summary, JSON, JUnit XML, and the coverage report.

>>> from routeql import loads
>>> from routeql.testing import parse_fixture, run
>>> rules = loads('destination crm { when type = "identify" }')
>>> fx = parse_fixture("- {name: identify, event: {type: identify}, expect: {crm: true}}", "crm.rqtest.yaml")
>>> render_text(run(rules, [fx])).splitlines()[:2]
['crm.rqtest.yaml', '  PASS  identify']
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from typing import Any

from .coverage import Coverage
from .runner import CaseResult, SuiteResult

__all__ = ["render_case", "render_text", "render_summary", "render_coverage", "to_json", "to_junit"]

_MARK = {"passed": "PASS ", "failed": "FAIL ", "error": "ERROR", "skipped": "SKIP "}


def _consent_line(result: CaseResult) -> str:
    if not result.consent:
        return ""
    granted = [c for c, v in result.consent.items() if v]
    denied = [c for c, v in result.consent.items() if not v]
    return ("consent: granted " + (", ".join(granted) or "none") + "; denied " + (", ".join(denied) or "none"))


def render_case(result: CaseResult) -> str:
    """The failure report of one case: where, the consent it ran with, each failure (with
    the payload diff), readable on its own (the pytest plugin shows exactly this)."""
    c = result.case
    lines = [f"{c.file}:{c.line}: {c.name}"]
    if result.status == "error":
        lines.append(f"  error: {result.message}")
        return "\n".join(lines)
    if result.status == "skipped":
        lines.append(f"  skipped: {result.message}")
        return "\n".join(lines)
    consent = _consent_line(result)
    if consent:
        lines.append(f"  {consent}")
    for f in result.failures:
        head = f"{f.destination}: " if f.destination else ""
        msg = f.message.replace("\n", "\n    ")
        lines.append(f"  {head}{msg}")
        if f.diff:
            lines.extend("      " + d for d in f.diff.splitlines())
    return "\n".join(lines)


def render_summary(result: SuiteResult) -> str:
    n = len(result.results)
    counts = result.counts
    parts = [f"{counts[k]} {k if k != 'errors' else ('errors' if counts[k] != 1 else 'error')}"
             for k in ("passed", "failed", "errors", "skipped") if counts[k] or k == "passed"]
    return f"{n} case{'s' * (n != 1)}: {', '.join(parts)} in {result.duration:.2f}s"


def render_text(result: SuiteResult) -> str:
    """Every case with its verdict, grouped by file; then each failure in full; then totals."""
    lines: list[str] = []
    by_file: dict[str, list[CaseResult]] = {f: [] for f in result.files}
    for r in result.results:
        by_file.setdefault(r.case.file, []).append(r)
    for file, results in by_file.items():
        if not results:
            continue
        lines.append(file)
        for r in results:
            extra = f"  ({r.message})" if r.status == "skipped" else ""
            lines.append(f"  {_MARK[r.status]} {r.case.name}{extra}")
    bad = [r for r in result.results if r.status in ("failed", "error")]
    if bad:
        lines += ["", "FAILURES" if any(r.status == "failed" for r in bad) else "ERRORS"]
        for r in bad:
            lines += ["", render_case(r)]
    if lines:
        lines.append("")
    lines.append(render_summary(result))
    return "\n".join(lines)


# ------------------------------------------------------------------ coverage


def render_coverage(cov: Coverage, *, limit: int = 8) -> str:
    """Per destination: outcomes and consent combinations covered, then what never happened."""
    t = cov.totals()
    oc, ot = t["outcomes"]
    cc, ct = t["consent"]
    covered, total = t["total"]
    lines = [f"coverage: {t['percent']:.1f}% ({covered} of {total} items: {oc} of {ot} rule outcomes, "
             f"{cc} of {ct} consent combinations)"]
    width = max((len(name) for name in cov.destinations), default=0)
    for name, d in cov.destinations.items():
        doc, dot = d.outcomes
        dcc, dct = d.consent
        consent = f"consent {dcc}/{dct}" if d.categories else "no consent dependency"
        lines.append(f"  {name:<{width}}  outcomes {doc}/{dot}  {consent}  [{d.at}]")
        for s in d.statements:
            if len(s.seen) < len(s.outcomes):
                lines.append(f"    {s.kind}: {s.rule}  [{s.at}]: {s.describe()}")
            for outcome, why in s.unreachable.items():
                lines.append(f"    not counted: {s.kind}: {s.rule}  [{s.at}]: {s.words[outcome]} is impossible ({why})")
        missing = [combo for combo in d.combinations() if combo not in d.combinations_seen]
        for combo in missing[:limit]:
            lines.append(f"    consent never exercised: {d.label(combo)}")
        if len(missing) > limit:
            lines.append(f"    ... and {len(missing) - limit} more consent combinations")
    return "\n".join(lines)


# ------------------------------------------------------------------ JSON


def to_json(result: SuiteResult) -> dict[str, Any]:
    counts = result.counts
    out: dict[str, Any] = {
        "version": result.version,
        "summary": {"cases": len(result.results), **counts, "duration": round(result.duration, 6)},
        "files": result.files,
        "cases": [r.to_dict() for r in result.results],
    }
    if result.coverage is not None:
        out["coverage"] = result.coverage.to_dict()
    return out


# ------------------------------------------------------------------ JUnit XML

# XML 1.0 cannot hold most control characters, even escaped.
_NOT_XML = re.compile("[^\u0009\u000a\u000d\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def _x(text: str) -> str:
    return _NOT_XML.sub("\ufffd", text)


def to_junit(result: SuiteResult) -> bytes:
    """JUnit XML: a ``testsuite`` per fixture file, a ``testcase`` per case and consent state."""
    counts = result.counts
    root = ET.Element("testsuites", name="routeql", tests=str(len(result.results)), failures=str(counts["failed"]),
                      errors=str(counts["errors"]), skipped=str(counts["skipped"]), time=f"{result.duration:.6f}")
    by_file: dict[str, list[CaseResult]] = {f: [] for f in result.files}
    for r in result.results:
        by_file.setdefault(r.case.file, []).append(r)
    for file, results in by_file.items():
        n = {s: sum(1 for r in results if r.status == s) for s in ("failed", "error", "skipped")}
        suite = ET.SubElement(root, "testsuite", name=_x(file), tests=str(len(results)), failures=str(n["failed"]),
                              errors=str(n["error"]), skipped=str(n["skipped"]),
                              time=f"{sum(r.duration for r in results):.6f}", file=_x(file))
        for r in results:
            case = ET.SubElement(suite, "testcase", classname=_x(file), name=_x(r.case.name), file=_x(file),
                                 line=str(r.case.line), time=f"{r.duration:.6f}")
            if r.status == "failed":
                first = r.failures[0]
                message = (f"{first.destination}: " if first.destination else "") + first.message.splitlines()[0]
                if len(r.failures) > 1:
                    message += f" (and {len(r.failures) - 1} more)"
                el = ET.SubElement(case, "failure", message=_x(message), type="AssertionError")
                el.text = _x(render_case(r))
            elif r.status == "error":
                el = ET.SubElement(case, "error", message=_x(r.message), type="RouteQLError")
                el.text = _x(render_case(r))
            elif r.status == "skipped":
                ET.SubElement(case, "skipped", message=_x(r.message))
    ET.indent(root)
    return ET.tostring(root, encoding="utf-8", xml_declaration=True) + b"\n"
