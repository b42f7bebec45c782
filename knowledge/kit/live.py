"""Live edits of a served store kit: :class:`LiveKit` watches the kit's files and swaps in what an
edit changes, whole, while the engine keeps answering.

A daemon thread polls the kit's files every ``interval_s`` (their size and modification time; no
new dependency, and it works on every file system, network mounts included). When one changed, the
whole kit is read again with :func:`knowledge.kit.read_kit`, so an edit is checked exactly as a
start would check it:

* a **clean** edit: ``build(kit, changed)`` makes the new parts (an FAQ index, a product QA, an
  entity linker, ...) from the new kit, in the watcher's thread, warmed before use; they replace
  the old ones in one assignment, so a turn sees either the old version or the new one, never half
  of each. A turn already running finishes on the parts it started with. The FAQ indexes are keyed
  by each entry's text hash (:class:`knowledge.faq.index.HybridFAQRetriever` with a cache folder),
  so only edited rows are embedded again.
* a **broken** edit (a row with a bad price, a FAQ without its answer, a half-written file): every
  problem is logged with its file, row and field, and the last good version keeps serving. The
  same broken files are not read again until they change.

A file is read only once it has held still for one poll (an editor writing in several steps does
not get its half-written file read), and read again when it changed while being read.

Example:
    >>> live = LiveKit("kits/lotus-pine", build=lambda kit, changed: {"faqs": kit.faqs},
    ...                initial={"faqs": []})                                  # doctest: +SKIP
    >>> faqs = live.part("faqs")      # a stand-in that always reaches the current version
    >>> live.start()                  # or live.poll() from a test / a loop of your own
"""

from __future__ import annotations

import logging
import threading
import time
import weakref
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

from knowledge.kernel.privacy import mask_pii

from .problems import KitInvalid
from .reader import KIT_FILES, Kit, read_kit, reread

__all__ = ["LiveKit", "LivePart", "Build", "DEFAULT_INTERVAL_S"]

log = logging.getLogger("shopassist.kit.live")

DEFAULT_INTERVAL_S = 1.0
#: what a clean edit is built into: ``build(kit, changed file names) -> {part name: new part}``;
#: parts it leaves out stay as they are
Build = Callable[[Kit, frozenset[str]], Mapping[str, Any]]
_Signature = dict[str, tuple[int, int] | None]


def _signature(root: Path, files: Iterable[str]) -> _Signature:
    """(size, mtime in ns) of each kit file; None for a file that is not there."""
    out: _Signature = {}
    for name in files:
        try:
            st = (root / name).stat()
            out[name] = (st.st_size, st.st_mtime_ns)
        except OSError:
            out[name] = None
    return out


class LivePart:
    """A stand-in for one part of a :class:`LiveKit`: every attribute is the current version's.

    Callers hold the stand-in (the router holds the retriever's, the NLU the entity linker's) and
    never see the swap; a method already fetched (a call in progress) finishes on its own version.
    """

    __slots__ = ("_live", "_name")

    def __init__(self, live: LiveKit, name: str) -> None:
        object.__setattr__(self, "_live", live)
        object.__setattr__(self, "_name", name)

    @property
    def current(self) -> Any:
        return self._live.parts[self._name]

    def __getattr__(self, attr: str) -> Any:
        return getattr(self._live.parts[self._name], attr)

    def __setattr__(self, attr: str, value: Any) -> None:
        raise AttributeError(f"the live {self._name!r} part is read-only; a kit edit replaces it")

    def __iter__(self):
        return iter(self.current)

    def __len__(self) -> int:
        return len(self.current)

    def __contains__(self, item: object) -> bool:
        return item in self.current

    def __repr__(self) -> str:
        return f"LivePart({self._name!r}, {self.current!r})"


class LiveKit:
    """Watches the kit in ``root`` and swaps in the parts a clean edit builds (module docstring).

    Args:
        root: the kit's folder (the one the engine was started from).
        build: makes the new parts of a clean edit, ``build(kit, changed)``; parts it does not
            return are kept. It runs in the watcher's thread; an exception keeps the old parts.
        initial: the parts serving now (built at start-up from the same kit).
        interval_s: seconds between polls (> 0).
        files: the kit files watched (default: every file of the kit format).
        reader: reads a kit (default :func:`read_kit`; tests inject their own).
        kit: the kit the initial parts were built from; with it (and the default reader), an edit
            of ``faqs.jsonl`` alone re-reads only that file (:func:`knowledge.kit.reader.reread`).

    Attributes:
        version: 0 at start, +1 per edit swapped in.
        problems: the problems of the latest broken edit ([] once a clean one is served).
    """

    def __init__(self, root: str | Path, build: Build, initial: Mapping[str, Any], *,
                 interval_s: float = DEFAULT_INTERVAL_S, files: Iterable[str] = KIT_FILES,
                 reader: Callable[[Path], Kit] = read_kit, kit: Kit | None = None) -> None:
        if not interval_s > 0:
            raise ValueError(f"interval_s must be > 0, got {interval_s}")
        if not callable(build):
            raise ValueError("build must be callable: build(kit, changed) -> {part: new part}")
        self.root = Path(root)
        self.parts: dict[str, Any] = dict(initial)
        self.version = 0
        self.problems: list = []
        self._build = build
        self._reader = reader
        self._kit = kit if reader is read_kit else None   # the last good kit, for partial re-reads
        self._files = tuple(files)
        self._interval = float(interval_s)
        self._served = _signature(self.root, self._files)   # what the parts were built from
        self._seen = self._served                            # the latest poll's view
        self._refused: _Signature | None = None              # a broken version, not read twice
        self._poll_lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def part(self, name: str) -> LivePart:
        """The stand-in of part ``name`` (one of ``initial``'s keys)."""
        if name not in self.parts:
            raise KeyError(f"no live part {name!r} (have {', '.join(sorted(self.parts))})")
        return LivePart(self, name)

    # -- polling ---------------------------------------------------------------------------
    def poll(self) -> bool:
        """Look once; True when an edit was swapped in. Never raises for what a kit holds."""
        with self._poll_lock:
            now = _signature(self.root, self._files)
            settled, self._seen = now == self._seen, now
            if now == self._served or now == self._refused or not settled:
                return False  # nothing new, a version already refused, or a file still being written
            return self._reload(now)

    def _reload(self, before: _Signature) -> bool:
        changed = frozenset(n for n in self._files if before.get(n) != self._served.get(n))
        started = time.perf_counter()
        try:
            kit = reread(self._kit, changed) if self._kit is not None else self._reader(self.root)
        except KitInvalid as exc:
            return self._refuse(before, changed, exc.problems)
        except Exception as exc:  # an unreadable folder, a reader bug: keep serving
            log.error("store kit %s: could not read the edit of %s (%s); still serving version %d",
                      self.root, ", ".join(sorted(changed)), mask_pii(str(exc)), self.version)
            self._refused = before
            return False
        if _signature(self.root, self._files) != before:
            return False  # written to while being read: the next polls read it again
        try:
            new = dict(self._build(kit, changed))
            for part in new.values():
                warm = getattr(part, "warm_up", None)
                if callable(warm):
                    warm()  # index and embed here, not in a customer's turn
        except Exception as exc:
            log.exception("store kit %s: building the edit of %s failed (%s); still serving version %d",
                          self.root, ", ".join(sorted(changed)), mask_pii(str(exc)), self.version)
            self._refused = before
            return False
        unknown = sorted(set(new) - set(self.parts))
        if unknown:
            log.warning("store kit %s: build returned parts nobody serves (%s); ignored", self.root, ", ".join(unknown))
        self.parts = {**self.parts, **{k: v for k, v in new.items() if k in self.parts}}  # one swap
        self.version += 1
        self._served, self._refused, self.problems = before, None, []
        if self._kit is not None:
            self._kit = kit
        log.info("store kit %s: serving version %d (%s edited; %d products, %d FAQ entries) after %.2f s",
                 self.root, self.version, ", ".join(sorted(changed)), len(kit.catalog), len(kit.faqs),
                 time.perf_counter() - started)
        return True

    def _refuse(self, before: _Signature, changed: frozenset[str], problems: list) -> bool:
        self._refused, self.problems = before, list(problems)
        errors = [p for p in problems if p.is_error]
        log.error("store kit %s: the edit of %s has %d error%s; still serving version %d (fix and save again)",
                  self.root, ", ".join(sorted(changed)), len(errors), "" if len(errors) == 1 else "s", self.version)
        for p in problems:
            log.log(logging.ERROR if p.is_error else logging.WARNING, "store kit %s: %s", self.root, mask_pii(str(p)))
        return False

    # -- the watcher thread ------------------------------------------------------------------
    def start(self) -> LiveKit:
        """Poll in a daemon thread until :meth:`stop` (or until nothing holds this object)."""
        if self._thread is not None and self._thread.is_alive():
            return self
        self._stop.clear()
        self._thread = threading.Thread(target=_watch, args=(weakref.ref(self), self._stop, self._interval),
                                        name=f"kit-watch:{self.root.name}", daemon=True)
        self._thread.start()
        return self

    def stop(self, timeout: float | None = 5.0) -> None:
        self._stop.set()
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout)

    @property
    def watching(self) -> bool:
        return self._thread is not None and self._thread.is_alive()


def _watch(ref: weakref.ReferenceType, stop: threading.Event, interval: float) -> None:
    """The watcher's loop; holds the :class:`LiveKit` only while polling, so an engine that is
    dropped takes its watcher with it."""
    while not stop.wait(interval):
        live = ref()
        if live is None:
            return
        try:
            live.poll()
        except Exception:  # the loop must outlive any one poll
            log.exception("store kit %s: polling failed", live.root)
        del live
