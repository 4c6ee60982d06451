"""Fixture files -> validated, line-numbered test cases, one per case and consent state.

Loading happens in three steps, each reporting every problem it finds at file:line:

1. :func:`load_fixture`: parse (YAML or JSON), validate against :mod:`.schema`, then
   the rules between fields (``event`` or ``event_file``; ``consent`` or
   ``consent_states``; paths that parse; events that are well-formed Segment events);
2. :func:`check_against`: names the rules must know (destinations, consent categories);
3. :func:`expand`: one :class:`Case` per case and consent state.

>>> from routeql import loads
>>> rules = loads('consent { category ads from segment "Advertising" }  destination g { requires ads }')
>>> fx = parse_fixture('''
... - name: a page view
...   event: {type: page, name: Home}
...   consent_combinations: all
...   expect: {g: {delivered: false}}
... ''', "f.yaml")
>>> [c.name for c in expand(fx, rules)]
['a page view [ads: granted]', 'a page view [ads: denied]']
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Sequence

from pydantic import ValidationError

from ..engine import RuleSet
from ..errors import EventError, did_you_mean
from ..runtime import validate_event
from .paths import parse_path
from .schema import CaseModel, DefaultsModel, ExpectModel, FieldsModel, FileModel, ReasonModel, StateModel
from .source import Document, FixtureError, Problem, parse_document, read_document

__all__ = [
    "SUFFIXES", "Case", "CaseSpec", "Fixture", "is_fixture_name", "find_fixtures", "load_fixture", "parse_fixture",
    "load_fixtures", "check_against", "expand", "MAX_COMBINATION_CATEGORIES",
]

#: What a fixture file is named (a directory given on the command line is searched for these).
SUFFIXES = (".rqtest.yaml", ".rqtest.yml", ".rqtest.json")

#: ``consent_combinations`` over more categories than this is refused (2^10 = 1024 cases).
MAX_COMBINATION_CATEGORIES = 10

Loc = tuple[str | int, ...]

_CONSENT_KEYS = ("consent", "consent_states", "consent_combinations")
_CONSENT_WAYS = "`consent`, `consent_states`, `consent_combinations`"


@dataclass(frozen=True)
class Case:
    """One runnable test: a case under one consent state."""

    file: str
    line: int
    name: str
    event: dict[str, Any]
    consent: dict[str, bool] | None
    expect: dict[str, ExpectModel]
    only: tuple[str, ...] | None = None
    others: str = "skipped"
    skip: str | None = None
    description: str | None = None
    #: the case's own name (``name`` adds the consent state)
    base: str = ""
    state: str | None = None


@dataclass
class CaseSpec:
    """One validated case of a file, before it is expanded per consent state."""

    model: CaseModel
    loc: Loc
    line: int
    event: dict[str, Any]
    consent: dict[str, bool] | None
    states: list[StateModel] | None
    combinations: str | list[str] | None
    others: str
    #: where each of the case's consent settings came from (the case or the defaults)
    consent_loc: Loc | None = None


@dataclass
class Fixture:
    """A loaded fixture file: its cases, and the source for line numbers."""

    path: Path
    name: str
    doc: Document
    specs: list[CaseSpec] = field(default_factory=list)
    #: the rule set the file names (``rules:``, resolved from the file's directory)
    rules: Path | None = None

    def line(self, loc: Loc, *, key: bool = False) -> int:
        return self.doc.line(loc, key=key)


def is_fixture_name(name: str) -> bool:
    """``*.rqtest.yaml`` / ``*.rqtest.yml`` / ``*.rqtest.json``."""
    return name.lower().endswith(SUFFIXES)


def find_fixtures(paths: Iterable[str | Path]) -> list[Path]:
    """Files as given, and every fixture file under the directories given (sorted)."""
    out: list[Path] = []
    problems: list[Problem] = []
    for raw in paths:
        p = Path(raw)
        if p.is_dir():
            out.extend(sorted(f for f in p.rglob("*") if f.is_file() and is_fixture_name(f.name)))
        elif p.is_file():
            out.append(p)
        else:
            problems.append(Problem(str(raw), 0, "no such file or directory"))
    if problems:
        raise FixtureError(problems)
    return list(dict.fromkeys(out))


# ------------------------------------------------------------------ schema errors

_ALL_KEYS = sorted({k for m in (FileModel, DefaultsModel, CaseModel, StateModel, ExpectModel, ReasonModel, FieldsModel)
                    for k in m.model_fields})

_TYPE_WORDS = {
    "bool_type": "should be true or false",
    "string_type": "should be a string",
    "dict_type": "should be a mapping",
    "model_type": "should be a mapping",
    "model_attributes_type": "should be a mapping",
    "list_type": "should be a list",
    "int_type": "should be an integer",
}


def _where(loc: Loc, payload: dict[str, Any]) -> str:
    """``case 2 'purchase': expect.google_ads`` for a location in the file's data."""
    head, rest = "", loc
    if len(loc) >= 2 and loc[0] == "cases" and isinstance(loc[1], int):
        case = payload["cases"][loc[1]]
        name = case.get("name") if isinstance(case, dict) else None
        head = f"case {loc[1] + 1}" + (f" '{name}'" if isinstance(name, str) and name else "")
        rest = loc[2:]
    dotted = "".join(f"[{p}]" if isinstance(p, int) else (f".{p}" if i else str(p)) for i, p in enumerate(rest))
    return ": ".join(x for x in (head, dotted) if x)


def _message(err: Any) -> str:
    kind, loc, msg = err["type"], err["loc"], err["msg"]
    if kind == "extra_forbidden":
        guess = did_you_mean(str(loc[-1]), _ALL_KEYS)
        return f"unknown key '{loc[-1]}'" + (f"; did you mean '{guess}'?" if guess else "")
    if kind == "missing":
        return f"missing required key '{loc[-1]}'"
    if kind == "model_type" and len(loc) >= 2 and loc[-2] == "expect":
        return f"should be true, false, or a mapping of expectations, got {_json_type(err.get('input'))}"
    if kind in _TYPE_WORDS:
        return _TYPE_WORDS[kind] + (f", got {_json_type(err.get('input'))}" if "input" in err else "")
    if kind == "value_error":
        return msg.removeprefix("Value error, ")
    if kind == "literal_error" and isinstance(err.get("input"), (str, int, float, bool)):
        return f"{msg.replace('Input should', 'should', 1)}, got {err['input']!r}"
    return msg.replace("Input should", "should", 1)


def _json_type(v: Any) -> str:
    if v is None:
        return "null"
    return {bool: "a boolean", int: "a number", float: "a number", str: "a string", list: "a list",
            dict: "a mapping"}.get(type(v), type(v).__name__)


def _schema_problems(doc: Document, e: ValidationError, payload: dict[str, Any], bare_list: bool) -> list[Problem]:
    out: list[Problem] = []
    for err in e.errors():
        loc = tuple(err["loc"])
        node_loc = loc[1:] if bare_list and loc[:1] == ("cases",) else loc
        line = doc.line(node_loc, key=err["type"] == "extra_forbidden")
        # for a missing or unknown key the message names the key: the location stops above it
        where = _where(loc[:-1] if err["type"] in ("missing", "extra_forbidden") else loc, payload)
        out.append(Problem(doc.file, line, f"{where}: {_message(err)}" if where else _message(err)))
    return sorted(out, key=lambda p: p.line)


# ------------------------------------------------------------------ loading


def parse_fixture(text: str, name: str, *, path: Path | None = None, json_only: bool = False) -> Fixture:
    """A fixture from text (``path`` is where ``event_file`` and ``rules`` are resolved from)."""
    return _build(parse_document(text, name, json_only=json_only), path or Path(name))


def load_fixture(path: str | Path, name: str | None = None) -> Fixture:
    """Read, validate and check one fixture file; raises FixtureError with every problem.

    ``name`` is how reports call the file (default: the path as given)."""
    return _build(read_document(path, name), Path(path))


def load_fixtures(paths: Sequence[str | Path]) -> list[Fixture]:
    """Every fixture of every file; problems of all files are reported together."""
    out: list[Fixture] = []
    problems: list[Problem] = []
    for p in paths:
        try:
            out.append(load_fixture(p))
        except FixtureError as e:
            problems.extend(e.problems)
    if problems:
        raise FixtureError(problems)
    return out


def _build(doc: Document, path: Path) -> Fixture:
    data = doc.data
    if data is None:
        raise FixtureError([Problem(doc.file, 0, "the file is empty: it should hold a list of cases, "
                                                 "or a mapping with `cases:`")])
    if isinstance(data, list):
        payload: dict[str, Any] = {"cases": data}
    elif isinstance(data, dict) and "cases" in data:
        payload = data
    elif isinstance(data, dict):  # most likely an event file given as a fixture
        raise FixtureError([Problem(doc.file, 1, "a fixture file holds a list of cases, or a mapping with "
                                                 "`cases:`; this mapping has no `cases`")])
    else:
        raise FixtureError([Problem(doc.file, 1, "a fixture file holds a list of cases, or a mapping with `cases:`; "
                                                 f"this one holds {_json_type(data)}")])
    try:
        model = FileModel.model_validate(payload)
    except ValidationError as e:
        raise FixtureError(_schema_problems(doc, e, payload, isinstance(data, list))) from None
    fixture = Fixture(path, doc.file, doc)
    if model.rules is not None:
        fixture.rules = (path.parent / model.rules)
    problems: list[Problem] = []
    case_prefix: Loc = () if isinstance(data, list) else ("cases",)
    if model.defaults is not None:
        given = [k for k in _CONSENT_KEYS if getattr(model.defaults, k) is not None]
        if len(given) > 1:
            problems.append(Problem(doc.file, fixture.line(("defaults", given[1]), key=True),
                                    f"defaults: give one of {_CONSENT_WAYS}, not {' and '.join(given)}"))
    seen: dict[str, int] = {}
    for i, case in enumerate(model.cases):
        loc = (*case_prefix, i)
        if case.name in seen:
            problems.append(Problem(doc.file, fixture.line((*loc, "name")),
                                    f"case name '{case.name}' is used twice in this file (first on line {seen[case.name]})"))
        else:
            seen[case.name] = fixture.line((*loc, "name"))
        spec = _spec(fixture, case, loc, model.defaults, problems)
        if spec is not None:
            fixture.specs.append(spec)
    if problems:
        raise FixtureError(sorted(problems, key=lambda p: (p.file != doc.file, p.line)))
    return fixture


def _merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    """``over`` on top of ``base``, key by key at every depth (fresh dicts, inputs unchanged)."""
    out = dict(base)
    for k, v in over.items():
        out[k] = _merge(out[k], v) if isinstance(v, dict) and isinstance(out.get(k), dict) else v
    return out


def _spec(fx: Fixture, case: CaseModel, loc: Loc, defaults: DefaultsModel | None,
          problems: list[Problem]) -> CaseSpec | None:
    file = fx.name
    start = len(problems)

    def problem(where: Loc, message: str, *, key: bool = True) -> None:
        problems.append(Problem(file, fx.line((*loc, *where), key=key), f"case '{case.name}': {message}"))

    if not case.name.strip():
        problem(("name",), "the name is empty")
    # the event: inline, from a file, and/or the file's default event underneath
    base_event = defaults.event if defaults and defaults.event is not None else None
    event: dict[str, Any] | None = None
    event_loc: Loc = (*loc, "event")
    if case.event is not None and case.event_file is not None:
        problem(("event_file",), "give `event` or `event_file`, not both")
    elif case.event_file is not None:
        event_loc = (*loc, "event_file")
        event = _event_file(fx, case, fx.line(event_loc), problems)
    elif case.event is not None:
        event = case.event
    elif base_event is None:
        problem((), "needs an `event` (inline) or an `event_file`", key=False)
    if base_event is not None and len(problems) == start:
        event = _merge(base_event, event or {})
        if case.event is None and case.event_file is None:
            event_loc = ("defaults", "event")
    if event is not None:
        try:
            validate_event(event)
        except EventError as e:
            inner: Loc = (e.path,) if e.path and event_loc[-1] == "event" else ()
            problems.append(Problem(file, fx.line((*event_loc, *inner)), f"case '{case.name}': the event is not "
                                                                          f"a valid Segment event: {e.message}"))
    # consent: one of three ways per case; the case's choice replaces the defaults'
    given = [k for k in _CONSENT_KEYS if getattr(case, k) is not None]
    if len(given) > 1:
        problem((given[1],), f"give one of {_CONSENT_WAYS}, not {' and '.join(given)}")
    source: Any = case if given else defaults
    consent_loc: Loc | None = loc if given else (("defaults",) if defaults is not None else None)
    consent = source.consent if source is not None else None
    states = source.consent_states if source is not None else None
    combos = source.consent_combinations if source is not None else None
    if states is not None and not states and consent_loc is not None:
        problems.append(Problem(file, fx.line((*consent_loc, "consent_states"), key=True),
                                f"case '{case.name}': `consent_states` is empty: list at least one state"))
    # what happens to destinations the case does not list
    if case.only_destinations is not None and case.others is not None:
        problem(("others",), "`only_destinations` already says what other destinations get; remove `others`")
    others = case.others or (defaults.others if defaults and defaults.others else None) or "skipped"
    only = case.only_destinations
    # expectations: consistent, with paths that parse
    _check_expect(case.expect, (*loc, "expect"), only, fx, case.name, problems)
    if case.consent_states is not None:
        for j, st in enumerate(case.consent_states):
            _check_expect(st.expect, (*loc, "consent_states", j, "expect"), only, fx, case.name, problems)
    if len(problems) > start:
        return None
    assert event is not None
    return CaseSpec(case, loc, fx.line(loc), event, consent, states, combos, others, consent_loc)


def _event_file(fx: Fixture, case: CaseModel, line: int, problems: list[Problem]) -> dict[str, Any] | None:
    name = case.event_file or ""
    target = fx.path.parent / name
    try:
        doc = read_document(target, str(target))
    except FixtureError as e:
        if not target.is_file():
            problems.append(Problem(fx.name, line, f"case '{case.name}': event_file '{name}' not found (looked for {target})"))
        else:
            problems.extend(e.problems)
        return None
    if not isinstance(doc.data, dict):
        problems.append(Problem(fx.name, line, f"case '{case.name}': event_file '{name}' should hold one event "
                                               f"(a mapping), not {_json_type(doc.data)}"))
        return None
    return doc.data


def _check_expect(expect: dict[str, ExpectModel], loc: Loc, only: list[str] | None, fx: Fixture, case: str,
                  problems: list[Problem]) -> None:
    for dest, e in expect.items():
        at = (*loc, dest)

        def problem(where: Loc, message: str) -> None:
            problems.append(Problem(fx.name, fx.line((*at, *where), key=True), f"case '{case}': {dest}: {message}"))

        has_delivery_checks = e.payload is not None or e.fields is not None
        if e.delivered is None and e.reason is None and not has_delivery_checks:
            problem((), "say what to expect: `delivered: true` or `delivered: false`")
        if e.delivered is True and e.reason is not None:
            problem(("reason",), "a delivered destination has no skip reason; remove `reason` or say `delivered: false`")
        if e.delivered is False and has_delivery_checks:
            problem(("payload" if e.payload is not None else "fields",),
                    "a skipped destination receives no payload; remove it or say `delivered: true`")
        if only is not None:
            delivered = e.delivered if e.delivered is not None else (None if e.reason is None else False)
            if delivered is None and has_delivery_checks:
                delivered = True
            if delivered is True and dest not in only:
                problem((), "expected delivered, but it is not in `only_destinations`")
            if delivered is False and dest in only:
                problem((), "expected skipped, but `only_destinations` lists it")
        if e.fields is not None:
            for check, key, path in e.fields.paths():
                try:
                    parse_path(path)
                except ValueError as err:
                    problems.append(Problem(fx.name, fx.line((*at, "fields", check, key), key=check == "equal"),
                                            f"case '{case}': {dest}: fields.{check}: {err}"))


# ------------------------------------------------------------------ against the rules


def check_against(fx: Fixture, rules: RuleSet) -> list[Problem]:
    """Destinations and consent categories the fixture names that the rules do not have."""
    problems: list[Problem] = []
    names = set(rules.destinations)
    categories = rules.model.consent.names if rules.model.consent is not None else ()

    def dest(name: str, loc: Loc) -> None:
        if name not in names:
            guess = did_you_mean(name, names)
            problems.append(Problem(fx.name, fx.line(loc, key=True), f"unknown destination '{name}'"
                                    + (f"; did you mean '{guess}'?" if guess else "")))

    def category(name: str, loc: Loc) -> None:
        if name not in categories:
            guess = did_you_mean(name, categories)
            known = f"; the rules declare: {', '.join(categories)}" if categories else "; the rules declare no consent categories"
            problems.append(Problem(fx.name, fx.line(loc, key=True), f"unknown consent category '{name}'"
                                    + (f"; did you mean '{guess}'?" if guess else known)))

    checked_defaults = False
    for spec in fx.specs:
        m = spec.model
        for d in m.expect:
            dest(d, (*spec.loc, "expect", d))
        for j, d in enumerate(m.only_destinations or ()):
            dest(d, (*spec.loc, "only_destinations", j))
        where = spec.consent_loc
        if where is None or (where == ("defaults",) and checked_defaults):
            continue
        checked_defaults = checked_defaults or where == ("defaults",)
        for c in spec.consent or {}:
            category(c, (*where, "consent", c))
        for j, st in enumerate(spec.states or ()):
            for c in st.consent:
                category(c, (*where, "consent_states", j, c))
            for d in st.expect:
                dest(d, (*where, "consent_states", j, "expect", d))
        if isinstance(spec.combinations, list):
            for j, c in enumerate(spec.combinations):
                category(c, (*where, "consent_combinations", j))
        cats = categories if spec.combinations == "all" else spec.combinations or ()
        if spec.combinations is not None and not categories:
            problems.append(Problem(fx.name, fx.line((*where, "consent_combinations"), key=True),
                                    "consent_combinations: the rules declare no consent categories"))
        elif len(cats) > MAX_COMBINATION_CATEGORIES:
            problems.append(Problem(fx.name, fx.line((*where, "consent_combinations"), key=True),
                                    f"consent_combinations over {len(cats)} categories would make {2 ** len(cats)} "
                                    f"cases; name at most {MAX_COMBINATION_CATEGORIES} categories"))
    return sorted(dict.fromkeys(problems), key=lambda p: p.line)


# ------------------------------------------------------------------ expansion


def state_label(consent: dict[str, bool]) -> str:
    """``advertising: granted, analytics: denied`` (``no consent given beside the event`` for {})."""
    if not consent:
        return "no consent given beside the event"
    return ", ".join(f"{c}: {'granted' if v else 'denied'}" for c, v in consent.items())


def expand(fx: Fixture, rules: RuleSet | None = None) -> list[Case]:
    """One :class:`Case` per case and consent state (``rules`` names the categories of
    ``consent_combinations: all``)."""
    out: list[Case] = []
    for spec in fx.specs:
        m = spec.model
        skip = (m.skip if isinstance(m.skip, str) else "skipped in the fixture") if m.skip else None
        only = tuple(m.only_destinations) if m.only_destinations is not None else None
        common = dict(file=fx.name, line=spec.line, only=only, others=spec.others, skip=skip,
                      description=m.description, base=m.name)
        runs: list[tuple[str | None, dict[str, bool] | None, dict[str, ExpectModel]]] = []
        if spec.combinations is not None:
            declared = rules.model.consent.names if rules is not None and rules.model.consent is not None else ()
            cats = list(declared) if spec.combinations == "all" else list(spec.combinations)
            for values in itertools.product((True, False), repeat=len(cats)):
                state = dict(zip(cats, values))
                runs.append((state_label(state), state, m.expect))
        elif spec.states is not None:
            for st in spec.states:
                runs.append((st.name or state_label(st.consent), st.consent, {**m.expect, **st.expect}))
        else:
            runs.append((None, spec.consent, m.expect))
        names: set[str] = set()
        for label, consent, expect in runs:
            name = m.name if label is None else f"{m.name} [{label}]"
            n, unique = 2, name
            while unique in names:  # the same state twice: keep pytest ids and JUnit names distinct
                unique, n = f"{name} #{n}", n + 1
            names.add(unique)
            out.append(Case(name=unique, event=spec.event, consent=consent, expect=expect, state=label, **common))
    return out
