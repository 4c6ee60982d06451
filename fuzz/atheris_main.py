"""``python -m fuzz.atheris_main TARGET [libFuzzer flags] [CORPUS_DIR]``: one target under atheris.

Started by :func:`fuzz.engines.run_atheris` in a subprocess (libFuzzer exits the process
when done).  The ``routeql`` package is imported under atheris's instrumentation so that
libFuzzer sees its branches; a finding raises out of the input function, which makes
libFuzzer save the input to the artifact prefix and exit non-zero.
"""

from __future__ import annotations

import sys
from typing import Any


def main(argv: list[str]) -> None:
    import atheris

    with atheris.instrument_imports(include=["routeql"]):
        import routeql  # noqa: F401
        import routeql.cli.route  # noqa: F401
        import routeql.consent  # noqa: F401
        import routeql.fmt  # noqa: F401

    from hypothesis import HealthCheck, given, settings

    from .harness import run_one
    from .targets import TARGETS

    name, flags = argv[1], argv[2:]
    target = TARGETS[name]

    if target.raw is not None:
        raw = target.raw

        def one_input(data: bytes) -> None:
            _note(run_one(target, raw(data)))
    else:
        @settings(database=None, deadline=None, suppress_health_check=list(HealthCheck))
        @given(target.strategy())
        def structured(value: Any) -> None:
            _note(run_one(target, value))

        fuzz_one = structured.hypothesis.fuzz_one_input

        def one_input(data: bytes) -> None:
            fuzz_one(data)

    atheris.Setup([argv[0], *flags], one_input)
    atheris.Fuzz()


def _note(bug: Any) -> None:
    if bug is not None:
        print(f"known bug: {bug.id}", file=sys.stderr)


if __name__ == "__main__":
    main(sys.argv)
