"""Fixture file text (YAML or JSON) -> plain JSON data, plus the source line of every node.

Pydantic reports an error as a location (``("cases", 2, "expect", "google_ads")``);
:meth:`Document.line` walks the composed YAML node tree along that location to the line
people need to look at.  The YAML dialect is deliberately JSON-like, because fixtures
hold events: only ``true``/``false`` are booleans (``NO``, the country code of Norway,
stays a string), timestamps stay strings, ``0123`` stays a string, and a key given twice
in one mapping is an error instead of silently keeping the last value.

>>> doc = parse_document("cases:\\n  - name: a\\n    event: {type: page}\\n", "f.yaml")
>>> doc.data["cases"][0]["event"], doc.line(("cases", 0, "event"))
({'type': 'page'}, 3)
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

import yaml

from ..errors import RouteQLError

__all__ = ["Problem", "FixtureError", "Document", "parse_document", "read_document"]


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing wrong with a fixture file, at a line (0 when the file itself is the problem)."""

    file: str
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.message}" if self.line else f"{self.file}: {self.message}"

    def to_dict(self) -> dict[str, Any]:
        return {"file": self.file, "line": self.line, "message": self.message}


class _Problems(Exception):
    def __init__(self, problems: list[Problem]) -> None:
        super().__init__("\n".join(map(str, problems)))
        self.problems = problems


class FixtureError(RouteQLError):
    """Fixture files that cannot be used: every problem, each at file:line."""

    def __init__(self, problems: Sequence[Problem]) -> None:
        self.problems = list(problems)
        head = f"{len(self.problems)} problem{'s' * (len(self.problems) != 1)} in fixtures:"
        super().__init__("\n".join([head, *(f"  {p}" for p in self.problems)]))

    def __reduce__(self) -> Any:
        return (FixtureError, (self.problems,))


class _Loader(yaml.SafeLoader):
    """SafeLoader with JSON-like scalars (see the module docstring for why)."""


_Loader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers
            if tag not in ("tag:yaml.org,2002:bool", "tag:yaml.org,2002:timestamp",
                           "tag:yaml.org,2002:int", "tag:yaml.org,2002:float")]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_Loader.add_implicit_resolver("tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"),
                              list("tTfF"))
_Loader.add_implicit_resolver("tag:yaml.org,2002:int", re.compile(r"^[-+]?(?:0|[1-9][0-9]*)$"),
                              list("-+0123456789"))
_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(r"^[-+]?(?:(?:0|[1-9][0-9]*)\.[0-9]*(?:[eE][-+]?[0-9]+)?|\.[0-9]+(?:[eE][-+]?[0-9]+)?"
               r"|(?:0|[1-9][0-9]*)[eE][-+]?[0-9]+)$"),
    list("-+0123456789."))


@dataclass
class Document:
    """Parsed fixture data and the node tree it came from (None for a JSON fallback)."""

    file: str
    data: Any
    root: yaml.Node | None

    def node(self, loc: Sequence[str | int], *, key: bool = False) -> yaml.Node | None:
        """The deepest node reachable along ``loc`` (the key's node when ``key`` is true
        and the whole location was found)."""
        current = self.root
        for i, part in enumerate(loc):
            last = i == len(loc) - 1
            if isinstance(current, yaml.MappingNode) and isinstance(part, str):
                for k, v in current.value:
                    if isinstance(k, yaml.ScalarNode) and k.value == part:
                        current = k if (last and key) else v
                        break
                else:
                    if last:
                        return current
                    # A step the data does not have (the `consent:` of a short-form
                    # consent state, added by the schema): skip it, keep walking.
                    continue
            elif isinstance(current, yaml.SequenceNode) and isinstance(part, int) and 0 <= part < len(current.value):
                current = current.value[part]
            else:
                return current
        return current

    def line(self, loc: Sequence[str | int], *, key: bool = False) -> int:
        """1-based line of the node at ``loc`` (or of the deepest one found on the way)."""
        node = self.node(loc, key=key)
        return node.start_mark.line + 1 if node is not None else 1


def _problem_at(file: str, exc: yaml.MarkedYAMLError) -> Problem:
    mark = exc.problem_mark or exc.context_mark
    context = exc.context or ""
    if context and exc.context_mark is not None and mark is not None and exc.context_mark.line != mark.line:
        context += f" (from line {exc.context_mark.line + 1})"
    what = ": ".join(x for x in (context, exc.problem) if x) or "not valid YAML"
    if mark is None:
        return Problem(file, 0, f"not valid YAML: {what}")
    return Problem(file, mark.line + 1, f"not valid YAML (column {mark.column + 1}): {what}")


def _duplicates(file: str, node: yaml.Node | None, out: list[Problem], seen: set[int]) -> None:
    """Every mapping key given twice (PyYAML would silently keep the last value)."""
    if node is None or id(node) in seen:
        return
    seen.add(id(node))
    if isinstance(node, yaml.MappingNode):
        first: dict[str, int] = {}
        for k, v in node.value:
            if isinstance(k, yaml.ScalarNode):
                if k.value in first:
                    out.append(Problem(file, k.start_mark.line + 1,
                                       f"key '{k.value}' is given twice in this mapping (first on line {first[k.value]})"))
                else:
                    first[k.value] = k.start_mark.line + 1
            _duplicates(file, v, out, seen)
    elif isinstance(node, yaml.SequenceNode):
        for item in node.value:
            _duplicates(file, item, out, seen)


def _compose(text: str, file: str) -> tuple[Any, yaml.Node | None]:
    try:
        loader = _Loader(text)
    except yaml.reader.ReaderError as e:  # a character YAML does not allow, found before parsing
        line = text.count("\n", 0, e.position) + 1 if isinstance(e.position, int) else 0
        char = f"U+{e.character:04X}" if isinstance(e.character, int) else repr(e.character)
        raise _Problems([Problem(file, line, f"not valid YAML: character {char} is not allowed "
                                             "(write it as an escape in a double-quoted string)")]) from None
    try:
        root = loader.get_single_node()
        data = loader.construct_document(root) if root is not None else None
    except yaml.MarkedYAMLError as e:
        raise _Problems([_problem_at(file, e)]) from None
    except yaml.YAMLError as e:
        raise _Problems([Problem(file, 0, f"not valid YAML: {e}")]) from None
    except RecursionError:
        raise _Problems([Problem(file, 0, "nested too deeply")]) from None
    finally:
        loader.dispose()
    problems: list[Problem] = []
    _duplicates(file, root, problems, set())
    if problems:
        raise _Problems(problems)
    return data, root


def _json_pairs(file: str) -> Any:
    def hook(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for k, v in pairs:
            if k in out:
                raise _Problems([Problem(file, 0, f"key '{k}' is given twice in one object")])
            out[k] = v
        return out
    return hook


def parse_document(text: str, file: str, *, json_only: bool = False) -> Document:
    """Parse fixture text; raises ``FixtureError`` with file:line problems.

    JSON is checked by the JSON parser first (its errors have exact positions), then
    composed as YAML (JSON is YAML) for the line numbers of later schema errors.
    """
    try:
        if json_only:
            try:
                data = json.loads(text, object_pairs_hook=_json_pairs(file))
            except json.JSONDecodeError as e:
                raise _Problems([Problem(file, e.lineno, f"not valid JSON (column {e.colno}): {e.msg}")]) from None
            except RecursionError:
                raise _Problems([Problem(file, 0, "nested too deeply")]) from None
            except _Problems as dup:
                _compose(text, file)  # the YAML reading finds the same duplicate, with its line
                raise dup from None
            try:
                _, root = _compose(text, file)
            except _Problems:
                root = None  # valid JSON that PyYAML reads differently: keep the data, lose the lines
            return Document(file, data, root)
        data, root = _compose(text, file)
        return Document(file, data, root)
    except _Problems as p:
        raise FixtureError(p.problems) from None


def read_document(path: str | Path, display: str | None = None) -> Document:
    """Read and parse one fixture (or event) file; ``.json`` files are read as JSON."""
    p = Path(path)
    name = display or str(path)
    try:
        text = p.read_text(encoding="utf-8-sig")  # (a byte-order mark at the start is not content)
    except UnicodeDecodeError as e:
        raise FixtureError([Problem(name, 0, f"not UTF-8 text ({e.reason} at byte {e.start})")]) from None
    except OSError as e:
        raise FixtureError([Problem(name, 0, f"cannot read ({e.strerror or e})")]) from None
    return parse_document(text, name, json_only=p.suffix.lower() == ".json")
