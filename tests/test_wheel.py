"""The wheel: built from the tree, installed in a fresh venv outside it, routes an event."""

from __future__ import annotations

import subprocess
import sys
import venv
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.slow
def test_wheel_ships_the_grammar_and_routes(tmp_path: Path) -> None:
    dist = tmp_path / "dist"
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--disable-pip-version-check", "-q",
                    "-w", str(dist), str(ROOT)], check=True, cwd=tmp_path)
    [wheel] = list(dist.glob("routeql-*.whl"))
    names = zipfile.ZipFile(wheel).namelist()
    assert "routeql/grammar/routeql.lark" in names
    assert "routeql/py.typed" in names
    assert not any(n.startswith(("tests/", "rules/")) for n in names)

    env_dir = tmp_path / "venv"
    venv.EnvBuilder(with_pip=True).create(env_dir)
    py = env_dir / "bin" / "python"
    subprocess.run([str(py), "-m", "pip", "install", "-q", "--disable-pip-version-check", str(wheel)],
                   check=True, cwd=tmp_path)
    rules = tmp_path / "rules.rq"
    rules.write_text('consent { category analytics from segment "Analytics" }\n'
                     'destination amplitude { requires analytics  when type = "track"  keep event }\n')
    script = (
        "import routeql, json\n"
        "assert 'site-packages' in routeql.__file__, routeql.__file__\n"
        f"r = routeql.load({str(rules)!r})\n"
        "ev = {'type': 'track', 'event': 'Signed Up', 'context': {'consent': {'categoryPreferences': {'Analytics': True}}}}\n"
        "print(json.dumps(r.route(ev).deliveries))\n"
    )
    out = subprocess.run([str(py), "-c", script], check=True, cwd=tmp_path, capture_output=True, text=True)
    assert out.stdout.strip() == '{"amplitude": {"event": "Signed Up"}}'
    check = subprocess.run([str(env_dir / "bin" / "routeql"), "check", str(rules)], cwd=tmp_path,
                           capture_output=True, text=True)
    assert check.returncode == 0, check.stdout + check.stderr
