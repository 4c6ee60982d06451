"""Segment JSON in (destination filters, CDN routing rules, consent mappings), plain rules out.

Three inputs, one shape.  A Public API destination filter (``{"if": FQL, "actions":
[...]}``), a routing rule of Segment's CDN settings (``{"matchers": [...],
"transformers": [[...]]}``, one matcher per transformer list) and a consent mapping all
become :class:`Rule` and :class:`ConsentMap` values that :mod:`.segment` writes out.

>>> imp = read({"if": "event = 'Test'", "actions": [{"type": "DROP"}], "destinationName": "Amplitude"})
>>> [(r.destination, r.cond.text, [a.kind for a in r.actions]) for r in imp.rules]
[('Amplitude', 'event = "Test"', ['drop'])]
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from typing import Any

from . import fql
from .emit import TRUE, FALSE, Cond, condition
from .errors import FilterError, IRError
from .tree import from_ir, split_path

__all__ = ["FieldList", "Action", "Rule", "ConsentMap", "Imported", "read", "matcher_condition", "ir_condition",
           "fql_condition"]


@dataclass(frozen=True, slots=True)
class FieldList:
    """Keys of the object at a path (``()`` is the top level), as Segment's ``fields``."""

    path: tuple[str, ...]
    keys: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Action:
    """One thing a filter does: drop, sample, drop_properties, allow_properties, or unsupported."""

    kind: str
    fields: tuple[FieldList, ...] = ()
    percent: float = 1.0
    by: tuple[str | int, ...] | None = None
    note: str = ""


@dataclass(frozen=True, slots=True)
class Rule:
    """Actions applied to one destination (None: every destination) when a condition holds."""

    destination: str | None
    cond: Cond
    actions: tuple[Action, ...]
    label: str
    fql: str | None = None


@dataclass
class ConsentMap:
    """Consent categories (id -> display name) and the categories each destination needs (all of them)."""

    categories: dict[str, str | None] = field(default_factory=dict)
    destinations: dict[str, list[str]] = field(default_factory=dict)


@dataclass
class Imported:
    rules: list[Rule] = field(default_factory=list)
    consent: ConsentMap | None = None
    destinations: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    unnamed: dict[str, str] = field(default_factory=dict)  # placeholder name -> Segment destination id
    filters: int = 0  # filters read so far (an untitled filter is called by its number)

    def destination(self, name: str) -> None:
        if name not in self.destinations:
            self.destinations.append(name)


# ------------------------------------------------------------------ conditions


def fql_condition(text: str, where: str = "<fql>") -> Cond:
    """FQL text as a condition; ``all`` (Segment's match-everything) is true."""
    if isinstance(text, str) and text.strip() == "all":
        return TRUE
    return condition(fql.parse(text, where))


def ir_condition(ir: Any, where: str = "ir") -> Cond:
    """Compiled IR (decoded JSON) as a condition; an empty IR matches nothing (tsub-js)."""
    if ir is None or ir == "":
        return FALSE
    return condition(from_ir(ir, where))


def matcher_condition(matcher: Any, where: str = "matcher") -> tuple[Cond, str | None]:
    """A CDN routing-rule matcher ``{type: fql|all, ir: "<JSON>", config: {expr}}`` as (condition, FQL text).

    ``ir`` is the JSON text Segment ships (already-decoded JSON is accepted too); a
    matcher with no ``ir`` but a ``config.expr`` is read from its FQL.
    """
    if not isinstance(matcher, dict):
        raise FilterError.plain("a matcher must be an object", where=where)
    kind = matcher.get("type")
    config = matcher.get("config")
    expr = config.get("expr") if isinstance(config, dict) and isinstance(config.get("expr"), str) else None
    if kind == "all":
        return TRUE, expr
    if kind != "fql":
        raise FilterError.plain(f"unknown matcher type {kind!r} (Segment knows 'fql' and 'all')", where=f"{where}.type")
    if "ir" not in matcher and expr is not None:
        return fql_condition(expr, f"{where}.config.expr"), expr
    ir = matcher.get("ir")
    if isinstance(ir, str):
        if ir == "":
            return FALSE, expr
        try:
            ir = json.loads(ir)
        except (ValueError, RecursionError) as e:
            raise IRError.plain(f"the IR is not JSON: {e}", where=f"{where}.ir") from None
    return ir_condition(ir, f"{where}.ir"), expr


# ------------------------------------------------------------------ actions


def _fields(value: Any, where: str) -> tuple[FieldList, ...]:
    """``{"<path>": ["key", ...]}`` (``""`` the top level); the legacy ``{"<path>": {"fields": [...]}}`` too."""
    if not isinstance(value, dict):
        raise FilterError.plain('fields must be an object such as {"properties": ["email"]}', where=where)
    out = []
    for path, keys in value.items():
        if isinstance(keys, dict) and "fields" in keys:
            keys = keys["fields"]
        if not isinstance(keys, list) or not all(isinstance(k, str) for k in keys):
            raise FilterError.plain(f"the keys for {path!r} must be a list of strings", where=f"{where}.{path}")
        segs = tuple(path.split(".")) if path else ()
        out.append(FieldList(segs, tuple(dict.fromkeys(keys))))
    return tuple(out)


def _percent(value: Any, where: str) -> tuple[float, str]:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise FilterError.plain("percent must be a number between 0 and 1", where=where)
    if value < 0 or value > 1:
        # tsub-js: 0 or less never keeps, 1 or more always keeps.
        return (0.0 if value < 0 else 1.0), f"percent {value:g} is outside 0..1: read as {0 if value < 0 else 1}"
    return float(value), ""


def _sample(percent: Any, path: Any, where: str) -> Action:
    p, note = _percent(percent, f"{where}.percent")
    if path not in (None, "") and not isinstance(path, str):
        raise FilterError.plain("path must be a string", where=f"{where}.path")
    by = split_path(path).segments if path else None
    return Action("sample", percent=p, by=by, note=note)


_API_KINDS = {
    "DROP": "drop", "DROP_EVENT": "drop",
    "SAMPLE": "sample", "SAMPLE_EVENT": "sample",
    "DROP_PROPERTIES": "drop_properties", "BLOCKLIST_FIELDS": "drop_properties", "BLACKLIST_FIELDS": "drop_properties",
    "ALLOW_PROPERTIES": "allow_properties", "WHITELIST_FIELDS": "allow_properties",
    "ALLOWLIST_FIELDS": "allow_properties",
}


def api_action(a: Any, where: str) -> Action:
    """A Public API ``DestinationFilterActionV1`` (or a legacy action) as an Action."""
    if not isinstance(a, dict) or not isinstance(a.get("type"), str):
        raise FilterError.plain("an action must be an object with a type", where=where)
    kind = _API_KINDS.get(a["type"].upper())
    if kind is None:
        raise FilterError.plain(f"unknown action type {a['type']!r}", where=f"{where}.type",
                                hint="Segment's actions: DROP, SAMPLE, DROP_PROPERTIES, ALLOW_PROPERTIES")
    # An empty value is as good as none (API clients write "fields": {} on every action).
    present = {k for k in ("fields", "percent", "path") if a.get(k) not in (None, {}, [], "")}
    if kind == "drop":
        if present:
            raise FilterError.plain(f"a DROP action takes no {', '.join(sorted(present))}", where=where)
        return Action("drop")
    if kind == "sample":
        if "fields" in present:
            raise FilterError.plain("a SAMPLE action takes no fields", where=where)
        if "percent" not in present:
            raise FilterError.plain("a SAMPLE action needs a percent (0 to 1)", where=where)
        return _sample(a["percent"], a.get("path"), where)
    if "fields" not in present:
        raise FilterError.plain(f"a {a['type']} action needs fields", where=where)
    return Action(kind, fields=_fields(a["fields"], f"{where}.fields"))


def transformer_action(t: Any, where: str) -> Action:
    """A tsub transformer ``{type, config}`` as an Action (tsub-js's types and config shapes)."""
    if not isinstance(t, dict) or not isinstance(t.get("type"), str):
        raise FilterError.plain("a transformer must be an object with a type", where=where)
    kind, config = t["type"], t.get("config")
    if isinstance(config, str):  # older CDN settings carry the config as JSON text
        try:
            config = json.loads(config)
        except ValueError as e:
            raise FilterError.plain(f"config is not JSON: {e}", where=f"{where}.config") from None
    if kind == "drop":
        return Action("drop")
    known = {"drop_properties": "drop", "allow_properties": "allow", "sample": "sample", "sample_event": "sample",
             "map_properties": "map", "hash_properties": None}
    if kind not in known:
        raise FilterError.plain(f"transformer type {kind!r} is not supported", where=f"{where}.type",
                                hint="Segment's transformers: drop, drop_properties, allow_properties, sample, "
                                     "map_properties")
    if kind == "hash_properties":
        return Action("unsupported", note="hash_properties: accepted but not applied (a no-op in Segment's "
                                          "device-mode evaluator too)")
    key = known[kind]
    if not isinstance(config, dict) or not isinstance(config.get(key), dict):
        raise FilterError.plain(f"a {kind} transformer needs config.{key} (an object)", where=f"{where}.config")
    body = config[key]
    if kind in ("drop_properties", "allow_properties"):
        return Action(kind, fields=_fields(body, f"{where}.config.{key}"))
    if key == "sample":
        if "percent" not in body:
            raise FilterError.plain("config.sample needs a percent", where=f"{where}.config.sample")
        return _sample(body["percent"], body.get("path"), f"{where}.config.sample")
    text = json.dumps(body, ensure_ascii=False, sort_keys=True)
    return Action("unsupported", note=f"map_properties {text}: RouteQL cannot rename, copy, set or stringify "
                                      f"fields; not applied")


# ------------------------------------------------------------------ inputs


def _bool(v: Any, default: bool) -> bool:
    return v if isinstance(v, bool) else default


def _text(v: Any) -> str | None:
    return v if isinstance(v, str) and v else None


def _name(obj: dict[str, Any], key: str, where: str) -> str | None:
    """A destination name; one of the wrong type is an error (it must not read as "every destination")."""
    v = obj.get(key)
    if v is None:
        return None
    if not isinstance(v, str) or not v:
        raise FilterError.plain(f"{key} must be a destination name (text)", where=f"{where}.{key}")
    return v


def read_filter(f: Any, where: str, imp: Imported, destination: str | None = None,
                names: dict[str, str] | None = None) -> None:
    """One Public API filter ``{if, actions, title, enabled, destinationId, ...}``."""
    if not isinstance(f, dict):
        raise FilterError.plain("a filter must be an object", where=where)
    imp.filters += 1
    title = _text(f.get("title")) or _text(f.get("name")) or _text(f.get("id")) or f"#{imp.filters}"
    dest = destination or _name(f, "destinationName", where) or _text(f.get("destination"))
    dest_id = _text(f.get("destinationId"))
    if dest is None and dest_id is not None:
        dest = (names or {}).get(dest_id)
        if dest is None:
            dest = f"destination {dest_id}"
            imp.unnamed[dest] = dest_id
    if dest is not None:
        imp.destination(dest)
    if not _bool(f.get("enabled"), True):
        imp.skipped.append(f'filter "{title}" is disabled in Segment: not imported')
        return
    if "if" not in f:
        raise FilterError.plain('a filter needs an "if" (FQL; "all" matches every event)', where=where)
    if not isinstance(f["if"], str):
        raise FilterError.plain('"if" must be FQL text', where=f"{where}.if")
    actions = f.get("actions")
    if not isinstance(actions, list) or not actions:
        raise FilterError.plain("a filter needs a non-empty list of actions", where=f"{where}.actions")
    cond = fql_condition(f["if"], f"{where}.if")
    acts = tuple(api_action(a, f"{where}.actions[{i}]") for i, a in enumerate(actions))
    imp.rules.append(Rule(dest, cond, acts, f'filter "{title}"', f["if"]))


def read_routing_rule(r: Any, where: str, imp: Imported) -> None:
    """One CDN routing rule: ``matchers[i]`` selects the events ``transformers[i]`` applies to."""
    if not isinstance(r, dict):
        raise FilterError.plain("a routing rule must be an object", where=where)
    matchers, transformers = r.get("matchers"), r.get("transformers")
    if not isinstance(matchers, list) or not isinstance(transformers, list):
        raise FilterError.plain("a routing rule needs matchers and transformers (lists)", where=where)
    if len(matchers) != len(transformers):
        raise FilterError.plain(f"{len(matchers)} matchers but {len(transformers)} transformer lists: "
                                "they go in pairs", where=where)
    dest = _name(r, "destinationName", where)
    if dest is not None:
        imp.destination(dest)
    for i, (m, ts) in enumerate(zip(matchers, transformers)):
        cond, expr = matcher_condition(m, f"{where}.matchers[{i}]")
        if not isinstance(ts, list):
            raise FilterError.plain("a transformer list must be a list", where=f"{where}.transformers[{i}]")
        acts = tuple(transformer_action(t, f"{where}.transformers[{i}][{j}]") for j, t in enumerate(ts))
        imp.rules.append(Rule(dest, cond, acts, f"{where} matcher {i}", expr))


def _ids(v: Any, where: str) -> list[str]:
    if not isinstance(v, list) or not all(isinstance(x, str) and x for x in v):
        raise FilterError.plain("consent categories must be a list of category ids", where=where)
    return list(dict.fromkeys(v))


def read_consent(obj: dict[str, Any], imp: Imported) -> None:
    """A consent mapping, in any of three shapes (documented in docs/cli/import.md)."""
    cm = imp.consent or ConsentMap()
    found = False
    integrations = obj.get("integrations")
    if isinstance(integrations, dict):
        for name, settings in integrations.items():
            if name == "Segment.io":
                continue
            imp.destination(name)
            cs = settings.get("consentSettings") if isinstance(settings, dict) else None
            if isinstance(cs, dict) and "categories" in cs:
                found = True
                ids = _ids(cs["categories"], f"integrations.{name}.consentSettings.categories")
                cm.destinations[name] = ids
                for i in ids:
                    cm.categories.setdefault(i, None)
    top = obj.get("consentSettings")
    if isinstance(top, dict) and "allCategories" in top:
        found = True
        for i in _ids(top["allCategories"], "consentSettings.allCategories"):
            cm.categories.setdefault(i, None)
    mappings = obj.get("integrationCategoryMappings")
    if mappings is not None:
        if not isinstance(mappings, dict):
            raise FilterError.plain("must map destination names to category ids", where="integrationCategoryMappings")
        found = True
        for name, ids in mappings.items():
            ids = _ids(ids, f"integrationCategoryMappings.{name}")
            imp.destination(name)
            cm.destinations[name] = list(dict.fromkeys(cm.destinations.get(name, []) + ids))
            for i in ids:
                cm.categories.setdefault(i, None)
    cats = obj.get("consentCategories")
    if cats is not None:
        if not isinstance(cats, list):
            raise FilterError.plain("must be a list of {id, name, destinations}", where="consentCategories")
        found = True
        for k, c in enumerate(cats):
            w = f"consentCategories[{k}]"
            if not isinstance(c, dict) or not isinstance(c.get("id"), str) or not c["id"]:
                raise FilterError.plain("a category needs an id (its key in categoryPreferences)", where=w)
            cid = c["id"]
            cm.categories[cid] = _text(c.get("name")) or cm.categories.get(cid)
            dests = c.get("destinations", [])
            if not isinstance(dests, list) or not all(isinstance(d, str) and d for d in dests):
                raise FilterError.plain("destinations must be a list of destination names", where=f"{w}.destinations")
            for d in dests:
                imp.destination(d)
                cm.destinations.setdefault(d, [])
                if cid not in cm.destinations[d]:
                    cm.destinations[d].append(cid)
    if found:
        imp.consent = cm


_KNOWN_KEYS = ("if", "actions", "matchers", "transformers", "filters", "data", "destinations", "routingRules",
               "middlewareSettings", "integrations", "consentSettings", "integrationCategoryMappings",
               "consentCategories")


def _read_list(items: list[Any], where: str, imp: Imported, names: dict[str, str]) -> None:
    for i, item in enumerate(items):
        w = f"{where}[{i}]"
        if isinstance(item, dict) and ("matchers" in item or "transformers" in item):
            read_routing_rule(item, w, imp)
        else:
            read_filter(item, w, imp, names=names)


def _read_object(obj: dict[str, Any], imp: Imported) -> None:
    if "matchers" in obj or "transformers" in obj:
        read_routing_rule(obj, "rule", imp)
        return
    if "if" in obj or "actions" in obj:
        read_filter(obj, "filter", imp)
        return
    if not any(k in obj for k in _KNOWN_KEYS):
        raise FilterError.plain("nothing to import: expected destination filters (if/actions), routing rules "
                                "(matchers/transformers), CDN settings (integrations, middlewareSettings."
                                "routingRules) or a consent mapping", where="<input>")
    names: dict[str, str] = {}
    dests = obj.get("destinations")
    if dests is not None:
        if not isinstance(dests, list):
            raise FilterError.plain("must be a list of {id, name, filters}", where="destinations")
        for k, d in enumerate(dests):
            if not isinstance(d, dict):
                raise FilterError.plain("a destination must be an object", where=f"destinations[{k}]")
            name = _text(d.get("name"))
            if name is None:
                if not _text(d.get("id")):
                    raise FilterError.plain("a destination needs a name (or an id)", where=f"destinations[{k}]")
                name = f"destination {d['id']}"
                imp.unnamed[name] = d["id"]
            if _text(d.get("id")):
                names[d["id"]] = name
            imp.destination(name)
            filters = d.get("filters", [])
            if not isinstance(filters, list):
                raise FilterError.plain("filters must be a list", where=f"destinations[{k}].filters")
            for i, f in enumerate(filters):
                read_filter(f, f"destinations[{k}].filters[{i}]", imp, destination=name)
    data = obj.get("data")
    if isinstance(data, dict):
        _read_object(data, imp)
    filters = obj.get("filters")
    if filters is not None:
        if not isinstance(filters, list):
            raise FilterError.plain("must be a list of filters", where="filters")
        _read_list(filters, "filters", imp, names)
    if "integrations" in obj or "consentSettings" in obj or "integrationCategoryMappings" in obj \
            or "consentCategories" in obj:
        read_consent(obj, imp)
    rules = obj.get("routingRules")
    middleware = obj.get("middlewareSettings")
    if rules is None and isinstance(middleware, dict):
        rules = middleware.get("routingRules")
    if rules is not None:
        if not isinstance(rules, list):
            raise FilterError.plain("must be a list of routing rules", where="routingRules")
        for i, r in enumerate(rules):
            read_routing_rule(r, f"routingRules[{i}]", imp)


def read(obj: Any) -> Imported:
    """Everything importable in a decoded JSON document."""
    imp = Imported()
    if isinstance(obj, list):
        _read_list(obj, "", imp, {})
    elif isinstance(obj, dict):
        _read_object(obj, imp)
    else:
        raise FilterError.plain(f"expected a JSON object or list, got {type(obj).__name__}", where="<input>")
    return imp
