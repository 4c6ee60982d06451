"""Outputs a command cannot write: an error naming the path, exit 2, never a traceback."""

from __future__ import annotations

import os
import subprocess
import threading
from pathlib import Path

import pytest

from tests.clirun import in_process

RULES = 'destination d { when type = "track" }\n'
EVENTS = '{"type": "track", "event": "A"}\n{"type": "page"}\n'


@pytest.fixture()
def files(tmp_path: Path) -> tuple[Path, Path]:
    rules, events = tmp_path / "r.rq", tmp_path / "e.jsonl"
    rules.write_text(RULES, encoding="utf-8")
    events.write_text(EVENTS, encoding="utf-8")
    return rules, events


def test_route_out_where_a_file_is(files: tuple[Path, Path], tmp_path: Path) -> None:
    taken = tmp_path / "taken"
    taken.write_text("", encoding="utf-8")
    p = in_process("route", str(files[0]), str(files[1]), "--out", str(taken))
    assert p.returncode == 2 and f"{taken}: cannot write (File exists)" in p.stderr


def test_route_out_with_a_destination_file_that_cannot_be_opened(files: tuple[Path, Path], tmp_path: Path) -> None:
    out = tmp_path / "out"
    (out / "d.jsonl").mkdir(parents=True)  # a directory where d's file goes
    p = in_process("route", str(files[0]), str(files[1]), "--out", str(out))
    assert p.returncode == 2 and f"{out / 'd.jsonl'}: cannot write (Is a directory)" in p.stderr


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="needs /dev/full (Linux)")
def test_a_disk_that_fills_up_while_routing(files: tuple[Path, Path], tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (out / "d.jsonl").symlink_to("/dev/full")  # opens fine; every write fails
    p = in_process("route", str(files[0]), str(files[1]), "--out", str(out))
    assert p.returncode == 2 and "No space left on device" in p.stderr
    p = in_process("stats", str(files[0]), str(files[1]), "--html", "/dev/full")
    assert p.returncode == 2 and "/dev/full: cannot write (No space left on device)" in p.stderr


@pytest.mark.parametrize("args", [
    ["test", "{rules}", "{fixtures}", "--junit", "{dir}"],
    ["stats", "{rules}", "{events}", "--html", "{dir}"],
    ["matrix", "{rules}", "--html", "{dir}"],
    ["compile", "{rules}", "--output", "{dir}"],
], ids=lambda a: a[0])
def test_writing_onto_a_directory(files: tuple[Path, Path], tmp_path: Path, args: list[str]) -> None:
    fixtures = tmp_path / "f.rqtest.yaml"
    fixtures.write_text("- name: a\n  event: {type: track, event: A}\n  expect: {d: true}\n", encoding="utf-8")
    (tmp_path / "dir").mkdir()
    names = {"rules": str(files[0]), "events": str(files[1]), "fixtures": str(fixtures), "dir": str(tmp_path / "dir")}
    p = in_process(*(a.format(**names) for a in args))
    assert p.returncode == 2, p.stderr
    assert f"{tmp_path / 'dir'}: cannot write (Is a directory)" in p.stderr and "Traceback" not in p.stderr


# ------------------------------------------------------------------ inputs that are not regular files

needs_fifo = pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs named pipes")


def through_a_pipe(fifo: Path, text: str, *argv: str) -> subprocess.CompletedProcess[str]:
    """``routeql ARGV`` while another thread writes ``text`` into the named pipe ``fifo``
    (what ``<(zcat events.jsonl.gz)`` hands a command)."""
    os.mkfifo(fifo)

    def feed() -> None:
        with open(fifo, "w", encoding="utf-8") as f:
            f.write(text)

    writer = threading.Thread(target=feed, daemon=True)
    writer.start()
    try:
        return in_process(*argv)
    finally:
        if writer.is_alive():  # the command never opened the pipe: open it here, so the writer ends
            fd = os.open(fifo, os.O_RDONLY | os.O_NONBLOCK)
            writer.join(timeout=10)
            os.close(fd)


@needs_fifo
@pytest.mark.parametrize("command", ["route", "stats", "explain"])
def test_events_from_a_pipe(files: tuple[Path, Path], tmp_path: Path, command: str) -> None:
    # it used to be "no such file"
    fifo = tmp_path / "events.pipe"
    text = EVENTS if command != "explain" else '{"type": "track", "event": "A"}'
    p = through_a_pipe(fifo, text, command, str(files[0]), str(fifo), *(["--format", "json"] if command != "explain" else []))
    assert p.returncode == 0, p.stderr
    if command == "route":
        assert '"lines": 2' in p.stdout
    elif command == "stats":
        assert '"events": 2' in p.stdout
    else:
        assert "d  delivered" in p.stdout


@needs_fifo
def test_rules_from_a_pipe(tmp_path: Path) -> None:
    # `routeql check <(git show main:rules.rq)`: it used to be "no such file or directory"
    fifo = tmp_path / "rules.pipe"
    p = through_a_pipe(fifo, RULES, "check", str(fifo))
    assert p.returncode == 0 and f"{fifo}: ok" in p.stdout + p.stderr


def test_a_device_is_an_empty_input(files: tuple[Path, Path]) -> None:
    p = in_process("route", str(files[0]), os.devnull, "--format", "json")
    assert p.returncode == 0 and '"lines": 0' in p.stdout


@pytest.mark.parametrize("command", ["route", "stats", "explain", "bench"])
def test_a_directory_is_not_a_file_of_events(files: tuple[Path, Path], tmp_path: Path, command: str) -> None:
    p = in_process(command, str(files[0]), str(tmp_path))
    assert p.returncode == 2 and p.stderr.strip() == f"{tmp_path}: a directory, not a file"
