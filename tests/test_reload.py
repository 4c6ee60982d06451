"""Hot reload (routeql.reload.Reloader): atomic swaps, broken edits keep the old rules
serving and are reported, and every routing carries the version that decided it."""

from __future__ import annotations

import logging
import os
import threading
import time
from pathlib import Path
from typing import Any

import pytest

import routeql
from routeql.errors import RouteQLError
from routeql.reload import Reloader

PAGE = {"type": "page", "name": "Home", "userId": "u1"}
A = "destination a { keep type }\n"
B = "destination b { keep type, userId }\n"
BROKEN = "destination c { keep type \n"  # unclosed block


def write(directory: Path, text: str, name: str = "rules.rq") -> None:
    """Write a rule file atomically (as docs/security.md advises: a temporary file renamed
    over the old one), with an mtime that moves on, so a poll always sees the change."""
    f = directory / name
    tmp = directory / f".{name}.tmp"
    tmp.write_text(text)
    old = f.stat().st_mtime_ns if f.exists() else time.time_ns()
    os.utime(tmp, ns=(old + 1_000_000_000, max(old, time.time_ns()) + 1_000_000_000))
    os.replace(tmp, f)


@pytest.fixture
def rules_dir(tmp_path: Path) -> Path:
    write(tmp_path, A)
    return tmp_path


def wait_for(condition: Any, timeout: float = 10.0) -> bool:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if condition():
            return True
        time.sleep(0.01)
    return False


def test_first_load_is_the_rule_set_load_gives(rules_dir: Path) -> None:
    with Reloader(rules_dir, interval=None) as r:
        assert r.rules.version == routeql.load(rules_dir).version
        assert r.rules.route(PAGE).version == r.rules.version
        assert not r.running and r.last_error is None


def test_options_are_passed_to_every_load(rules_dir: Path) -> None:
    with Reloader(rules_dir, interval=None, max_event_bytes=64) as r:
        assert r.rules.options.max_event_bytes == 64
        write(rules_dir, B)
        assert r.reload() and r.rules.options.max_event_bytes == 64


def test_a_first_load_that_fails_raises(tmp_path: Path) -> None:
    write(tmp_path, BROKEN)
    with pytest.raises(RouteQLError):
        Reloader(tmp_path, interval=None)
    with pytest.raises(RouteQLError):
        Reloader(tmp_path / "missing", interval=None)


def test_reload_swaps_in_a_new_version(rules_dir: Path) -> None:
    calls: list[tuple[str, str]] = []
    with Reloader(rules_dir, interval=None, on_reload=lambda new, old: calls.append((new.version, old.version))) as r:
        old = r.rules
        write(rules_dir, B)
        assert r.reload() is True
        assert r.rules is not old and r.rules.destinations == ("b",)
        assert calls == [(r.rules.version, old.version)] and r.reloads == 1
        assert old.route(PAGE).delivered == ("a",), "a reader holding the old rules keeps them whole"
        assert r.reload() is False and len(calls) == 1, "same content: nothing to do"


def test_same_content_rewritten_is_not_a_new_version(rules_dir: Path) -> None:
    calls: list[Any] = []
    with Reloader(rules_dir, interval=None, settle=0, on_reload=lambda *a: calls.append(a)) as r:
        version = r.rules.version
        write(rules_dir, A)  # new mtime, same bytes
        assert r.poll() is False and r.rules.version == version and calls == []


def test_a_broken_edit_keeps_the_old_rules_serving_and_is_reported(rules_dir: Path,
                                                                   caplog: pytest.LogCaptureFixture) -> None:
    errors: list[RouteQLError] = []
    with Reloader(rules_dir, interval=None, on_error=errors.append) as r:
        good = r.rules.version
        write(rules_dir, BROKEN)
        with caplog.at_level(logging.WARNING, logger="routeql.reload"):
            assert r.reload() is False
        assert r.rules.version == good and r.rules.route(PAGE).version == good
        assert r.rules.route(PAGE).delivered == ("a",)
        assert len(errors) == 1 and errors[0] is r.last_error and errors[0].diagnostics
        assert "rules.rq:1" in errors[0].message
        assert f"still serving version {good[:12]}" in caplog.text
        assert r.reload() is False and len(errors) == 1, "the same broken version is reported once"
        write(rules_dir, B)
        assert r.reload() is True and r.last_error is None and r.rules.destinations == ("b",)


def test_each_distinct_broken_version_is_reported(rules_dir: Path) -> None:
    errors: list[RouteQLError] = []
    with Reloader(rules_dir, interval=None, on_error=errors.append) as r:
        write(rules_dir, BROKEN)
        r.reload()
        write(rules_dir, "destination d { when nosuchdefine }\n")
        r.reload()
        assert len(errors) == 2 and r.rules.destinations == ("a",)


def test_unreadable_rules_keep_the_old_rules_serving(rules_dir: Path) -> None:
    errors: list[RouteQLError] = []
    with Reloader(rules_dir, interval=None, on_error=errors.append) as r:
        (rules_dir / "rules.rq").write_bytes(b"destination \xff { }")
        assert r.reload() is False and "not UTF-8" in errors[0].message
        (rules_dir / "rules.rq").unlink()
        assert r.reload() is False and "no .rq files" in errors[-1].message
        assert r.rules.route(PAGE).delivered == ("a",)


def test_files_added_and_removed_are_seen(rules_dir: Path) -> None:
    with Reloader(rules_dir, interval=None, settle=0) as r:
        write(rules_dir, "destination extra { }\n", "more.rq")
        assert r.poll() is True and set(r.rules.destinations) == {"a", "extra"}
        (rules_dir / "more.rq").unlink()
        assert r.poll() is True and r.rules.destinations == ("a",)


def test_background_polling_picks_up_changes(rules_dir: Path) -> None:
    seen = threading.Event()
    with Reloader(rules_dir, interval=0.02, on_reload=lambda new, old: seen.set()) as r:
        assert r.running
        write(rules_dir, B)
        assert seen.wait(10), "the poller did not reload"
        assert r.rules.destinations == ("b",)
    assert not r.running


def test_polling_waits_for_files_to_hold_still(rules_dir: Path) -> None:
    # a file caught half-written (here: truncated, not yet filled) is not compiled
    with Reloader(rules_dir, interval=None, settle=0.05) as r:
        (rules_dir / "rules.rq").write_text("")
        assert r.poll() is False and r.rules.destinations == ("a",)
        write(rules_dir, B)
        assert r.poll() is False, "the files moved again: wait"
        time.sleep(0.06)
        assert r.poll() is True and r.rules.destinations == ("b",)


def test_a_same_size_edit_in_the_same_mtime_tick_is_not_missed(rules_dir: Path) -> None:
    # coarse file-system clocks: content changes, size and mtime do not
    with Reloader(rules_dir, interval=None, settle=0) as r:
        f = rules_dir / "rules.rq"
        st = f.stat()
        f.write_text(A.replace("tion a", "tion z"))
        os.utime(f, ns=(st.st_atime_ns, st.st_mtime_ns))
        assert r.poll() is True and r.rules.destinations == ("z",)


def test_a_failing_callback_does_not_stop_the_watcher(rules_dir: Path) -> None:
    def boom(new: Any, old: Any) -> None:
        raise RuntimeError("callback failed")

    with Reloader(rules_dir, interval=0.02, on_reload=boom) as r:
        write(rules_dir, B)
        assert wait_for(lambda: r.rules.destinations == ("b",))
        write(rules_dir, A.replace("tion a", "tion q"))
        assert wait_for(lambda: r.rules.destinations == ("q",)) and r.running


def test_stop_is_idempotent_and_rules_stay_usable(rules_dir: Path) -> None:
    r = Reloader(rules_dir, interval=0.02)
    r.stop()
    r.stop()
    assert not r.running and r.rules.route(PAGE).delivered == ("a",)
    r.start()
    assert r.running
    r.stop()
    with pytest.raises(ValueError):
        Reloader(rules_dir, interval=0)


def test_routings_during_reloads_carry_the_old_or_the_new_version_never_a_mix(rules_dir: Path) -> None:
    """Readers route while a writer flips the rules between A, B and a broken version:
    every routing is wholly one version's (its deliveries are what that version says)."""
    expected = {routeql.loads(A, str(rules_dir / "rules.rq")).version: {"a": {"type": "page"}},
                routeql.loads(B, str(rules_dir / "rules.rq")).version: {"b": {"type": "page", "userId": "u1"}}}
    assert routeql.load(rules_dir).version in expected
    stop = threading.Event()
    seen: list[tuple[str, dict[str, Any]]] = []
    errors: list[BaseException] = []

    def reader(reloader: Reloader) -> None:
        try:
            while not stop.is_set():
                rules = reloader.rules
                r = rules.route(PAGE)
                seen.append((r.version, r.deliveries))
                assert r.version == rules.version
                time.sleep(0.0002)  # leave the writer some of the GIL
        except BaseException as e:  # noqa: BLE001 - reported below
            errors.append(e)

    with Reloader(rules_dir, interval=0.005) as reloader:
        threads = [threading.Thread(target=reader, args=(reloader,)) for _ in range(4)]
        for t in threads:
            t.start()
        for i in range(15):
            write(rules_dir, (A, B, BROKEN)[i % 3])
            reloader.reload()
            time.sleep(0.005)
        stop.set()
        for t in threads:
            t.join()
    assert not errors
    versions = {v for v, _ in seen}
    assert versions == set(expected), "both versions served, the broken one never"
    for version, deliveries in seen:
        assert deliveries == expected[version]


def test_reloader_is_exported() -> None:
    import routeql.reload

    assert routeql.reload.Reloader is Reloader
    assert "Reloader" in routeql.reload.__all__


def test_callbacks_may_reload(rules_dir: Path) -> None:
    # callbacks run outside the reloader's lock: calling back into it does not deadlock
    calls: list[str] = []
    with Reloader(rules_dir, interval=None) as r:
        r.on_error = lambda e: calls.append(f"error, reload={r.reload()}")
        r.on_reload = lambda new, old: calls.append(f"reloaded, again={r.reload()}")
        write(rules_dir, BROKEN)
        r.reload()
        write(rules_dir, B)
        r.reload()
    assert calls == ["error, reload=False", "reloaded, again=False"]
