"""``routeql fmt PATH...``: rule files in, rewritten in the canonical layout (or checked, or diffed).

Files and directories in; out, the names of the files that changed (or a unified diff);
``-`` formats stdin to stdout.  The layout itself is routeql/fmt.py.
"""

from __future__ import annotations

import argparse
import difflib
import os
import sys
import tempfile
from pathlib import Path
from typing import Any, Iterator

from ..errors import RouteQLError
from ..fmt import format_source
from ._common import EXIT_FINDINGS, EXIT_INPUT, EXIT_OK, Console

HELP = """\
examples:
  routeql fmt rules/                   # rewrite every .rq file under rules/ in place
  routeql fmt --check rules/           # CI: exit 1 and list the files that are not formatted
  routeql fmt --diff rules/retail.rq   # show what would change, change nothing
  cat draft.rq | routeql fmt -         # format stdin to stdout

The layout: 2-space indentation, one statement per line, a blank line between
declarations, `=` `and` `or` `not`, double quotes, lines wrapped at 100 columns.
Comments are kept where they were.  See docs/cli/fmt.md.

exit codes: 0 formatted (or nothing to change), 1 files would change (--check, --diff),
2 a file does not parse or cannot be read (other files are still processed)
"""


def register(sub: Any) -> None:
    p = sub.add_parser("fmt", help="format rule files in the canonical layout", description=__doc__,
                       epilog=HELP, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("paths", nargs="+", metavar="PATH", help="a .rq file, a directory of them, or - for stdin")
    p.add_argument("--check", action="store_true", help="change nothing; exit 1 if any file would change")
    p.add_argument("--diff", action="store_true", help="change nothing; print a unified diff, exit 1 if any")
    p.set_defaults(run=run)


def files_of(path: str) -> list[Path]:
    """The files a PATH argument names: itself, or every ``.rq`` file under a directory."""
    p = Path(path)
    if p.is_dir():
        found = sorted(f for f in p.rglob("*.rq") if f.is_file())
        if not found:
            raise RouteQLError(f"{path}: no .rq files in this directory")
        return found
    if p.is_file():
        return [p]
    raise RouteQLError(f"{path}: no such file or directory")


def unified_diff(old: str, new: str, name: str) -> Iterator[str]:
    """A unified diff as ``diff -u`` writes it, ``\\ No newline at end of file`` included."""
    for line in difflib.unified_diff(old.splitlines(keepends=True), new.splitlines(keepends=True),
                                     fromfile=name, tofile=name):
        if line.endswith("\n"):
            yield line
        else:
            yield line + "\n\\ No newline at end of file\n"


def write_atomic(path: Path, text: str) -> None:
    """Replace a file's contents so a crash never leaves it half written."""
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as f:
            f.write(text)
        try:
            os.chmod(tmp, path.stat().st_mode & 0o7777)
        except OSError:
            pass
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


class _Run:
    def __init__(self, args: argparse.Namespace, console: Console) -> None:
        self.args, self.console = args, console
        self.changed = self.unchanged = self.failed = 0

    def show_diff(self, old: str, new: str, name: str) -> None:
        out = self.console.out
        for line in unified_diff(old, new, name):
            if out.is_terminal:
                style = {"+": "green", "-": "red", "@": "cyan"}.get(line[0])
                out.print(line, style=style, markup=False, end="", highlight=False)
            else:
                out.file.write(line)

    def one(self, name: str, old: str) -> str | None:
        """Format one text; report a parse error and return None."""
        try:
            return format_source(old, name)
        except RouteQLError as e:
            self.console.error(str(e))
            self.failed += 1
            return None

    def stdin(self) -> None:
        try:
            old = sys.stdin.buffer.read().decode("utf-8")
        except UnicodeDecodeError as e:
            self.console.error(f"<stdin>: not UTF-8 text ({e.reason} at byte {e.start})")
            self.failed += 1
            return
        new = self.one("<stdin>", old)
        if new is None:
            return
        self.count(old, new)
        if self.args.diff:
            self.show_diff(old, new, "<stdin>")
        elif not self.args.check:
            self.console.out.file.write(new)

    def file(self, path: Path) -> None:
        try:
            old = path.read_bytes().decode("utf-8")
        except UnicodeDecodeError as e:
            self.console.error(f"{path}: not UTF-8 text ({e.reason} at byte {e.start})")
            self.failed += 1
            return
        except OSError as e:
            self.console.error(f"{path}: cannot read ({e.strerror})")
            self.failed += 1
            return
        new = self.one(str(path), old)
        if new is None or not self.count(old, new):
            return
        if self.args.diff:
            self.show_diff(old, new, str(path))
            return
        if not self.args.check:
            try:
                write_atomic(path, new)
            except OSError as e:
                self.console.error(f"{path}: cannot write ({e.strerror})")
                self.failed += 1
                return
        self.console.text(str(path))

    def count(self, old: str, new: str) -> bool:
        if old == new:
            self.unchanged += 1
            return False
        self.changed += 1
        return True

    def summary(self) -> None:
        verb = "would be reformatted" if self.args.check or self.args.diff else "reformatted"
        parts = [f"{self.changed} file{'s' * (self.changed != 1)} {verb}",
                 f"{self.unchanged} unchanged"]
        if self.failed:
            parts.append(f"{self.failed} failed")
        self.console.note(", ".join(parts))


def run(args: argparse.Namespace, console: Console) -> int:
    job = _Run(args, console)
    seen: set[Path] = set()
    for path in args.paths:
        if path == "-":
            job.stdin()
            continue
        try:
            files = files_of(path)
        except RouteQLError as e:
            console.error(str(e))
            job.failed += 1
            continue
        for f in files:
            if f.resolve() not in seen:
                seen.add(f.resolve())
                job.file(f)
    if args.paths != ["-"]:
        job.summary()
    if job.failed:
        return EXIT_INPUT
    if job.changed and (args.check or args.diff):
        return EXIT_FINDINGS
    return EXIT_OK
