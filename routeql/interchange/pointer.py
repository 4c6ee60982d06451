"""JSON pointers (RFC 6901): a document and a path of keys in, the value or the pointer text out.

>>> child(child("", "properties"), "a/b")
'/properties/a~1b'
>>> get({"a": [{"b~c": 1}]}, "/a/0/b~0c")
(True, 1)
"""

from __future__ import annotations

from typing import Any

__all__ = ["child", "get", "json_kind", "InterchangeError"]

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
