"""A Segment Protocols tracking plan (JSON) in, RouteQL ``plan`` source out.

Reads the document shapes Segment exports and its APIs use (see docs/cli/plan.md,
"What import reads"), picks one version of each event, hands every schema to
:class:`~routeql.interchange.jsonschema_import.SchemaReader`, and prints the plans with
:mod:`~routeql.interchange.emit`.

>>> result = import_plans({"name": "web", "rules": {"events": [{"name": "Signed Up", "rules": {
...     "$schema": "http://json-schema.org/draft-07/schema#", "type": "object",
...     "properties": {"properties": {"type": "object", "required": ["method"],
...         "properties": {"method": {"type": "string", "enum": ["email", "google"]}}}}}}]}})
>>> print(result.source, end="")
plan web {
  unplanned events allow
  unplanned properties allow
  violations flag
<BLANKLINE>
  track "Signed Up" { required method: string in ["email", "google"] }
}
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..errors import RouteQLError, did_you_mean
from ..plans import MODES
from .draft import Draft, Entry, Note
from .emit import condition_text, format_plans
from .jsonschema_import import SchemaReader
from .pointer import InterchangeError, child, json_kind, lone_surrogate

__all__ = ["import_plans", "ImportResult", "SETTINGS_KEYS", "RULE_TYPES"]

#: the ``routeql`` block of a plan document: key -> plan setting
SETTINGS_KEYS = {"unplannedEvents": "events", "unplannedProperties": "properties", "violations": "violations"}
#: Public API rule types -> entry kinds
RULE_TYPES = {"TRACK": "track", "IDENTIFY": "identify", "GROUP": "group", "PAGE": "page", "SCREEN": "screen",
              "COMMON": "common"}
#: where each kind of entry is in an event's schema
_ROOT = {"track": "properties", "page": "properties", "screen": "properties", "identify": "traits", "group": "traits"}
_KIND_ORDER = ("common", "track", "identify", "group", "page", "screen")
#: keys of a plan, an event or a rule that carry no meaning for validation (ids, timestamps)
_METADATA = frozenset({"id", "slug", "type", "createdAt", "updatedAt", "deprecatedAt", "create_time", "update_time",
                       "workspaceId", "workspace_id", "labels", "pagination", "key", "version", "name", "display_name",
                       "displayName", "description", "rules", "routeql", "jsonSchema", "json_schema", "schema"})
_LAYOUT_KEYS = frozenset({"context", "properties", "traits"})


@dataclass(frozen=True)
class ImportResult:
    """The RouteQL source of the imported plans, the drafts it was printed from, and every note."""

    source: str
    drafts: tuple[Draft, ...]

    @property
    def notes(self) -> tuple[Note, ...]:
        return tuple(note for d in self.drafts for note in d.notes)

    @property
    def names(self) -> tuple[str | None, ...]:
        return tuple(d.name for d in self.drafts)


@dataclass
class _Rule:
    """One entry's schema as found in the document."""

    kind: str
    name: str | None
    version: int
    description: str | None
    schema: Any
    pointer: str  # of the schema
    at: str  # of the event / rule object


def import_plans(data: Any, *, name: str | None = None, versions: str = "oldest", file: str = "",
                 header: bool = True) -> ImportResult:
    """Convert a decoded JSON tracking plan (one plan, or several) to RouteQL source.

    ``name`` renames the plan (one plan only); ``versions`` picks which version of an
    event with several becomes the entry: ``"oldest"`` (the one Segment validates events
    without ``context.protocols.event_version`` against) or ``"latest"``.  Raises
    :class:`~routeql.interchange.pointer.InterchangeError` for shapes it cannot read."""
    if versions not in ("oldest", "latest"):
        raise RouteQLError(f"versions must be 'oldest' or 'latest', got {versions!r}")
    try:
        odd = lone_surrogate(data)
        if odd is not None:
            raise InterchangeError("a string here holds a lone surrogate (\\ud800 to \\udfff: JSON can spell one, "
                                   "Unicode text cannot hold one), which RouteQL source cannot carry", odd, file)
        docs = _plan_docs(data, "", file)
        if name is not None and len(docs) != 1:
            raise InterchangeError(f"--name renames one plan, and this file holds {len(docs)}", "", file)
        drafts = [_draft(doc, pointer, data, file, versions, name) for doc, pointer in docs]
    except RecursionError:
        raise InterchangeError("the document is nested too deeply", "", file) from None
    seen: set[str] = set()
    for d, (_, pointer) in zip(drafts, docs):
        if d.name is not None and d.name in seen:
            raise InterchangeError(f"plan '{d.name}' appears twice (plan names are global in RouteQL: "
                                   "rename one)", pointer, file)
        if d.name is not None:
            seen.add(d.name)
    lines = [f"Tracking plan{'s' * (len(drafts) != 1)} imported from {file} by `routeql plan import`."] \
        if header and file else []
    # the one canonical layout, so an imported plan is already what `routeql fmt` writes
    from ..fmt import format_source

    return ImportResult(format_source(format_plans(drafts, lines), "<imported plan>"), tuple(drafts))


# ------------------------------------------------------------------ document shapes


def _is_rule(item: Any) -> bool:
    return isinstance(item, dict) and isinstance(item.get("type"), str) and \
        any(k in item for k in ("jsonSchema", "json_schema"))


def _plan_docs(data: Any, pointer: str, file: str) -> list[tuple[dict[str, Any], str]]:
    """The plan objects of a document, each with its pointer (rules lists wrapped in one)."""
    if isinstance(data, list):
        if data and all(_is_rule(item) for item in data):
            return [({"rules": data, "__rules_pointer": pointer}, pointer)]
        out: list[tuple[dict[str, Any], str]] = []
        for i, item in enumerate(data):
            if not isinstance(item, dict):
                raise InterchangeError(f"expected a tracking plan (an object), got {json_kind(item)}",
                                       child(pointer, i), file)
            out.extend(_plan_docs(item, child(pointer, i), file))
        if not out:
            raise InterchangeError("an empty list holds no tracking plan", pointer, file)
        return out
    if not isinstance(data, dict):
        raise InterchangeError(f"expected a tracking plan (a JSON object), got {json_kind(data)}", pointer, file)
    for key in ("tracking_plans", "trackingPlans"):
        if isinstance(data.get(key), list):
            return _plan_docs(data[key], child(pointer, key), file)
    if "rules" not in data:
        if isinstance(data.get("data"), dict):
            return _plan_docs(data["data"], child(pointer, "data"), file)
        for key in ("tracking_plan", "trackingPlan"):
            if isinstance(data.get(key), dict):
                inner = data[key]
                if "rules" in inner:
                    return _plan_docs(inner, child(pointer, key), file)
        raise InterchangeError('not a tracking plan: expected {"name": ..., "rules": {"events": [...], ...}} '
                               '(Segment\'s export) or {"rules": [{"type": "TRACK", "key": ..., "jsonSchema": '
                               '{...}}, ...]} (its Public API); see docs/cli/plan.md', pointer, file)
    for key in ("tracking_plan", "trackingPlan"):
        if isinstance(data.get(key), dict):  # {"trackingPlan": {name, ...}, "rules": [...]}
            meta = {k: v for k, v in data[key].items() if k != "rules"}
            return [({**meta, **{k: v for k, v in data.items() if k != key}}, pointer)]
    return [(data, pointer)]


def _draft(doc: dict[str, Any], pointer: str, root: Any, file: str, versions: str, rename: str | None) -> Draft:
    notes: list[Note] = []

    def note(p: str, message: str) -> None:
        notes.append(Note(p, message))

    name = rename
    if name is None:
        for key in ("display_name", "displayName", "name"):
            v = doc.get(key)
            if v is not None:
                if not isinstance(v, str):
                    raise InterchangeError(f"{key} must be a string, got {json_kind(v)}", child(pointer, key), file)
                name = v or None
                break
    description = doc.get("description") if isinstance(doc.get("description"), str) else None
    for k in doc:
        if k not in _METADATA and not k.startswith("__"):
            note(child(pointer, k), f"'{k}' is not part of a tracking plan RouteQL reads; ignored")
    rules_pointer = doc.get("__rules_pointer", child(pointer, "rules"))
    rules = _rules(doc["rules"], rules_pointer, file, note)
    chosen = _versions(rules, versions, file, note)
    draft = Draft(name, description=description, notes=notes)
    closed: dict[str, bool | None] = {}
    for rule in chosen:
        reader = SchemaReader(rule.schema, rule.pointer, file_root=root, file=file, notes=notes)
        if rule.kind == "common":
            fields, _, desc = reader.root_fields(rule.schema, rule.pointer, what="the common schema", unplanned=False)
            draft.common = Entry("common", None, fields, rule.description or desc)
            continue
        entry, closed_flag = _entry(reader, rule)
        closed[entry.kind + (f' "{entry.name}"' if entry.name is not None else "")] = closed_flag
        draft.entries.append(entry)
    draft.entries.sort(key=lambda e: _KIND_ORDER.index(e.kind))  # stable: input order within a kind
    _settings(draft, doc, pointer, file, closed, note)
    return draft


def _rules(rules: Any, pointer: str, file: str, note: Any) -> list[_Rule]:
    out: list[_Rule] = []
    if isinstance(rules, list):  # Public API: [{"type": "TRACK", "key": ..., "jsonSchema": {...}, "version": 1}]
        for i, item in enumerate(rules):
            p = child(pointer, i)
            if not isinstance(item, dict):
                raise InterchangeError(f"a rule must be an object, got {json_kind(item)}", p, file)
            t = item.get("type")
            if not isinstance(t, str) or t.upper() not in RULE_TYPES:
                guess = did_you_mean(str(t).upper(), RULE_TYPES) if isinstance(t, str) else None
                raise InterchangeError(f"rule type must be one of {', '.join(RULE_TYPES)}, got {t!r}"
                                       + (f" (did you mean {guess}?)" if guess else ""), child(p, "type"), file)
            kind = RULE_TYPES[t.upper()]
            key = item.get("key")
            out.append(_rule(kind, key, item, p, file, note, key_field="key"))
        return out
    if not isinstance(rules, dict):
        raise InterchangeError(f"rules must be an object (Segment's export) or a list (Public API rules), "
                               f"got {json_kind(rules)}", pointer, file)
    for k, v in rules.items():
        p = child(pointer, k)
        if k in ("events", "page", "screen", "pages", "screens"):
            kind = {"events": "track", "pages": "page", "screens": "screen"}.get(k, k)
            if not isinstance(v, list):
                raise InterchangeError(f"{k} must be a list of events, got {json_kind(v)}", p, file)
            for i, item in enumerate(v):
                if not isinstance(item, dict):
                    raise InterchangeError(f"an event must be an object, got {json_kind(item)}", child(p, i), file)
                out.append(_rule(kind, item.get("name"), item, child(p, i), file, note, key_field="name"))
        elif k in ("global", "common", "identify", "identify_traits", "group", "group_traits"):
            kind = {"global": "common", "identify_traits": "identify", "group_traits": "group"}.get(k, k)
            if v is None:
                continue
            if isinstance(v, dict) and any(x in v for x in ("jsonSchema", "json_schema", "rules")) \
                    and not any(x in v for x in ("properties", "type", "$schema")):
                out.append(_rule(kind, None, v, p, file, note, key_field=None))
            else:
                out.append(_Rule(kind, None, 1, None, v, p, p))
        else:
            note(p, f"'{k}' is not a kind of rule RouteQL reads (events, global, identify, group, page, screen); "
                    "ignored")
    return out


def _rule(kind: str, key: Any, item: dict[str, Any], p: str, file: str, note: Any, *, key_field: str | None) -> _Rule:
    if kind in ("track",) and not isinstance(key, str):
        raise InterchangeError(f"a track event needs its name ({key_field}) as a string", child(p, key_field or "name"),
                               file)
    if kind in ("page", "screen") and key is not None and not isinstance(key, str):
        raise InterchangeError(f"a {kind} name must be a string or null", child(p, key_field or "name"), file)
    # an empty page (screen) name is the default entry; a track event may be named ""
    name = key if kind == "track" or (kind in ("page", "screen") and key != "") else None
    version = item.get("version", 1)
    if isinstance(version, bool) or not isinstance(version, int):
        raise InterchangeError(f"version must be an integer, got {json_kind(version)}", child(p, "version"), file)
    schema_key = next((k for k in ("rules", "jsonSchema", "json_schema", "schema") if k in item), None)
    schema = item[schema_key] if schema_key else {}
    if schema is None:
        schema = {}
    desc = item.get("description")
    if desc is not None and not isinstance(desc, str):
        raise InterchangeError(f"description must be a string, got {json_kind(desc)}", child(p, "description"), file)
    for k in item:
        if k not in _METADATA:
            note(child(p, k), f"'{k}' is not part of a rule RouteQL reads; ignored")
    return _Rule(kind, name, version, desc, schema, child(p, schema_key) if schema_key else p, p)


def _versions(rules: list[_Rule], which: str, file: str, note: Any) -> list[_Rule]:
    """One rule per entry: the oldest version (as Segment applies to unversioned events) or the latest."""
    groups: dict[tuple[str, str | None], list[_Rule]] = {}
    for r in rules:
        groups.setdefault((r.kind, r.name), []).append(r)
    out: list[_Rule] = []
    for (kind, name), group in groups.items():
        by_version: dict[int, _Rule] = {}
        for r in group:
            if r.version in by_version:
                label = f'{kind} "{name}"' if name is not None else kind
                raise InterchangeError(f"{label} version {r.version} is defined twice (first at "
                                       f"#{by_version[r.version].at})", r.at, file)
            by_version[r.version] = r
        pick = min(by_version) if which == "oldest" else max(by_version)
        chosen = by_version[pick]
        if len(by_version) > 1:
            label = f'{kind} "{name}"' if name is not None else kind
            others = ", ".join(str(v) for v in sorted(by_version) if v != pick)
            note(chosen.at, f"{label} has versions {', '.join(str(v) for v in sorted(by_version))}; RouteQL plans "
                            f"are not versioned: version {pick} ({which}) imported, version {others} left out")
        out.append(chosen)
    out.sort(key=lambda r: rules.index(r))  # document order
    return out


def _trivial(v: Any) -> bool:
    """A schema that says nothing beyond "an object" (as Segment writes for unused parts)."""
    if v is True or v == {}:
        return True
    return isinstance(v, dict) and set(v) <= {"type", "properties", "description"} \
        and v.get("type", "object") in ("object", ["object"]) and not v.get("properties")


def _entry(reader: SchemaReader, rule: _Rule) -> tuple[Entry, bool | None]:
    root_key = _ROOT[rule.kind]
    label = f'{rule.kind} "{rule.name}"' if rule.name is not None else rule.kind
    with reader.follow(rule.schema, rule.pointer) as (s, sp, ref_desc):
        props = s.get("properties") if isinstance(s, dict) else None
        layout = isinstance(props, dict) and bool(props) and set(props) <= _LAYOUT_KEYS
        if not layout:  # the schema of properties / traits itself
            fields, closed, desc = reader.root_fields(s, sp, what=f"the {root_key} of {label}")
            return Entry(rule.kind, rule.name, fields, rule.description or desc), closed
        assert isinstance(s, dict) and isinstance(props, dict)
        for k in s:
            if k in ("properties", "required", "type", "description", "$schema", "$id", "$comment", "definitions",
                     "$defs"):
                continue
            reader.note(child(sp, k), f"'{k}' on the whole event of {label} is not supported; dropped")
        t = s.get("type")
        if t is not None and t not in ("object", ["object"]):
            reader.note(child(sp, "type"), f"an event is always an object; type {t!r} ignored")
        pp = child(sp, "properties")
        for k, v in props.items():
            if k != root_key and not _trivial(v):
                where = "the plan's common schema" if k == "context" else \
                    f"a {'track' if k == 'properties' else 'identify'} entry"
                reader.note(child(pp, k), f"per-event rules for {k} are not supported (RouteQL checks {k} in "
                                          f"{where}); dropped")
        if root_key in props:
            fields, closed, root_desc = reader.root_fields(props[root_key], child(pp, root_key),
                                                           what=f"the {root_key} of {label}")
        else:
            fields, closed, root_desc = [], None, None
        required = s.get("required", [])
        if not isinstance(required, list) or not all(isinstance(r, str) for r in required):
            raise reader.error(child(sp, "required"), "required must be a list of property names")
        for r in required:
            if r == root_key:
                if not any(f.required for f in fields):
                    reader.note(child(sp, "required"), f"'{root_key}' itself is required, which RouteQL cannot say "
                                f"when none of its keys is (an event without {root_key} is checked as if it "
                                "had an empty one); dropped")
            else:
                reader.note(child(sp, "required"), f"requiring '{r}' on the whole event of {label} is not "
                            "supported (put it in the common schema); dropped")
        d = s.get("description")
        desc = rule.description or (d if isinstance(d, str) else None) or ref_desc or root_desc
        return Entry(rule.kind, rule.name, fields, desc), closed


def _settings(draft: Draft, doc: dict[str, Any], pointer: str, file: str, closed: dict[str, bool | None],
              note: Any) -> None:
    block = doc.get("routeql", {})
    bp = child(pointer, "routeql")
    if not isinstance(block, dict):
        raise InterchangeError(f"routeql must be an object, got {json_kind(block)}", bp, file)
    for key, value in block.items():
        p = child(bp, key)
        if key in SETTINGS_KEYS:
            target = SETTINGS_KEYS[key]
            allowed = MODES[target][0]
            if value not in allowed:
                guess = did_you_mean(str(value), allowed)
                raise InterchangeError(f"{key} must be one of {', '.join(allowed)}, got {value!r}"
                                       + (f" (did you mean {guess}?)" if guess else ""), p, file)
            draft.modes[target] = value
        elif key == "when":
            if value is None:
                continue
            if not isinstance(value, str):
                raise InterchangeError(f"when must be a RouteQL condition (a string), got {json_kind(value)}", p, file)
            from ..parse import parse_condition

            try:
                draft.when = condition_text(parse_condition(value, f"{file}#{p}"))
            except RouteQLError as e:
                raise InterchangeError(f"when is not a RouteQL condition:\n{e}", p, file) from None
        else:
            note(p, f"'{key}' is not a RouteQL plan setting (unplannedEvents, unplannedProperties, violations, "
                    "when); ignored")
    said = [label for label, flag in closed.items() if flag]
    if "properties" in draft.modes:
        if draft.modes["properties"] == "allow" and said:
            note(bp, f"unplannedProperties is allow, but additionalProperties is false for {', '.join(said)}; "
                     "the routeql setting wins")
        return
    if said and len(said) == len(closed):
        draft.modes["properties"] = "flag"  # every entry closes its properties: unplanned ones are reported
    elif said:
        note(pointer, f"additionalProperties is false for {', '.join(said)} but not for every entry; RouteQL's "
                      "unplanned properties setting is plan-wide: left at allow")
