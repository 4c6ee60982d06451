"""Fixture tests for rule sets: fixture files in, pass/fail per case and coverage out.

The pipeline, one module per step:

- :mod:`.source`    YAML/JSON text -> data, with the line of every node
- :mod:`.schema`    the fixture schema (pydantic models)
- :mod:`.fixtures`  data -> validated cases, one per case and consent state
- :mod:`.checks`    a case's expectations against a routing -> failures
- :mod:`.runner`    rules + fixtures -> results (and coverage)
- :mod:`.coverage`  rule outcomes and consent combinations exercised
- :mod:`.report`    results -> text, JSON, JUnit XML

``routeql test`` (:mod:`routeql.cli.test`) and the pytest plugin
(:mod:`routeql.pytest_plugin`) are thin layers over this package.

>>> from routeql import loads
>>> rules = loads('destination crm { when type = "identify"  keep userId }')
>>> fx = parse_fixture('''
... - name: identify goes to the CRM
...   event: {type: identify, userId: u1, traits: {plan: pro}}
...   expect: {crm: {payload: {userId: u1}}}
... ''', "crm.rqtest.yaml")
>>> [r.status for r in run(rules, [fx]).results]
['passed']
"""

from __future__ import annotations

from .checks import Failure, check_case
from .coverage import Coverage
from .fixtures import (
    SUFFIXES, Case, Fixture, check_against, expand, find_fixtures, is_fixture_name, load_fixture, load_fixtures,
    parse_fixture,
)
from .report import render_case, render_coverage, render_text, to_json, to_junit
from .runner import CaseResult, SuiteResult, prepare, run, run_case
from .source import FixtureError, Problem

__all__ = [
    "SUFFIXES", "Case", "CaseResult", "Coverage", "Failure", "Fixture", "FixtureError", "Problem", "SuiteResult",
    "check_against", "check_case", "expand", "find_fixtures", "is_fixture_name", "load_fixture", "load_fixtures",
    "parse_fixture", "prepare", "render_case", "render_coverage", "render_text", "run", "run_case", "to_json",
    "to_junit",
]
