"""The intent model registry: versions of the intent head, their metrics, and which one serves.

A folder (``learn.registry_dir``, by default ``<data_dir>/learn/registry``)::

    versions/v0001/   head.npz + meta.json (:class:`engine.nlu.intent.LinearHead`) and card.json
                      (metrics, training data summary, the promotion decision, who and when);
                      fast/ holds the fast intent stage's head when one was trained with it;
                      checksums.json (:mod:`engine.integrity`) the SHA-256 of all of those, written
                      last: a version whose files differ is refused (never promoted, never served),
                      one written before checksums existed loads with a logged warning
    reports/          one comparison report per promotion decision (markdown + per-class chart)
    CURRENT.json      {"current": "v0002", "history": ["base", ...]}: the serving version
    log.jsonl         every promote, re-promote (a version that served before) and rollback:
                      when, which version, from which, who and why (:meth:`ModelRegistry.log`)
    regression.jsonl  the frozen regression set: real past turns confirmed right (a customer's
                      ``/good``, a reviewer's label agreeing with the prediction), each with its
                      intent as it was frozen; every candidate is checked against it

``base`` is the model the engine trains from its own intent examples at start-up (no registry
version); it is what serves until a version is promoted and what a rollback past the first
promotion returns to. Versions are written into a temporary folder and renamed into place, and
``CURRENT.json`` is replaced atomically, so a running engine polling :meth:`ModelRegistry.stamp`
never sees half a version. Changes take an exclusive file lock, so two ``shopassist learn``
commands cannot interleave.

Example:
    >>> reg = ModelRegistry(settings.resolved_registry_dir)          # doctest: +SKIP
    >>> v = reg.add(head, {"metrics": {"macro_f1": 0.91}})            # doctest: +SKIP
    >>> reg.promote(v.version, by="ana"); reg.current()               # doctest: +SKIP
    'v0001'
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from engine.errors import ModelError
from engine.integrity import check_folder, write_checksums
from engine.nlu.intent import LinearHead

__all__ = ["BASE", "ModelVersion", "ModelRegistry"]

#: The version name of the engine's own start-up model (no registry folder).
BASE = "base"

_VERSION_RE = re.compile(r"^v(\d{4,})$")
_STAGE_RE = re.compile(r"^[a-z][a-z0-9_]{0,31}$")


@dataclass(frozen=True)
class ModelVersion:
    """One registered version: its name, folder and card (metrics, data, decision)."""

    version: str
    path: Path
    card: dict[str, Any]

    @property
    def macro_f1(self) -> float | None:
        value = (self.card.get("metrics") or {}).get("macro_f1")
        return float(value) if value is not None else None


def _write_atomic(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.tmp{os.getpid()}")
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(text)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


class ModelRegistry:
    """Versions of the intent head in a folder (see the module docstring for the layout).

    Args:
        root: the registry folder; created on the first change, so reading a registry that does
            not exist yet is fine (it has no versions and ``base`` serves).
    """

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)
        self.versions_dir = self.root / "versions"
        self.reports_dir = self.root / "reports"
        self.pointer = self.root / "CURRENT.json"

    def __repr__(self) -> str:
        return f"ModelRegistry({str(self.root)!r})"

    # -- reading ---------------------------------------------------------------------------
    def stamp(self) -> tuple[int, int, int] | None:
        """A cheap fingerprint of the pointer file (inode, mtime, size); None when absent.

        A running engine compares it between turns and reads the pointer only when it changed.
        """
        try:
            st = os.stat(self.pointer)
        except OSError:
            return None
        return (st.st_ino, st.st_mtime_ns, st.st_size)

    def _read_pointer(self) -> dict[str, Any]:
        try:
            data = json.loads(self.pointer.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return {"current": BASE, "history": []}
        except (OSError, ValueError) as exc:
            raise ModelError(f"model registry pointer {self.pointer} is unreadable: {exc}") from exc
        if not isinstance(data, dict) or not isinstance(data.get("current"), str):
            raise ModelError(f"model registry pointer {self.pointer} is corrupt")
        data.setdefault("history", [])
        return data

    def current(self) -> str:
        """The serving version (``base`` when none was promoted)."""
        return self._read_pointer()["current"]

    def history(self) -> list[str]:
        """Versions that served before the current one, oldest first (what rollback walks back)."""
        return list(self._read_pointer()["history"])

    def log(self) -> list[dict[str, Any]]:
        """Every serving change, oldest first: ``at``, ``action`` (promote, re-promote, rollback),
        ``version`` (serving after it), ``from`` (serving before it), ``by`` and ``note`` (why)."""
        return self._jsonl("log.jsonl")

    def regression_set(self) -> list[dict[str, Any]]:
        """The frozen regression set: ``{"text", "intent", "source", "at"}`` per turn, oldest first."""
        return [e for e in self._jsonl("regression.jsonl") if e.get("text") and e.get("intent")]

    def _jsonl(self, name: str) -> list[dict[str, Any]]:
        """The objects of a JSONL file of the registry, oldest first (unreadable lines skipped)."""
        try:
            lines = (self.root / name).read_text(encoding="utf-8").splitlines()
        except FileNotFoundError:
            return []
        out = []
        for line in lines:
            with contextlib.suppress(ValueError):
                entry = json.loads(line)
                if isinstance(entry, dict):
                    out.append(entry)
        return out

    def freeze_regression(self, turns: list[tuple[str, str, str]]) -> int:
        """Add ``(text, intent, source)`` turns not yet in the regression set; returns how many.

        Frozen: a turn already there keeps the intent it was frozen with.
        """
        with self._locked():
            have = {_norm(e["text"]) for e in self.regression_set()}
            new = []
            for text, intent, source in turns:
                if text and intent and _norm(text) not in have:
                    have.add(_norm(text))
                    new.append(json.dumps({"text": text, "intent": intent, "source": source, "at": time.time()},
                                          ensure_ascii=False))
            if new:
                with open(self.root / "regression.jsonl", "a", encoding="utf-8") as f:
                    f.write("\n".join(new) + "\n")
            return len(new)

    def versions(self) -> list[ModelVersion]:
        """Every registered version, oldest first."""
        if not self.versions_dir.is_dir():
            return []
        names = sorted((p.name for p in self.versions_dir.iterdir() if _VERSION_RE.match(p.name)),
                       key=lambda n: int(n[1:]))
        return [self.get(n) for n in names]

    def get(self, version: str) -> ModelVersion:
        """The version called ``version``.

        Raises:
            ModelError: there is no such version, or its card is unreadable.
        """
        path = self.versions_dir / version
        if not _VERSION_RE.match(version) or not path.is_dir():
            raise ModelError(f"no model version {version!r} in {self.root}")
        try:
            card = json.loads((path / "card.json").read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise ModelError(f"model version {version} has no readable card.json: {exc}") from exc
        return ModelVersion(version, path, card if isinstance(card, dict) else {})

    def load_head(self, version: str, stage: str | None = None) -> LinearHead:
        """The trained head of ``version``, or of its ``stage`` (``"fast"``): raises
        :class:`ModelError` when missing, corrupt, or not matching its recorded checksums."""
        root = path = self.get(version).path
        if stage is not None:
            if not _STAGE_RE.match(stage) or not (path / stage).is_dir():
                raise ModelError(f"model version {version} has no {stage!r} head")
            path = path / stage
        # the whole version (card, every stage) against the record written when it was added
        check_folder(root, what="model version",
                     fix=f"register it again with `shopassist learn retrain`, or serve another (`shopassist learn "
                         f"rollback`, `shopassist learn versions`); {version} will not be served")
        return LinearHead.load(path, checksums="skip")

    def has_stage(self, version: str, stage: str) -> bool:
        """Whether ``version`` was registered with a head for ``stage``."""
        return bool(_STAGE_RE.match(stage)) and (self.get(version).path / stage / "meta.json").is_file()

    # -- changing --------------------------------------------------------------------------
    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        self.root.mkdir(parents=True, exist_ok=True)
        with open(self.root / ".lock", "a+") as f:
            try:
                import fcntl
            except ImportError:  # not POSIX: one writer at a time is then the operator's job
                yield
                return
            fcntl.flock(f, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(f, fcntl.LOCK_UN)

    def add(self, head: LinearHead, card: dict[str, Any], stages: dict[str, LinearHead] | None = None) -> ModelVersion:
        """Register ``head`` (and the heads of other ``stages``, by name) as the next version (not
        serving until :meth:`promote`)."""
        for name in stages or {}:
            if not _STAGE_RE.match(name):
                raise ValueError(f"bad stage name {name!r}")
        with self._locked():
            self.versions_dir.mkdir(parents=True, exist_ok=True)
            numbers = [int(m.group(1)) for p in self.versions_dir.iterdir() if (m := _VERSION_RE.match(p.name))]
            version = f"v{max(numbers, default=0) + 1:04d}"
            tmp = self.versions_dir / f".tmp-{version}-{os.getpid()}"
            shutil.rmtree(tmp, ignore_errors=True)
            head.save(tmp)
            for name, stage_head in (stages or {}).items():
                stage_head.save(tmp / name)
            full = dict(card, version=version, created_at=card.get("created_at", time.time()))
            (tmp / "card.json").write_text(json.dumps(full, indent=1, ensure_ascii=False, default=str), "utf-8")
            write_checksums(tmp)  # last, over the head, its stages and the card
            os.rename(tmp, self.versions_dir / version)
        return ModelVersion(version, self.versions_dir / version, full)

    def promote(self, version: str, *, by: str = "", note: str = "", expect: str | None = None) -> None:
        """Make ``version`` the serving one; the previous one goes on the rollback history.

        Raises:
            ModelError: ``version`` cannot serve, or ``expect`` (the version it was compared
                with) no longer serves: someone promoted or rolled back in the meantime.
        """
        if version != BASE:
            self.load_head(version)  # refuse a version that could not serve
        with self._locked():
            pointer = self._read_pointer()
            if expect is not None and pointer["current"] != expect:
                raise ModelError(f"not promoting {version}: it was compared with {expect}, but "
                                 f"{pointer['current']} serves now; retrain again")
            if pointer["current"] == version:
                return
            history = [*pointer["history"], pointer["current"]]
            served = version == BASE or any(e.get("version") == version for e in self.log())
            self._set(version, history, action="re-promote" if served else "promote", by=by, note=note,
                      previous=pointer["current"])

    def rollback(self, *, by: str = "", note: str = "") -> str:
        """Serve the version that served before the current one; returns it.

        Raises:
            ModelError: nothing was promoted, so there is nothing to roll back to.
        """
        with self._locked():
            pointer = self._read_pointer()
            if not pointer["history"]:
                raise ModelError(f"nothing to roll back to: {pointer['current']} is the first serving model")
            *history, previous = pointer["history"]
            self._set(previous, history, action="rollback", by=by, note=note or f"from {pointer['current']}",
                      previous=pointer["current"])
            return previous

    def _set(self, version: str, history: list[str], *, action: str, by: str, note: str, previous: str) -> None:
        now = time.time()
        _write_atomic(self.pointer, json.dumps({"current": version, "history": history, "updated_at": now,
                                                "by": by}, indent=1))
        with open(self.root / "log.jsonl", "a", encoding="utf-8") as f:
            f.write(json.dumps({"at": now, "action": action, "version": version, "from": previous, "by": by,
                                "note": note}, ensure_ascii=False) + "\n")


def _norm(text: str) -> str:
    return " ".join(str(text).casefold().split())
