"""pytest plugin: ``*.rqtest.yaml`` fixture files in, one pytest item per case and consent state out.

Registered as the ``routeql`` entry point of the ``pytest11`` group, so installing RouteQL
is enough.  The rule set a file tests is, in order: the file's ``rules:`` key (relative
to the file), the ``routeql_rules`` ini option (relative to the rootdir), or ``rules/``
under the rootdir.  A failing case shows the same report as ``routeql test``.

The plugin only touches files with the fixture suffixes (``.rqtest.yaml``, ``.rqtest.yml``,
``.rqtest.json``); RouteQL itself is imported only when such a file is collected, and
loaded rule sets are kept on the pytest config, not in module globals.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterator

import pytest

if TYPE_CHECKING:
    from .engine import RuleSet
    from .testing import Case, CaseResult

__all__ = ["FixtureFile", "FixtureItem", "CaseFailed"]

_SUFFIXES = (".rqtest.yaml", ".rqtest.yml", ".rqtest.json")
_RULES = pytest.StashKey[dict[Path, Any]]()


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addini("routeql_rules", "RouteQL rule set for *.rqtest.yaml files without a `rules:` key "
                                   "(a .rq file or a directory, relative to the rootdir)", default="rules")


def pytest_collect_file(file_path: Path, parent: pytest.Collector) -> "FixtureFile | None":
    if file_path.name.lower().endswith(_SUFFIXES):
        return FixtureFile.from_parent(parent, path=file_path)  # type: ignore[no-any-return]
    return None


class CaseFailed(Exception):
    """A case that failed (or could not run); carries its result for the report."""

    def __init__(self, result: "CaseResult") -> None:
        super().__init__(result.status)
        self.result = result


def _rules(config: pytest.Config, path: Path) -> "RuleSet":
    """The rule set at ``path``, loaded once per pytest session (a load error, too)."""
    from .engine import load
    from .errors import RouteQLError

    cache = config.stash.setdefault(_RULES, {})
    key = path.resolve()
    if key not in cache:
        try:
            cache[key] = load(path)
        except RouteQLError as e:
            cache[key] = e
    found = cache[key]
    if isinstance(found, RouteQLError):
        raise found
    return found  # type: ignore[no-any-return]


class FixtureFile(pytest.File):
    """One fixture file: its cases become items; a malformed file is a collection error."""

    def collect(self) -> Iterator["FixtureItem"]:
        from .errors import RouteQLError
        from .testing import FixtureError, check_against, expand, load_fixture

        try:
            name = self.path.relative_to(self.config.rootpath).as_posix()
        except ValueError:
            name = str(self.path)
        try:
            fixture = load_fixture(self.path, name)
        except FixtureError as e:
            raise self.CollectError(str(e)) from None
        if fixture.rules is not None:
            rules_path = fixture.rules
        else:
            rules_path = Path(self.config.rootpath) / str(self.config.getini("routeql_rules"))
        try:
            rules = _rules(self.config, rules_path)
        except RouteQLError as e:
            raise self.CollectError(f"{self.path}: the rules at {rules_path} do not load:\n{e}") from None
        problems = check_against(fixture, rules)
        if problems:
            raise self.CollectError(str(FixtureError(problems)))
        for case in expand(fixture, rules):
            yield FixtureItem.from_parent(self, name=case.name, rules=rules, case=case)


class FixtureItem(pytest.Item):
    """One case under one consent state."""

    def __init__(self, *, rules: "RuleSet", case: "Case", **kw: Any) -> None:
        super().__init__(**kw)
        self.rules = rules
        self.case = case

    def runtest(self) -> None:
        from .testing import run_case

        result = run_case(self.rules, self.case)
        if result.status == "skipped":
            pytest.skip(result.message)
        if result.status != "passed":
            raise CaseFailed(result)

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None) -> str:
        if isinstance(excinfo.value, CaseFailed):
            from .testing import render_case

            return render_case(excinfo.value.result)
        return str(super().repr_failure(excinfo, style=style))

    def reportinfo(self) -> tuple[Path, int, str]:
        return self.path, self.case.line - 1, f"routeql case: {self.case.name}"
