"""The ``routeql`` command: thin over the Python API, one module per subcommand.

Exit codes, for every subcommand: 0 ok, 1 findings or failures (a check error, a
failing test, new flows), 2 usage or input errors (bad arguments, unreadable files,
rules that do not load where rules are only an input).
"""

from __future__ import annotations

import argparse
import importlib
import pkgutil
import sys
from typing import Sequence

from ..errors import RouteQLError
from ._common import EXIT_INPUT, Console, tolerant_output

__all__ = ["main", "COMMANDS"]

#: The order subcommands are listed in ``routeql --help``; modules not listed here
#: follow alphabetically.  Every public module of this package is a subcommand: it
#: defines ``register(subparsers)``, which adds its parser with ``set_defaults(run=...)``.
ORDER = ("check", "fmt", "test", "explain", "route", "diff", "matrix", "compile", "bench", "stats", "plan",
         "import_")


def _command_modules() -> list[str]:
    found = sorted(m.name for m in pkgutil.iter_modules(__path__) if not m.name.startswith("_"))
    return [m for m in ORDER if m in found] + [m for m in found if m not in ORDER]


COMMANDS = _command_modules()

_EPILOG = """\
exit codes: 0 ok, 1 findings or failures, 2 usage or input errors
docs: docs/cli.md  |  language: docs/language.md
"""


def build_parser() -> argparse.ArgumentParser:
    from .. import __version__

    parser = argparse.ArgumentParser(
        prog="routeql",
        description="RouteQL: consent-aware routing rules for customer event data.",
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"routeql {__version__}")
    parser.add_argument("--color", choices=("auto", "always", "never"), default="auto",
                        help="colour output (default: auto, on a terminal)")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for module in COMMANDS:
        importlib.import_module(f"{__name__}.{module}").register(sub)
    for command in sub.choices.values():  # --color works after the subcommand too
        command.add_argument("--color", choices=("auto", "always", "never"), default=argparse.SUPPRESS,
                             help="colour output (default: auto, on a terminal)")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as e:  # argparse: --help exits 0, usage errors exit 2
        return int(e.code or 0)
    if not args.command:
        parser.print_help(sys.stderr)
        return EXIT_INPUT
    tolerant_output()
    console = Console(args.color)
    try:
        return int(args.run(args, console))
    except RouteQLError as e:
        console.error(str(e))
        return EXIT_INPUT
    except KeyboardInterrupt:
        console.error("interrupted")
        return 130
    except BrokenPipeError:
        return 0
    except OSError as e:  # a file the command could not read or write mid-way (disk full, permissions)
        console.error(f"{e.filename}: {e.strerror or e}" if e.filename else f"input/output error: {e.strerror or e}")
        return EXIT_INPUT


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
