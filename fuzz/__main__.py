"""``python -m fuzz``: fuzz every target (or some) for a time budget, print a report.

examples:
  python -m fuzz --seconds 300                 # every target, 300 s in all, best engine
  python -m fuzz --seconds 60 --target rules_text --target event_line
  python -m fuzz --seconds 600 --engine atheris
  python -m fuzz --list

exit codes: 0 no finding, 1 findings (printed, with the input that triggers each),
2 usage errors.
"""

from __future__ import annotations

import argparse
import sys

from .engines import atheris_available, default_database, run_atheris, run_hypothesis
from .targets import TARGETS


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m fuzz", description=__doc__.splitlines()[0],
                                epilog="\n".join(__doc__.splitlines()[2:]),
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--seconds", type=float, default=60.0,
                   help="total time budget, split evenly between the targets (default 60)")
    p.add_argument("--target", action="append", choices=sorted(TARGETS), help="fuzz only this target (repeatable)")
    p.add_argument("--engine", choices=("auto", "atheris", "hypothesis"), default="auto",
                   help="auto: atheris when installed (coverage-guided), else Hypothesis")
    p.add_argument("--list", action="store_true", help="list the targets and exit")
    args = p.parse_args(argv)
    if args.list:
        for name, t in TARGETS.items():
            print(f"{name:<14} {t.doc}")
        return 0
    if args.seconds <= 0:
        p.error("--seconds must be positive")
    engine = args.engine
    if engine == "auto":
        engine = "atheris" if atheris_available() else "hypothesis"
    elif engine == "atheris" and not atheris_available():
        p.error("atheris is not installed: pip install atheris (or use --engine hypothesis)")
    names = args.target or list(TARGETS)
    share = args.seconds / len(names)
    print(f"fuzzing {len(names)} target(s) with {engine}, {share:.0f} s each", flush=True)
    failed = False
    for name in names:
        t = TARGETS[name]
        report = run_atheris(t, share) if engine == "atheris" else run_hypothesis(t, share, database=default_database())
        print(report.line(), flush=True)
        for f in report.findings:
            failed = True
            print(f"  FINDING in {name}:\n    " + f.replace("\n", "\n    "), flush=True)
    print("no findings" if not failed else "findings: see above", flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
