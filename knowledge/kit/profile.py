"""The shop itself, read from a kit's ``store.yaml``: :class:`StoreProfile`.

Owns the shop's name, currency, languages (the first is the default reply language), time zone,
support contacts and opening hours, policies, labels of catalog attributes and the shape of its
order ids, each checked with a message that names the key. Opening hours are local times in the
shop's time zone (``"09:00-18:00"``, several ranges as ``"09:00-12:00,13:00-18:00"``, a range
ending before it starts runs past midnight, ``null`` = closed); a day left out is closed, and a
shop that states no opening hours at all is treated as always reachable (``is_open`` is True).

Example:
    >>> p = StoreProfile.from_dict({"name": "Lotus & Pine", "currency": "CNY", "languages": ["zh", "en"],
    ...                             "timezone": "Asia/Shanghai", "policies": {"return_window_days": 14}})
    >>> p.currency_symbol, p.default_language, p.order_id_pattern
    ('¥', 'zh', '[0-9]{6}')
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, time, timezone as _tz
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from ._log import ProblemLog
from .problems import KitInvalid

__all__ = ["StoreProfile", "Support", "Policies", "DAYS", "DEFAULT_ORDER_ID_PATTERN", "load_profile"]

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
DEFAULT_ORDER_ID_PATTERN = "[0-9]{6}"
FILE = "store.yaml"
_SYMBOLS = {"USD": "$", "CNY": "¥", "EUR": "€", "GBP": "£", "JPY": "¥"}
_CURRENCY = re.compile(r"[A-Z]{3}")
_LANGUAGE = re.compile(r"[a-z]{2}")
_RANGE = re.compile(r"([01]\d|2[0-3]):([0-5]\d)-([01]\d|2[0-4]):([0-5]\d)")
_KEYS = {"name", "currency", "languages", "timezone", "support", "policies", "attribute_labels",
         "order_id_pattern", "synonyms"}
_SUPPORT_KEYS = {"hours", "opening", "email", "phone"}
_POLICY_KEYS = {"return_window_days", "free_shipping_over", "refund_business_days",
                "non_returnable_categories", "sealed_only_categories", "cancel_after_shipping"}
MAX_PATTERN_CHARS = 200


@dataclass(frozen=True)
class Support:
    """How customers reach a person: display hours per language, opening times per day, contacts."""

    hours: dict[str, str] = field(default_factory=dict)
    opening: dict[str, str | None] = field(default_factory=dict)
    email: str | None = None
    phone: str | None = None


@dataclass(frozen=True)
class Policies:
    """The rules the engine reasons with; only ``return_window_days`` is required."""

    return_window_days: int
    free_shipping_over: float | None = None
    refund_business_days: tuple[int, int] | None = None
    non_returnable_categories: tuple[str, ...] = ()
    sealed_only_categories: tuple[str, ...] = ()  # taken back only unopened and unused (food, tea, cosmetics)
    cancel_after_shipping: bool = False


@dataclass(frozen=True)
class StoreProfile:
    """A shop as its ``store.yaml`` states it.

    Example:
        >>> p = load_profile("kits/lotus-pine/store.yaml")      # doctest: +SKIP
        >>> p.hours_text("en")                                   # doctest: +SKIP
        'Mon-Fri 09:00-18:00'
    """

    name: str
    currency: str
    languages: tuple[str, ...]
    timezone: str
    policies: Policies
    support: Support = field(default_factory=Support)
    attribute_labels: dict[str, dict[str, str]] = field(default_factory=dict)
    order_id_pattern: str = DEFAULT_ORDER_ID_PATTERN
    # words customers use for what the catalog calls otherwise: {"充电宝": "移动电源", "earphones": "earbuds"}
    synonyms: dict[str, str] = field(default_factory=dict)

    @property
    def default_language(self) -> str:
        return self.languages[0]

    @property
    def currency_symbol(self) -> str:
        """``$``, ``¥``, ``€``, ``£`` for the currencies that have one people use, else ``"CHF "``."""
        return _SYMBOLS.get(self.currency, f"{self.currency} ")

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def reply_language(self, lang: str | None) -> str:
        """``lang`` when the shop lists it, else the shop's first language."""
        return lang if lang in self.languages else self.default_language

    def order_id_regex(self) -> re.Pattern[str]:
        return re.compile(self.order_id_pattern)

    def hours_text(self, lang: str | None = None) -> str:
        """Support hours as the shop words them in ``lang`` (else its first language; "" if none)."""
        hours = self.support.hours
        for key in (lang, self.default_language):
            if key and hours.get(key):
                return hours[key]
        return next(iter(hours.values()), "")

    def is_open(self, at: datetime | None = None) -> bool:
        """Whether support is staffed at ``at`` (aware, or naive UTC; default now) in the shop's time zone."""
        opening = self.support.opening
        if not opening:
            return True  # the shop states no hours: never tell customers it is closed
        at = at or datetime.now(_tz.utc)
        if at.tzinfo is None:
            at = at.replace(tzinfo=_tz.utc)
        local = at.astimezone(self.tz)
        now = local.time()
        today = DAYS[local.weekday()]
        yesterday = DAYS[(local.weekday() - 1) % 7]
        for start, end in _ranges(opening.get(today)):
            if start <= now and (now < end or end <= start):
                return True
        for start, end in _ranges(opening.get(yesterday)):
            if end <= start and now < end:  # yesterday's overnight range
                return True
        return False

    @classmethod
    def from_dict(cls, doc: Any) -> "StoreProfile":
        """A profile from a parsed ``store.yaml``.

        Raises:
            KitInvalid: any error in the document (every one is listed).
        """
        log = ProblemLog()
        profile = parse_profile(doc, log)
        if profile is None or log.has_errors:
            raise KitInvalid(log.problems())
        return profile


def load_profile(path: str | Path) -> StoreProfile:
    """Read and check one ``store.yaml`` (safe YAML only; nothing in it is executed).

    Raises:
        KitInvalid: the file is unreadable or holds any error.
    """
    from ._files import read_yaml  # noqa: PLC0415 - _files imports this module

    log = ProblemLog()
    doc = read_yaml(Path(path), FILE, log, required=True)
    profile = parse_profile(doc, log) if not log.has_errors else None
    if profile is None or log.has_errors:
        raise KitInvalid(log.problems(), Path(path).parent)
    return profile


def _ranges(spec: str | None) -> list[tuple[time, time]]:
    if not spec:
        return []
    out = []
    for part in spec.split(","):
        m = _RANGE.fullmatch(part.strip())
        if m:
            h1, m1, h2, m2 = (int(g) for g in m.groups())
            end = time(23, 59, 59, 999999) if h2 == 24 else time(h2, m2)
            out.append((time(h1, m1), end))
    return out


# -- checking ------------------------------------------------------------------------------------


def _is_int(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _is_number(v: Any) -> bool:
    return (isinstance(v, (int, float)) and not isinstance(v, bool)) and v == v and abs(v) != float("inf")


def _yaml_hint(v: Any) -> str:
    # YAML 1.1 reads no/yes/on/off as booleans: the Norwegian language code `no` is the classic trap
    return " (quote it: YAML reads no/yes/on/off as true/false)" if isinstance(v, bool) else ""


def parse_profile(doc: Any, log: ProblemLog, file: str = FILE) -> StoreProfile | None:
    """Check a parsed ``store.yaml``, logging every problem; the profile, or None when unusable."""
    if not isinstance(doc, dict):
        log.error(file, None, None, f"expected a mapping of keys (name, currency, ...), got {type(doc).__name__}")
        return None
    for key in doc:
        if key not in _KEYS:
            log.warn(file, None, str(key), "unknown key, ignored")
    errors_before = log.error_count

    name = doc.get("name")
    if not isinstance(name, str) or not name.strip():
        log.error(file, None, "name", "required: the shop's name as customers see it")
        name = ""
    currency = doc.get("currency")
    if not isinstance(currency, str) or not _CURRENCY.fullmatch(currency):
        log.error(file, None, "currency", f"{currency!r} is not an ISO 4217 code (three capital letters, e.g. USD)"
                  if currency is not None else "required: an ISO 4217 code such as USD")
        currency = ""
    languages = _languages(doc.get("languages"), log, file)
    timezone = doc.get("timezone")
    if not isinstance(timezone, str) or not timezone:
        log.error(file, None, "timezone", "required: an IANA time zone such as America/Los_Angeles")
        timezone = "UTC"
    else:
        try:
            ZoneInfo(timezone)
        except (ZoneInfoNotFoundError, ValueError, OSError):
            log.error(file, None, "timezone", f"{timezone!r} is not an IANA time zone (e.g. Europe/Berlin)")
            timezone = "UTC"
    support = _support(doc.get("support"), languages, log, file)
    policies = _policies(doc.get("policies"), log, file)
    labels = _labels(doc.get("attribute_labels"), languages, log, file)
    pattern = _pattern(doc.get("order_id_pattern", DEFAULT_ORDER_ID_PATTERN), log, file)
    synonyms = _synonyms(doc.get("synonyms"), log, file)
    if log.error_count > errors_before or policies is None:
        return None
    return StoreProfile(name=name.strip(), currency=currency, languages=languages, timezone=timezone,
                        policies=policies, support=support, attribute_labels=labels, order_id_pattern=pattern,
                        synonyms=synonyms)


def _languages(raw: Any, log: ProblemLog, file: str) -> tuple[str, ...]:
    if raw is None:
        log.error(file, None, "languages", "required: a list of ISO 639-1 codes, the default reply language first")
        return ("en",)
    if isinstance(raw, str):
        raw = [raw]
    if not isinstance(raw, list) or not raw:
        log.error(file, None, "languages", "expected a non-empty list of ISO 639-1 codes such as [en, zh]")
        return ("en",)
    out: list[str] = []
    for i, lang in enumerate(raw):
        if not isinstance(lang, str) or not _LANGUAGE.fullmatch(lang):
            log.error(file, None, f"languages[{i}]", f"{lang!r} is not an ISO 639-1 code (two lower-case "
                                                     f"letters, e.g. en){_yaml_hint(lang)}")
        elif lang in out:
            log.error(file, None, f"languages[{i}]", f"{lang!r} is listed twice")
        else:
            out.append(lang)
    return tuple(out) or ("en",)


def _lang_text_map(raw: Any, languages: tuple[str, ...], log: ProblemLog, file: str, where: str) -> dict[str, str]:
    if raw is None:
        return {}
    if isinstance(raw, str):  # one text: the default language's
        return {languages[0]: raw}
    if not isinstance(raw, dict):
        log.error(file, None, where, "expected a mapping of language -> text")
        return {}
    out: dict[str, str] = {}
    for lang, text in raw.items():
        if not isinstance(text, str):
            log.error(file, None, f"{where}.{lang}", f"expected text, got {text!r}")
        elif lang not in languages:
            log.warn(file, None, f"{where}.{lang}", f"language {lang!r} is not in `languages`; ignored")
        else:
            out[lang] = text
    return out


def _support(raw: Any, languages: tuple[str, ...], log: ProblemLog, file: str) -> Support:
    if raw is None:
        return Support()
    if not isinstance(raw, dict):
        log.error(file, None, "support", "expected a mapping (hours, opening, email, phone)")
        return Support()
    for key in raw:
        if key not in _SUPPORT_KEYS:
            log.warn(file, None, f"support.{key}", "unknown key, ignored")
    hours = _lang_text_map(raw.get("hours"), languages, log, file, "support.hours")
    opening: dict[str, str | None] = {}
    spec = raw.get("opening")
    if spec is not None and not isinstance(spec, dict):
        log.error(file, None, "support.opening", "expected a mapping of day (mon..sun) -> \"HH:MM-HH:MM\" or null")
    for day, value in (spec or {}).items() if isinstance(spec, dict) else ():
        where = f"support.opening.{day}"
        if day not in DAYS:
            log.error(file, None, where, f"{day!r} is not a day; use {', '.join(DAYS)}")
        elif value is None or value is False:
            opening[day] = None
        elif not isinstance(value, str) or not all(_RANGE.fullmatch(p.strip()) for p in value.split(",")):
            log.error(file, None, where, f"{value!r} is not opening hours: \"HH:MM-HH:MM\" (local time) or null")
        else:
            opening[day] = ",".join(p.strip() for p in value.split(","))
    if opening:
        opening = {d: opening.get(d) for d in DAYS}
    email, phone = raw.get("email"), raw.get("phone")
    if email is not None and (not isinstance(email, str) or "@" not in email):
        log.error(file, None, "support.email", f"{email!r} is not an email address")
        email = None
    if phone is not None and not isinstance(phone, str):
        if _is_int(phone):
            log.warn(file, None, "support.phone", "a number, read as text; quote it to keep a leading + or 0")
        else:
            log.error(file, None, "support.phone", f"{phone!r} is not a phone number")
            phone = None
        phone = str(phone) if phone is not None else None
    return Support(hours=hours, opening=opening, email=email, phone=phone)


def _policies(raw: Any, log: ProblemLog, file: str) -> Policies | None:
    if not isinstance(raw, dict):
        log.error(file, None, "policies", "required: a mapping with at least return_window_days")
        return None
    for key in raw:
        if key not in _POLICY_KEYS:
            log.warn(file, None, f"policies.{key}", "unknown policy, ignored")
    ok = True
    window = raw.get("return_window_days")
    if not _is_int(window) or window <= 0:
        log.error(file, None, "policies.return_window_days",
                  "required: a whole number of days > 0" if window is None else f"{window!r} is not a whole number of days > 0")
        ok = False
    free = raw.get("free_shipping_over")
    if free is not None and (not _is_number(free) or free < 0):
        log.error(file, None, "policies.free_shipping_over", f"{free!r} is not an amount >= 0 (or null)")
        ok = False
    days = raw.get("refund_business_days")
    refund: tuple[int, int] | None = None
    if days is not None:
        if _is_int(days):
            days = [days, days]
        if (not isinstance(days, list) or len(days) != 2 or not all(_is_int(d) and d >= 0 for d in days)
                or days[0] > days[1]):
            log.error(file, None, "policies.refund_business_days",
                      f"{days!r} is not [fewest, most] business days (two whole numbers, fewest first)")
            ok = False
        else:
            refund = (days[0], days[1])
    else:
        log.warn(file, None, "policies.refund_business_days", "not stated: replies about refund timing say the "
                 "engine's default, 5–7 business days (state the shop's own: [fewest, most], e.g. [3, 5])")
    cats = raw.get("non_returnable_categories") or []
    if not isinstance(cats, list) or not all(isinstance(c, str) for c in cats):
        log.error(file, None, "policies.non_returnable_categories", "expected a list of category names")
        ok = False
        cats = []
    sealed = raw.get("sealed_only_categories") or []
    if not isinstance(sealed, list) or not all(isinstance(c, str) for c in sealed):
        log.error(file, None, "policies.sealed_only_categories", "expected a list of category names")
        ok = False
        sealed = []
    cancel = raw.get("cancel_after_shipping", False)
    if not isinstance(cancel, bool):
        log.error(file, None, "policies.cancel_after_shipping", f"{cancel!r} is not true or false")
        ok = False
    if not ok:
        return None
    return Policies(return_window_days=window, free_shipping_over=float(free) if free is not None else None,
                    refund_business_days=refund, non_returnable_categories=tuple(cats),
                    sealed_only_categories=tuple(sealed), cancel_after_shipping=cancel)


def _labels(raw: Any, languages: tuple[str, ...], log: ProblemLog, file: str) -> dict[str, dict[str, str]]:
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        log.error(file, None, "attribute_labels", "expected a mapping of attribute -> {language: label}")
        return {}
    return {str(name): _lang_text_map(spec, languages, log, file, f"attribute_labels.{name}")
            for name, spec in raw.items()}


def _synonyms(raw: Any, log: ProblemLog, file: str) -> dict[str, str]:
    """``synonyms``: a customer's word -> the word the catalog uses for it (a kind or an attribute)."""
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        log.error(file, None, "synonyms", "expected a mapping of word -> the catalog's word (e.g. 充电宝: 移动电源)")
        return {}
    out: dict[str, str] = {}
    for word, target in raw.items():
        if not isinstance(word, str) or not isinstance(target, str) or not word.strip() or not target.strip():
            log.warn(file, None, f"synonyms.{word}", f"expected a word and the catalog's word, got {target!r}; ignored")
        elif word.strip().lower() != target.strip().lower():
            out[word.strip()] = target.strip()
    return out


def _pattern(raw: Any, log: ProblemLog, file: str) -> str:
    where = "order_id_pattern"
    if _is_int(raw):
        raw = str(raw)
    if not isinstance(raw, str) or not raw:
        log.error(file, None, where, f"{raw!r} is not a regular expression")
        return DEFAULT_ORDER_ID_PATTERN
    if len(raw) > MAX_PATTERN_CHARS:
        log.error(file, None, where, f"longer than {MAX_PATTERN_CHARS} characters")
        return DEFAULT_ORDER_ID_PATTERN
    try:
        rx = re.compile(raw)
    except re.error as exc:
        log.error(file, None, where, f"{raw!r} is not a valid regular expression: {exc}")
        return DEFAULT_ORDER_ID_PATTERN
    if rx.fullmatch(""):
        log.error(file, None, where, f"{raw!r} matches an empty order id; require at least one character")
    return raw

