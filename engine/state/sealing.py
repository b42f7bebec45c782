"""What a tracker store writes instead of what customers typed: the one seam between state and storage.

Every tracker store passes a turn through :meth:`Sealer.seal_turn` before it serialises anything,
and every snapshot, checkpoint and event it reads back through :meth:`Sealer.open_state_dict` /
:meth:`Sealer.open_event`. Sealing

* masks free text (what the customer said, what the bot said, hand-off summaries and reasons,
  the history in snapshots, feedback texts and comments) with :func:`engine.privacy.mask_pii`,
  after replacing the values of encrypted slots (``privacy.encrypted_slots``: the new delivery
  address the customer typed and the bot echoes) with their placeholder, so the learning loop
  keeps ``"ship it to [address]"`` rather than nothing;
* encrypts slot values a flow still needs on a later turn — the encrypted slots, and any slot in
  whose value PII is found — as ``{"$sealed": <Fernet token>}`` (:mod:`engine.state.cipher`).

Opening decrypts them, so the flow's next turn gets the real address; a token past its retention
opens as *no value* (the slot is gone, and the next commit writes the snapshot without it). A
re-sealed value keeps the time it was first sealed, so retention counts from when the customer
typed it, not from the latest turn. Values stored in clear by earlier versions open unchanged.

Example:
    >>> sealer = Sealer(FieldCipher(key))                                      # doctest: +SKIP
    >>> sealed = sealer.seal_turn(state, events, state.apply_all(events))     # doctest: +SKIP
    >>> sealed.state["slots"]["new_address"]                                  # doctest: +SKIP
    {'$sealed': 'gAAAAABm...'}
"""

from __future__ import annotations

import functools
import json
import logging
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from engine.privacy import mask_pii

from .cipher import Expired, FieldCipher
from .events import Event, event_from_dict
from .tracker import DialogueState

__all__ = ["Sealer", "SealedTurn", "SEALED", "DEFAULT_ENCRYPTED_SLOTS", "process_sealer"]

log = logging.getLogger("shopassist.privacy")

#: the key of an encrypted value in stored JSON
SEALED = "$sealed"
DEFAULT_ENCRYPTED_SLOTS: Mapping[str, str] = {"new_address": "[address]"}
_EVENT_TEXTS = ("text", "summary", "reason")  # the free-text fields of events
_FEEDBACK_TEXTS = ("text", "comment", "correction")
_MIN_SECRET = 4  # shorter slot values are not searched for in texts (they would mangle words)




@functools.lru_cache(maxsize=8192)
def _masked(text: str) -> str:
    """:func:`mask_pii`, remembered: a snapshot carries the conversation's recent history, so each
    commit would otherwise mask the same texts again."""
    return mask_pii(text)

class _Opened(str):
    """A decrypted string that remembers when it was first sealed (for retention on re-sealing)."""

    sealed_at: float


@dataclass(frozen=True)
class SealedTurn:
    """One turn as a store writes it: JSON-ready dicts only."""

    events: list[dict[str, Any]]
    state: dict[str, Any]  # the new snapshot
    checkpoint: dict[str, Any]  # the state before the turn (retention checkpoint)
    feedback: list[dict[str, Any]]


def _is_sealed(value: Any) -> bool:
    return isinstance(value, dict) and len(value) == 1 and isinstance(value.get(SEALED), str)


class Sealer:
    """Masks and encrypts conversation data on its way into a store; decrypts it on the way out.

    Args:
        cipher: encrypts slot values (default: :meth:`FieldCipher.ephemeral`, this process only).
        encrypted_slots: slot name -> placeholder; these values are always encrypted, and written
            as the placeholder wherever a stored text quotes them.

    Example:
        >>> Sealer.from_settings(settings.privacy, settings.resolved_data_dir)   # doctest: +SKIP
    """

    def __init__(self, cipher: FieldCipher | None = None, *,
                 encrypted_slots: Mapping[str, str] = DEFAULT_ENCRYPTED_SLOTS) -> None:
        for name, placeholder in encrypted_slots.items():
            if not name or not placeholder:
                raise ValueError(f"encrypted_slots needs a slot name and a placeholder, got {name!r}: {placeholder!r}")
        self._cipher = cipher if cipher is not None else FieldCipher.ephemeral()
        self._slots = dict(encrypted_slots)

    @classmethod
    def from_settings(cls, privacy: Any, data_dir: Path) -> "Sealer":
        """The sealer of the ``privacy`` settings section (its key, retention and slots)."""
        return cls(FieldCipher.from_settings(privacy, data_dir), encrypted_slots=privacy.encrypted_slots)

    # -- writing ---------------------------------------------------------------------------
    def seal_turn(self, state: DialogueState, events: Sequence[Event], new: DialogueState,
                  feedback: Iterable[dict[str, Any]] = ()) -> SealedTurn:
        """The turn ``state`` + ``events`` -> ``new`` (and its captured ``feedback``), sealed."""
        secrets = self._secrets(state.slots, new.slots,
                                ((e.name, e.value) for e in events if e.type == "slot"))
        return SealedTurn(
            events=[self._event(e, secrets) for e in events],
            state=self._state(new, secrets),
            checkpoint=self._state(state, secrets),
            feedback=[self.seal_feedback(r, secrets) for r in feedback],
        )

    def seal_feedback(self, record: dict[str, Any], secrets: Sequence[tuple[str, str]] = ()) -> dict[str, Any]:
        """A feedback record with its texts masked."""
        out = dict(record)
        for name in _FEEDBACK_TEXTS:
            if isinstance(out.get(name), str):
                out[name] = self.mask(out[name], secrets)
        return out

    def mask(self, text: str, secrets: Sequence[tuple[str, str]] = ()) -> str:
        """``text`` with the ``(value, placeholder)`` secrets replaced, then :func:`mask_pii`."""
        for value, placeholder in secrets:
            text = text.replace(value, placeholder)
        return _masked(text)

    def _secrets(self, *slot_sources: Any) -> list[tuple[str, str]]:
        found: dict[str, str] = {}
        for source in slot_sources:
            items = source.items() if isinstance(source, Mapping) else source
            for name, value in items:
                placeholder = self._slots.get(name)
                if placeholder and isinstance(value, str) and len(value.strip()) >= _MIN_SECRET:
                    found[value] = placeholder
                    found[value.strip()] = placeholder
        return sorted(found.items(), key=lambda kv: -len(kv[0]))  # the longest first: no partial hits

    def _event(self, event: Event, secrets: Sequence[tuple[str, str]]) -> dict[str, Any]:
        data = event.to_dict()
        for name in _EVENT_TEXTS:
            if isinstance(data.get(name), str):
                data[name] = self.mask(data[name], secrets)
        if event.type == "slot":
            data["value"] = self._seal_value(data["name"], data.get("value"))
        return data

    def _state(self, state: DialogueState, secrets: Sequence[tuple[str, str]]) -> dict[str, Any]:
        data = state.to_dict()
        data["history"] = [[who, self.mask(text, secrets)] for who, text in state.history]
        data["slots"] = {k: self._seal_value(k, v) for k, v in state.slots.items()}
        return data

    def _seal_value(self, name: str, value: Any) -> Any:
        if value is None or _is_sealed(value):
            return value
        if name in self._slots or self._has_pii(value):
            return {SEALED: self._cipher.encrypt(value, at=getattr(value, "sealed_at", None))}
        return value

    @staticmethod
    def _has_pii(value: Any) -> bool:
        if isinstance(value, (bool, int, float)):
            return False
        text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, default=str)
        return mask_pii(text) != text

    # -- reading ---------------------------------------------------------------------------
    def open_state_dict(self, data: Any) -> Any:
        """A stored snapshot or checkpoint dict with its sealed slots decrypted (expired: dropped)."""
        if not isinstance(data, dict) or not isinstance(data.get("slots"), dict):
            return data  # not a state: the caller's parser reports it
        slots: dict[str, Any] = {}
        for name, value in data["slots"].items():
            if not _is_sealed(value):
                slots[name] = value
                continue
            try:
                slots[name] = self._open(value[SEALED])
            except Expired:
                log.info("slot %s of session %s expired or unreadable: treated as gone",
                         name, str(data.get("session_id"))[:40])
        return {**data, "slots": slots}

    def open_state(self, data: dict[str, Any]) -> DialogueState:
        """:meth:`open_state_dict`, as a :class:`DialogueState`."""
        return DialogueState.from_dict(self.open_state_dict(data))

    def open_event(self, data: dict[str, Any]) -> Event:
        """An event from its stored dict; a sealed slot value past retention opens as None (gone)."""
        if isinstance(data, dict) and data.get("type") == "slot" and _is_sealed(data.get("value")):
            try:
                value = self._open(data["value"][SEALED])
            except Expired:
                value = None
            data = {**data, "value": value}
        return event_from_dict(data)

    def _open(self, token: str) -> Any:
        value = self._cipher.decrypt(token)
        if isinstance(value, str):
            value = _Opened(value)
            value.sealed_at = self._cipher.sealed_at(token)
        return value


@functools.lru_cache(maxsize=1)
def process_sealer() -> Sealer:
    """The sealer of stores built without one (tests, scripts): masks as always, and encrypts with
    a key of this process, so stores reopened in the process read each other. Configured stores
    get :meth:`Sealer.from_settings` from :func:`engine.state.factory.build_tracker`."""
    return Sealer()
