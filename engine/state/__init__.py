"""Dialogue state: events, the state they build, durable tracker stores and per-session locks."""

from .events import (
    BotUttered,
    ConversationReset,
    Event,
    FlowCompleted,
    FlowStarted,
    HandoffRequested,
    SlotSet,
    UserUttered,
    event_from_dict,
)
from .locks import SessionLocks
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
    "ConversationReset",
    "event_from_dict",
    "DialogueState",
    "TrackerStore",
    "InMemoryTrackerStore",
    "SQLiteTrackerStore",
    "build_tracker_store",
    "SessionLocks",
]
