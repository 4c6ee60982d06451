"""Loading: the garbage collector paused while rules compile, payloads compiled on use."""

from __future__ import annotations

import gc
import threading
from typing import Any

import pytest

import routeql
import routeql.engine as engine

RULES = 'destination a {\n  when event = "Signed Up"\n  keep userId\n}\n'


def test_collector_is_paused_during_a_load_and_resumed_after(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[bool] = []
    real_check = engine.check

    def spying_check(*args: Any, **kwargs: Any) -> Any:
        seen.append(gc.isenabled())
        return real_check(*args, **kwargs)

    monkeypatch.setattr(engine, "check", spying_check)
    assert gc.isenabled()
    routeql.loads(RULES)
    assert seen == [False] and gc.isenabled()


def test_collector_resumes_after_a_failed_load() -> None:
    with pytest.raises(routeql.RouteQLError):
        routeql.loads("destination {")
    assert gc.isenabled()


def test_a_collector_disabled_by_the_application_stays_disabled() -> None:
    gc.disable()
    try:
        routeql.loads(RULES)
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_nested_and_concurrent_pauses_resume_once_at_the_end() -> None:
    with engine.gc_paused():
        with engine.gc_paused():
            assert not gc.isenabled()
        assert not gc.isenabled()  # the outer block still holds it
    assert gc.isenabled()
    inside = threading.Barrier(4)
    states: list[bool] = []

    def load() -> None:
        with engine.gc_paused():
            inside.wait(timeout=10)  # all four inside at once
            states.append(gc.isenabled())
            inside.wait(timeout=10)

    threads = [threading.Thread(target=load) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert states == [False] * 4 and gc.isenabled()
