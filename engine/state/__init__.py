"""Dialogue state: events, the state they build, durable tracker stores and per-session locks.

PostgreSQL and Redis classes are not imported here (their client libraries are optional): use
``engine.state.postgres.PostgresTrackerStore``, ``engine.state.redis_store.RedisTrackerStore`` and
``engine.state.redis_locks.RedisSessionLocks``, or the builders below.
"""

from .events import (
    BotUttered,
    ConversationBound,
    ConversationReset,
    Event,
    FlowCompleted,
    FlowStarted,
    HandoffRequested,
    SlotSet,
    UserUttered,
    event_from_dict,
)
from .locks import ConversationLocks, SessionLocks, build_session_locks
from .retention import Retention
from .stores import InMemoryTrackerStore, SQLiteTrackerStore, TrackerStore, build_tracker_store
from .tracker import DialogueState

__all__ = [
    "Event",
    "UserUttered",
    "BotUttered",
    "SlotSet",
    "FlowStarted",
    "FlowCompleted",
    "HandoffRequested",
    "ConversationBound",
    "ConversationReset",
    "event_from_dict",
    "DialogueState",
    "TrackerStore",
    "InMemoryTrackerStore",
    "SQLiteTrackerStore",
    "build_tracker_store",
    "Retention",
    "ConversationLocks",
    "SessionLocks",
    "build_session_locks",
]
