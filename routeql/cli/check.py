"""``routeql check PATH``: every diagnostic at once, as text, JSON, SARIF or GitHub annotations."""

from __future__ import annotations

import argparse
import json
from typing import Any, Sequence

from ..codes import CODES
from ..engine import compile_sources, read_sources
from ..errors import Diagnostic, RouteQLError
from ._common import EXIT_FINDINGS, EXIT_OK, Console

HELP = """\
examples:
  routeql check rules/
  routeql check rules/ --format json
  routeql check rules/ --format sarif > routeql.sarif
  routeql check rules/ --format github      # annotations in a GitHub Actions log

exit codes: 0 no errors, 1 errors found (or warnings with --strict), 2 unreadable input
"""


def register(sub: Any) -> None:
    p = sub.add_parser("check", help="report every problem in a rule set", description=__doc__,
                       epilog=HELP, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("path", help="a .rq file or a directory of them")
    p.add_argument("--format", choices=("text", "json", "sarif", "github"), default="text")
    p.add_argument("--strict", action="store_true", help="fail on warnings too")
    p.set_defaults(run=run)


def diagnostics_of(path: str) -> list[Diagnostic]:
    """Every diagnostic for the rules at ``path`` (errors and warnings)."""
    sources = read_sources(path)
    try:
        rules = compile_sources(sources)
    except RouteQLError as e:
        if not e.diagnostics:
            raise
        return list(e.diagnostics)
    return list(rules.warnings)


def run(args: argparse.Namespace, console: Console) -> int:
    diags = diagnostics_of(args.path)
    errors = [d for d in diags if d.is_error]
    warnings = [d for d in diags if not d.is_error]
    fmt = args.format
    if fmt == "json":
        console.text(json.dumps({"errors": len(errors), "warnings": len(warnings),
                                 "diagnostics": [d.to_dict() for d in diags]}, indent=2, ensure_ascii=False))
    elif fmt == "sarif":
        console.text(json.dumps(sarif(diags), indent=2, ensure_ascii=False))
    elif fmt == "github":
        for d in diags:
            console.text(github(d))
    else:
        for d in diags:
            style = "red" if d.is_error else "yellow"
            console.out.print(d.render(), markup=False, style=style if console.out.is_terminal else None)
            console.text("")
        verdict = "ok" if not errors else "failed"
        console.text(f"{args.path}: {verdict}: {len(errors)} error{'s' * (len(errors) != 1)}, "
                     f"{len(warnings)} warning{'s' * (len(warnings) != 1)}")
    if errors or (args.strict and warnings):
        return EXIT_FINDINGS
    return EXIT_OK


def github(d: Diagnostic) -> str:
    """A GitHub Actions workflow command: ::error file=...,line=...,col=...::message"""
    level = "error" if d.is_error else "warning"

    def esc(s: str, prop: bool = False) -> str:
        s = s.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")
        return s.replace(":", "%3A").replace(",", "%2C") if prop else s

    msg = f"[{d.code}] {d.message}" + (f" (hint: {d.hint})" if d.hint else "")
    sp = d.span
    return (f"::{level} file={esc(sp.file, True)},line={sp.line},col={sp.col},endLine={sp.end_line},"
            f"endColumn={sp.end_col},title={esc('RouteQL ' + d.code, True)}::{esc(msg)}")


def sarif(diags: Sequence[Diagnostic]) -> dict[str, Any]:
    """SARIF 2.1.0, the format code-scanning tools read."""
    from .. import __version__

    used = sorted({d.code for d in diags})
    rules = [{"id": c, "name": c, "shortDescription": {"text": CODES.get(c, c)},
              "helpUri": f"docs/diagnostics.md#{c.lower()}"} for c in used]
    results = []
    for d in diags:
        sp = d.span
        results.append({
            "ruleId": d.code,
            "ruleIndex": used.index(d.code),
            "level": "error" if d.is_error else "warning",
            "message": {"text": d.message + (f" (hint: {d.hint})" if d.hint else "")},
            "locations": [{"physicalLocation": {
                "artifactLocation": {"uri": sp.file},
                "region": {"startLine": max(sp.line, 1), "startColumn": max(sp.col, 1),
                           "endLine": max(sp.end_line, sp.line, 1), "endColumn": max(sp.end_col, sp.col + 1, 1)},
            }}],
        })
    return {
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{"tool": {"driver": {"name": "routeql", "version": __version__,
                                      "informationUri": "https://github.com/routeql/routeql", "rules": rules}},
                  "results": results}],
    }
