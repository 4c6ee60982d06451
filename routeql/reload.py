"""A rules directory -> the latest rule set that compiles, swapped in atomically (hot reload).

:class:`Reloader` loads the rules once, then watches the directory (a background thread
polls file mtimes at an interval; :meth:`Reloader.reload` checks on demand).  When the
content changes (its content hash, the rule set's ``version``, differs) it compiles the
new version; if that succeeds, ``reloader.rules`` is replaced in one assignment, so a
reader always holds one whole rule set, old or new, and every ``Routing`` says which by
its ``version``.  If the new version fails to compile, the previous one keeps serving
and the errors are reported (``on_error``, ``last_error``, the ``routeql.reload`` log).

>>> import pathlib, tempfile
>>> d = pathlib.Path(tempfile.mkdtemp())
>>> _ = (d / "r.rq").write_text("destination a { }")
>>> with Reloader(d, interval=60) as reloader:
...     before = reloader.rules.route({"type": "page"}).delivered
...     _ = (d / "r.rq").write_text("destination b { }")
...     changed = reloader.reload()
...     after = reloader.rules.route({"type": "page"}).delivered
>>> before, changed, after
(('a',), True, ('b',))
"""

from __future__ import annotations

import logging
import os
import threading
import time
from pathlib import Path
from typing import Any, Callable

from .engine import Options, RuleSet, compile_sources, read_sources, version_of
from .errors import RouteQLError

__all__ = ["Reloader"]

log = logging.getLogger("routeql.reload")

#: A file modified this close (ns) to the last read is re-read on every poll (see poll).
RACY_NS = 2_000_000_000

#: (path, mtime in ns, size) of every rule file: a cheap test for "something changed"
Fingerprint = tuple[tuple[str, int, int], ...]


def _fingerprint(path: Path) -> Fingerprint:
    if path.is_dir():
        files = sorted(f for f in path.rglob("*.rq") if f.is_file())
    else:
        files = [path]
    out = []
    for f in files:
        try:
            st = f.stat()
        except OSError:  # removed while we looked: the next poll sees the new state
            continue
        out.append((str(f), st.st_mtime_ns, st.st_size))
    return tuple(out)


class Reloader:
    """Serve the latest rule set of ``path`` that compiles; reload it when it changes.

    ``reloader.rules`` is the rule set to route with: read it once per event (or batch)
    and use that reference; a reload replaces the attribute, never the rule set a reader
    holds.  ``options`` are those of :func:`routeql.load`.

    - ``interval``: seconds between polls of the directory (``None``: no background
      thread; call :meth:`reload` yourself).
    - ``settle``: a change is picked up by polling once the files have held still this
      long (default: one interval), so a file caught half-written is not compiled.
      Writing rule files atomically (write a temporary file, then rename it over the
      old one, as editors and ``git checkout`` do) makes this unnecessary.
    - ``on_reload(new, old)``: called after a new version is swapped in.
    - ``on_error(error)``: called once per distinct broken version (the previous rules
      keep serving); the error is also kept in ``last_error`` until a good version loads.

    The first load raises :class:`~routeql.errors.RouteQLError` if the rules do not
    compile: there is nothing to serve yet.
    """

    def __init__(self, path: str | os.PathLike[str], *, interval: float | None = 1.0, settle: float | None = None,
                 on_reload: Callable[[RuleSet, RuleSet], Any] | None = None,
                 on_error: Callable[[RouteQLError], Any] | None = None, **options: Any) -> None:
        self.path = Path(path)
        self.options = Options(**options)
        self.interval = interval
        self.settle = settle if settle is not None else (interval or 0.0)
        self.on_reload = on_reload
        self.on_error = on_error
        self.last_error: RouteQLError | None = None
        #: how many times a new version was swapped in
        self.reloads = 0
        self._lock = threading.Lock()  # one reload at a time (the poller and reload() calls)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._failed: str | None = None  # version that failed last, so it is reported once
        self._seen = _fingerprint(self.path)
        self._pending, self._pending_since = self._seen, time.monotonic()
        self._read_at = time.time_ns()
        self.rules: RuleSet = compile_sources(read_sources(self.path), self.options)
        if interval is not None:
            self.start()

    # ------------------------------------------------------------ lifecycle
    def start(self) -> None:
        """Start the background poller (done by the constructor unless ``interval=None``)."""
        if self._thread is not None and self._thread.is_alive():
            return
        if not self.interval or self.interval <= 0:
            raise ValueError("a background poll needs a positive interval")
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name=f"routeql-reload:{self.path}", daemon=True)
        self._thread.start()

    def stop(self, timeout: float | None = 5.0) -> None:
        """Stop the poller and wait for it (idempotent).  The current rules stay usable."""
        self._stop.set()
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout)
        self._thread = None

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def __enter__(self) -> "Reloader":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    def __repr__(self) -> str:
        state = "running" if self.running else "stopped"
        return f"<Reloader {self.path} {self.rules.version[:12]} {state}>"

    # ------------------------------------------------------------ reloading
    def poll(self) -> bool:
        """Reload if any rule file's mtime or size changed, or a file came or went, and
        the files have held still for ``settle`` seconds since.

        Like git's "racy" check: a file modified within :data:`RACY_NS` of the last read
        may have changed again without its mtime moving (coarse file-system clocks), so
        its content is read again (the content hash decides) until it is old enough.
        """
        now = _fingerprint(self.path)
        if now != self._pending:  # still moving: wait until it holds still
            self._pending, self._pending_since = now, time.monotonic()
            if self.settle > 0:
                return False
        if time.monotonic() - self._pending_since < self.settle:
            return False
        if now == self._seen and not any(mtime >= self._read_at - RACY_NS for _, mtime, _ in now):
            return False
        return self._reload(now)

    def reload(self) -> bool:
        """Read the rules now; swap in a new version if it differs and compiles.

        Returns True when a new version was swapped in; False when nothing changed, the
        new version is broken (reported; the previous version keeps serving), or a file
        changed while it was being read (the next poll or call picks it up).
        """
        return self._reload(_fingerprint(self.path))

    def _reload(self, seen: Fingerprint) -> bool:
        # callbacks run after the lock is released: one may call reload() itself
        with self._lock:
            outcome = self._swap(seen)
        if isinstance(outcome, RouteQLError):
            log.warning("routeql: rules %s not reloaded, still serving version %s:\n%s",
                        self.path, self.rules.version[:12], outcome.message)
            self._call(self.on_error, outcome)
            return False
        if outcome is None:
            return False
        new, old = outcome
        log.info("routeql: rules %s reloaded: version %s (was %s)", self.path, new.version[:12], old.version[:12])
        self._call(self.on_reload, new, old)
        return True

    def _swap(self, seen: Fingerprint) -> tuple[RuleSet, RuleSet] | RouteQLError | None:
        """Under the lock: (new, old) when swapped, the error to report, or None."""
        self._read_at = time.time_ns()
        try:
            sources = read_sources(self.path)
        except RouteQLError as e:
            self._seen = seen
            return self._failure(e, key=f"unreadable:{e.message}")
        # a file rewritten while we read it: leave it for the next poll to see whole
        if _fingerprint(self.path) != seen:
            return None
        self._seen = seen
        version = version_of(sources)
        if version == self.rules.version:
            self._clear()
            return None
        if version == self._failed:
            return None
        try:
            new = compile_sources(sources, self.options)
        except RouteQLError as e:
            return self._failure(e, key=version)
        old, self.rules = self.rules, new  # the swap: one assignment
        self.reloads += 1
        self._clear()
        return new, old

    def _failure(self, error: RouteQLError, key: str) -> RouteQLError | None:
        """Remember a failure; return it when it is new (each is reported once)."""
        if key == self._failed:
            return None
        self._failed = key
        self.last_error = error
        return error

    def _clear(self) -> None:
        self._failed = None
        self.last_error = None

    def _call(self, callback: Callable[..., Any] | None, *args: Any) -> None:
        if callback is None:
            return
        try:
            callback(*args)
        except Exception:  # a failing callback must not stop the watcher
            log.exception("routeql: reload callback %r failed", callback)

    def _run(self) -> None:
        assert self.interval is not None
        while not self._stop.wait(self.interval):
            try:
                self.poll()
            except Exception:  # e.g. the directory vanished mid-scan: keep serving, keep watching
                log.exception("routeql: polling %s failed", self.path)
