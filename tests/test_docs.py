"""The docs stay true: every rule example compiles, every Python example runs."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

import routeql
from routeql.codes import CODES

ROOT = Path(__file__).resolve().parent.parent
DOCS = sorted([ROOT / "README.md", *(ROOT / "docs").rglob("*.md")])
FENCE = re.compile(r"^```(\S+)[ ]*([^\n]*)\n(.*?)^```", re.M | re.S)


def blocks(kind: str, *, with_info: bool = False) -> list[tuple[str, str]]:
    out = []
    for path in DOCS:
        text = path.read_text(encoding="utf-8")
        for m in FENCE.finditer(text):
            if m.group(1) == kind:
                where = f"{path.relative_to(ROOT)}:{text[: m.start()].count(chr(10)) + 1}"
                out.append((f"{where} {m.group(2)}".strip() if with_info else where, m.group(3)))
    return out


@pytest.mark.parametrize("where,text", blocks("routeql"), ids=lambda x: x if ":" in str(x) else "")
def test_rule_examples_compile(where: str, text: str, monkeypatch: pytest.MonkeyPatch) -> None:
    for var in re.findall(r'salt env "(\w+)"', text):
        monkeypatch.setenv(var, "example-salt")
    salts = {name: "example" for name in re.findall(r'salt config "(\w+)"', text)}
    routeql.loads(text, where, salts=salts)


def test_multi_file_examples_compile_together() -> None:
    """``routeql-file`` blocks of one page are the files of one rule set."""
    from routeql.engine import compile_sources

    by_page: dict[str, dict[str, str]] = {}
    for where, text in blocks("routeql-file"):
        page = where.split(":")[0]
        by_page.setdefault(page, {})[where] = text
    assert by_page, "no routeql-file examples found"
    for page, files in by_page.items():
        compile_sources(files)


@pytest.mark.parametrize("where,text", blocks("routeql-condition"), ids=lambda x: x if ":" in str(x) else "")
def test_condition_examples_compile(where: str, text: str) -> None:
    for line in text.strip().splitlines():
        routeql.predicate(line)


@pytest.mark.parametrize("where,text", [b for b in blocks("python") if "README" in b[0]], ids=lambda x: x if ":" in str(x) else "")
def test_readme_python_runs(where: str, text: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
    exec(compile(text, where, "exec"), {})


def test_readme_shows_the_two_commands() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "make demo" in readme and "make test" in readme


def test_every_diagnostic_code_is_documented() -> None:
    doc = (ROOT / "docs" / "diagnostics.md").read_text(encoding="utf-8")
    for code in CODES:
        assert f"## {code}" in doc, f"docs/diagnostics.md has no section for {code}"


@pytest.mark.parametrize("where,text", blocks("routeql-bad", with_info=True), ids=lambda x: x if ":" in str(x) else "")
def test_bad_examples_produce_their_code(where: str, text: str) -> None:
    code = where.rsplit(" ", 1)[-1]
    try:
        rules = routeql.loads(text, "rules.rq")
        found = [d.code for d in rules.warnings]
    except routeql.RouteQLError as e:
        found = [d.code for d in e.diagnostics]
    assert code in found, (where, found)


def test_api_page_runs_as_one_script(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    """docs/api.md's Python blocks, in order, share one namespace: the page is a script."""
    monkeypatch.chdir(ROOT)
    namespace: dict[str, object] = {}
    page = [(w, t) for w, t in blocks("python") if w.startswith("docs/api.md")]
    assert len(page) >= 10, "docs/api.md lost its examples"
    for where, text in page:
        exec(compile(text, where, "exec"), namespace)
    assert "google_ads" in capsys.readouterr().out  # (rules.explain printed)


LINK = re.compile(r"\]\(([^)\s]+)\)")


def _slug(heading: str) -> str:
    """A heading's anchor as GitHub makes it: lower case, punctuation but - and _ gone,
    spaces as -."""
    text = re.sub(r"[`*]", "", heading.strip().lower())
    return re.sub(r"[^\w\- ]", "", text).replace(" ", "-")


def _anchors(path: Path) -> set[str]:
    text = FENCE.sub("", path.read_text(encoding="utf-8"))  # (a # inside a code block is no heading)
    return {_slug(m.group(1)) for m in re.finditer(r"^#{1,6} (.+)$", text, re.M)}


def test_every_relative_link_and_anchor_resolves() -> None:
    broken = []
    for page in DOCS:
        text = FENCE.sub("", page.read_text(encoding="utf-8"))
        for target in LINK.findall(text):
            if re.match(r"[a-z]+:", target):  # http:, https:, mailto:
                continue
            file, _, anchor = target.partition("#")
            dest = (page.parent / file).resolve() if file else page
            if not dest.exists():
                broken.append(f"{page.relative_to(ROOT)}: {target} (no such file)")
            elif anchor and dest.suffix == ".md" and anchor not in _anchors(dest):
                broken.append(f"{page.relative_to(ROOT)}: {target} (no such heading)")
    assert not broken, "\n".join(broken)
