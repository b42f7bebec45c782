"""The router: decides, for one analysed turn, which responder answers it.

Order of precedence (first match wins):

1. an explicit request for a human, or a strongly negative customer who is complaining or stuck
   → hand-off;
2. an active flow that this turn continues (an order id, a yes/no, the answer to its step) → that flow;
3. template intents (greetings, thanks, goodbyes, complaints) → templates;
4. order intents → :class:`engine.flows.OrderFlows` (through connectors, ownership-checked);
5. product questions / comparisons / recommendations → the catalog graph;
6. policy questions and anything else → hybrid FAQ retrieval, answered only when the fused score
   clears ``min_score``; otherwise a fallback, and a hand-off after repeated fallbacks.

Which intent is which comes from the intent catalog (:mod:`engine.nlu.catalog`): its route, its
template and its flags (a digression while a flow waits, stops or continues a flow, ...). What a
waiting flow expects comes from its spec (:mod:`engine.flows.specs`): any step a spec declares is
fed to the flow, so the router names no intent and no step.

Example:
    >>> router.route(turn).route          # doctest: +SKIP
    'retrieval'
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import replace as dc_replace
from typing import Any

from engine.errors import ConfigError
from engine.flows.base import Decision, Turn, pick_listed
from engine.dialogue.guards import asks_how_to
from engine.dialogue.questions import SELL_RE, about_unplaced_order, asks_for_one, is_question
from engine.dialogue.references import Candidate, descriptor_tokens, resolve_description
from engine.dialogue.understand import OTHERS_DATA, OVERRIDE, OWNER_ONLY
from engine.flows.orders import OrderFlows
from engine.flows.specs import DEFECT_RE as _DEFECT_RE
from engine.flows.specs import extract_reason
from engine.flows.finding import CUES, makes_request, request_in
from engine.flows.writes import looks_like_question
from engine.generation.extractive import drop_affirmation
from engine.handoff import find_contact, format_opening, next_opening
from engine.privacy import mask_pii
from engine.generation.base import Answer, Generator
from engine.nlu.base import OUT_OF_SCOPE
from engine.nlu.catalog import IntentCatalog, load_intent_catalog
from engine.responses.templates import Templates
from engine.settings import DialogueSettings, RetrievalSettings
from engine.state.events import FlowCompleted, FlowStarted, SlotSet
from engine.types import Source
from knowledge.faq.answerability import Verdict
from knowledge.faq.index import Retriever
from knowledge.graph.query import ProductQA

__all__ = ["Router"]

_ACCESSORY_RE = re.compile(r"accessor|配件|\bcases?\b|charger|充电|手机壳|保护壳|保护套|贴膜|钢化膜|表带", re.IGNORECASE)
# what ends a waiting flow; "cancel it" / "取消吧" ask to cancel an order (a flow of its own, confirmed
# before anything happens), so they are not read as "stop asking me"
_STOP_RE = re.compile(r"never ?mind|forget (?:it|that|about it)|cancel (?:that request|this request)|\bstop\b|算了|不用了|"
                      r"不要了|先不(?:办|弄|用)了",
                      re.IGNORECASE)


# the products just shown, named as a group: "which of these", "of those", "这几个/这几款里", "它们"
_OF_THESE_RE = re.compile(r"\b(?:these|those|of them|the three|the two|the ones you (?:showed|listed|mentioned))\b|"
                          r"这(?:几|两|三)(?:个|款|双|台|件)?|那(?:几|两|三)(?:个|款|双|台|件)|它们|其中", re.IGNORECASE)
# candidates drawn for each reading of an FAQ follow-up before they are blended
_FOLLOWUP_CANDIDATES = 20
# how far behind the first FAQ one written for the category of the kind asked about may be and
# still go first (the fused scores of a topic's FAQs lie within a few hundredths)
_CATEGORY_MARGIN = 0.05


# a follow-up of up to this many content words is read mostly through the question before it
_FOLLOWUP_WORDS = 4.0
_CONTENT_WORD_RE = re.compile(r"[a-z0-9][a-z0-9'’-]*", re.IGNORECASE)
_CJK_CONTENT_RE = re.compile(r"[\u4e00-\u9fff]")
_CJK_PARTICLES = frozenset("那呢吗吧啊呀的了么嘛哦喔嗯这个也还就都是")
_FUNCTION_WORDS = frozenset(
    "a an the and or but so if what whats what's how who when where which why can could would will should do does "
    "did is are was were be been am i im i'm me my you your u ur we us our it its it's that this they them those "
    "these there here to of for on in at with about from by ok okay got just then too also any some".split())


def _content_size(text: str) -> float:
    """About how many content words a message holds (English words outside a short list of
    function words; two Chinese characters a word, particles aside)."""
    words = sum(1 for w in _CONTENT_WORD_RE.findall(text) if w.lower() not in _FUNCTION_WORDS)
    chars = sum(1 for c in _CJK_CONTENT_RE.findall(text) if c not in _CJK_PARTICLES)
    return words + chars / 2.0


def _faq_context(turn: Turn) -> str | None:
    """The message read with the question it follows, when the understanding stage found it to
    follow an FAQ answer (``follow_up`` resolved by ``faq``); None otherwise."""
    command = turn.understood
    if getattr(command, "kind", "") != "follow_up" or getattr(command, "resolved_by", "") != "faq":
        return None
    before = next(iter(getattr(command, "attributes", ()) or ()), "")
    if not before:
        return None
    return f"{before}{'，' if turn.lang == 'zh' else ' '}{turn.nlu.text}"


# a Chinese message with English words in it: at least this many letters of them (not a lone "ok"
# or "app"), and how much the English twin of each FAQ weighs
_LATIN_WORD_RE = re.compile(r"[A-Za-z]{2,}")
_MIXED_LETTERS = 6
_MIXED_WEIGHT = 0.5
# a product's coming availability: "back in stock", "restock", "什么时候有货"
_RESTOCK_RE = re.compile(r"\bback in stock\b|\brestock|\bin stock again\b|\bavailable again\b|\bcome back\b|"
                         r"\b(?:pre-?order|back-?order)|补货|到货|再有货|什么时候有货|重新上架|预订|预定|预购", re.IGNORECASE)
_STOCK_QUESTION = ("is it in stock?", "有货吗")
_OUT_OF_STOCK = ("This item is out of stock.", "这件商品缺货了。")
# the two remedies for an item that arrived wrong: a replacement, or a return for the money
_REMEDIES = ("request_replacement", "return_item")
_REMEDY_CUES = {"request_replacement": CUES["request_replacement"],
                "return_item": re.compile(f"{CUES['refund_status'].pattern}|{CUES['return_item'].pattern}",
                                          re.IGNORECASE | re.ASCII)}
# a wish said negated ("I don't want a refund", "不要退款") asks for nothing
_NOT_BEFORE_RE = re.compile(r"\b(?:don'?t|do not|not|no|never|without)\b[^.,;!?]*$|(?:不|别|不要|不用|没)[^，,。；;！!？?]{0,3}$",
                            re.IGNORECASE)


def _faq_key(passage_id: str) -> str:
    """The FAQ a passage is, whatever its language: its entry id without the language
    ("zh-returns-window" → "returns-window", as the store kit writes entry ids)."""
    return passage_id.split("-", 1)[-1]


def _other_remedy(flow: str, text: str) -> str | None:
    """The other remedy the words ask for while ``flow`` (one remedy) waits: a return ("退钱吧",
    "just refund me") during a replacement, a replacement ("send me a new one") during a return;
    None for anything else (a question about the refund, a no, the same remedy)."""
    if flow not in _REMEDIES or looks_like_question(text):  # "can you just send a new one" asks for it
        return None
    other = _REMEDIES[1 - _REMEDIES.index(flow)]
    wish = request_in(text)
    if wish is None or not makes_request(text, wish):  # "and if I return it, ...?" asks what would happen
        return None
    if wish == "refund_status":  # money back for a delivered item comes by its return
        wish = "return_item"
    if wish != other:
        return None
    cue = _REMEDY_CUES[wish].search(text)
    return None if cue is None or _NOT_BEFORE_RE.search(text[max(0, cue.start() - 16):cue.start()]) else other


def _moves_flow(event: object, owned: frozenset[str]) -> bool:
    """Whether ``event`` would move a waiting flow (start or end one, or set a slot it owns)."""
    return isinstance(event, (FlowStarted, FlowCompleted)) or (isinstance(event, SlotSet) and event.name in owned)
# a request to be passed to a person, inside whatever else the message says
_WANTS_PERSON_RE = re.compile(
    r"\b(?:get|give|put|transfer|connect|pass|send|escalate) (?:me|this|us)(?: (?:to|with|through to|over to))? "
    r"(?:a |an |the |your |some )?(?:actual |real |live |human )?(?:agent|human|person|manager|supervisor|"
    r"representative|rep|someone)\b|"
    r"\b(?:speak|talk|chat) (?:to|with) (?:a |an |the |your |some )?(?:actual |real |live )?(?:human|person|agent|"
    r"manager|supervisor|representative|rep|someone real)\b(?! (?:later|tomorrow))|"
    r"转人工|转接人工|找人工|要人工|转(?:接)?(?:一?下)?(?:真人|human|agent|客服)|让(?:你们)?(?:的)?(?:经理|主管|负责人|领导)来|"
    r"找(?:你们)?(?:的)?(?:经理|主管|负责人|领导)", re.IGNORECASE)
# right before it: "I don't want to talk to a human", "不用转人工"
_NO_PERSON_RE = re.compile(r"(?:\b(?:don'?t|do not|no need to|never)\b(?: \w+){0,3}\s*|(?:不用|不要|不需要|别|无需)\s*)$",
                           re.IGNORECASE)
# how to reach the store's people: "what's your phone number", "and an email address?", "客服电话多少"
_CONTACT_RE = re.compile(
    r"\b(?:your|ur|customer service|support|store'?s?)\s+(?:phone(?: number)?|number|e-?mail(?: address)?|"
    r"contact(?: details| info)?|hotline)\b|\b(?:call|phone|e-?mail|reach|contact) (?:you|u|your (?:team|support|agents?)|support)\b|"
    r"^\s*(?:and\s+)?(?:what about\s+)?(?:an?\s+|the\s+)?(?:e-?mail(?: address)?|phone(?: number)?|contact number)\s*[?？]?\s*$|"
    r"(?:客服|你们|人工)的?(?:电话|邮箱|联系方式|热线)|(?:电话|邮箱)(?:是)?多少|怎么联系(?:你们|客服|人工)|"
    r"(?:打电话|发邮件)给你们", re.IGNORECASE)
# when the store's people are there: "when are your agents available", "你们人工几点上班", "他们什么时候在"
_HOURS_RE = re.compile(
    r"\b(?:when|what time|what hours)\b.{0,30}\b(?:agents?|team|support|customer service|reps?|humans?|people|they)\b"
    r".{0,20}\b(?:available|around|online|on|in|open|work(?:ing)?|there|back)\b|\b(?:support|service|agent|team)'?s? hours\b|"
    r"(?:人工|客服|他们|你们).{0,6}(?:几点|什么时候|啥时候|哪天).{0,4}(?:上班|在|在线|有人|工作|下班)|(?:客服|人工)(?:的)?(?:上班|工作|服务)时间",
    re.IGNORECASE)
# changing the customer's own email or phone is an account matter, not a question about the store's
_OWN_CONTACT_RE = re.compile(r"\b(?:change|update|edit|new|my)\b|修改|更改|换成|换个|绑定|我的", re.IGNORECASE)
# asking which product: "which cable works with my X", "我的X能用哪根数据线"
_WHICH_ASK_RE = re.compile(r"\bwhich\b|哪(?:个|款|根|条|种|些|双|台|件|副|把|只)", re.IGNORECASE)
# whether shipping is free: "is shipping free then", "那我买一副是不是就包邮了"
_FREE_SHIP_RE = re.compile(r"\bfree shipping\b|\bship(?:s|ping)? (?:for )?free\b|包邮|免运费|免邮", re.IGNORECASE)
# asking for the threshold itself: "how much for free shipping", "满多少包邮"
_THRESHOLD_ASKED_RE = re.compile(r"\bhow much\b|\bminimum\b|\bthreshold\b|满多少|多少钱?(?:才|就)?(?:包邮|免)|门槛", re.IGNORECASE)
# the customer's account (sign-in email, password, phone), not an order's delivery address
_ACCOUNT_RE = re.compile(r"\b(?:e-?mail|password|username|user name|log ?in|sign ?in|phone number)\b|邮箱|密码|账号|帐号|用户名|手机号|登录",
                         re.IGNORECASE)
_POSTAL_RE = re.compile(r"(?<!mail )\baddress\b|\b(?:street|zip|postcode|apartment|apt)\b|地址|收货|门牌|邮编", re.IGNORECASE)
# "do you sell / carry / stock ...?", "有卖…吗": a question about what the store sells
# the slot that says an off-duty hand-off offered a ticket (the next message may leave a contact)
_TICKET_OFFER = "handoff_ticket_offer"
# a question nothing answers still gets the nearest FAQ when it scores within this share of the
# distance below the language's threshold (offered as "the closest I know", never as a yes)
_NEARBY_SHARE = 0.2
# out-of-scope turns must clear a higher bar before retrieval answers them: this share of the
# distance between the language's threshold and a perfect score
_OOS_MARGIN = 0.1


def _listing(orders: list, lang: str, name: Callable[[Any], str] | None = None) -> str:
    """Orders to pick from, each with what it holds: "100276 (Lumen S6 Smartphone and 2 more)"
    (``name``: an order line's name in the reply's language; default: its name as ordered)."""
    def items(o) -> str:
        names = [(name(i) if name is not None else "") or i.name for i in o.items]
        if len(names) <= 1:
            return names[0] if names else ""
        return f"{names[0]}等{len(names)}件" if lang == "zh" else f"{names[0]} and {len(names) - 1} more"

    if lang == "zh":
        return "；".join(f"{o.order_id}（{items(o)}）" if o.items else o.order_id for o in orders)
    return "; ".join(f"{o.order_id} ({items(o)})" if o.items else o.order_id for o in orders)


def _generation(answer: Answer) -> dict:
    """What the reply's trace says about a generated answer: its backend, why a model's text
    was refused (then the text is the extractive answer) and the tokens generated."""
    out: dict = {"backend": answer.backend, "grounded": answer.grounded}
    if answer.refused:
        out["refused"] = list(answer.refused)
    if answer.tokens:
        out["tokens"] = answer.tokens
    return out


class Router:
    """Routes a :class:`Turn` to a :class:`Decision`.

    Args:
        templates: reply templates.
        orders: order flows (connector-backed).
        retriever: FAQ retriever.
        generator: composes grounded answers from passages and facts.
        products: product question answering over the catalog graph.
        dialogue: dialogue settings (hand-off policy).
        retrieval: retrieval settings (top_k, answerability threshold).
        catalog: how each intent is answered (default: the packaged intent catalog).
        handoff_note: text added to every hand-off in a language (a store's support hours: open now or not).
        profile: the store's profile (its support contacts and hours answer "how do I reach you?").

    Raises:
        ConfigError: the catalog names an order intent that ``orders`` neither looks up nor runs.
    """

    def __init__(
        self,
        *,
        templates: Templates,
        orders: OrderFlows,
        retriever: Retriever,
        generator: Generator,
        products: ProductQA,
        dialogue: DialogueSettings,
        retrieval: RetrievalSettings,
        catalog: IntentCatalog | None = None,
        handoff_note: Callable[[str], str] | None = None,
        profile: Any = None,
    ) -> None:
        self._note = handoff_note
        self._profile = profile  # the store's store.yaml (knowledge.kit.StoreProfile): its contacts and hours
        self._catalog = catalog if catalog is not None else load_intent_catalog()
        unknown = sorted(i for i in self._catalog.order_intents if not orders.handles(i))
        if unknown:
            raise ConfigError(f"intent catalog: no order look-up or flow spec for {', '.join(unknown)}")
        self._t = templates
        self._orders = orders
        self._retriever = retriever
        self._gen = generator
        self._products = products
        self._dialogue = dialogue
        self._retrieval = retrieval

    @property
    def catalog(self) -> IntentCatalog:
        """The intent catalog this router answers by."""
        return self._catalog

    def warm_up(self) -> None:
        """Load the retriever's indexes and query models now rather than on the first question
        (a cached index loads without its embedding model, so one query per language is run)."""
        for part in (self._retriever, self._gen, self._products):  # the generator's model; the catalog vocabulary
            warm = getattr(part, "warm_up", None)
            if warm is not None:
                warm()
        for lang in getattr(self._retriever, "languages", ["en"]):
            self._retriever.retrieve("warm-up query", top_k=1, language=lang)

    def route(self, turn: Turn) -> Decision:
        decision = self._recovery(turn) or self._ticket(turn) or self._route(turn)
        if turn.state.slots.get(_TICKET_OFFER) and not decision.decided_by.startswith("ticket:"):
            decision.events.append(SlotSet(_TICKET_OFFER, None))  # the offer stands for the next message only
        if self._note is not None and decision.route == "handoff":
            note = self._note(turn.lang)
            if note:
                decision.text = decision.text + ("" if turn.lang == "zh" else " ") + note
            desk = self._desk()
            if desk is not None and desk.off_duty():  # the next message may leave a contact
                decision.events.append(SlotSet(_TICKET_OFFER, True))
        return decision

    def _free_shipping(self, turn: Turn) -> Decision | None:
        """"If I buy one, is shipping free?" about the product named or in focus: its price against
        the store's ``policies.free_shipping_over`` (store.yaml). None when it asks nothing of the kind."""
        text = turn.nlu.text
        threshold = getattr(getattr(self._profile, "policies", None), "free_shipping_over", None)
        if threshold is None or not _FREE_SHIP_RE.search(text) or not is_question(text) or turn.state.active_flow:
            return None
        if _THRESHOLD_ASKED_RE.search(text):
            return None  # "how much for free shipping": the policy itself (the FAQs say it)
        ids = list(turn.nlu.entities.product_ids) or (
            [turn.state.slots["product_id"]] if isinstance(turn.state.slots.get("product_id"), str) else [])
        if len(ids) != 1:
            return None
        name, price = self._products.display_name(ids[0], turn.lang), self._products.price_of(ids[0])
        if name is None or price is None:
            return None
        key = "free_shipping_yes" if price > float(threshold) else "free_shipping_no"
        symbol = self._products.currency_symbol
        text = self._t.render(key, turn.lang, product=name, price=f"{symbol}{price:,.2f}",
                              threshold=f"{symbol}{float(threshold):,.0f}")
        return Decision(text, "template", sources=[Source(id=ids[0], kind="product", title=name)],
                        decided_by=f"free_shipping:{key}")

    def _support_contact(self, turn: Turn) -> Decision | None:
        """"What's your phone number?", "你们人工几点上班": the store's contacts and support hours as
        its store.yaml lists them; an hours question the profile cannot answer goes to the FAQs.
        None when the message asks neither (or is about the customer's own email or phone)."""
        text = turn.nlu.text
        contact, hours = bool(_CONTACT_RE.search(text)), bool(_HOURS_RE.search(text))
        if not (contact or hours) or _OWN_CONTACT_RE.search(text) or turn.nlu.entities.order_ids:
            return None
        profile = self._profile
        support = getattr(profile, "support", None)
        lang = turn.lang
        parts: list[str] = []
        if contact and support is not None:
            if support.phone:
                parts.append(self._t.render("store_phone", lang, phone=support.phone))
            if support.email:
                parts.append(self._t.render("store_email", lang, email=support.email))
        when = profile.hours_text(lang) if profile is not None and (hours or parts) else ""
        if when:
            parts.append(self._t.render("store_hours", lang, hours=when))
        if not parts:
            return self._retrieve(turn) if hours or contact else None
        sep = "" if lang == "zh" else " "
        return Decision(sep.join(parts), "template", decided_by="support_contact")

    def _desk(self):
        """The store's support desk behind the hand-off note (hours, tickets), when it has one."""
        desk = getattr(self._note, "__self__", None)
        return desk if getattr(desk, "tickets", None) is not None else None

    def _ticket(self, turn: Turn) -> Decision | None:
        """After an off-duty hand-off offered one: an email address or phone number in this
        message becomes a stored ticket (the customer gave it for this), confirmed with the
        contact masked and when the team will answer."""
        if not turn.state.slots.get(_TICKET_OFFER):
            return None
        desk = self._desk()
        found = find_contact(turn.nlu.text)
        if desk is None or found is None:
            return None
        kind, contact = found
        lang = turn.lang
        history = [text for who, text in turn.state.history if who == "user"][-3:]
        ticket = desk.tickets.open(turn.state.session_id, kind=kind, contact=contact, language=lang,
                                   customer_id=turn.actor.customer_id,
                                   reason=mask_pii(" / ".join(history) or turn.nlu.text)[:500])
        at = next_opening(desk.profile)
        when = format_opening(at, lang) if at is not None else desk.profile.hours_text(lang)
        how = {("en", "email"): "email you at", ("en", "callback"): "call you back on",
               ("zh", "email"): "通过邮箱", ("zh", "callback"): "致电"}[("zh" if lang == "zh" else "en", kind)]
        text = self._t.render("handoff_ticket_taken", lang, ticket_id=ticket.ticket_id, how=how,
                              contact=mask_pii(contact), when=when)
        return Decision(text, "template", events=[SlotSet(_TICKET_OFFER, None)], decided_by=f"ticket:{kind}")

    def _route(self, turn: Turn) -> Decision:
        intent, lang = turn.intent, turn.lang
        state = turn.state
        sentiment = turn.nlu.sentiment.score

        entry = self._catalog.entry(intent)
        reach = self._support_contact(turn) or self._free_shipping(turn)
        if reach is not None:  # asking how to reach a person is no request for one now
            return reach
        if entry.route == "handoff":
            decision = self._handoff(entry.template or "handoff", lang, entry.reason or f"{intent}: hand-off")
            return self._with_answer(turn, decision)
        person = _WANTS_PERSON_RE.search(turn.nlu.text)
        if person and not _NO_PERSON_RE.search(turn.nlu.text[max(0, person.start() - 24):person.start()]):
            # "that's not helpful ... get me an actual agent": the request for a person, whatever else
            # the message says (a complaint around it is for the person to read)
            return self._handoff("handoff", lang, "customer asked for a person")
        upset = sentiment <= self._dialogue.negative_handoff_score
        if upset and (entry.escalates_when_upset or state.consecutive_fallbacks > 0):
            return self._handoff("handoff_upset", lang, "customer is upset")

        understood = turn.understood
        if getattr(understood, "resolved_by", "") == "list":
            listed = self._orders.list_recent(turn)  # "pull up my recent orders"
            if listed is not None:
                return listed
        if getattr(understood, "resolved_by", "") == "other_order":  # "no, I meant the other one"
            other = self._orders.ask_other_order(turn.intent, turn, getattr(understood, "order_id", None) or "")
            if other is not None:
                return other
        if getattr(understood, "resolved_by", "") == "contents" and getattr(understood, "order_id", None):
            listed = self._orders.contents(understood.order_id, turn)  # "what was in that one again"
            if listed is not None:
                return listed
        if getattr(understood, "kind", "") == OTHERS_DATA:
            # the product it named stays the one in focus ("那这电脑评分多少" next)
            named = list(turn.nlu.entities.product_ids[:1])
            return Decision(self._t.render("others_data", lang), "template", decided_by=OTHERS_DATA,
                            events=[SlotSet("product_id", i) for i in named],
                            sources=[Source(id=i, kind="product", title=self._products.display_name(i, lang) or i)
                                     for i in named])
        if getattr(understood, "kind", "") == OWNER_ONLY:
            # (the order's number is not said again: a reply names no order the message does not)
            text = self._t.render("order_still_not_found" if state.slots.get("access_refused") == "not_found"
                                  else "order_owner_only", lang)
            return Decision(text, "template", decided_by=OWNER_ONLY)
        flow = state.active_flow
        if getattr(understood, "kind", "") == OVERRIDE and getattr(understood, "resolved_by", "") != "answered":
            text = self._t.render("instructions_refused", lang)
            if flow in self._catalog.order_intents and state.slots.get("flow_step"):
                # the flow's question still stands (and only a clear answer to it moves it)
                resume = self._t.render("flow_resume", lang, question=self._orders.waiting_prompt(flow, turn))
                text = text + ("" if lang == "zh" else " ") + resume
            return Decision(text, "template", decided_by=OVERRIDE, keep_flow=True)
        if flow in self._catalog.order_intents:
            # a write this flow confirmed may have happened in a turn that was not recorded
            decision = self._orders.reconcile(flow, turn)
            if decision is not None:
                return decision
            decision = self._in_flow(flow, turn)
            if decision is not None:
                return decision
            # a digression: answer the question, then repeat what the flow is waiting for
            decision = self._free(turn)
            if state.slots.get("flow_step") and self._orders.is_write(flow):
                # the answer must not move the flow: its order and steps stay those the question
                # names (a digression about another order would otherwise become the order written)
                owned = frozenset({"order_id", "listed_orders", *self._orders.flow_slots})
                decision.events = [e for e in decision.events if not _moves_flow(e, owned)]
            if decision.route != "handoff":
                resume = self._t.render("flow_resume", lang, question=self._orders.waiting_prompt(flow, turn))
                decision.text = decision.text + ("" if lang == "zh" else " ") + resume
            return decision
        return self._free(turn)

    def _in_flow(self, flow: str, turn: Turn) -> Decision | None:
        """Continue, switch or cancel the active flow; None when the turn is a digression."""
        intent, ents, text = turn.intent, turn.nlu.entities, turn.nlu.text
        entry, catalog = self._catalog.entry(intent), self._catalog
        # a step belongs to a write flow; one left behind by a flow a hand-off ended must not
        # steer a read flow (track_order has no steps: that was a KeyError in WriteSteps)
        step = turn.state.slots.get("flow_step") if self._orders.is_write(flow) else None
        understood = turn.understood
        if step and step != "confirm" and getattr(understood, "resolved_by", "") == "same_order":
            return self._orders.still_waiting(flow, turn)  # "the one with the laptop": the order it is on
        if (step == "confirm" and getattr(understood, "resolved_by", "") == "correction"
                and getattr(understood, "order_id", None) not in (None, turn.state.slots.get("order_id"))):
            # "no wait, the cheaper one": the flow starts over on that order and asks again
            events = [SlotSet(name, None) for name in self._orders.flow_slots if name != "listed_orders"]
            decision = self._orders.handle(flow, dc_replace(turn, state=dc_replace(
                turn.state, slots={k: v for k, v in turn.state.slots.items() if k not in self._orders.flow_slots
                                   or k == "listed_orders"})))
            decision.events[:0] = events
            return decision
        remedy = _other_remedy(flow, text)
        if step and remedy is not None and self._orders.handles(remedy) and not ents.order_ids:
            # "I'd rather have my money back" while a replacement waits (or the other way round):
            # that one instead, on the same order (asked and confirmed afresh, nothing written yet);
            # a wish that says no more ("算了，退钱吧") is read with the problem already told: its
            # item and what is wrong with it
            told = turn.state.slots.get("replacement_problem") or turn.state.slots.get("return_reason")
            if isinstance(told, str) and told and extract_reason(text) is None and not ents.product_ids:
                turn = dc_replace(turn, nlu=dc_replace(turn.nlu, text=told))
            decision = self._orders.handle(remedy, turn)
            decision.events[:0] = [*(SlotSet(name, None) for name in self._orders.flow_slots
                                     if name not in ("order_id", "listed_orders")),
                                   FlowCompleted(flow, outcome="switched")]
            decision.decided_by = f"switched:{decision.decided_by}"
            return decision
        if step == "confirm" and self._orders.confirmation(flow, turn).answer != "unclear":
            return self._orders.continue_flow(flow, turn)  # a clear yes or no: the gate decides
        stop = entry.stops_flow or bool(_STOP_RE.search(text))
        if stop and not ents.order_ids and step != "confirm":
            events = [SlotSet(name, None) for name in self._orders.flow_slots]
            return Decision(self._t.render("flow_cancelled", turn.lang), "flow",
                            events=[*events, FlowCompleted(flow, outcome="cancelled")],
                            decided_by=f"{flow}:cancelled")
        if step and intent in catalog.read_order_intents and is_question(text):
            return None  # a question about an order while a change waits: answered, then resumed
        if intent in catalog.order_intents and intent != flow:
            # the customer switched to another order request: close this flow, handle that
            decision = self._orders.handle(intent, turn)
            decision.events[:0] = [*(SlotSet(name, None) for name in self._orders.flow_slots),
                                   FlowCompleted(flow, outcome="switched")]
            return decision
        # a question: written as one, or read as one in context ("我那副X200续航多久来着" names a
        # product and asks about it, question mark or not)
        asked = getattr(turn.understood, "kind", "") in ("answer_attribute", "compare", "follow_up", "small_talk")
        question = entry.digression and (is_question(text) or asked)
        if step == "confirm":  # unclear: a question is answered first; anything else asks again
            return None if question else self._orders.continue_flow(flow, turn)
        awaited = self._orders.awaiting(flow, step)
        if awaited is not None:  # any step the flow's spec declares takes the answer
            return None if question and not awaited.question_is_answer else self._orders.continue_flow(flow, turn)
        if ents.order_ids or ents.malformed_order_ids or ents.ordinal or entry.continues_flow or intent == flow:
            return self._orders.handle(flow, turn)
        return None

    def _free(self, turn: Turn) -> Decision:
        """Route a turn that no active flow claims."""
        intent, lang, ents = turn.intent, turn.lang, turn.nlu.entities
        entry = self._catalog.entry(intent)
        claimed = (self._orders.claim(turn)
                   if entry.route != "order" and not about_unplaced_order(turn.nlu.text) else None)
        if claimed is not None:  # a request about the customer's own order the classifier missed
            return self._orders.handle(claimed, turn)
        if entry.route == "template":
            return Decision(self._t.render(entry.template or intent, lang), "template", decided_by=intent)
        if (entry.route == "order" and not ents.order_ids and not turn.state.active_flow
                and _ACCOUNT_RE.search(turn.nlu.text) and not _POSTAL_RE.search(turn.nlu.text)):
            return self._retrieve(turn)  # "change the email on my account": the account, no order's change
        if entry.route == "order":
            general = self._general_order_question(intent, turn)
            return general if general is not None else self._orders.handle(intent, turn)
        if entry.route == "product":
            decision = self._product(intent, turn)
            if decision is not None:
                return decision
        if entry.with_order_id and (ents.order_ids or ents.malformed_order_ids):
            return self._orders.handle(entry.with_order_id, turn)
        if entry.with_product and (ents.product_ids or (ents.ordinal and turn.state.slots.get("listed_products"))):
            decision = self._product(entry.with_product, turn)
            if decision is not None:
                return decision
        return self._retrieve(turn)

    # -- responders ---------------------------------------------------------------------------
    def _with_answer(self, turn: Turn, decision: Decision) -> Decision:
        """A hand-off asked as a question the store's FAQs answer ("有没有会说中文的真人客服？"): that
        answer first, then the hand-off (the person still takes over)."""
        if not is_question(turn.nlu.text):
            return decision
        try:
            passages = self._passages(turn)
        except Exception:  # noqa: BLE001 - the hand-off stands on its own
            return decision
        if not passages or passages[0].score < self._bar(turn.lang, strict=True):
            return decision
        sep = "" if turn.lang == "zh" else " "
        decision.text = drop_affirmation(passages[0].answer, turn.lang) + sep + decision.text
        decision.sources = [Source(id=passages[0].id, kind="faq", title=passages[0].question,
                                   score=passages[0].score), *decision.sources]
        return decision

    def _handoff(self, key: str, lang: str, reason: str) -> Decision:
        return Decision(self._t.render(key, lang), "handoff", handoff_reason=reason, decided_by=f"handoff:{key}")

    def _fallback(self, turn: Turn, key: str = "fallback") -> Decision:
        if turn.state.consecutive_fallbacks + 1 >= self._dialogue.fallbacks_before_handoff:
            return self._handoff("handoff_stuck", turn.lang, "repeated fallbacks")
        return Decision(self._t.render(key, turn.lang), "fallback", decided_by=f"fallback:{key}")

    def _bar(self, lang: str, *, strict: bool) -> float:
        base = self._retrieval.threshold(lang)
        return base + _OOS_MARGIN * (1.0 - base) if strict else base

    def _general_order_question(self, intent: str, turn: Turn) -> Decision | None:
        """An order intent with no order in sight may be a general question ("how long do
        refunds take?"): answer it from the FAQs when they match strongly, and (for a signed-in
        customer) start the flow so that an order number in the next turn continues it."""
        ents, state = turn.nlu.entities, turn.state
        if ents.order_ids or ents.malformed_order_ids or state.slots.get("order_id"):
            return None
        anonymous = turn.actor.role == "anonymous"
        passages = None
        if not anonymous and about_unplaced_order(turn.nlu.text):
            # an order not placed yet ("if I order today, will it come by Friday?", "今天下单今天能到吗"):
            # the store's policies answer, no order of theirs
            passages = self._passages(turn)
            if passages and self._verdict(turn, passages).answerable:
                return self._faq_answer(turn, passages, intent)
        if not anonymous and (self._orders.names_own_order(intent, turn)
                              or getattr(turn.understood, "resolved_by", "") == "not_held"):
            return None  # their own order answers (the flows find it), never a generic FAQ
        if not anonymous and intent == "refund_status":  # "is my refund through?": their own returns
            own = self._own_orders(intent, turn)
            if own is not None:
                return own
        if not anonymous and (not self._catalog.entry(intent).faq_for_customers
                              or not looks_like_question(turn.nlu.text)):
            return None  # a request ("I want to cancel an order"): list their recent orders instead
        passages = self._passages(turn) if passages is None else passages
        if not passages or passages[0].score < self._bar(turn.lang, strict=True):
            return None
        hint = self._t.render("sign_in_hint" if anonymous else "order_hint", turn.lang)
        events = [] if anonymous or state.active_flow == intent else [FlowStarted(intent)]
        return self._faq_answer(turn, passages, intent, hint=hint, events=events)

    def _passages(self, turn: Turn) -> list:
        """The FAQ passages the retriever finds for the turn's text, in its language. A follow-up
        to an FAQ answer ("and express?", "what if I spend over 49?", "那周末呢") is read with the
        question before it: each FAQ scores the blend of its score for the message alone and for
        the message with that question (``retrieval.followup_context_weight`` the latter's share),
        so an FAQ about what the conversation is on wins over one that merely shares a word."""
        k = self._retrieval.top_k
        context = _faq_context(turn)
        if context is None:
            return self._with_english(turn, self._kind_passages(turn)
                                      or self._retriever.retrieve(turn.nlu.text, top_k=k, language=turn.lang))
        # the more the message says of its own, the less the question before it weighs
        # ("周末呢": all context; "那我自己去店里拿呢，多久能好": a question of its own, on the same visit)
        w = self._retrieval.followup_context_weight * min(1.0, _FOLLOWUP_WORDS / max(1.0, _content_size(turn.nlu.text)))
        n = max(k, _FOLLOWUP_CANDIDATES)
        alone = self._retriever.retrieve(turn.nlu.text, top_k=n, language=turn.lang)
        read = self._retriever.retrieve(context, top_k=n, language=turn.lang)
        if not alone or not read:
            return (read or alone)[:k]
        s_alone, s_read = {p.id: p.score for p in alone}, {p.id: p.score for p in read}
        floor_alone, floor_read = min(s_alone.values()), min(s_read.values())  # below every candidate shown
        pool = {p.id: p for p in [*alone, *read]}
        fused = [dc_replace(p, score=round((1.0 - w) * s_alone.get(i, floor_alone) + w * s_read.get(i, floor_read), 4))
                 for i, p in pool.items()]
        return self._with_english(turn, sorted(fused, key=lambda p: (-p.score, p.id)), candidates=alone)

    def _with_english(self, turn: Turn, passages: list, candidates: list | None = None) -> list:
        """``passages`` (the first ``top_k``), and for a message that says its topic in English
        words ("gift card有expiry date吗", "restocking fee要付吗"): its FAQs (these and the next
        candidates) each weighed also by how well its English twin (the same FAQ id in English)
        matches the message, as the English words are what the index of its language reads worst.
        ``candidates``: the message's own retrieval when the caller already has it."""
        k, text = self._retrieval.top_k, turn.nlu.text
        if not passages or not self._says_in_english(turn):
            return passages[:k]
        n = max(k, _FOLLOWUP_CANDIDATES)
        english = self._retriever.retrieve(text, top_k=n, language="en")
        if not english:
            return passages[:k]
        own = candidates if candidates is not None else self._retriever.retrieve(text, top_k=n, language=turn.lang)
        pool = {p.id: p for p in own}
        pool.update({p.id: p for p in passages})  # the scores the reading so far gave win
        twin = {_faq_key(p.id): p.score for p in english}
        top, floor = english[0].score, min(p.score for p in english)
        mixed = [dc_replace(p, score=round(p.score + _MIXED_WEIGHT * (twin.get(_faq_key(p.id), floor) - top), 4))
                 for p in pool.values()]
        return sorted(mixed, key=lambda p: (-p.score, p.id))[:k]

    def _with_stock_policy(self, turn: Turn, answer: Any, product_id: str, facts: list) -> Any:
        """An out-of-stock product asked about when it comes back ("back in stock before
        christmas?", "什么时候补货", "can I preorder it?"): what the store's FAQs say about an item
        out of stock too, when they answer the question read with its stock."""
        lang = turn.lang
        if not _RESTOCK_RE.search(turn.nlu.text):
            return answer
        try:
            # read with what is known of it: the question is about an item that is out of stock
            stock = " ".join(f.text for f in self._products.facts(_STOCK_QUESTION[lang == "zh"], [product_id], lang))
            # (its names left out: "Aurora" would find the FAQs of another Aurora product)
            query = f"{_OUT_OF_STOCK[lang == 'zh']} {self._products.without_names(turn.nlu.text, product_id)}"
            passages = self._retriever.retrieve(query, top_k=self._retrieval.top_k, language=lang)
            answered = bool(passages) and self._verdict(
                dc_replace(turn, nlu=dc_replace(turn.nlu, text=query)), passages).answerable
        except Exception:  # noqa: BLE001 - the product's own answer stands
            return answer
        if not answered:
            return answer
        sep = "" if lang == "zh" else " "
        source = Source(id=passages[0].id, kind="faq", title=passages[0].question, score=passages[0].score)
        # (a listing that says nothing of it gives way to its stock: "can I preorder it?")
        said = stock if self._products.only_summary(facts, [product_id], lang) else answer.text
        return dc_replace(answer, text=said + sep + drop_affirmation(passages[0].answer, lang),
                          sources=[*answer.sources, source])

    def _says_in_english(self, turn: Turn) -> bool:
        """A message in another language that says some of it in English words (beyond the names
        of products and brands), with English FAQs to read them against."""
        ents = turn.nlu.entities
        if turn.lang == "en" or ents.product_ids or ents.brands:
            return False
        if "en" not in (getattr(self._retriever, "languages", None) or ()):
            return False
        return sum(len(w) for w in _LATIN_WORD_RE.findall(turn.nlu.text)) >= _MIXED_LETTERS

    def _kind_passages(self, turn: Turn) -> list:
        """Policies often differ by category (a warranty for kitchen appliances, another for
        electronics, another for outdoor gear): a question that names a kind of product
        ("咖啡机保修多久", "do tents have a warranty") gets the FAQ written for that kind's
        category when the retriever put another category's FAQ first and that one is close
        behind (``_CATEGORY_MARGIN``). Which categories an FAQ is for is read from its own text
        with the store's category names and kinds. Empty when the message names no kind (or
        names a product: its own facts answer it)."""
        if turn.nlu.entities.product_ids:
            return []
        lang = turn.lang
        try:
            named = set(self._products.kind_categories(turn.nlu.text, lang))
        except Exception:  # noqa: BLE001 - a catalog that cannot read the sentence: the message alone
            return []
        if not named:
            return []
        k = self._retrieval.top_k
        found = self._retriever.retrieve(turn.nlu.text, top_k=max(k, _FOLLOWUP_CANDIDATES), language=lang)
        if not found:
            return []
        top = found[0]
        top_for = self._faq_categories(top, lang)
        if not top_for or top_for & named:
            return found[:k]
        near = [p for p in found[1:] if p.score >= top.score - _CATEGORY_MARGIN and self._faq_categories(p, lang) & named]
        if not near:
            return found[:k]
        # only a sibling of the first FAQ: the same question once the kind is left out ("保修多久"
        # finds every category's warranty FAQ alike; "也放冰箱吗" finds no brewing guide)
        try:
            topic = self._products.without_kinds(turn.nlu.text, lang)
        except Exception:  # noqa: BLE001 - a catalog that cannot read the sentence: no sibling
            return found[:k]
        if not topic:
            return found[:k]
        asked = {p.id: p.score for p in self._retriever.retrieve(topic, top_k=max(k, _FOLLOWUP_CANDIDATES), language=lang)}
        if top.id not in asked:
            return found[:k]
        for p in near:
            if asked.get(p.id, -1.0) >= asked[top.id] - _CATEGORY_MARGIN:
                return [dc_replace(p, score=top.score), *(q for q in found if q.id != p.id)][:k]
        return found[:k]

    def _faq_categories(self, passage: Any, lang: str) -> set[str]:
        """The store's categories an FAQ is written for, read from its own text (the product QA
        remembers each text: an edited FAQ is read again, an edited catalog comes with a new one)."""
        try:
            return self._products.categories_in(f"{passage.question} {passage.answer}", lang)
        except Exception:  # noqa: BLE001 - a catalog that cannot read it: for no category
            return set()

    def _faq_answer(self, turn: Turn, passages: list, intent: str, *, hint: str = "",
                    events: list | None = None) -> Decision:
        """The generated answer from ``passages`` to an order intent's general question (``hint``
        after it: how to ask about one's own order)."""
        answer = self._gen.generate(turn.nlu.text, passages, [], language=turn.lang, history=turn.state.history)
        text = answer.text + ("" if turn.lang == "zh" else " ") + hint if hint else answer.text
        return Decision(text, "retrieval", sources=list(answer.sources), events=list(events or []),
                        decided_by=f"faq:{passages[0].id}:{intent}", generation=_generation(answer))

    def _product(self, intent: str, turn: Turn) -> Decision | None:
        lang, text, ents = turn.lang, turn.nlu.text, turn.nlu.entities
        if intent == "product_question" and not ents.product_ids and asks_how_to(text):
            return None  # "how do I pair it": the FAQs' how-to, not the product in focus's values
        ids = list(ents.product_ids)
        remembered = turn.state.slots.get("product_id")
        listed = turn.state.slots.get("listed_products") or []
        understood = turn.understood
        # a product picked by reference ("the cheapest one: how heavy?") is asked about: no new search or comparison
        # (also whether one picked so is in stock: "do you have a case for it?", "can I order that one now?")
        resolved = bool(getattr(understood, "resolved_by", "")) and (
            getattr(understood, "kind", "") == "answer_attribute"
            or (getattr(understood, "kind", "") == "follow_up" and getattr(understood, "attributes", ()) == ("in stock?",)))
        picked = None if ids else pick_listed(listed, ents.ordinal)  # "the second one" we suggested
        if picked is not None:
            ids = [picked]
        wants_accessory = intent == "recommend" and bool(ids) and bool(_ACCESSORY_RE.search(text))
        if wants_accessory:
            intent = "product_question"  # "accessories for the X200": the graph's accessory_of edges
        if resolved and ids:
            facts, intent = ([f for i in ids[:3] for f in self._products.facts(text, [i], lang)]
                             if len(ids) >= 2 and not self._products.asks_relation(text)
                             else self._products.facts(text, ids, lang)), "product_question"
        else:
            facts, ids, intent = self._product_facts(intent, text, lang, ids, remembered, listed)
        if wants_accessory and facts and self._products.only_summary(facts, ids, lang):
            # no accessory of it is listed ("what charger should I buy for the X"): the search for
            # that kind for it (what is listed with it, else the kind, or plainly none)
            searched = self._products.recommend(text, lang, context_ids=ids, named_ids=ids)
            if searched:
                facts, intent = searched, "recommend"
        elif (intent == "product_question" and ids and facts and asks_for_one(text)
              and self._products.only_summary(facts, ids, lang) and self._products.related_of_kind(text, lang, ids)):
            # nothing of it answers, and the words name another kind ("do you also have a screen
            # protector for it?" with a case in view): that kind, among what goes with the same product
            searched = self._products.recommend(text, lang, context_ids=ids)
            if searched:
                facts, intent = searched, "recommend"
        if facts is None:
            return Decision(self._t.render("product_unknown", lang), "template", decided_by="compare:ask")
        if not facts:
            return None
        listed_facts = facts
        facts = self._products.unlisted(text, facts, ids, lang) if intent == "product_question" else facts
        answer = self._gen.generate(text, [], facts, language=lang, history=turn.state.history)
        if not answer.grounded:
            return None
        if intent == "product_question" and len(ids) == 1 and self._products.stock_of(ids[0]) == 0:
            answer = self._with_stock_policy(turn, answer, ids[0], listed_facts)
        focus = (self._answer_subject(answer.text, ids, lang) or ids[-1]) if intent == "product_compare" else (
            ids[0] if ids else None)  # after "which one has X?", "that one" is the one the answer names first
        found = [s.id for s in answer.sources if s.kind == "product" and s.id not in ids]
        if intent == "product_question" and len(found) == 1 and _WHICH_ASK_RE.search(text):
            focus = found[0]  # "which cable works with my phone?" → the cable is what "多长" asks about next
        events = [SlotSet("product_id", focus)] if ids else []
        if intent == "product_question" and len(found) >= 2:
            events.append(SlotSet("listed_products", found))  # its accessories listed: "which of those is cheapest?"
        if intent == "recommend":
            found = [s.id for s in answer.sources if s.kind == "product"]
            # the product found is the one in focus ("cheaper than the X200?" → "how long does that one last?")
            events = [SlotSet("product_id", found[0])] if found else events
            events.append(SlotSet("listed_products", found))
        elif intent == "product_compare":
            events.append(SlotSet("listed_products", list(ids)))  # "which of the two ..." next
        return Decision(answer.text, "retrieval", sources=list(answer.sources), events=events,
                        decided_by=f"product:{intent}", generation=_generation(answer))

    def _answer_subject(self, text: str, ids: list[str], lang: str) -> str | None:
        """The product of ``ids`` whose name the answer says first (a comparison's winner)."""
        found = []
        for i in ids:
            name = self._products.display_name(i, lang)
            pos = text.find(name) if name else -1
            if pos >= 0:
                found.append((pos, i))
        return min(found)[1] if found else None

    def _product_facts(self, intent: str, text: str, lang: str, ids: list[str], remembered: str | None,
                       listed: list[str]) -> tuple[list | None, list[str], str]:
        """The product graph's facts for a turn: ``(facts, products the turn is about, intent answered)``;
        facts None asks which products to compare. All product reasoning lives in ProductQA."""
        qa = self._products
        # "which is cheaper / lighter" over the products in sight: named, else the ones we just listed
        pair = ids if len(ids) >= 2 else (listed if len(listed) >= 2 and set(ids) <= set(listed)
                                          and not (not ids and qa.names_other_kind(text, lang, listed)) else [])
        if pair and (qa.asks_comparison(text) or (_OF_THESE_RE.search(text) and qa.understand(text, lang).order)):
            # (a superlative over "these" / "这几个": among the products in view)
            if len(pair) > 2:
                return qa.recommend(text, lang, within=pair), [], "recommend"
            return qa.compare(pair, lang, text), pair, "product_compare"
        if intent == "product_compare":
            if len(ids) == 1 and remembered and remembered != ids[0]:
                ids = [remembered, ids[0]]
            if len(ids) < 2:
                return None, ids, intent
            if len(ids) > 2:  # "which one is the lightest" over the three just listed: ordered by it
                facts = qa.recommend(text, lang, within=ids)
                if facts:
                    return facts, [], "recommend"
            return qa.compare(ids, lang, text), ids, intent
        context = ids or ([remembered] if remembered else [])
        if intent == "recommend" or qa.is_search(text, lang, context):
            facts = qa.recommend(text, lang, context_ids=context, named_ids=ids)
            if facts or intent == "recommend" or not context:
                return facts, ids, "recommend"
        if not context:
            return [], ids, intent  # no product in sight: let FAQ retrieval try ("do you price match?")
        if len(ids) >= 2 and not qa.asks_relation(text):
            # "price of the A and the B": the same question about each product named
            facts = [f for i in ids[:3] for f in qa.facts(text, [i], lang)]
            return facts, ids[:3], intent
        return qa.facts(text, context, lang), context, intent

    def _retrieve(self, turn: Turn) -> Decision:
        lang = turn.lang
        if _DEFECT_RE.search(turn.nlu.text) and turn.intent != "policy_question":
            return self._service_recovery(turn)
        if self._wants_to_buy(turn):  # a shopping request: the catalog, before an FAQ that shares a word
            found = self._search_catalog(turn)
            if found is not None:
                return found
        passages = self._passages(turn)
        verdict = self._verdict(turn, passages)
        if not verdict.affirm and self._not_in_catalog(turn):
            return self._not_covered(turn, passages, key="not_in_catalog")
        if not verdict.answerable:
            # no FAQ answers it, but it asks for a kind of product the catalog has ("看看你们家的X")
            found = self._search_catalog(turn)
            return found if found is not None else self._not_covered(turn, passages)
        answer = self._gen.generate(turn.nlu.text, passages, [], language=lang, history=turn.state.history)
        text = answer.text if verdict.affirm else drop_affirmation(answer.text, lang)
        return Decision(text, "retrieval", sources=list(answer.sources),
                        decided_by=f"faq:{passages[0].id}", generation=_generation(answer))

    # -- private helpers of _retrieve / _general_order_question --------------------------------
    def _recovery(self, turn: Turn) -> Decision | None:
        """A defect report (a statement, not a question) read as a complaint or as nothing the
        classifier knows, with no flow waiting: service recovery before any other reading of it
        (other intents reach it through :meth:`_retrieve`)."""
        if (turn.intent in ("complaint", OUT_OF_SCOPE) and not turn.state.active_flow
                and _DEFECT_RE.search(turn.nlu.text) and not looks_like_question(turn.nlu.text)):
            return self._service_recovery(turn)
        return None

    def _verdict(self, turn: Turn, passages: list, *, strict: bool = False) -> Verdict:
        """The answerability decision on ``passages`` (the retriever's, else the score alone);
        ``strict``: the out-of-scope bar whatever the intent."""
        bar = self._bar(turn.lang, strict=strict or turn.intent == OUT_OF_SCOPE)
        judge = getattr(self._retriever, "answerable", None)
        if judge is not None and passages:
            verdict = judge(_faq_context(turn) or turn.nlu.text, passages, language=turn.lang, bar=bar)
            if verdict.answerable or not self._says_in_english(turn):
                return verdict
            # "price match怎么申请": the English words carry the question; when the English FAQs put
            # the same FAQ first, their judge decides
            english = self._retriever.retrieve(turn.nlu.text, top_k=self._retrieval.top_k, language="en")
            if english and _faq_key(english[0].id) == _faq_key(passages[0].id):
                bar_en = self._bar("en", strict=strict or turn.intent == OUT_OF_SCOPE)
                again = judge(turn.nlu.text, english, language="en", bar=bar_en)
                if again.answerable:
                    return again
            return verdict
        ok = bool(passages) and passages[0].score >= bar
        return Verdict(ok, passages[0].score if passages else 0.0, affirm=False)

    def _search_catalog(self, turn: Turn) -> Decision | None:
        """A catalog search for a turn no FAQ answers that asks for products of a kind the
        catalog holds (with no product in context); None when it asks for none."""
        if turn.nlu.entities.product_ids or turn.state.active_flow:
            return None
        try:
            if not self._products.asks_for_products(turn.nlu.text, turn.lang):
                return None
        except Exception:  # noqa: BLE001 - a catalog that cannot read the sentence: not a search
            return None
        return self._product("recommend", turn)

    def _wants_to_buy(self, turn: Turn) -> bool:
        try:
            return not turn.nlu.entities.product_ids and self._products.wants_to_buy(turn.nlu.text, turn.lang)
        except Exception:  # noqa: BLE001 - a catalog that cannot read the sentence: not a search
            return False

    def _not_in_catalog(self, turn: Turn) -> bool:
        """"Do you sell X?" where X is nothing in the store's catalog (no product, type or brand
        it knows)."""
        if not SELL_RE.search(turn.nlu.text) or turn.nlu.entities.product_ids:
            return False
        try:
            query = self._products.understand(turn.nlu.text, turn.lang)
        except Exception:  # noqa: BLE001 - a catalog that cannot read the sentence: not decided here
            return False
        return not (query.types or query.brands)

    def _not_covered(self, turn: Turn, passages: list, key: str = "no_answer") -> Decision:
        """Nothing the store knows answers the question: say so plainly, give the nearest thing
        the store does cover when it is close, and offer a person. With nothing close, the
        ordinary fallback (and a hand-off after repeated ones)."""
        lang = turn.lang
        base = self._retrieval.threshold(lang)
        near = passages[0] if passages and passages[0].score >= base - _NEARBY_SHARE * (1.0 - base) else None
        if turn.state.consecutive_fallbacks + 1 >= self._dialogue.fallbacks_before_handoff:
            return self._handoff("handoff_stuck", lang, "repeated fallbacks")
        if near is None and key != "no_answer":
            return Decision(self._t.render(key, lang), "fallback", decided_by=f"not_covered:{key}")
        if near is None:  # nothing close: off-topic or unclear (the ordinary fallback) or not covered
            return self._fallback(turn, "fallback" if turn.intent == OUT_OF_SCOPE else "no_answer")
        answer = drop_affirmation(near.answer, lang)
        source = Source(id=near.id, kind="faq", title=near.question, score=near.score)
        return Decision(self._t.render(f"{key}_nearby", lang, answer=answer), "fallback", sources=[source],
                        decided_by=f"not_covered:{key}:{near.id}")

    def _service_recovery(self, turn: Turn) -> Decision:
        """A defect or damage report: an apology first, what the store's FAQs say about it
        (warranty, damaged items) when they answer it, then the replacement flow (which order;
        replacement or refund, confirmed before anything is written)."""
        lang = turn.lang
        sep = "" if lang == "zh" else " "
        parts = [self._t.render("defect_sorry", lang)]
        sources: list = []
        passages = self._retriever.retrieve(turn.nlu.text, top_k=self._retrieval.top_k, language=lang)
        # only an FAQ that plainly answers the report (its warranty, damaged parcels) goes before
        # the flow: a near one ("which phones does it work with") would only get in the way
        if self._verdict(turn, passages, strict=True).answerable:
            parts.append(drop_affirmation(passages[0].answer, lang))
            sources.append(Source(id=passages[0].id, kind="faq", title=passages[0].question, score=passages[0].score))
        flow = None
        # the report may say which remedy ("it won't turn on, I want my money back"): a return then
        remedy = _other_remedy("request_replacement", turn.nlu.text) or "request_replacement"
        if self._orders.handles(remedy):
            flow = self._received_order(turn, remedy) or self._orders.handle(remedy, turn)
        if flow is None:
            return Decision(sep.join(parts), "retrieval", sources=sources, decided_by="defect:faq")
        if flow.decided_by.endswith((":ask", ":received_orders")):  # no order yet: say what happens next
            parts.append(self._t.render("defect_offer", lang))
        flow.text = sep.join([*parts, flow.text])
        flow.sources[:0] = sources
        flow.decided_by = f"defect:{flow.decided_by}"
        return flow

    def _received_order(self, turn: Turn, intent: str = "request_replacement") -> Decision | None:
        """For a signed-in customer's defect report that names no order: the delivered orders it
        can be about (those holding a product the message names, when it names one). One → the
        remedy's flow (``intent``: a replacement, or a return) on it; several → listed to pick
        from; none → None (the flow asks)."""
        ents = turn.nlu.entities
        if turn.actor.role == "anonymous" or ents.order_ids or ents.malformed_order_ids or turn.state.slots.get("order_id"):
            return None
        backend = getattr(self._orders, "_orders", None)
        try:
            recent = backend.list_orders(turn.actor, limit=10) if backend is not None else []
        except Exception:  # noqa: BLE001 - an unavailable backend: the flow's own question answers
            return None
        got = [o for o in recent if o.status == "delivered"]
        named = set(ents.product_ids)
        if named:
            got = [o for o in got if named & {i.product_id for i in o.items}] or got
        elif len(got) > 1:  # "the laptop showed up cracked": the order whose items the words describe
            # (by every name its items have: "水壶漏水了" names the kettle of an order in English)
            cands = [Candidate(o.order_id, " ".join(self._item_names(i) for i in o.items)) for o in got]
            found = resolve_description(turn.nlu.text, cands)
            got = [o for o in got if found is not None and o.order_id == found.id] or got
        if not got:
            return None
        if len(got) == 1:  # as if named: the flow still shows the order and asks before any write
            ents = dc_replace(turn.nlu.entities, order_ids=(got[0].order_id,))
            return self._orders.handle(intent, dc_replace(turn, nlu=dc_replace(turn.nlu, entities=ents)))
        listing = _listing(got[:5], turn.lang, self._line_name(turn.lang))
        events = [SlotSet("listed_orders", [o.order_id for o in got[:5]])]
        if turn.state.active_flow != intent:
            events.append(FlowStarted(intent))
        return Decision(self._t.render("ask_order_id_recent", turn.lang, orders=listing), "flow", events=events,
                        decided_by=f"{intent}:received_orders")

    def _line_name(self, lang: str) -> Callable[[Any], str]:
        """An order line's name as the catalog gives it in ``lang`` (its ordered name when it has none)."""
        def name(item: Any) -> str:
            try:
                return self._products.display_name(item.product_id, lang) or item.name
            except Exception:  # noqa: BLE001 - a catalog without the product: the line's own name
                return item.name
        return name

    def _item_names(self, item: Any) -> str:
        """An order line's name as ordered and as the catalog names it in every language it has."""
        return " ".join(dict.fromkeys([item.name, *(self._line_name(lang)(item) for lang in ("en", "zh"))]))

    def _own_orders(self, intent: str, turn: Turn) -> Decision | None:
        """A signed-in customer's question about "my refund" with no order named: their own
        orders with a return. One → answered; several → listed to pick from; none → None (the
        FAQ or the flow's own question answers)."""
        backend = getattr(self._orders, "_orders", None)  # the flows' order connector
        if backend is None:
            return None
        try:
            recent = backend.list_orders(turn.actor, limit=10)
        except Exception:  # noqa: BLE001 - an unavailable backend: the ordinary path answers
            return None
        mine = [o for o in recent if o.returns]
        if not mine:
            return None
        if len(mine) == 1:
            slots = {**turn.state.slots, "order_id": mine[0].order_id}
            return self._orders.handle(intent, dc_replace(turn, state=dc_replace(turn.state, slots=slots)))
        listing = _listing(mine[:5], turn.lang, self._line_name(turn.lang))
        events = [SlotSet("listed_orders", [o.order_id for o in mine[:5]])]
        if turn.state.active_flow != intent:
            events.append(FlowStarted(intent))
        return Decision(self._t.render("ask_order_id_recent", turn.lang, orders=listing), "flow", events=events,
                        decided_by=f"{intent}:own_orders")
