"""Builds the tracker store and the session locks that ``tracker`` settings ask for.

The one place that turns the ``tracker`` section (one :class:`engine.settings.TrackerSettings`
subclass per kind) into objects, so the composition root (``engine.builder``) and tests get the
same wiring.

Example:
    >>> s = load_settings()                                                            # doctest: +SKIP
    >>> store, locks = build_tracker(s.tracker, s.resolved_data_dir, privacy=s.privacy)  # doctest: +SKIP
"""

from __future__ import annotations

from pathlib import Path

from engine.settings import PrivacySettings, TrackerSettings

from .locks import ConversationLocks, build_session_locks
from .retention import Retention
from .sealing import Sealer
from .stores import TrackerStore, build_tracker_store

__all__ = ["build_tracker"]


def build_tracker(settings: TrackerSettings, data_dir: Path, *,
                  privacy: PrivacySettings | None = None) -> tuple[TrackerStore, ConversationLocks]:
    """The configured store (SQLite at ``<data_dir>/tracker.db`` unless ``path``) and locks.

    The store masks and encrypts what it writes as ``privacy`` says (default: the defaults, with
    the key kept in ``<data_dir>/privacy.key``); pass ``settings.privacy`` so the configured key is used.
    """
    store = build_tracker_store(
        settings.kind,
        getattr(settings, "path", None) or data_dir / "tracker.db",  # sqlite's own field
        window=settings.history_window,
        url=getattr(settings, "url", None),  # postgres' and redis' own field
        retention=Retention(settings.retention_events, settings.retention_days),
        timeout_s=settings.timeout_s,
        key_prefix=settings.key_prefix,
        sealer=Sealer.from_settings(privacy or PrivacySettings(), data_dir),
    )
    locks = build_session_locks(settings.lock, settings.resolved_lock_url, lease_s=settings.lock_lease_s,
                                key_prefix=settings.key_prefix, timeout_s=settings.timeout_s)
    return store, locks
