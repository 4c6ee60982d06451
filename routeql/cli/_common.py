"""What every subcommand shares: output, colour, progress, loading rules and events."""

from __future__ import annotations

import json
import os
import stat
import sys
from pathlib import Path
from typing import IO, Any, Iterator

from rich.console import Console as RichConsole
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from ..engine import RuleSet, load
from ..errors import RouteQLError

__all__ = ["EXIT_OK", "EXIT_FINDINGS", "EXIT_INPUT", "OUTPUT_ERRORS", "Console", "load_rules", "read_lines", "open_input", "input_size",
           "read_json", "tolerant_output", "cannot_write", "write_text", "write_bytes"]

EXIT_OK = 0
EXIT_FINDINGS = 1
EXIT_INPUT = 2

#: how every output (stdout, stderr, the files the commands write) treats a character its
#: encoding cannot hold.  JSON may spell a lone surrogate (``"\ud800"``), so events carry
#: them, and UTF-8 cannot encode one: written as ``\ud800``, which in JSON text is the very
#: escape it came in as, and in a table or a page a visible stand-in, never a crash.
OUTPUT_ERRORS = "backslashreplace"


def tolerant_output() -> None:
    """Set stdout and stderr to :data:`OUTPUT_ERRORS` (where they can be reconfigured)."""
    for stream in (sys.stdout, sys.stderr):
        reconfigure = getattr(stream, "reconfigure", None)
        if reconfigure is not None:
            try:
                reconfigure(errors=OUTPUT_ERRORS)
            except (ValueError, OSError):  # (a stream that cannot change now: leave it)
                pass


def cannot_write(path: str | Path, e: OSError) -> RouteQLError:
    """The error for an output the command cannot write (one wording for every command)."""
    return RouteQLError(f"{path}: cannot write ({e.strerror or e})")


def write_text(path: str | Path, text: str) -> None:
    """Write ``text`` to ``path`` as UTF-8, with :data:`OUTPUT_ERRORS`; RouteQLError if it cannot."""
    try:
        Path(path).write_text(text, encoding="utf-8", errors=OUTPUT_ERRORS)
    except OSError as e:
        raise cannot_write(path, e) from None


def write_bytes(path: str | Path, data: bytes, *, parents: bool = False) -> None:
    """Write ``data`` to ``path`` (creating its directory first when ``parents``); RouteQLError if it cannot."""
    try:
        if parents:
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        Path(path).write_bytes(data)
    except OSError as e:
        raise cannot_write(path, e) from None


class Console:
    """stdout for results, stderr for messages; colour only on a terminal (or when asked)."""

    def __init__(self, color: str = "auto") -> None:
        force = {"always": True, "never": False}.get(color)
        no_color = color == "never" or (color == "auto" and "NO_COLOR" in os.environ)
        self.out = RichConsole(file=sys.stdout, force_terminal=force, no_color=no_color, highlight=False,
                               soft_wrap=True, emoji=False)
        self.err = RichConsole(file=sys.stderr, force_terminal=force, no_color=no_color, highlight=False,
                               soft_wrap=True, emoji=False)

    @property
    def interactive(self) -> bool:
        return self.err.is_terminal

    def print(self, *objects: Any, **kw: Any) -> None:
        self.out.print(*objects, **kw)

    def text(self, text: str) -> None:
        """Plain text to stdout, no markup interpretation."""
        self.out.print(text, markup=False)

    def error(self, message: str) -> None:
        self.err.print(message, markup=False, style="red" if self.err.is_terminal else None)

    def note(self, message: str) -> None:
        self.err.print(message, markup=False)

    def progress(self, total: int | None = None, description: str = "routing") -> "Progress | _NoProgress":
        if not self.err.is_terminal:
            return _NoProgress()
        return Progress(TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
                        TimeElapsedColumn(), console=self.err, transient=True)


class _NoProgress:
    """Quiet stand-in for rich's Progress when stderr is not a terminal."""

    def __enter__(self) -> "_NoProgress":
        return self

    def __exit__(self, *exc: Any) -> None:
        return None

    def add_task(self, *args: Any, **kw: Any) -> int:
        return 0

    def advance(self, *args: Any, **kw: Any) -> None:
        return None

    def update(self, *args: Any, **kw: Any) -> None:
        return None


def load_rules(path: str, **options: Any) -> RuleSet:
    """Load rules; errors propagate as RouteQLError (the caller decides the exit code)."""
    return load(path, **options)


def open_input(path: str) -> IO[bytes]:
    """A file, or stdin for ``-``, opened in binary (lines are decoded per line).  A pipe
    or a device is fine (``<(zcat events.jsonl.gz)``, ``/dev/null``); a directory is not."""
    if path == "-":
        return sys.stdin.buffer
    p = Path(path)
    if p.is_dir():
        raise RouteQLError(f"{path}: a directory, not a file")
    try:
        return p.open("rb")
    except FileNotFoundError:
        raise RouteQLError(f"{path}: no such file") from None
    except OSError as e:
        raise RouteQLError(f"{path}: cannot read ({e.strerror or e})") from None


def input_size(stream: IO[bytes]) -> int | None:
    """The size in bytes of a regular file (for a progress bar); None for stdin, a pipe or a device."""
    try:
        st = os.fstat(stream.fileno())
    except (OSError, ValueError, AttributeError):  # (a stream without a descriptor: a test's stdin)
        return None
    return st.st_size if stat.S_ISREG(st.st_mode) else None


def read_json(path: str) -> Any:
    """Decode a JSON file (or stdin); a syntax error names the line and column."""
    shown = "stdin" if path == "-" else path
    try:
        raw = sys.stdin.buffer.read() if path == "-" else Path(path).read_bytes()
    except OSError as e:
        raise RouteQLError(f"{shown}: cannot read: {e.strerror or e}") from None
    try:
        return json.loads(raw.decode("utf-8-sig"))
    except UnicodeDecodeError:
        raise RouteQLError(f"{shown}: not UTF-8 text") from None
    except json.JSONDecodeError as e:
        raise RouteQLError(f"{shown}:{e.lineno}:{e.colno}: not JSON: {e.msg}") from None
    except RecursionError:
        raise RouteQLError(f"{shown}: JSON nested too deeply") from None


def read_lines(stream: IO[bytes]) -> Iterator[tuple[int, bytes]]:
    """(line number, raw line) for every line of a stream, including blank ones."""
    for number, line in enumerate(stream, start=1):
        yield number, line


def dump_json(value: Any) -> str:
    """One line of JSON (strict: NaN and Infinity are not JSON; non-JSON floats become null)."""
    try:
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    except ValueError:
        return json.dumps(_finite_only(value), ensure_ascii=False, separators=(",", ":"), allow_nan=False)


def _finite_only(v: Any) -> Any:
    if v.__class__ is float and (v != v or v in (float("inf"), float("-inf"))):
        return None
    if v.__class__ is dict:
        return {k: _finite_only(x) for k, x in v.items()}
    if v.__class__ is list:
        return [_finite_only(x) for x in v]
    return v
