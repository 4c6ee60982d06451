"""Nothing lost: route_batch and ``routeql route`` account for every input exactly once
(delivered to at least one destination, skipped by every destination with reasons, or
rejected with a reason), whatever the input holds, and the CLI streams (memory does not
grow with the input)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

import routeql
from tests.conftest import ROOT

GARBAGE = bytes(range(256)) * 3


def corrupted_lines(example_events: list[dict[str, Any]]) -> list[tuple[bytes, bool]]:
    """JSONL lines (without their ending) and whether each is a valid event."""
    good = [json.dumps(e).encode() for e in example_events[:40]]
    bad = [
        b'{"type": "track", "event": "x"',  # invalid JSON (truncated object)
        b"[1, 2, 3]", b'"just a string"', b"42", b"null",  # JSON, not objects
        GARBAGE.replace(b"\n", b" ").replace(b"\r", b" "),  # binary garbage
        b'{"type": "page", "blob": "' + b"x" * (10 << 20) + b'"}',  # a 10 MB line
        b"", b"   \t ",  # an empty line, a blank line
        b'{"type": "rocket"}', b'{"event": "no type"}', b'{"type": "track"}',  # objects that are not events
        b"\xff\xfe{\x00}",  # not UTF-8
    ]
    lines: list[tuple[bytes, bool]] = []
    for i, g in enumerate(good):
        lines.append((g, True))
        if i < len(bad):
            lines.append((bad[i], False))
    return lines


def serialize(lines: list[tuple[bytes, bool]], truncated_tail: bytes | None) -> bytes:
    """A file: a BOM first, CRLF endings on every third line, maybe an unfinished last line."""
    out = b"\xef\xbb\xbf"
    for i, (line, _) in enumerate(lines):
        out += line + (b"\r\n" if i % 3 == 0 else b"\n")
    if truncated_tail is not None:
        out += truncated_tail  # no newline at the end
    return out


# ------------------------------------------------------------------ route_batch


def test_route_batch_accounts_for_every_input(bundled: routeql.RuleSet, example_events: list[dict[str, Any]]) -> None:
    lines = corrupted_lines(example_events)
    inputs: list[Any] = [line for line, _ in lines]
    inputs += [example_events[0], "not json", b"\x00\x01", 17, None, ["a"], {"type": 5}, bytearray(b'{"type": "page"}')]
    valid = [ok for _, ok in lines] + [True, False, False, False, False, False, False, True]
    results = bundled.route_batch(inputs)
    assert len(results) == len(inputs)
    delivered = skipped = rejected = 0
    for item, ok, r in zip(inputs, valid, results):
        if not ok:
            assert r.error is not None and r.error.message, f"{item!r:.60} was not rejected with a reason"
            assert r.deliveries == {}
            rejected += 1
            continue
        assert r.ok, f"a valid event was rejected: {r.error}"
        event = json.loads(item) if isinstance(item, (bytes, bytearray)) else item
        assert r.deliveries == bundled.route(event).deliveries
        assert set(r.skipped) == set(bundled.destinations) - set(r.deliveries)
        assert all(reason.stage and reason.detail for reason in r.skipped.values())
        if r.deliveries:
            delivered += 1
        else:
            skipped += 1
    assert delivered + skipped + rejected == len(inputs)
    assert delivered > 0 and skipped > 0 and rejected >= 14


def test_iter_route_is_lazy_and_complete(bundled: routeql.RuleSet) -> None:
    consumed = []

    def source() -> Any:
        for i in range(5):
            consumed.append(i)
            yield '{"type": "page"}' if i % 2 == 0 else "{broken"

    stream = bundled.iter_route(source())
    first = next(stream)
    assert consumed == [0] and first.ok
    rest = list(stream)
    assert len(rest) == 4 and [r.ok for r in rest] == [False, True, False, True]


# ------------------------------------------------------------------ the CLI


def run_cli(*args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "routeql.cli", *map(str, args)], capture_output=True, text=True,
                          timeout=timeout, errors="replace")


@pytest.mark.parametrize("tail", [b'{"type": "page", "name": "unfinished', b'{"type": "page", "name": "last"}'],
                         ids=["truncated-last-line", "last-line-without-newline"])
def test_cli_accounts_for_every_line(tmp_path: Path, bundled: routeql.RuleSet, example_events: list[dict[str, Any]],
                                     tail: bytes) -> None:
    lines = corrupted_lines(example_events)
    tail_ok = tail.endswith(b"}")
    all_lines = lines + [(tail, tail_ok)]
    source = tmp_path / "events.jsonl"
    source.write_bytes(serialize(lines, tail))
    out = tmp_path / "out"
    proc = run_cli("route", ROOT / "rules", source, "--out", out, "--format", "json")
    assert proc.returncode == 0, proc.stderr
    summary = json.loads(proc.stdout)

    # every line counted once
    assert summary["lines"] == len(all_lines)
    assert summary["events"] + summary["rejected"] == summary["lines"]
    assert summary["delivered_to_at_least_one"] + summary["skipped_everywhere"] == summary["events"]
    bad_numbers = [n for n, (_, ok) in enumerate(all_lines, start=1) if not ok]
    assert summary["rejected"] == len(bad_numbers)

    # every rejected line in rejected.jsonl, with its number and a reason
    rejected = [json.loads(x) for x in (out / "rejected.jsonl").read_text(encoding="utf-8").splitlines()]
    assert [r["line"] for r in rejected] == bad_numbers
    assert all(r["reason"] for r in rejected)
    assert any("over the limit" in r["reason"] for r in rejected)  # the 10 MB line
    assert any(r["reason"] == "empty line" for r in rejected)

    # every valid event routed, and each of its deliveries written, in order
    valid = [json.loads(line) for line, ok in all_lines if ok]
    assert summary["events"] == len(valid)
    expected: dict[str, list[Any]] = {d: [] for d in bundled.destinations}
    for event in valid:
        for name, payload in bundled.route(event).deliveries.items():
            expected[name].append(payload)
    for name in bundled.destinations:
        written = [json.loads(x) for x in (out / f"{name}.jsonl").read_text(encoding="utf-8").splitlines()]
        assert written == expected[name], name
        assert summary["destinations"][name]["delivered"] == len(expected[name])
        skipped = sum(summary["destinations"][name]["skipped"].values())
        assert summary["destinations"][name]["delivered"] + skipped == summary["events"]


def test_cli_reads_stdin_the_same_way(tmp_path: Path, example_events: list[dict[str, Any]]) -> None:
    data = serialize(corrupted_lines(example_events)[:12], b"{")
    proc = subprocess.run([sys.executable, "-m", "routeql.cli", "route", str(ROOT / "rules"), "-", "--format", "json"],
                          input=data, capture_output=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    summary = json.loads(proc.stdout)
    assert summary["lines"] == 13 and summary["events"] + summary["rejected"] == 13


MEMORY_RULES = "destination a { keep type, userId }\ndestination b { when properties.k > 100 }\n"


def peak_rss_kb(rules: Path, events: Path, *flags: str) -> int:
    """Peak RSS of one CLI run, measured in a fresh process (RUSAGE_CHILDREN is per parent)."""
    probe = ("import resource, subprocess, sys\n"
             "p = subprocess.run([sys.executable, '-m', 'routeql.cli', 'route', *sys.argv[1:]], capture_output=True)\n"
             "assert p.returncode == 0, p.stderr\n"
             "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)\n")
    proc = subprocess.run([sys.executable, "-c", probe, str(rules), str(events), "--format", "json", *flags],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    return int(proc.stdout.strip())


def write_events(path: Path, count: int) -> None:
    with path.open("w") as f:
        for i in range(count):
            f.write('{"type":"page","name":"p","userId":"u%d","properties":{"k":%d}}\n' % (i, i % 200))


@pytest.mark.slow
def test_cli_memory_does_not_grow_with_the_input(tmp_path: Path) -> None:
    # 200,000 events parsed and held at once would take well over 100 MB; streamed, the
    # peak is the interpreter, the rules and one event at a time
    rules = tmp_path / "r.rq"
    rules.write_text(MEMORY_RULES)
    small, large, reasons = tmp_path / "small.jsonl", tmp_path / "large.jsonl", tmp_path / "reasons.jsonl"
    write_events(small, 2_000)
    write_events(large, 200_000)
    write_events(reasons, 20_000)
    base = peak_rss_kb(rules, small, "--no-reasons")
    assert peak_rss_kb(rules, large, "--no-reasons") - base < 25_000
    # the per-stage reasons (the reference interpreter) stream too
    assert peak_rss_kb(rules, reasons) - peak_rss_kb(rules, small) < 25_000


@pytest.mark.parametrize(("around", "valid"), [
    ((b"", b""), True), ((b"  \t", b"\r\n"), True), ((b"\x0b", b""), False), ((b"", b"\x0c"), False),
    ((b"\xc2\xa0", b""), False),  # a no-break space is not JSON whitespace either
])
def test_the_cli_stats_and_route_batch_agree_on_what_a_line_is(bundled: routeql.RuleSet, around: tuple[bytes, bytes],
                                                                 valid: bool) -> None:
    """JSON allows space, tab, CR and LF around a value, nothing else: a line with a
    vertical tab in front is malformed for every reader (the CLI once stripped it)."""
    from routeql.cli.route import route_line
    from routeql.quality.stats import Collector

    line = around[0] + b'{"type": "track", "event": "Order Completed", "userId": "u1"}' + around[1]
    batch = bundled.route_batch([line])[0]
    routing, problem = route_line(bundled, line)
    stats = Collector(bundled)
    stats.add_line(1, line)
    assert batch.ok is valid and (routing is not None) is valid and (problem is None) is valid
    assert (sum(stats.rejected.values()) == 0) is valid


@pytest.mark.parametrize("as_text", [False, True], ids=["bytes", "text"])
def test_a_byte_order_mark_in_front_of_an_event_is_not_part_of_it(bundled: routeql.RuleSet, as_text: bool) -> None:
    # a file read as UTF-8 (not utf-8-sig) hands its first line over with the mark: it used
    # to be rejected as text ("Unexpected UTF-8 BOM") and accepted as bytes
    line = b'\xef\xbb\xbf{"type": "track", "event": "Order Completed", "userId": "u1"}'
    data = line.decode("utf-8") if as_text else line
    result = bundled.route_batch([data])[0]
    assert result.ok, result.error
    assert bundled.parse_event(data) == {"type": "track", "event": "Order Completed", "userId": "u1"}
