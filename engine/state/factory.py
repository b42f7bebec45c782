"""Builds the tracker store and the session locks that ``tracker`` settings ask for.

The one place that turns :class:`engine.settings.TrackerSettings` into objects, so the composition
root (``engine.builder``) and tests get the same wiring.

Example:
    >>> store, locks = build_tracker(load_settings().tracker, Path("/tmp/data"))   # doctest: +SKIP
"""

from __future__ import annotations

from pathlib import Path

from engine.settings import TrackerSettings

from .locks import ConversationLocks, build_session_locks
from .retention import Retention
from .stores import TrackerStore, build_tracker_store

__all__ = ["build_tracker"]


def build_tracker(settings: TrackerSettings, data_dir: Path) -> tuple[TrackerStore, ConversationLocks]:
    """The configured store (SQLite at ``<data_dir>/tracker.db`` unless ``path``) and locks."""
    store = build_tracker_store(
        settings.kind,
        settings.path or data_dir / "tracker.db",
        window=settings.history_window,
        url=settings.url,
        retention=Retention(settings.retention_events, settings.retention_days),
        timeout_s=settings.timeout_s,
        key_prefix=settings.key_prefix,
    )
    locks = build_session_locks(settings.lock, settings.resolved_lock_url, lease_s=settings.lock_lease_s,
                                key_prefix=settings.key_prefix, timeout_s=settings.timeout_s)
    return store, locks
