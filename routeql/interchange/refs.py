"""A schema document and a pointer in, the schema with its ``$ref`` chain followed out.

:class:`Reader` is the base of the schema reader: it collects notes (deduplicated: a
definition used twice is reported once) and follows local references -- JSON pointers
into the schema's own document first (as JSON Schema says), then into the whole file --
refusing cycles, which would make an infinite plan.

>>> r = Reader({"definitions": {"id": {"type": "string"}}, "properties": {"a": {"$ref": "#/definitions/id"}}})
>>> with r.follow({"$ref": "#/definitions/id"}, "/properties/a") as (schema, pointer, _):
...     print(schema, pointer)
{'type': 'string'} /definitions/id
"""

from __future__ import annotations

from contextlib import contextmanager
from typing import Any, Iterator
from urllib.parse import unquote

from .draft import Note
from .pointer import InterchangeError, child, get, json_kind

__all__ = ["Reader", "SILENT", "ANNOTATIONS"]

#: keywords that neither validate nor document: read without a word
SILENT = frozenset({"$schema", "$id", "$comment", "definitions", "$defs"})
#: annotations RouteQL has no place for (it keeps descriptions only)
ANNOTATIONS = frozenset({"title", "examples", "default", "readOnly", "writeOnly", "contentMediaType",
                         "contentEncoding", "deprecated"})


class Reader:
    """Reads the schemas of one document: collects notes, resolves local ``$ref``.

    ``doc`` is the schema document ``$ref`` fragments resolve against first (an event's
    schema, at ``doc_pointer`` in the file), ``file_root`` the whole file (tried next).
    """

    def __init__(self, doc: Any, doc_pointer: str = "", *, file_root: Any = None, file: str = "",
                 notes: list[Note] | None = None) -> None:
        self.doc = doc
        self.doc_pointer = doc_pointer
        self.file_root = doc if file_root is None else file_root
        self.file = file
        self.notes: list[Note] = [] if notes is None else notes
        self._active: list[str] = []  # $ref targets being expanded (a repeat is a cycle)

    # ------------------------------------------------------------ reporting
    def note(self, pointer: str, message: str) -> None:
        item = Note(pointer, message)
        if item not in self.notes:  # a definition used twice is reported once
            self.notes.append(item)

    def error(self, pointer: str, message: str) -> InterchangeError:
        return InterchangeError(message, pointer, self.file)

    # ------------------------------------------------------------ $ref
    def _resolve(self, ref: str, pointer: str) -> tuple[str, Any] | None:
        if not ref.startswith("#"):
            self.note(pointer, f"$ref '{ref}' is not local: only references into this file (#/...) are "
                               "resolved; treated as any value")
            return None
        frag = unquote(ref[1:])
        if frag and not frag.startswith("/"):
            self.note(pointer, f"$ref '{ref}' names an anchor; only JSON pointers (#/...) are resolved; "
                               "treated as any value")
            return None
        for root, root_pointer in ((self.doc, self.doc_pointer), (self.file_root, "")):
            found, value = get(root, frag)
            if found:
                return root_pointer + frag, value
        raise self.error(pointer, f"$ref '{ref}' points nowhere: there is no {frag or 'root'} in this schema")

    @contextmanager
    def follow(self, schema: Any, pointer: str) -> Iterator[tuple[Any, str, str | None]]:
        """(schema, its pointer, a description written beside ``$ref``) with refs followed.

        The schema is a dict, or ``False`` (nothing is valid); ``True`` reads as ``{}``."""
        pushed = 0
        desc: str | None = None
        try:
            while isinstance(schema, dict) and "$ref" in schema:
                ref = schema["$ref"]
                if not isinstance(ref, str):
                    raise self.error(child(pointer, "$ref"), f"$ref must be a string, got {json_kind(ref)}")
                if isinstance(schema.get("description"), str) and desc is None:
                    desc = schema["description"]
                ignored = sorted(k for k in schema if k not in ("$ref", "description") and k not in SILENT)
                if ignored:
                    self.note(pointer, "keywords beside $ref are ignored in draft-07: " + ", ".join(ignored))
                target = self._resolve(ref, child(pointer, "$ref"))
                if target is None:
                    schema = {}
                    break
                target_pointer, schema = target
                if target_pointer in self._active:
                    cycle = self._active[self._active.index(target_pointer):] + [target_pointer]
                    chain = " -> ".join(f"#{p}" for p in cycle)
                    raise self.error(child(pointer, "$ref"), f"recursive $ref (RouteQL plans are finite): {chain}")
                self._active.append(target_pointer)
                pushed += 1
                pointer = target_pointer
            if schema is True:
                schema = {}
            elif schema is not False and not isinstance(schema, dict):
                raise self.error(pointer, f"a schema must be an object or a boolean, got {json_kind(schema)}")
            yield schema, pointer, desc
        finally:
            if pushed:
                del self._active[-pushed:]
