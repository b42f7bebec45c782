"""Hand-offs that tell the truth: when a person will answer, and tickets for when nobody is there.

Two parts:

- :func:`next_opening`: from a store's ``support.opening`` (local times per weekday, ``null`` =
  closed) and ``timezone``, the moment support next opens (``None`` while it is open, or when the
  store states no hours: then it is never called closed).
- :class:`HandoffTickets`: email tickets and callback requests a customer asked for while support
  was off duty, stored in SQLite in the data directory (``<data_dir>/handoff_tickets.db``) and
  listed by ``shopassist handoff list`` until the web channel's agent console shows them. The
  contact (an email address or a phone number) is what the customer gave for this ticket: sealed
  at rest with the privacy key like conversation fields (it no longer opens after
  ``privacy.retention_days``), shown to staff in full by the CLI, masked in logs.

Example:
    >>> tickets = HandoffTickets(tmp_path / "t.db")                          # doctest: +SKIP
    >>> t = tickets.open("s1", kind="email", contact="a@b.com", language="en", reason="refund")  # doctest: +SKIP
    >>> [x.ticket_id for x in tickets.list()] == [t.ticket_id]              # doctest: +SKIP
    True
"""

from __future__ import annotations

import logging
import re
import sqlite3
import threading
import uuid
from dataclasses import dataclass
from datetime import datetime, time, timedelta, timezone
from pathlib import Path
from typing import Any, Literal

from engine.privacy import mask_pii

__all__ = ["next_opening", "HandoffTickets", "Ticket", "TicketKind", "valid_contact", "find_contact",
           "format_opening", "tickets_for"]

log = logging.getLogger(__name__)

TicketKind = Literal["email", "callback"]
_DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_EMAIL_RE = re.compile(r"^[^@\s]{1,64}@[^@\s]{1,255}\.[A-Za-z]{2,}$")
_PHONE_RE = re.compile(r"^\+?[\d\s().-]{6,24}$")


def _ranges(spec: str | None) -> list[tuple[time, time]]:
    out = []
    for part in (spec or "").split(","):
        part = part.strip()
        if not part:
            continue
        start, _, end = part.partition("-")
        out.append((time.fromisoformat(start.strip()), time.fromisoformat(end.strip())))
    return out


def next_opening(profile: Any, at: datetime | None = None) -> datetime | None:
    """When support next opens, as an aware datetime in the store's time zone; None when it is
    open at ``at`` (default now), when the store states no hours, or when no day has any.

    Args:
        profile: a :class:`knowledge.kit.StoreProfile` (``support.opening``, ``tz``, ``is_open``).
        at: the moment asked about (aware, or naive UTC).
    """
    opening = profile.support.opening
    if not opening or profile.is_open(at):
        return None
    at = at or datetime.now(timezone.utc)
    if at.tzinfo is None:
        at = at.replace(tzinfo=timezone.utc)
    local = at.astimezone(profile.tz)
    for days in range(8):
        day = local.date() + timedelta(days=days)
        for start, _ in sorted(_ranges(opening.get(_DAYS[day.weekday()]))):
            moment = datetime.combine(day, start, tzinfo=profile.tz)
            if moment > local:
                return moment
    return None


def valid_contact(kind: TicketKind, contact: str) -> bool:
    """Whether ``contact`` is a plausible email address (``email``) or phone number (``callback``)."""
    contact = contact.strip()
    return bool(_EMAIL_RE.match(contact) if kind == "email" else _PHONE_RE.match(contact))


_FIND_EMAIL_RE = re.compile(r"[^@\s<>()\[\],;:'\"]{1,64}@[^@\s<>()\[\],;:'\"]{1,255}\.[A-Za-z]{2,}")
_FIND_PHONE_RE = re.compile(r"(?<![\w.])\+?\d[\d\s().-]{5,22}\d(?![\w.])")
_WEEKDAYS = {"en": ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"),
             "zh": ("周一", "周二", "周三", "周四", "周五", "周六", "周日")}


def find_contact(text: str) -> tuple[TicketKind, str] | None:
    """The email address (→ an email ticket) or phone number (→ a callback) a message gives,
    if it gives one; an order number (no separators, the store's id form) is not a phone."""
    m = _FIND_EMAIL_RE.search(text)
    if m and valid_contact("email", m.group(0)):
        return "email", m.group(0)
    for m in _FIND_PHONE_RE.finditer(text):
        digits = re.sub(r"\D", "", m.group(0))
        if len(digits) >= 7 and (m.group(0).startswith("+") or len(digits) >= 10 or not m.group(0).isdigit()):
            return "callback", m.group(0).strip()
    return None


def format_opening(moment: datetime, lang: str, now: datetime | None = None) -> str:
    """``moment`` (aware, the store's zone) as a customer reads it: "Monday 09:00" (today /
    tomorrow by name in the same week), with the zone's abbreviation or offset."""
    now = (now or datetime.now(timezone.utc)).astimezone(moment.tzinfo)
    days = (moment.date() - now.date()).days
    names = _WEEKDAYS.get(lang, _WEEKDAYS["en"])
    if days == 0:
        day = "今天" if lang == "zh" else "today"
    elif days == 1:
        day = "明天" if lang == "zh" else "tomorrow"
    else:
        day = names[moment.weekday()]
    zone = moment.tzname() or moment.strftime("%z")
    if zone and (zone.startswith("+") or zone.startswith("-")):
        zone = f"UTC{zone[:3]}" if zone[3:] == "00" else f"UTC{zone[:3]}:{zone[3:]}"
    return f"{day} {moment:%H:%M} ({zone})" if lang != "zh" else f"{day}{moment:%H:%M}（{zone}）"


@dataclass(frozen=True)
class Ticket:
    """One stored request for a person to get back to a customer."""

    ticket_id: str
    created: str  # ISO 8601, UTC
    session_id: str
    customer_id: str | None
    kind: str
    contact: str
    language: str
    reason: str
    status: str = "open"


class HandoffTickets:
    """Tickets and callback requests in one SQLite file.

    Args:
        path: the database file (created with its folder on first use).

    Raises:
        ValueError: from :meth:`open` for an unknown kind or an implausible contact.
    """

    def __init__(self, path: str | Path, *, cipher: Any = None) -> None:
        self._path = Path(path)
        self._cipher = cipher  # a FieldCipher (or a factory of one): contacts and reasons sealed at rest
        self._lock = threading.Lock()
        self._ready = False

    def _sealer(self) -> Any:
        if callable(self._cipher) and not hasattr(self._cipher, "encrypt"):
            self._cipher = self._cipher()  # a factory: the key is read (or made) on first need only
        return self._cipher

    def _seal(self, value: str) -> str:
        cipher = self._sealer()
        return cipher.encrypt(value) if cipher is not None else value

    def _open(self, value: str) -> str:
        if self._cipher is None or not value.startswith("gAAAA"):  # Fernet tokens start so
            return value
        from engine.state.cipher import Expired

        try:
            return self._sealer().decrypt(value)
        except Expired:
            return "(expired)"

    def _ticket(self, row: tuple) -> Ticket:
        t = Ticket(*row)
        return Ticket(**{**t.__dict__, "contact": self._open(t.contact), "reason": self._open(t.reason)})

    def _connect(self) -> sqlite3.Connection:
        self._path.parent.mkdir(parents=True, exist_ok=True)
        con = sqlite3.connect(self._path, timeout=10)
        if not self._ready:
            con.execute("CREATE TABLE IF NOT EXISTS tickets (ticket_id TEXT PRIMARY KEY, created TEXT NOT NULL, "
                        "session_id TEXT NOT NULL, customer_id TEXT, kind TEXT NOT NULL, contact TEXT NOT NULL, "
                        "language TEXT NOT NULL, reason TEXT NOT NULL, status TEXT NOT NULL DEFAULT 'open')")
            con.commit()
            self._ready = True
        return con

    def open(self, session_id: str, *, kind: TicketKind, contact: str, language: str, reason: str,
             customer_id: str | None = None) -> Ticket:
        """Store one request; the same session, kind and contact while one is open returns that one."""
        if kind not in ("email", "callback"):
            raise ValueError(f"kind must be email or callback, got {kind!r}")
        contact = contact.strip()
        if not valid_contact(kind, contact):
            what = "an email address" if kind == "email" else "a phone number"
            raise ValueError(f"{mask_pii(contact)!r} is not {what}")
        with self._lock, self._connect() as con:
            rows = con.execute("SELECT * FROM tickets WHERE session_id=? AND kind=? AND status='open'",
                               (session_id, kind)).fetchall()
            for row in rows:
                if self._open(row[5]) == contact:
                    return self._ticket(row)
            ticket = Ticket(ticket_id=f"T-{uuid.uuid4().hex[:8].upper()}",
                            created=datetime.now(timezone.utc).isoformat(timespec="seconds"),
                            session_id=session_id, customer_id=customer_id, kind=kind, contact=contact,
                            language=language, reason=reason[:500])
            con.execute("INSERT INTO tickets VALUES (?,?,?,?,?,?,?,?,?)",
                        (ticket.ticket_id, ticket.created, ticket.session_id, ticket.customer_id, ticket.kind,
                         self._seal(ticket.contact), ticket.language, self._seal(ticket.reason), ticket.status))
        log.info("hand-off ticket %s (%s) for session %s: %s", ticket.ticket_id, kind, session_id,
                 mask_pii(contact))
        return ticket

    def list(self, status: str | None = "open") -> list[Ticket]:
        """Tickets, oldest first (``status`` None: all)."""
        if not self._path.exists():
            return []
        with self._lock, self._connect() as con:
            if status is None:
                rows = con.execute("SELECT * FROM tickets ORDER BY rowid").fetchall()
            else:
                rows = con.execute("SELECT * FROM tickets WHERE status=? ORDER BY rowid",
                                   (status,)).fetchall()
        return [self._ticket(r) for r in rows]

    def close(self, ticket_id: str) -> bool:
        """Mark a ticket done; False when there is no such open ticket."""
        with self._lock, self._connect() as con:
            cur = con.execute("UPDATE tickets SET status='closed' WHERE ticket_id=? AND status='open'", (ticket_id,))
        return cur.rowcount == 1


# -- CLI: shopassist handoff list | close ------------------------------------------------------
def tickets_for(settings: Any) -> HandoffTickets:
    """The ticket store of an engine's settings (in its data directory)."""
    from engine.state.cipher import FieldCipher

    data_dir = Path(settings.resolved_data_dir)
    return HandoffTickets(data_dir / "handoff_tickets.db",
                          cipher=lambda: FieldCipher.from_settings(settings.privacy, data_dir))


def register(sub: Any) -> None:
    """Add ``shopassist handoff list [--all] [--json]`` and ``handoff close ID`` to ``sub``."""
    handoff = sub.add_parser("handoff", help="email tickets and callback requests waiting for a person")
    hsub = handoff.add_subparsers(dest="handoff_cmd", required=True)
    ls = hsub.add_parser("list", help="list open tickets (oldest first)")
    ls.add_argument("--config", default=None)
    ls.add_argument("--all", action="store_true", help="closed ones too")
    ls.add_argument("--json", action="store_true", help="one JSON object a line")
    ls.set_defaults(func=_cmd_list)
    close = hsub.add_parser("close", help="mark a ticket done")
    close.add_argument("ticket_id")
    close.add_argument("--config", default=None)
    close.set_defaults(func=_cmd_close)


def _cmd_list(args: Any) -> int:
    import json
    from dataclasses import asdict

    from engine.settings import load_settings

    tickets = tickets_for(load_settings(args.config)).list(None if args.all else "open")
    for t in tickets:
        if args.json:
            print(json.dumps(asdict(t), ensure_ascii=False))
        else:
            print(f"{t.ticket_id}  {t.created}  {t.status:6s}  {t.kind:8s}  {t.contact}  [{t.language}] "
                  f"customer {t.customer_id or '-'}  {t.reason}")
    if not tickets and not args.json:
        print("no tickets")
    return 0


def _cmd_close(args: Any) -> int:
    import sys

    from engine.settings import load_settings

    if tickets_for(load_settings(args.config)).close(args.ticket_id):
        print(f"closed {args.ticket_id}")
        return 0
    print(f"shopassist: no open ticket {args.ticket_id!r}", file=sys.stderr)
    return 1


def closed_note(profile: Any, templates: Any, lang: str, hours: str, now: datetime, *, offer: bool) -> str:
    """What a hand-off says while support is off duty: when a person will answer (the next
    opening in the store's time zone) and, with ``offer``, that an email address or phone number
    left here becomes a ticket or a callback."""
    at = next_opening(profile, now)
    if at is None:
        text = templates.render("handoff_closed", lang, hours=hours)
    else:
        text = templates.render("handoff_closed_next", lang, hours=hours, when=format_opening(at, lang, now))
    if offer:
        text += ("" if lang == "zh" else " ") + templates.render("handoff_ticket_offer", lang)
    return text
