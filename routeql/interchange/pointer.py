"""JSON pointers (RFC 6901): a document and a path of keys in, the value or the pointer text out.

>>> child(child("", "properties"), "a/b")
'/properties/a~1b'
>>> get({"a": [{"b~c": 1}]}, "/a/0/b~0c")
(True, 1)
"""

from __future__ import annotations

from typing import Any

__all__ = ["child", "get", "json_kind", "lone_surrogate", "InterchangeError"]

from ..errors import RouteQLError


class InterchangeError(RouteQLError):
    """A JSON document that cannot be converted; ``.pointer`` says where (RFC 6901)."""

    def __init__(self, message: str, pointer: str = "", file: str = "") -> None:
        where = f"{file}#{pointer}" if file else f"#{pointer}" if pointer else ""
        super().__init__(f"{where}: {message}" if where else message)
        self.pointer = pointer
        self.file = file
        self.detail = message

    def __reduce__(self) -> Any:
        return (self.__class__, (self.detail, self.pointer, self.file))


def child(pointer: str, key: str | int) -> str:
    """The pointer to ``key`` inside the value at ``pointer``."""
    return pointer + "/" + str(key).replace("~", "~0").replace("/", "~1")


def get(doc: Any, pointer: str) -> tuple[bool, Any]:
    """(found, value) for a pointer into ``doc``; ``""`` is the whole document."""
    if pointer == "":
        return True, doc
    if not pointer.startswith("/"):
        return False, None
    value = doc
    for raw in pointer[1:].split("/"):
        token = raw.replace("~1", "/").replace("~0", "~")
        if isinstance(value, dict) and token in value:
            value = value[token]
        elif isinstance(value, list) and token.isdigit() and (token == "0" or not token.startswith("0")) \
                and int(token) < len(value):
            value = value[int(token)]
        else:
            return False, None
    return True, value


def _has_lone_surrogate(s: str) -> bool:
    if s.isascii():
        return False
    try:
        s.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def lone_surrogate(doc: Any, pointer: str = "") -> str | None:
    """The pointer to the first key or string in ``doc`` that holds a lone surrogate
    (JSON can spell one, ``"\\ud800"``; Unicode text, and so RouteQL source, cannot hold
    one), or None.

    >>> lone_surrogate({"a": ["ok", "x\\ud800"]}), lone_surrogate({"b": 1}), lone_surrogate({"\\udfff": 1})
    ('/a/1', None, '/\\udfff')
    """
    if isinstance(doc, str):
        return pointer if _has_lone_surrogate(doc) else None
    if isinstance(doc, dict):
        for k, v in doc.items():
            here = child(pointer, k)
            if isinstance(k, str) and _has_lone_surrogate(k):
                return here
            found = lone_surrogate(v, here)
            if found is not None:
                return found
    elif isinstance(doc, list):
        for i, v in enumerate(doc):
            found = lone_surrogate(v, child(pointer, i))
            if found is not None:
                return found
    return None


def json_kind(v: Any) -> str:
    """The JSON type of a decoded value, for messages."""
    if v is None:
        return "null"
    if isinstance(v, bool):
        return "boolean"
    if isinstance(v, (int, float)):
        return "number"
    if isinstance(v, str):
        return "string"
    if isinstance(v, list):
        return "array"
    return "object" if isinstance(v, dict) else type(v).__name__
