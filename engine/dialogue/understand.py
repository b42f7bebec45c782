"""The dialogue-understanding stage: reads one turn in its context, between NLU and the router.

NLU reads a message on its own; a conversation does not work that way. This stage looks at the
turn together with what the conversation holds — the orders and products either side mentioned
(the *salience list*: the orders the bot listed, the customer's own orders, the products the bot
named or the customer asked about) and the previous turn's *frame* (intent, product, attributes) —
and produces a :class:`Command`: what the turn asks the router to do. The router executes it through
the turn it is handed: references resolved to ids in the entities, an elliptical turn's intent and
attributes inherited, small talk told apart from a question the store cannot answer.

What it reads (each driven by the store's data, see :mod:`engine.dialogue.references`):

* references to an order by description ("the laptop one", "买手柄那单"), by recency ("my most
  recent order", "上一单") or by its last digits ("尾号284"); to a product by comparison over the
  products in the conversation ("the cheaper one"), "the other one", or by description;
* ellipsis: a turn that names only an attribute ("and the weight?", "有GPS吗", "price?") keeps the
  product in focus; a turn that names only a product ("what about the Wave 3?", "那X呢") keeps the
  previous question;
* small talk: a message with nothing of the store in it (no entity, no word of its FAQs, catalog
  or order vocabulary) is chit-chat, answered as such rather than with "please rephrase".

Example:
    >>> stage = Understanding(catalog, orders, vocabulary=vocab)     # doctest: +SKIP
    >>> turn = stage.read(turn, trace)                                # doctest: +SKIP
    >>> trace["understanding"]                                        # doctest: +SKIP
    {'command': 'answer_attribute', 'intent': 'product_question', 'product': 'P1018', ...}
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from typing import Any

from connectors.base import ConnectorError, Order
from engine.dialogue.references import (
    Candidate,
    Resolution,
    descriptor_tokens,
    resolve_comparison,
    described,
    resolve_description,
    resolve_head,
    resolve_characters,
    describing_characters,
    resolve_digits,
    resolve_other,
    resolve_recency,
)
from engine.dialogue.guards import asks_for_others_data, asks_how_to, gives_instructions, says_whose
from engine.dialogue.questions import HAVE_RE as _HAVE_RE, SELL_RE, about_unplaced_order, is_question, supposes_action
from engine.flows.base import Decision, Turn
from engine.flows.finding import holds, item_count, makes_request, request_in
from engine.flows.returns import says_unopened, weighs_return
from engine.flows.specs import extract_reason
from engine.nlu.base import OUT_OF_SCOPE
from engine.nlu.confirm import LexicalConfirmationGate
from engine.nlu.catalog import IntentCatalog
from engine.state.events import Event, SlotSet
from knowledge.graph.catalog import Catalog
from knowledge.graph.constraints import COMPARATIVE_WORDS
from knowledge.kernel.privacy import mask_pii
from knowledge.kernel.text import detect_language, without_opener
from knowledge.kernel.types import IntentPrediction

__all__ = ["Command", "Understanding", "store_vocabulary", "SMALL_TALK", "OWNER_ONLY", "OVERRIDE", "OTHERS_DATA"]

log = logging.getLogger("shopassist.dialogue")

SMALL_TALK = "small_talk"
#: the command (and decision) for insisting on an order the customer may not see
OWNER_ONLY = "owner_only"
#: the command (and decision) for a message that gives the assistant new instructions or rules
OVERRIDE = "override"
#: the command (and decision) for a request for other customers' data or the store's own figures
OTHERS_DATA = "others_data"
_CJK_RE = re.compile(r"[\u3400-\u9fff]")
_ORDERS_LOOKED_AT = 10
_ORDER_CUE_RE = re.compile(
    r"\b(?:orders?|purchases?|bought|ordered|package|parcel|deliver\w*|ship(?:ped|ping)?|arrive[ds]?|"
    r"track(?:ing)?|return(?:ed)?|refund(?:ed)?|cancel(?:led)?|eta|carrier|courier|arriv\w*|where(?:'?s| is| are)|when will|"
    r"on (?:the|its|their) way|in transit|out for delivery|get(?:s|ting)? here|be here|show(?:s|ing)? up|carrying)\b|"
    r"订单|在路上|单|买的|包裹|快递|发货|到货|送到|退|取消|物流|到哪|(?:什么|啥)时候(?:能)?(?:到|发|送)|几(?:号|天)(?:能)?到|到了吗|签收|"
    r"能到|到吗|送达|寄到|到不了",
    re.IGNORECASE)
_PRICE_STOCK_RE = re.compile(
    r"\b(?:price[sd]?|cost[s]?|how much|in stock|available|availability)\b|多少钱|价格|价钱|几块|什么价|多钱|有货|库存|有没有货",
    re.IGNORECASE)
_APOLOGY_RE = re.compile(r"\s*(?:(?:I'?m |we'?re |I am )?(?:so |really |very )?sorry|apolog|非常抱歉|抱歉|很抱歉|对不起|不好意思)",
                         re.IGNORECASE)
_PUNCT_RE = re.compile(r"[.,!;:…]+")
# "the one for the X", "X的那个配件", "适用于X的"
# an accessory asked for the product in focus: "a case for it", "给它配个膜"
_FOR_IT_RE = re.compile(r"\bfor (?:it|that|this|that one|this one)\b|给它|配它|它的配件", re.IGNORECASE)
_FOR_RE = re.compile(r"\b(?:one|case|cover|charger|strap|band|cable|thing|accessory) for\b|适用于|配(?:的|套)|给.{1,12}用的",
                     re.IGNORECASE)
# a correction of what was just said: "my bad, the glow 8 I mean", "打错了 是Air 2", "不是这个，是上周那个"
_CORRECTION_RE = re.compile(r"\b(?:i mean|i meant|my bad|typo|wrong one|not that one|no,? the)\b|打错|说错|搞错|写错|"
                            r"我是说|我指的是|不是.{0,16}[，,\s]\s*是|不对", re.IGNORECASE)
# an answer that holds a street number or a postcode: an address, whatever it also names
_STREET_LIKE_RE = re.compile(r"\d{2,}")
# the words an elliptical turn wraps a name in: "那X呢", "X的话", "and the X?", "what about X"
_ELLIPSIS_EDGES_RE = re.compile(r"^\s*(?:那么|那|and(?: the)?|what about(?: the)?|how about(?: the)?)\s*|"
                                r"\s*(?:的话|呢|吗)?\s*[?？。.!！]*\s*$", re.IGNORECASE)
# what the assistant can do: "what can you do?", "how can you help me", "你能帮我做什么", "你会什么"
_CAPABILITY_RE = re.compile(r"\bwhat (?:can|do|could) (?:you|u) (?:do|help(?: me)?(?: with)?)\b|\bhow can (?:you|u) help\b|"
                            r"\bwhat are (?:you|u) (?:able to do|for|good for)\b|\bwhat do you do\b|"
                            r"你(?:都)?(?:能|可以|会)(?:帮我)?(?:做|干|帮)?(?:些)?(?:什么|啥)|你(?:有什么|有啥)用|你是干(?:什么|啥)的",
                            re.IGNORECASE)
# what may stand around a capability question without asking anything else ("so what can you do for me?")
_CAPABILITY_FILLERS = frozenset("so for me us here exactly then hey hi ok okay well guys really anyway 呢 呀 啊 吗 我 那".split())
# a person named: "a human", "真人", "人工客服"
_PERSON_RE = re.compile(r"\b(?:human|person|agent|representative|real (?:one|people))\b|人工|真人|客服", re.IGNORECASE)
# another order than the one just answered about: "the other one", "另一个", "另外那单"
_OTHER_ORDER_RE = re.compile(r"\b(?:the )?other (?:one|order)\b|\bnot (?:this|that|the same) (?:one|order)\b|"
                             r"\bwrong (?:one|order)\b|另一(?:个|单)|另外(?:那|一)(?:个|单)|别的订单|不是这(?:个|单)|"
                             r"不是那(?:个|单)", re.IGNORECASE)
# the part a correction takes back: "not the toaster, i meant the kettle", "不是烤面包机，是水壶"
_NEGATED_RE = re.compile(
    r"\b(?:not|no(?:t)? to) (?:the|that|this|my|those|these) ([^,.;!?]{2,40}?)\s*(?:[,;.!]|--?|—)\s*"
    r"(?=(?:i meant|i mean|it'?s|it was|but|rather|the|my|i was)\b)"
    r"|不是(?:那个|这个|那单|这单)?([^，,。！!？?]{1,16}?)[，,\s]\s*(?=(?:我说的|我指的|而)?是)", re.IGNORECASE)
# the words a correction opens with, before the corrected value
_FILLER_LEAD = r"(?:(?:no+|nope|oops|sorry|wait|hold on|my bad)[\s,.!]+)"
_CORRECTION_LEAD_RE = re.compile(
    r"^\s*" + _FILLER_LEAD + r"*(?:i meant|i mean|make (?:that|it)|correction:?|actually|should be)[\s,:]+"
    r"|^\s*" + _FILLER_LEAD + r"*(?:it'?s|it is)\s+(?=\d)|^\s*" + _FILLER_LEAD + r"+(?=\d)"
    r"|^\s*(?:(?:不对|错了|说错了|写错了|打错了|不是|等等)\s*)+[，,。!！]\s*(?:(?:应该)?是|改成|改为|换成)?[\s：:]*"
    r"|^\s*(?:不对|不是|错了)\s*[，,]?\s*(?:应该是|是|改成|改为|换成)[\s：:]*",
    re.IGNORECASE)
# when something still to come will come: "when will it get here", "那什么时候能到", "到哪了"
_ETA_Q_RE = re.compile(r"\bwhen (?:will|does|is|would|can|do)\b|\barriving\b|\bwhere(?:'?s| is)\b|\beta\b|\bget(?:s)? here\b|"
                       r"\bon (?:the|its) way\b|(?:什么|啥)时候(?:能|会|可以)?到|到哪|几号(?:能|会)?到|多久(?:能|才)?到",
                       re.IGNORECASE)
# a question about where an order stands, not about what a product is
_STATUS_Q_RE = re.compile(  # (English words bounded by what is no Latin letter: "还没ship吗")
    r"(?<![a-z])(?:when|arriv[a-z]*|ship(?:ped|ping|s)?|deliver[a-z]*|track[a-z]*|where(?:'?s| is| are)|eta|carrier|courier|"
    r"on (?:the|its|their) way|in transit|get(?:s|ting)? here|be here|show(?:s|ing)? up)(?![a-z])|"
    r"到哪|在路上|(?:啥|什么)时候|几号|发货|发了|快递|物流|送到|到了|签收|单号", re.IGNORECASE)
# a model code: letters then digits, or digits then letters ("W8", "X400", "S5", "5G" excluded by length)
_CODE_RE = re.compile(r"(?<![A-Za-z0-9])(?:[A-Za-z]{1,3}\d{1,4}[A-Za-z]?|\d{1,4}[A-Za-z]{1,2}\d*)(?![A-Za-z0-9])")
# buying the product in focus now: "can i order that one right now", "现在能买吗", "能下单吗"
# whether the store has something: "do you have a case for it", "got any", "有吗", "有没有", "有卖"
_HAD_PARTICLES = frozenset("你们您我们吗呢吧啊呀的了么嘛个款这那")


def _term_re(term: str) -> re.Pattern:
    """``term`` found in a text: an English one as whole words, any case; a Chinese one as written."""
    if term.isascii():
        return re.compile(rf"(?<![a-z0-9]){re.escape(term.lower())}(?![a-z0-9])", re.IGNORECASE)
    return re.compile(re.escape(term))


def _only_asks_if_had(text: str) -> bool:
    """Whether ``text`` (a message with the product's name taken out) asks only whether the store
    has it ("do you have a", "你们有卖吗"), nothing else about it ("有没有限制" asks of something else)."""
    if not _HAVE_RE.search(text):
        return False
    rest = _HAVE_RE.sub(" ", text)
    words = [w for w in re.findall(r"[a-z0-9']+", rest.lower()) if w not in _FUNCTION_WORDS and w not in ("a", "an", "the")]
    chars = [c for c in rest if "\u4e00" <= c <= "\u9fff" and c not in _HAD_PARTICLES]
    return len(words) <= 1 and len(chars) <= 1


_BUY_NOW_RE = re.compile(r"\bcan i (?:order|buy|get|purchase)\b|\b(?:is|are) (?:it|that|this|they)(?: one)? available\b|"
                         r"现在能买|能下单|可以下单|可以买吗|能买吗|能买到吗", re.IGNORECASE)
# what can be done now: "so what are my options", "那怎么办"
_OPTIONS_RE = re.compile(r"\bwhat (?:are|r) my options\b|\bwhat (?:can|should|do) i do\b|\bnow what\b|\bwhat now\b|"
                         r"\bany (?:other )?options\b|怎么办|有什么办法|还能怎么|那咋办|咋整", re.IGNORECASE)
# how to do something to what was just answered: "how do I redirect it then", "那这个怎么弄"
_HOW_IT_RE = re.compile(r"\bhow (?:do|can|should|would) (?:i|we) [a-z]+(?: [a-z]+)? (?:it|them|that|this one)\b|"
                        r"(?:这个|那个|它)?(?:该)?怎么(?:弄|办理|操作|处理)", re.IGNORECASE)
# payment and refund words: where money goes, not what a product is
_MONEY_TALK_RE = re.compile(r"\b(?:paypal|venmo|card|bank|account|refund\w*|money|payment|charged?|credit|debit|wallet)\b|"
                            r"支付宝|微信|银行|卡|账户|退款|钱|付款|扣款|信用卡", re.IGNORECASE)
# how far apart two prices are: "how much more would I pay", "差多少钱", "贵多少"
_PRICE_GAP_RE = re.compile(r"\bhow much (?:more|less|extra|cheaper|pricier)\b|\bprice difference\b|\bdifference in price\b|"
                           r"差(?:多少|几)|(?:贵|便宜)(?:了)?多少|差价", re.IGNORECASE)
# a thing the customer has: "the robot vacuum I bought", "my kettle", "我买的扫地机器人"
_OWN_ITEM_RE = re.compile(r"\bmy\b|\bi (?:bought|ordered|got|purchased|received)\b|我买的|我的|我那|我收到的|我下单的",
                          re.IGNORECASE)
# what is asked of an order rather than of the thing, beyond the order cues above (read together
# with them): other forms of shipping, returns, refunds, cancelling; exchanges, damage, invoices
_ORDER_TALK_RE = re.compile(
    r"\b(?:ship\w*|track\w*|return\w*|refund\w*|cancel\w*|"
    r"send (?:it )?back|exchange|replace\w*|broke\w*|damag\w*|defect\w*|invoice|receipt)\b|"
    r"到了|发了|到没|没到|换货|坏了|发票|\bstill\b|\bgoing through\b",
    re.IGNORECASE)
# what the customer has: "same day as my x200 earbuds?", "我的耳机呢"
_MINE_RE = re.compile(r"\bmy\b|我的|我买的|我那", re.IGNORECASE)
# the same question about the customer's own: "what about mine?", "and my order?", "我的呢"
_MINE_RE_ALONE = re.compile(r"(?:(?:and|but|so) )?(?:(?:what|how) about |what of )?(?:mine|my (?:order|orders|one|refund|return|"
                            r"package|parcel|stuff))\s*[?？!.]*|(?:那|那么)?(?:我的|我这(?:个|单)?|我那(?:个|单)?)(?:订单|退款|包裹|快递)?呢\s*[?？]*",
                            re.IGNORECASE)
# what the customer bought: "the laptop I bought", "the one we ordered"
_BOUGHT_RE = re.compile(r"\b(?:i|we)(?: just| recently)? (?:bought|ordered|purchased|got)\b", re.IGNORECASE)
# a budget: "预算是1300", "under 300", "make it 500 max"
_BUDGET_RE = re.compile(r"预算|以内|以下|之内|\bbudget\b|\bunder\s*\$?\d|\bbelow\s*\$?\d|\bup to\s*\$?\d|"
                        r"\bmax(?:imum)?\s*\$?\d|\$?\d+\s*max\b|\bless than\s*\$?\d|\d+\s*(?:美元|块|元|刀|bucks|dollars)",
                        re.IGNORECASE)
# "the middle one", "中间那个"
_MIDDLE_RE = re.compile(r"\bmiddle(?: one)?\b|中间(?:那|这|的)", re.IGNORECASE)
# what an order holds: "what was in that one", "what did i order", "里面有什么", "买的啥"
_CONTENTS_RE = re.compile(r"\bwhat(?:'s| is| was| were)? in (?:it|that|this|there|the order|that order|that one|this one)\b|"
                          r"\bwhat did i (?:order|buy|get)\b|\b(?:which|what) items?\b|\bwhat(?:'s| is| was) it again\b|"
                          r"里面(?:有|是)|买了?(?:什么|啥)|(?:什么|哪些)东西|有哪些商品|是什么来着", re.IGNORECASE)
# the customer's orders as a list: "can you pull up my recent orders", "我最近买过哪些东西"
_LIST_ORDERS_RE = re.compile(
    r"\b(?:show|pull up|list|see|check|view|bring up|look up|find)\b(?: me)?(?: all)?(?: of)? my (?:recent |last |past |"
    r"previous |latest |open |current )?(?:orders|purchases)\b|\bwhat (?:are|were) my (?:recent |last |past )?orders\b|"
    r"\bmy order history\b|我的(?:所有|全部)?订单(?:有哪些|列表|记录)|(?:查|看)(?:一?下)?我(?:的|最近的)(?:所有|全部)?订单|"
    r"最近(?:的)?(?:订单|买过)(?:有)?(?:哪些|什么)|订单记录|购买记录", re.IGNORECASE)
# checking a guess: "thats the screen protector right", "是那个充电盒吧"
_CHECKING_RE = re.compile(r"\bright\s*\??\s*$|\bcorrect\s*\??\s*$|\bisn.?t it\s*\??\s*$|对吧|是吧|对不对|没错吧|吧\s*[?？]?\s*$",
                          re.IGNORECASE)
# an elliptical turn: "what about X?", "and X?", "X呢", "那X的话"
_ELLIPSIS_RE = re.compile(r"^\s*(?:and|what about|how about|what of|same (?:for|with)|and for|also|ok and|and the)\b|"
                          r"\b(?:same (?:question|thing|for|with)|as well|too)\s*[?？]?\s*$|"
                          r"呢\s*[?？]?\s*$|的话\s*[?？]?\s*$|^\s*那|也(?:说|讲|看|查|问)|同样|一样吗|也是吗", re.IGNORECASE)
# a follow-up as a supposition: "what if I spend over 49", "and if it's opened?", "那要是超过了呢"
_WHAT_IF_RE = re.compile(r"^\s*(?:(?:and|but|so|ok|okay)\s*,?\s+)?(?:(?:what|how) (?:if|about if)|if)\b|"
                         r"^\s*(?:那|那么)?(?:如果|要是|假如|万一)", re.IGNORECASE)
# a search for something cheaper than what was shown ("anything cheaper?", "cheaper options?", "有便宜点的吗")
_CHEAPER_SEARCH_RE = re.compile(
    r"\b(?:any|anything|something|some|another|other|others|got|have)\b[^.?!]{0,20}?\b(?:cheaper|less expensive|"
    r"more affordable|lower[- ]priced)\b|\b(?:cheaper|less expensive|more affordable) (?:ones?|options?|alternatives?|"
    r"models?|versions?|choices?|picks?)\b|(?:有|还有|来|换)(?:没有)?(?:个|款|一款|些)?(?:更)?便宜(?:一?点|些)?的|"
    r"便宜(?:一?点|些)的(?:吗|呢|有吗|有没有)|(?:有没有|有无)(?:更)?便宜|更便宜的(?:吗|呢)?\s*[?？]?\s*$",
    re.IGNORECASE)
# a kind asked for ("a charger for the Edge 2"), and the words that name no kind ("the one for it")
_KIND_FOR_RE = re.compile(r"\b([a-z]+?)s? for\b", re.IGNORECASE)
_GENERIC_KINDS = frozenset({"one", "thing", "something", "anything", "accessory", "accessorie", "stuff", "any", "good",
                            "best", "option", "pick", "what", "it", "that", "this", "them", "work", "works", "fit"})
# what an accessory's Chinese name says of its owner, not of its kind ("适用于 Lumen S6")
_ZH_FOR_WORDS = frozenset({"适用于", "适配", "专用"})
# the two of them: "which of the two", "both", "这两个"
_TWO_RE = re.compile(r"\b(?:two|both|pair|these 2|the 2)\b|两(?:个|款|台|双|件|者)?|二者", re.IGNORECASE)
# whether an answer holds all the same: "even if they've barely been worn?", "就算没拆封也不行吗"
_EVEN_IF_RE = re.compile(r"^\s*(?:(?:but|and|so|ok|okay|what)\s*,?\s+)?(?:even if|even though|even when|not even if)\b|"
                         r"^\s*(?:那|可是|但是|可)?(?:就算|即使|哪怕|即便)", re.IGNORECASE)
# asking again after an answer: "can you check again", "any update?", "still nothing?", "再帮我查一下"
_AGAIN_RE = re.compile(r"\b(?:check|look|try)(?: it| that| for me)? (?:again|once more)\b|\bany (?:update|news|change)s?\b|"
                       r"\bstill nothing\b|\banything new\b|\bstill (?:not|no|hasn.?t|isn.?t)\b[^.?!]{0,30}\?|"
                       r"再(?:帮我)?(?:查|看)(?:一下|一遍|下)?|有(?:没有)?(?:更新|新消息|进展)|还是没(?:有)?(?:动静|消息|到)",
                       re.IGNORECASE)
# a reply that offers a person ("I can connect you with an agent", "我可以为您转接客服"), and the slot
# that keeps the offer for the next message
_OFFERS_PERSON_RE = re.compile(r"\bI can connect you with (?:a |an )?(?:human |live )?(?:agent|person|someone)|"
                               r"connect you with a (?:human agent|person) if you|可以为您转接|也可以为您转接|需要的话可以为您转接",
                               re.IGNORECASE)
_HANDOFF_OFFER = "handoff_offered"
_GATE = LexicalConfirmationGate()
# a search for more of something than the product in focus has ("any bigger ones?", "something lighter",
# "有没有轻一点的", "续航更长的呢")
_ZH_MORE = r"(?:更(?:大|小|轻|重|长|亮|快|强|薄|久)|(?:大|小|轻|长|亮|快|强|薄|久)(?:一点|一些|些))"
_MORE_SEARCH_RE = re.compile(
    rf"\b(?:any|anything|something|some|got|have)\b[^.?!]{{0,25}}?\b(?:{COMPARATIVE_WORDS}|more powerful)\b|"
    rf"\b(?:{COMPARATIVE_WORDS}) (?:ones?|options?|models?|versions?)\b|有没有.{{0,6}}{_ZH_MORE}|"
    rf"{_ZH_MORE}的(?:呢|吗|有吗|有没有)?\s*[?？]?\s*$", re.IGNORECASE)
# the slot holding the question an FAQ answer just answered
_FAQ_FRAME = "faq_frame"
_CJK_RUN_RE = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff]{2,}")
# a pronoun for the one thing in focus (not "one", which also opens a search: "one that doesn't need a hub")
_PRONOUN_RE = re.compile(r"\b(?:it|its|that|this)\b|它|这(?=[\u4e00-\u9fff])", re.IGNORECASE)
_PLURAL_RE = re.compile(r"\b(?:they|them|their|both|each)\b|它们|两个都|两款都|都有|都带|分别", re.IGNORECASE)
# people the last answer spoke of: "when are they available?", "他们什么时候在"
_PEOPLE_RE = re.compile(r"他们|她们|\bthey\b", re.IGNORECASE)
_WHICH_RE = re.compile(r"\bwhich\b|哪(?:个|款|些|种|一|双|台|件|把|只|副|条|部|本|张|套|根|块|位)", re.IGNORECASE)
_PRODUCT_INTENTS = frozenset({"product_question", "product_compare", "recommend"})
_REFERS_RE = re.compile(r"\b(?:one|it|its|that|this|those|them|ones)\b|那(?:个|款|台|双|件|单|笔)|这(?:个|款|台|双|件|单|笔)|它|"
                        r"这(?=[\u4e00-\u9fff])",
                        re.IGNORECASE)


# function words and chat words of the language (not of any store): they say nothing about what a
# message is about, so they neither make it a store question nor small talk
_FUNCTION_WORDS = frozenset(
    "what whats how why who when where can could would will should you your ur yours u i im i'm me my it its "
    "like just really very so up get go going do does did doing be been am is are was were have has had "
    "lol haha hey hi hello ok okay cool nice good great well yeah yes no not thank thanks pls please "
    "there here now today then than more much any some all".split())
_IDENTITY_RE = re.compile(r"\b(?:are|r) (?:you|u) (?:a |an |the )?(?:real|human|bot|robot|person|ai|machine|chatbot|"
                          r"automated|live)\b|你是(?:不是)?(?:真人|机器人|人工|ai|AI|人还是|机器|真的人)", re.IGNORECASE)


def _top_intent(turn: Turn) -> str | None:
    """The classifier's first choice, even when it fell below its threshold (then out of scope)."""
    ranking = turn.nlu.intent.ranking
    return ranking[0][0] if ranking else None


@dataclass(frozen=True)
class Command:
    """What the turn asks for, read in context: the router executes it.

    ``kind``: ``pass`` (nothing added to what NLU read), ``fill_order`` (an order reference
    resolved), ``answer_attribute`` (a question about product E, E possibly by reference),
    ``follow_up`` (the previous question about another entity: ``attributes`` holds it),
    ``compare`` (the products in the conversation), ``small_talk`` ("are you a bot?"),
    ``chit_chat`` (small talk unless the store's FAQs answer it), ``reread`` (the classifier's
    intent overruled by what the words plainly are: a how-to is no order request).
    """

    kind: str = "pass"
    intent: str = ""
    order_id: str | None = None
    product_ids: tuple[str, ...] = ()
    attributes: tuple[str, ...] = ()
    resolved_by: str = ""
    listed: tuple[str, ...] = ()  # products the customer named in order ("the last one" next picks among them)

    def trace(self) -> dict[str, Any]:
        out: dict[str, Any] = {"command": self.kind, "intent": self.intent}
        if self.order_id:
            out["order"] = self.order_id
        if self.product_ids:
            out["products"] = list(self.product_ids)
        if self.attributes:
            out["inherits"] = "previous question"  # its text stays out of the trace (it is logged)
        if self.resolved_by:
            out["resolved_by"] = self.resolved_by
        return out


@dataclass(frozen=True)
class _Vocabulary:
    """The store's words: what a message about the store contains (small talk contains none)."""

    tokens: frozenset[str] = field(default=frozenset())

    def share(self, text: str) -> tuple[int, int]:
        """How many of the message's content words the store uses, of how many."""
        words = {w for w in descriptor_tokens(text) if w not in _FUNCTION_WORDS}
        return sum(1 for w in words if w in self.tokens), len(words)


def store_vocabulary(texts: Iterable[str]) -> _Vocabulary:
    """The describing tokens of every text the store has (FAQs, catalog, intent examples)."""
    tokens: set[str] = set()
    for text in texts:
        tokens |= descriptor_tokens(text)
    return _Vocabulary(frozenset(tokens))


class Understanding:
    """Reads turns in context (see the module docstring).

    Args:
        catalog: the store's product graph (descriptors of products, attribute labels).
        orders: the order service (the signed-in customer's own orders, as descriptors).
        intents: the intent catalog (which intents are order requests, templates, hand-offs).
        vocabulary: the store's words (:func:`store_vocabulary`); None: small talk is not read.
        render: ``(template, lang) -> text``: the store's reply templates (small talk, apology).
        upset_score: a sentiment score at or below which a factual answer opens with an apology.
        asks_about: ``(text, product_id, lang) -> bool``: whether a question asks something specific
            about a product (the product QA's own reading: an attribute, its price, stock,
            compatibility); None: the catalog's attribute labels alone.
        asks_comparison: ``text -> bool``: whether a question asks which of several products wins
            on something ("哪双轻一点", "which is cheaper"); None: never read as one.
        other_kind: ``(text, lang, product_ids) -> bool``: whether the text names a kind of product
            none of those products is ("which earbuds ..." after smartwatches were listed); None: never.
        kind_products: ``(text, lang) -> product ids`` of the kinds the text names ("the robot
            vacuum I bought" is the one robot vacuum of the customer's orders); None: never.
        orders_by: ``(text, lang) -> bool``: whether the text asks for an ordering ("which of those
            is cheapest"), over the products just listed; None: never.
        searches: ``(text, lang, product ids) -> bool``: whether the text asks for products (a kind
            with a constraint) rather than about the products in context; None: never.
        synonyms: the store's words for the catalog's (store.yaml ``synonyms``, "充电宝" -> "移动电源"):
            a product whose names hold the catalog's word is described by the shopper's word too
            ("充电宝啥时候到" is about the order with the power bank); None: none.
    """

    def __init__(self, catalog: Catalog, orders: Any, intents: IntentCatalog, *,
                 vocabulary: _Vocabulary | None = None,
                 asks_about: Callable[[str, str, str], bool] | None = None,
                 render: Callable[[str, str], str] | None = None, upset_score: float = -0.3,
                 asks_comparison: Callable[[str], bool] | None = None,
                 other_kind: Callable[[str, str, list[str]], bool] | None = None,
                 kind_products: Callable[[str, str], set[str]] | None = None,
                 orders_by: Callable[[str, str], bool] | None = None,
                 searches: Callable[[str, str, list[str]], bool] | None = None,
                 synonyms: dict[str, str] | None = None) -> None:
        self._searches = searches
        self._synonyms = [(word, _term_re(target)) for word, target in (synonyms or {}).items() if word and target]
        self._asks_comparison = asks_comparison
        self._orders_by = orders_by
        self._kind_products = kind_products
        self._other_kind = other_kind
        # the intent that asks for a person, and the one a question for the store's FAQs is (the
        # catalog's own hand-off and retrieval routes)
        self._handoff_intent = next((i for i in intents if intents.entry(i).route == "handoff"), None)
        self._faq_intent = next((i for i in intents if intents.entry(i).route == "retrieval" and i != OUT_OF_SCOPE),
                                OUT_OF_SCOPE)
        self._render = render
        self._upset = upset_score
        self._catalog = catalog
        self._orders = orders
        self._intents = intents
        self._vocab = vocabulary
        self._asks_about = asks_about
        labels = self._attribute_labels(catalog).values()
        # the catalog's attribute labels, matched in one pass (English as words, Chinese as written)
        english = {en.lower() for en, _ in labels if en and len(en) > 3}
        # a long label is also named by two of its words in a row ("noise cancelling" for "active noise cancelling")
        english |= {" ".join(w[i:i + 2]) for en in list(english) if len(w := en.split()) >= 3 for i in range(len(w) - 1)
                    if min(len(w[i]), len(w[i + 1])) >= 4}
        english = sorted(english, key=len, reverse=True)
        # bounded by what is not a Latin letter or digit: "有noise cancelling吗" names it beside Chinese
        self._en_labels = (re.compile(r"(?<![a-z0-9])(?:" + "|".join(map(re.escape, english)) + r")(?![a-z0-9])")
                           if english else None)
        self._zh_labels = tuple({zh for _, zh in labels if zh})
        self._tokens: dict[str, tuple[Any, frozenset[str]]] = {}
        self._words: frozenset[str] | None = None
        self._chars: frozenset[str] | None = None
        # the kinds the turn being read names: several readings ask (its order, its owned item,
        # what goes with the product in view), the catalog parses the sentence once a turn
        self._kinds_said: tuple[tuple[str, str], frozenset[str]] | None = None

    # -- the stage ----------------------------------------------------------------------------
    def read(self, turn: Turn, trace: dict[str, Any] | None = None) -> Turn:
        """``turn`` with what its context resolves (never raises: a failure leaves the turn as NLU read it)."""
        self._kinds_said = None  # a catalog edited since the last turn reads the sentence afresh
        try:
            turn = self._without_negated(self._language(turn))
            command = self._read(turn)
        except Exception as exc:  # understanding is an aid: the turn goes on as NLU read it
            log.warning("understanding failed: %s", type(exc).__name__)
            return turn
        if trace is not None and command.kind != "pass":
            trace["understanding"] = command.trace()
        return replace(self._apply(turn, command), understood=command)

    def settle(self, turn: Turn, decision: Decision) -> Decision:
        """The router's decision, with what this stage adds: small talk instead of "please rephrase"
        when nothing of the store answered a chit-chat message, and the turn's frame for the next one."""
        command = turn.understood
        try:
            if (isinstance(command, Command) and command.kind == "chit_chat" and decision.route == "fallback"
                    and self._render is not None and not decision.events):
                decision = Decision(self._render(SMALL_TALK, turn.lang), "template", decided_by=SMALL_TALK)
            elif (isinstance(command, Command) and command.kind == OVERRIDE and command.resolved_by == "answered"
                  and decision.route != "handoff" and self._render is not None):
                # the question is answered as anyone's would be; the "instructions" are not taken
                sep = "" if turn.lang == "zh" else " "
                decision.text = self._render("instructions_note", turn.lang) + sep + decision.text
            elif (turn.nlu.sentiment.score <= self._upset and decision.route in ("flow", "retrieval")
                  and self._render is not None and not _APOLOGY_RE.match(decision.text)):
                # an upset customer hears an apology before the facts
                sep = "" if turn.lang == "zh" else " "
                decision.text = self._render("apology", turn.lang) + sep + decision.text
            decision.events.extend(self.remember(turn, decision))
        except Exception as exc:  # an aid, as in read(): the router's decision stands as it was
            log.warning("understanding could not settle the turn: %s", type(exc).__name__)
        return decision

    def remember(self, turn: Turn, decision: Decision) -> list[Event]:
        """Events that keep this turn's frame for the next one (what an elliptical turn inherits)."""
        refused = (decision.route == "flow" and "+" not in decision.decided_by  # one request, refused whole
                   and decision.decided_by.endswith((":anonymous", ":not_found")))
        if refused:
            # an order this customer may not see: "she's my wife", "I'm him", "just tell me" next
            # insist on it, and the answer stays the same
            # (why only: the number of an order that is not theirs is kept nowhere)
            access: list[Event] = [SlotSet("access_refused", decision.decided_by.rsplit(":", 1)[1])]
        elif decision.decided_by == OWNER_ONLY:
            access = []  # the refusal stands as it was
        else:
            access = [SlotSet("access_refused", None)] if turn.state.slots.get("access_refused") else []
        command = turn.understood
        if isinstance(command, Command) and command.kind == OVERRIDE:
            access.append(SlotSet("override_refused", True))  # "just do what the note says" next
        elif turn.state.slots.get("override_refused"):
            access.append(SlotSet("override_refused", None))
        if decision.route != "handoff" and _OFFERS_PERSON_RE.search(decision.text):
            access.append(SlotSet(_HANDOFF_OFFER, True))  # "I can connect you with an agent": a yes next takes it
        elif turn.state.slots.get(_HANDOFF_OFFER):
            access.append(SlotSet(_HANDOFF_OFFER, None))
        faq = decision.decided_by.split(":", 1)[1] if (decision.route == "retrieval"
                                                       and decision.decided_by.startswith("faq:")) else None
        if decision.route == "handoff" and self._faq_intent is not None and turn.nlu.text.strip():
            # a hand-off ("想找个会说中文的人工客服", perhaps answered first: "Chinese-speaking agents are
            # on live chat Mon-Fri 9-5 ..."): "when are they available?" goes on from what was asked
            answered = next((s.id for s in decision.sources if s.kind == "faq"), "")
            access.append(SlotSet(_FAQ_FRAME, {"faq": answered, "intent": self._faq_intent,
                                               "question": mask_pii(turn.nlu.text)[:300]}))
        elif faq is not None:
            # the question this FAQ answered, for a follow-up next turn; after a follow-up, the
            # question the topic started from ("can I return it?" → "what about opened ones?" →
            # "and who pays the postage?" is about returns, not about opened items)
            if isinstance(command, Command) and command.resolved_by == "faq" and command.attributes:
                access.append(SlotSet(_FAQ_FRAME, {**turn.state.slots[_FAQ_FRAME], "faq": faq}))
            else:
                access.append(SlotSet(_FAQ_FRAME, {"faq": faq, "intent": turn.intent,
                                                   "question": mask_pii(turn.nlu.text)[:300]}))
        elif turn.state.slots.get(_FAQ_FRAME) and decision.route != "template":
            access.append(SlotSet(_FAQ_FRAME, None))  # it follows the answer before it ("thanks" aside)
        if decision.route in ("fallback", "handoff"):
            return access
        events: list[Event] = list(access)
        products = [s.id for s in decision.sources if s.kind == "product"]
        intent = turn.intent
        if intent not in _PRODUCT_INTENTS and decision.decided_by.startswith("product:"):
            # answered from the catalog, whatever the classifier first read ("does the v3 mop too?")
            answered = decision.decided_by.split(":", 1)[1]
            intent = answered if answered in _PRODUCT_INTENTS else "product_question"
        if intent in ("product_question", "product_compare", "recommend") and products:
            # the question as asked (with what it inherited): an elliptical next turn asks it again
            # (kept in the conversation's slots: personal data masked, as in every stored text)
            asked = mask_pii(turn.nlu.text) if intent == "recommend" or self._asks(turn.nlu.text, products[0], turn.lang) else ""
            named = [i for i in turn.nlu.entities.product_ids if i in products][:4]  # the customer's, not the bot's
            frame = {"intent": intent, "question": asked[:300], "products": products[:4], "named": named}
            understood = turn.understood
            if isinstance(understood, Command) and understood.order_id:
                frame["order"] = understood.order_id  # "the coffee maker in my latest order": its other items next
            events.append(SlotSet("frame", frame))
        else:
            # an order answer, also to a turn the classifier missed (the flow that answered names it)
            # (the first order request it names: "defect:request_replacement:ask" answered a replacement)
            answered = (next((part for part in decision.decided_by.split(":") if part in self._intents.order_intents),
                             intent) if decision.route == "flow" else intent)
            if answered in self._intents.order_intents:
                events.append(SlotSet("frame", {"intent": answered, "question": "", "products": []}))
        understood = turn.understood
        if isinstance(understood, Command) and understood.listed and decision.route != "fallback":
            events.append(SlotSet("listed_products", list(understood.listed)))  # "and the last one's ..." next
        listed = [i for i in turn.state.slots.get("listed_orders") or [] if isinstance(i, str)]
        if len(listed) >= 2 and decision.route == "flow":
            # the orders offered to pick from: "no wait, the cheaper one" at the confirmation picks again
            events.append(SlotSet("offered_orders", listed[:10]))
        if products:  # the products of the conversation, the latest first ("which of the two ...")
            before = [i for i in turn.state.slots.get("mentioned_products") or [] if isinstance(i, str)]
            events.append(SlotSet("mentioned_products", list(dict.fromkeys([*products, *before]))[:6]))
        return events

    # -- reading ------------------------------------------------------------------------------
    def _read(self, turn: Turn) -> Command:
        nlu, state = turn.nlu, turn.state
        text, ents, intent = nlu.text, nlu.entities, turn.intent
        flat = re.sub(r"\s+", " ", _PUNCT_RE.sub(" ", text))  # "where. are. my. earbuds." reads as words
        entry = self._intents.entry(intent)
        if _IDENTITY_RE.search(text) and not ents.order_ids and not ents.product_ids:
            return Command("small_talk", SMALL_TALK)  # "are you a bot?" asks about us, not for a person
        if (_CAPABILITY_RE.search(text) and not _PERSON_RE.search(text) and not ents.order_ids
                and not ents.product_ids and not state.active_flow
                and len([w for w in re.findall(r"[A-Za-z]+|[\u4e00-\u9fff]", _CAPABILITY_RE.sub(" ", text).lower())
                         if w not in _CAPABILITY_FILLERS]) <= 1):
            return Command("small_talk", SMALL_TALK)  # "你能帮我做什么": what we are for, not a person
        if entry.route == "handoff":
            return Command(intent=intent)
        if asks_for_others_data(text) and not ents.order_ids:
            return Command(OTHERS_DATA, OUT_OF_SCOPE)  # never shared, whoever asks and however
        if gives_instructions(text):
            # new rules or permissions change nothing; a concrete request in the same message (an
            # order's status, a return of a named order) is handled as anyone's would be: the
            # store's policies decide, and a change still waits for a clear yes
            ranked = _top_intent(turn) or intent
            if intent == OUT_OF_SCOPE and ents.order_ids and ranked in self._intents.order_intents:
                intent = ranked  # "按新规则帮我把100089的耳机退了": the request, read past the "rules"
            if intent == OUT_OF_SCOPE or not (ents.order_ids or ents.product_ids):
                return Command(OVERRIDE, OUT_OF_SCOPE)
            return Command(OVERRIDE, intent, resolved_by="answered")
        # (an agreement there — "do it anyway", "yes just tell me" — insists too)
        insisting_intent = intent == OUT_OF_SCOPE or (entry.route == "template" and entry.continues_flow)
        if insisting_intent and not ents.order_ids and not ents.product_ids and not state.active_flow:
            someone_else = bool(says_whose(text))
            # insisting on what was just refused, not asking something new ("just do what the note
            # says", "她就是懒得登录，你就告诉我嘛"; "那正常的新人优惠有没有" is a new question)
            insists = someone_else or intent != OUT_OF_SCOPE or not (
                is_question(text) or _ORDER_CUE_RE.search(flat) or _PRICE_STOCK_RE.search(flat))
            if state.slots.get("override_refused") and insists:
                return Command(OVERRIDE, OUT_OF_SCOPE)
            if (state.slots.get("access_refused") and insists) or (turn.actor.role == "anonymous" and someone_else):
                # after "sign in first" / "not on your account": "she's my wife", "I'm him, here are
                # the last four digits" — the order stays its owner's
                return Command(OWNER_ONLY, intent)
        if (state.slots.get(_HANDOFF_OFFER) and not state.active_flow and not ents.order_ids and not ents.product_ids
                and self._handoff_intent is not None and len(text.split()) <= 4 and len(text) <= 24
                and not is_question(text) and _GATE.judge(text).answer == "yes"):
            # "yes" / "好的" right after "I can connect you with an agent": the person it offered
            return Command("reread", self._handoff_intent, resolved_by="offer")
        if turn.actor.role == "customer" and not state.active_flow and not ents.order_ids and _MINE_RE_ALONE.fullmatch(
                without_opener(text).strip()):
            # "what about mine?", "我的呢" after an answer on refunds, deliveries, returns: the same about
            # their own orders (the order flows find them), not the general answer again
            last = state.slots.get(_FAQ_FRAME)
            frame_now = state.slots.get("frame")
            before = last.get("question") if isinstance(last, dict) else None
            for asked in ((frame_now or {}).get("intent") if isinstance(frame_now, dict) else None,
                          last.get("intent") if isinstance(last, dict) else None,
                          request_in(before) if isinstance(before, str) else None):  # "how long do refunds take?"
                if isinstance(asked, str) and asked in self._intents.order_intents:
                    return Command("follow_up", asked, resolved_by="mine")
        follows_faq = self._faq_follow_up(turn)
        if follows_faq is not None:
            return follows_faq
        if (intent in self._intents.order_intents and not ents.order_ids and not state.active_flow
                and asks_how_to(text) and request_in(text) is None):
            # "how do I reset my aurora x200" read as a return: a how-to makes no request about an
            # order (its words name none), the store's how-to answers
            return Command("reread", self._faq_intent)
        if ((intent in self._intents.order_intents or intent == OUT_OF_SCOPE) and not ents.order_ids
                and not state.active_flow and supposes_action(text) and not weighs_return(text)):
            # "if i cancel something that's still processing, how long till the charge goes away":
            # what would follow from an act is the store's policy, no request to act
            return Command("reread", self._faq_intent)
        order_intents = self._intents.order_intents
        flow = state.active_flow
        step = state.slots.get("flow_step")
        in_order_flow = flow in order_intents
        frame = state.slots.get("frame") or {}
        frame_intent = frame.get("intent") if isinstance(frame, dict) else None
        elliptic = bool(_ELLIPSIS_RE.search(text) or _ELLIPSIS_RE.search(without_opener(text)))
        refers = bool(_REFERS_RE.search(text))
        # a bare attribute ("resolution", "hot?") may come out as a greeting or a goodbye
        short = len(text.split()) <= 3 and len(text) <= 24
        about_product = (intent == OUT_OF_SCOPE or entry.route == "product"
                         or (short and intent in self._intents.template_intents))

        # "and if I return both?" while a return waits for its reason or its yes: what that would
        # refund (answered, then the return's question again), never its reason
        if (flow == "return_item" and step and step != "items" and isinstance(state.slots.get("order_id"), str)
                and "refund_status" in order_intents and weighs_return(text)):
            return Command("follow_up", "refund_status", order_id=state.slots["order_id"])

        # a product named with a question about it is a product question, even in an order's words
        # ("field of view on the eye 6 cam i ordered?")
        # (unless it names an order by its item right after order talk: "充电盒那单呢", "and the backpack one?")
        order_by_item = (bool(_ORDER_CUE_RE.search(flat)) or refers or elliptic or bool(_MINE_RE.search(flat))) and (
            frame_intent in order_intents or bool(state.slots.get("listed_orders"))) and not is_question(
            self._without_name(text, ents.product_ids[0]) if ents.product_ids else text)
        if (ents.product_ids and intent not in order_intents and not ents.order_ids and not (in_order_flow and step)
                and not order_by_item and not _FOR_RE.search(text)):
            bare = self._without_name(text, ents.product_ids[0])  # "power bank" asks nothing about power
            if intent not in ("product_compare", "recommend") and self._asks(bare, ents.product_ids[0], turn.lang):
                return Command("answer_attribute", "product_question", product_ids=tuple(ents.product_ids))
            if len(ents.product_ids) == 1 and _only_asks_if_had(bare) and not _FOR_RE.search(text) and not (
                    self._catalog.accessories(ents.product_ids[0]) and self._asks_accessory_of(text, ents.product_ids[0])):
                # "do you have the lumen s6 case?": that product, and whether it is in stock
                return Command("follow_up", "product_question", product_ids=tuple(ents.product_ids),
                               attributes=("in stock?",), resolved_by="named")

        # "the robot vacuum I bought: does it handle thick rugs?" / "我买的扫地机器人能扫地毯吗": the one
        # product of that kind in the customer's orders, asked about (not a search, not an order)
        owned = None if (ents.product_ids or ents.order_ids or in_order_flow or intent in order_intents
                         ) else self._owned_product(turn, flat)
        if owned is not None:
            return Command("answer_attribute", "product_question", product_ids=(owned,), resolved_by="own_item")

        # an attribute the catalog names, about the product in focus, read as an order request by its
        # words ("有noise cancelling吗" is no cancellation)
        focus_product = state.slots.get("product_id")
        if (intent in order_intents and not in_order_flow and not ents.order_ids and isinstance(focus_product, str)
                and self._names_label(text) and self._asks(text, focus_product, turn.lang)):
            return Command("answer_attribute", "product_question", product_ids=(focus_product,))

        # at a confirmation, a correction that points at another of the listed orders ("no wait, the
        # cheaper one"): that order, asked about again (never a yes or a no to the one asked about)
        listed_orders = [i for i in state.slots.get("listed_orders") or state.slots.get("offered_orders") or []
                         if isinstance(i, str)]
        if (in_order_flow and step == "confirm" and len(listed_orders) >= 2 and not ents.order_ids
                and turn.actor.role == "customer"):
            orders = [o for o in self._customer_orders(turn) if o.order_id in listed_orders]
            current = state.slots.get("order_id")
            found = (resolve_comparison(text, {o.order_id: o.total for o in orders}, current)
                     or resolve_other(text, listed_orders, current))
            if found is not None and found.id != current:
                return Command("fill_order", flow, order_id=found.id, resolved_by="correction")

        # the customer's orders, listed: the look-up's own question names them ("pull up my recent orders")
        if (turn.actor.role == "customer" and not ents.order_ids and not in_order_flow and intent not in order_intents
                and _LIST_ORDERS_RE.search(text) and "track_order" in order_intents):
            return Command("fill_order", "track_order", resolved_by="list")

        # 1. an order by description, recency, comparison or its last digits
        follows_order = frame_intent in order_intents and intent not in order_intents and (
            refers or elliptic or bool(ents.product_ids and _MINE_RE.search(flat)))  # "same day as my x200s?"
        wants_order = (in_order_flow or entry.route == "order" or bool(state.slots.get("listed_orders"))
                       or bool(_ORDER_CUE_RE.search(flat)) or follows_order) and not (
            not in_order_flow and about_unplaced_order(text))  # "if I order a laptop now, ...": none of theirs
        # at the confirmation only the gate reads the reply ("yes 确定取消" names no order)
        if (wants_order and step != "confirm" and not ents.order_ids and not ents.malformed_order_ids
                and turn.actor.role == "customer" and not (ents.ordinal and state.slots.get("listed_orders"))):
            orders = self._customer_orders(turn) if self._may_refer(text) else []
            found = self._order_reference(turn, orders, bare=in_order_flow and step is None)
            listed_now = [i for i in state.slots.get("listed_orders") or [] if isinstance(i, str)]
            if (found is None and len(listed_now) >= 2 and flow in (None, "track_order") and _ETA_Q_RE.search(flat)
                    and "track_order" in order_intents):
                # "那什么时候能到" after their orders were listed: the one of them still on its way, when one is
                on_way = [o.order_id for o in (orders or self._customer_orders(turn))
                          if o.order_id in listed_now and o.status in ("processing", "shipped")]
                if len(on_way) == 1:
                    return Command("fill_order", "track_order", order_id=on_way[0], resolved_by="standing")
            if found is None and orders and ((follows_order and elliptic) or (in_order_flow and step is None)):
                # "actually, what about the shoes instead" after a refused return, "就是那双跑鞋" when a
                # return asks which order, with two orders holding shoes: the request, and the flow
                # picks the order it can act on (or lists those it could)
                ties = described(text, [Candidate(o.order_id, "", self._order_tokens(o)) for o in orders])
                if len(ties) >= 2:
                    return Command("follow_up", flow if in_order_flow else frame_intent)
            if (found is not None and in_order_flow and step not in (None, "confirm", "items") and found.by == "description"
                    and found.id == state.slots.get("order_id") and not _STREET_LIKE_RE.search(text)
                    and extract_reason(text) is None and refers and len(text.split()) <= 6 and len(text) <= 32):
                # "the one with the laptop" while the flow on that very order waits for its address or
                # reason: that order, and its question again (no address, no reason)
                return Command("follow_up", flow, order_id=found.id, resolved_by="same_order")
            if (found is None and orders and intent == OUT_OF_SCOPE and not in_order_flow and "track_order" in order_intents
                    and _STATUS_Q_RE.search(flat) and self._named_kind_products(turn)):
                # "我的智能手表发货了吗" with no smartwatch in their orders: the look-up says so, and lists them
                return Command("fill_order", "track_order", resolved_by="not_held")
            wish = request_in(text)
            own_item = intent == OUT_OF_SCOPE or ((entry.route == "retrieval" or intent == wish) and bool(
                _MINE_RE.search(flat) or _BOUGHT_RE.search(flat)))
            if (found is None and orders and own_item and not in_order_flow and wish in order_intents
                    and wish not in self._intents.read_order_intents and makes_request(text, wish)
                    and self._named_kind_products(turn)):
                # "can I return the teapot I bought" with no teapot in their orders: the request says
                # so and lists their orders (never a policy FAQ that shares a word)
                return Command("fill_order", wish, resolved_by="not_held")
            if found is not None and (found.id != state.slots.get("order_id") or step is None):
                order = next((o for o in orders if o.order_id == found.id), None)
                reads = intent not in order_intents or intent in self._intents.read_order_intents
                item = self._item_asked(turn, order) if reads else None
                if item is not None:  # "the coffee maker in my latest order: how many litres?"
                    return Command("answer_attribute", "product_question", order_id=found.id,
                                   product_ids=(item,), resolved_by=found.by)
                new_intent = flow if in_order_flow and intent not in order_intents else intent
                if (intent == OUT_OF_SCOPE and found.by == "description" and not in_order_flow
                        and frame_intent not in order_intents
                        and not state.slots.get("listed_orders") and is_question(text)
                        and not _STATUS_Q_RE.search(flat) and request_in(text) is None):
                    # "电脑那单…能分期吗": a question about something else that names an order in
                    # passing, no request about the order: the store's answers, not its status
                    return Command(intent=intent)
                if intent not in order_intents and not in_order_flow:
                    if frame_intent in order_intents:
                        new_intent = frame_intent  # "and the x200 one?" after an order answer
                        cue = request_in(text)
                        ranked = _top_intent(turn)
                        if cue is not None and cue != frame_intent and cue == ranked:
                            new_intent = cue  # "can I send back just the headset?" after a delivery answer
                    elif intent != OUT_OF_SCOPE and _STATUS_Q_RE.search(flat):
                        # "ur useless. where are my earbuds": the question inside the complaint
                        new_intent = self._intents.entry(OUT_OF_SCOPE).with_order_id or intent
                return Command("fill_order", new_intent, order_id=found.id, resolved_by=found.by)

        # an item of the order in focus ("那单里的跑鞋防水吗")
        focus_order = state.slots.get("order_id") or (frame.get("order") if isinstance(frame, dict) else None)
        # "no, I meant the other one" / "不是这个，是另一个" after an answer about an order, naming no
        # order the words pick: which of the others (never the same answer again)
        if (isinstance(focus_order, str) and frame_intent in order_intents and not in_order_flow
                and not ents.order_ids and not ents.product_ids and turn.actor.role == "customer"
                and _OTHER_ORDER_RE.search(text) and not is_question(text)):
            return Command("fill_order", frame_intent, order_id=focus_order, resolved_by="other_order")
        if (isinstance(focus_order, str) and not ents.order_ids and not (in_order_flow and step)
                and turn.actor.role == "customer" and intent not in order_intents - self._intents.read_order_intents
                and descriptor_tokens(text)):
            order = next((o for o in self._customer_orders(turn) if o.order_id == focus_order), None)
            item = self._item_asked(turn, order) if order is not None and len(order.items) > 1 else None
            if item is not None and item != state.slots.get("product_id") or (
                    item is not None and intent in order_intents):
                return Command("answer_attribute", "product_question", order_id=focus_order, product_ids=(item,),
                               resolved_by="description")

        # what the order in focus holds ("wait what was in that one again", "thats the screen protector
        # right", "里面有什么"): its answer again, which names its items
        if (isinstance(focus_order, str) and frame_intent in self._intents.read_order_intents and not in_order_flow
                and not ents.order_ids and not ents.product_ids and turn.actor.role == "customer"
                and (_CONTENTS_RE.search(text) or (_CHECKING_RE.search(text) and self._names_item_of(turn, focus_order)))):
            return Command("follow_up", frame_intent, order_id=focus_order, resolved_by="contents")

        # "so what are my options" right after an order answer: that answer again (it says what can be done);
        # so is "how do I redirect it then", which no request of its own makes
        if (isinstance(focus_order, str) and frame_intent in order_intents and not in_order_flow
                and not ents.order_ids and turn.actor.role == "customer"
                and (_OPTIONS_RE.search(text) or (intent == OUT_OF_SCOPE and _HOW_IT_RE.search(text)
                                                   and request_in(text) is None and not ents.product_ids))):
            return Command("follow_up", frame_intent, order_id=focus_order)

        # the same request again, in other words, right after its answer ("能不能直接给我寄个新的" after
        # "past the replacement window"): that order's answer again (it says what can still be done)
        if (isinstance(focus_order, str) and frame_intent in order_intents and not in_order_flow
                and not ents.order_ids and intent in (OUT_OF_SCOPE, frame_intent) and turn.actor.role == "customer"
                and request_in(text) == frame_intent):
            return Command("follow_up", frame_intent, order_id=focus_order)

        # "even if they've barely been worn??", "就算没拆封也不行吗" right after an order answer: whether
        # that answer holds all the same -- the order's answer again (its reason says what still can be done)
        if (isinstance(focus_order, str) and frame_intent in order_intents and not in_order_flow
                and not ents.order_ids and not ents.product_ids and turn.actor.role == "customer"
                and _EVEN_IF_RE.search(text)):
            return Command("follow_up", frame_intent, order_id=focus_order)

        # "那没拆的那一罐呢", "what about the unopened one?" right after a return refused for an item
        # opened or used: the return of the units still sealed
        if (isinstance(focus_order, str) and frame_intent == "return_item" and "return_item" in order_intents
                and not in_order_flow and not ents.order_ids and turn.actor.role == "customer"
                and says_unopened(text)):
            return Command("follow_up", "return_item", order_id=focus_order)

        # "那就都退吧" / "ok return both then" right after an order answer (a refund quote, a status):
        # the change the words ask for on that order, whatever look-up the classifier leaned to
        if (isinstance(focus_order, str) and frame_intent in order_intents and not in_order_flow
                and not ents.order_ids and turn.actor.role == "customer" and not is_question(text)
                and intent in (OUT_OF_SCOPE, *self._intents.read_order_intents)):
            wish = request_in(text)
            if wish in order_intents - self._intents.read_order_intents and makes_request(text, wish):
                return Command("follow_up", wish, order_id=focus_order)

        # "can you check again", "any update?", "still nothing?", "再帮我查一下" right after an order
        # answer: that order, looked up again
        if (isinstance(focus_order, str) and frame_intent in self._intents.read_order_intents and not in_order_flow
                and not ents.order_ids and not ents.product_ids and turn.actor.role == "customer"
                and intent in (OUT_OF_SCOPE, frame_intent, *self._intents.template_intents) and _AGAIN_RE.search(text)):
            return Command("follow_up", frame_intent, order_id=focus_order)

        # an order question without its order after an order answer: the same order ("who's delivering it?")
        if (intent == OUT_OF_SCOPE and not in_order_flow and frame_intent in self._intents.read_order_intents
                and (ents.order_ids or (focus_order and _ORDER_CUE_RE.search(text)))):
            # (the request its words make, when the classifier leaned to it: "就是不想要了，退吧" after a
            # refund quote starts the return)
            ranked = _top_intent(turn)
            asked = ranked if (ranked in order_intents - self._intents.read_order_intents
                               and makes_request(text, ranked)) else frame_intent
            return Command("follow_up", asked, order_id=ents.order_ids[0] if ents.order_ids else focus_order)

        # 2. a product by comparison, "the other one", the item the bot just named, or description
        salient = self._salient_products(state)
        focus = state.slots.get("product_id")
        picked: Resolution | None = None
        shown = [i for i in state.slots.get("listed_products") or [] if isinstance(i, str)]
        if (not ents.product_ids and not ents.order_ids and not in_order_flow and intent not in order_intents
                and _MORE_SEARCH_RE.search(text) and not _CHEAPER_SEARCH_RE.search(text) and not _WHICH_RE.search(text)
                and isinstance(focus, str) and not self._names_other_kind(turn, [focus])):
            # "any bigger ones?", "有没有轻一点的", "续航更长的呢" after a product: its kind, beyond its value
            return Command("follow_up", "recommend", product_ids=(focus,), resolved_by="comparative")
        if (not ents.product_ids and not ents.order_ids and not in_order_flow and intent not in order_intents
                and _CHEAPER_SEARCH_RE.search(text) and not _WHICH_RE.search(text) and (isinstance(focus, str) or shown)):
            # "anything cheaper?", "有便宜点的吗" after a product or a list: the same kind for less than
            # the cheapest shown (a search, not "the cheaper one" of them)
            prices = {i: p.price for i in (shown or [focus]) if (p := self._catalog.get(i)) is not None}
            if prices:
                return Command("follow_up", "recommend", product_ids=(min(prices, key=lambda i: (prices[i], i)),),
                               resolved_by="cheaper")
        if not ents.product_ids and ents.ordinal and shown and not in_order_flow:
            k = ents.ordinal - 1 if ents.ordinal > 0 else len(shown) + ents.ordinal
            if 0 <= k < len(shown):  # "the last one's battery life": by its place in the list shown
                picked = Resolution(shown[k], "ordinal")
        if not ents.product_ids and salient and picked is None:
            prices = {i: p.price for i in salient if (p := self._catalog.get(i)) is not None}
            picked = resolve_comparison(text, prices, focus) or resolve_other(text, salient, focus)
            # ("which smart plug does then, ideally one that doesn't need a hub": a search among the
            # kind, not the one in focus its words describe)
            if picked is None and refers and not (_WHICH_RE.search(text) and self._searches is not None
                                                  and self._searches(text, turn.lang, salient)):
                picked = (self._product_head(text, salient) or self._product_description(text, salient)
                          or self._named_by_bot(state, focus))
            if (picked is None and elliptic and turn.actor.role == "customer" and frame_intent in _PRODUCT_INTENTS
                    and not in_order_flow and not _PRONOUN_RE.search(text)):
                # "and the trailrunners?" after a question about the laptop they bought: another of
                # the products in their orders, by the words of its names ("它" is the one in focus)
                owned = dict.fromkeys(i.product_id for o in self._customer_orders(turn) for i in o.items
                                      if i.product_id not in salient and self._catalog.get(i.product_id) is not None)
                picked = resolve_description(text, [Candidate(pid, "", self._product_tokens(pid, named=True))
                                                    for pid in owned], min_score=0.6)
                # (a turn that is little more than its name: "那用苹果手机的家庭app可以吗" asks about another phone)
                if picked is not None and not self._names_only(text, (picked.id,)):
                    picked = None
            if picked is None and _BUY_NOW_RE.search(text) and isinstance(focus, str) and (refers or short):
                # "can i order that one right now": whether it can be bought now is its stock
                return Command("follow_up", "product_question", product_ids=(focus,), attributes=("in stock?",),
                               resolved_by="focus")
            if picked is None and (elliptic or short) and isinstance(focus, str):
                picked = self._sibling_by_code(text, focus)  # "W8的话" after the Fit 4: the W8 of that kind
        if ents.product_ids and (_FOR_RE.search(text) or self._asks_accessory_of(text, ents.product_ids[0])):
            # "the one for the Air 8": the item in the conversation that goes with it
            owner = ents.product_ids[0]
            accessories = [p for p in self._catalog.accessories(owner) if p.id not in ents.product_ids]
            own = self._product_text(owner, named=True).lower()
            # the kind the words name ("a charger for the Edge 2"): only an accessory of that kind
            of_kind = [p for p in accessories if self._names_kind(text, p, own)]
            m = _KIND_FOR_RE.search(text)
            other_kind = m is not None and m.group(1).lower() not in _GENERIC_KINDS and not of_kind
            accessories = of_kind or ([] if other_kind else accessories)
            fits = [i for i in salient if i in {p.id for p in accessories}]
            if not fits and accessories:  # not yet in the conversation: of the kind talked about, else its only one
                kinds = {p.category for i in salient if (p := self._catalog.get(i)) is not None}
                fits = [p.id for p in accessories if p.category in kinds] or [p.id for p in accessories]
            if len(fits) == 1:
                picked = Resolution(fits[0], "accessory")
                if _HAVE_RE.search(text):  # "do you have a lumen s6 case", "Edge 4的手机壳有吗": that one, and its stock
                    return Command("follow_up", "product_question", product_ids=(fits[0],), attributes=("in stock?",),
                                   resolved_by="accessory")
        products = ((picked.id,) if picked and picked.by == "accessory" else tuple(ents.product_ids)) or (
            (picked.id,) if picked else ())
        if (len(products) == 1 and isinstance(focus, str) and products[0] != focus and _FOR_IT_RE.search(text)
                and self._catalog.get(focus) is not None
                and products[0] in {a.id for a in self._catalog.accessories(focus)}):
            # "and a screen protector for it?" with the tablet in focus: that accessory of it, and
            # whether it is in stock (not the last question asked again of the accessory)
            return Command("follow_up", "product_question", product_ids=products, attributes=("in stock?",),
                           resolved_by="accessory")
        if len(ents.product_ids) >= 3 and (ents.ordinal or _MIDDLE_RE.search(text)):
            # "choosing between A, B and C. how heavy is the middle one": an ordinal over the named ones
            chosen, ordered = self._nth_named(text, list(ents.product_ids), ents.ordinal)
            if chosen is not None:
                return Command("answer_attribute", "product_question", product_ids=(chosen,), resolved_by="ordinal",
                               listed=tuple(ordered))
        correction = bool(_CORRECTION_RE.search(text))
        if intent == "product_compare" and len(products) < 2 and len(salient) >= 2 and not self._names_other_kind(
                turn, salient):
            # "which of the two is cheaper?": the products in the conversation
            if len(shown) >= 3 and not ents.product_ids and not _TWO_RE.search(text):
                # "and which one is the lightest" after a list of three: over all of them
                return Command("compare", intent, product_ids=tuple(shown[:6]))
            recent = [i for i in state.slots.get("mentioned_products") or [] if isinstance(i, str)]
            recent = recent if len(recent) >= 2 else salient[::-1]
            pair = tuple(dict.fromkeys([*products, *recent]))[:2]
            return Command("compare", intent, product_ids=pair)
        # a new budget for the search just shown ("说错了 预算是1300", "make that under 300"): searched again
        if (not ents.product_ids and frame_intent == "recommend" and isinstance(frame, dict) and frame.get("question")
                and _BUDGET_RE.search(text) and (len(text.split()) <= 8 if turn.lang != "zh" else len(text) <= 20)
                and not in_order_flow):
            return Command("follow_up", "recommend", attributes=(str(frame["question"]),), resolved_by="budget")
        listed = [i for i in state.slots.get("listed_products") or [] if isinstance(i, str)]
        if (not products and len(listed) >= 2 and not in_order_flow and _WHICH_RE.search(text)
                and ((self._asks_comparison is not None and self._asks_comparison(text))
                     or (self._orders_by is not None and self._orders_by(text, turn.lang)))  # "which of those is cheapest"
                and not self._names_other_kind(turn, listed)):
            return Command("compare", "product_compare", product_ids=tuple(listed))  # "哪双轻一点" over the list
        mentioned = [i for i in state.slots.get("mentioned_products") or [] if isinstance(i, str)]
        if (not products and len(listed) < 2 and len(mentioned) >= 2 and not in_order_flow and _WHICH_RE.search(text)
                and self._asks_comparison is not None and self._asks_comparison(text)
                and not self._names_other_kind(turn, mentioned)):
            # "哪个便宜" after asking about one watch, then another: the two just talked about
            return Command("compare", "product_compare", product_ids=tuple(mentioned[:2]))
        # "how much more would I be paying" right after two products were compared: their prices, side by side
        compared = [i for i in (frame.get("products") or []) if isinstance(i, str)] if isinstance(frame, dict) else []
        if (not products and frame_intent == "product_compare" and len(compared) >= 2 and not in_order_flow
                and _PRICE_GAP_RE.search(text)):
            return Command("compare", "product_compare", product_ids=tuple(compared[:2]))
        # "do they come with a warranty" after a question about two products: about each of them
        named_before = [i for i in (frame.get("named") or []) if isinstance(i, str)] if isinstance(frame, dict) else []
        # (a policy word — "warranty" — about the products just named is about them: their listings say it)
        if (not products and len(named_before) >= 2 and frame_intent == "product_question" and _PLURAL_RE.search(text)
                and not _WHICH_RE.search(text) and is_question(text)
                and intent in (OUT_OF_SCOPE, "product_question", "policy_question")
                and self._asks(text, named_before[0], turn.lang)):
            return Command("answer_attribute", "product_question", product_ids=tuple(named_before[:3]), resolved_by="focus")
        target = products[0] if products else focus
        if not products and target and in_order_flow and step is not None and not self._mentions(text, target):
            target = None  # while a flow waits, a question is about its product only when it names it
        if not products and target and self._names_other_kind(turn, [target]):
            target = None  # "which earbuds last longest" after a smartwatch: a new kind, not the one in focus
        # a flow's step takes the answer, unless the turn asks something ("how much was that toaster?")
        order_talk = (in_order_flow and step is not None and not is_question(text)) or bool(ents.order_ids)
        # money talk right after an order answer ("send it to my paypal instead") is about the money,
        # not about the product the answer named
        # (and "how do I do the warranty thing": how to do something — a claim, a set-up — is the
        # store's how-to, not a value of the product in focus)
        elsewhere = not products and (bool(frame_intent in order_intents and _MONEY_TALK_RE.search(text))
                                      or asks_how_to(text))
        if target and not order_talk and not elsewhere and (about_product or bool(products) or (correction and products)):
            # a product picked by reference is asked about, whatever the words first suggested ("the
            # cheapest one: how heavy is it?" is no new search)
            # (what it asks without its own names: "那蓝牙音箱呢" asks nothing of its Bluetooth version)
            if (intent not in ("product_compare", "recommend") or picked is not None) and self._asks(
                    self._without_name(text, target), target, turn.lang):
                return Command("answer_attribute", "product_question", product_ids=products or (target,),
                               resolved_by=picked.by if picked else "")
            elliptic = elliptic or correction or self._names_only(text, products)
            if products and elliptic and frame_intent == "product_question" and frame.get("question"):
                products = self._relational(products, frame, focus)
                return Command("follow_up", "product_question", product_ids=products,
                               attributes=(str(frame["question"]),), resolved_by=picked.by if picked else "")
            if picked is not None:
                return Command("answer_attribute", intent if entry.route == "product" else "product_question",
                               product_ids=products, resolved_by=picked.by)
            # a question about "it" (or a bare "colours?") right after a product answer: the product
            # in focus, whatever attribute it asks for (its facts answer or say what is known)
            bare_question = short and text.rstrip().endswith(("?", "？"))
            if (not products and frame_intent in _PRODUCT_INTENTS and (_PRONOUN_RE.search(text) or bare_question)
                    and not _WHICH_RE.search(text) and is_question(text) and intent in (OUT_OF_SCOPE, "product_question")):
                return Command("answer_attribute", "product_question", product_ids=(target,), resolved_by="focus")

        # "那钢化膜呢" after the phone's cases were listed: the same question of another kind that goes
        # with the product the question was about (a search among what goes with it)
        if (elliptic and not products and not ents.order_ids and not in_order_flow and not order_talk
                and frame_intent in _PRODUCT_INTENTS):
            shown_before = [i for i in frame.get("products") or [] if isinstance(i, str)]
            # the product asked about: the one named, else the one the listed accessories are for
            anchor = [i for i in frame.get("named") or [] if isinstance(i, str) and self._catalog.get(i) is not None]
            anchor = anchor or list(dict.fromkeys(o.id for i in shown_before for o in self._catalog.related(i, "accessory_of")))
            of_kind = self._related_of_kind(turn, anchor[0]) if len(anchor) == 1 else []
            if of_kind and self._names_other_kind(turn, [*anchor, *shown_before]):
                question = frame.get("question")
                if len(of_kind) == 1 and isinstance(question, str) and question and frame_intent == "product_question":
                    # "Aurora X200 续航多久" → "那充电盒呢": the same question of its charging case
                    return Command("follow_up", "product_question", product_ids=(of_kind[0],),
                                   attributes=(question,), resolved_by="kind")
                return Command("follow_up", "recommend", product_ids=(anchor[0],), resolved_by="kind")

        # 3. small talk: nothing of the store in the message
        if intent == OUT_OF_SCOPE and self._vocab is not None and not in_order_flow and self._chit_chat(turn):
            return Command("chit_chat", intent)  # small talk, unless the store's FAQs answer it after all
        return Command(intent=intent)

    def _faq_follow_up(self, turn: Turn) -> Command | None:
        """A question that goes on from the FAQ answer just given ("and express?", "what if I spend
        over 49?", "ok and who pays the postage", "那周末呢"): ``follow_up`` resolved by ``faq``, the
        question before it in ``attributes`` (the router reads the two together). Only a turn the
        classifier sends to the FAQs (or reads as nothing it knows), naming no order or product,
        with no flow waiting, and marked as going on: an opening "and"/"what about"/"那", "X呢", a
        pronoun for what was discussed, or "what if"."""
        state, nlu = turn.state, turn.nlu
        last = state.slots.get(_FAQ_FRAME)
        before = last.get("question") if isinstance(last, dict) else None
        if not isinstance(before, str) or not before or state.active_flow:
            return None
        ents = nlu.entities
        if ents.order_ids or ents.malformed_order_ids or ents.product_ids:
            return None
        intent, text = turn.intent, nlu.text
        route = self._intents.entry(intent).route
        bare = without_opener(text)  # "ok what about to canada?"
        elliptic = bool(_ELLIPSIS_RE.search(bare) or _WHAT_IF_RE.search(bare))
        # a pronoun alone goes on from the FAQ only with no order or product in focus ("when is it
        # arriving?" after a return was refused is about that order)
        in_focus = isinstance(state.slots.get("order_id"), str) or isinstance(state.slots.get("product_id"), str)
        pronoun = bool(_PRONOUN_RE.search(text) or _PLURAL_RE.search(text) or _PEOPLE_RE.search(text)) and is_question(
            text) and not in_focus
        # (a product question whose "it" can be no product: "那它能和信用卡一起用吗" after gift cards; a
        # greeting or thanks answers no question: "他们什么时候在" after the answer about Chinese agents)
        if intent != OUT_OF_SCOPE and route != "retrieval" and not (route in ("product", "template") and pronoun):
            return None
        # Chinese drops the subject it goes on with ("会过期吗", "能退吗" after the gift-card answer):
        # a short question naming nothing of its own
        bare_zh = (turn.lang == "zh" and is_question(text) and not in_focus
                   and sum(1 for c in text if "\u4e00" <= c <= "\u9fff" and c not in _HAD_PARTICLES) <= 3)
        if not (elliptic or pronoun or bare_zh):
            return None
        if intent == OUT_OF_SCOPE or route == "product":  # read as the kind of question it goes on from
            asked = last.get("intent")
            if isinstance(asked, str) and asked in self._intents and self._intents.entry(asked).route == "retrieval":
                intent = asked
        return Command("follow_up", intent, attributes=(before,), resolved_by="faq")

    @staticmethod
    def _without_correction(turn: Turn) -> Turn:
        """At a flow's free-text step ("the new address?"), a correction's own words are not the
        answer: "不对不对，是 350 Mass Ave" answers "350 Mass Ave"."""
        step = turn.state.slots.get("flow_step")
        if not step or step == "confirm":
            return turn
        stripped = _CORRECTION_LEAD_RE.sub("", turn.nlu.text, count=1).strip()
        if not stripped or stripped == turn.nlu.text.strip():
            return turn
        return replace(turn, nlu=replace(turn.nlu, text=stripped))

    def _without_negated(self, turn: Turn) -> Turn:
        """"oh wait not the toaster, i meant the kettle ...": what a correction takes back is no
        reference -- its words leave the text, and a product named only there leaves the entities."""
        m = _NEGATED_RE.search(turn.nlu.text)
        if m is None:
            return turn
        said = m.group(1) or m.group(2) or ""
        rest = turn.nlu.text[:m.start()] + " " + turn.nlu.text[m.end():]
        if not rest.strip():
            return turn
        taken_back, kept = descriptor_tokens(said), descriptor_tokens(rest)
        ents = turn.nlu.entities
        products = tuple(i for i in ents.product_ids
                         if not (self._product_tokens(i) & taken_back and not self._product_tokens(i) & kept))
        return replace(turn, nlu=replace(turn.nlu, text=rest.strip(), entities=replace(ents, product_ids=products)))

    @staticmethod
    def _language(turn: Turn) -> Turn:
        """A message with a little Chinese around English names ("Hearthstone Drip 80 呢") in a
        conversation held in Chinese is Chinese (the last reply was: so the store answers it). So is
        an answer in Latin letters to a step of a flow that asked in Chinese (an address, an order
        number: "3400 Wilshire Blvd, Los Angeles, CA 90010")."""
        if turn.lang == "zh":
            return turn
        step = turn.state.slots.get("flow_step")
        data_like = bool(re.search(r"\d", turn.nlu.text)) or len(turn.nlu.text.split()) <= 3  # an address, a number
        if not _CJK_RE.search(turn.nlu.text) and (not step or step == "confirm" or not data_like):
            return turn
        previous = next((text for who, text in reversed(turn.state.history) if who == "bot"), "")
        if detect_language(previous) != "zh":
            return turn
        return replace(turn, nlu=replace(turn.nlu, language="zh"))

    def _apply(self, turn: Turn, command: Command) -> Turn:
        turn = self._without_correction(turn)
        if command.kind == "pass":
            return turn
        nlu = turn.nlu
        ents = nlu.entities
        if command.order_id and command.kind != "answer_attribute":
            # a question about an item of an order is about the product: the order is only where it was found
            ents = replace(ents, order_ids=(command.order_id, *ents.order_ids))
        if command.product_ids:
            ents = replace(ents, product_ids=command.product_ids, ordinal=None)
        text = nlu.text
        if command.kind == "follow_up" and command.attributes and command.resolved_by == "budget":
            # the previous search with the budget this turn gives ("说错了 预算是1300"): the later bound wins
            text = " ".join(command.attributes) + " — " + text
        elif command.kind == "follow_up" and command.attributes and command.resolved_by != "faq":
            # (an FAQ follow-up keeps its own words: the router reads it with the question before it)
            # the previous question, asked again about this entity ("and the Wave 3?" after "is it waterproof?")
            text = text + " — " + " ".join(command.attributes)
        prediction = nlu.intent
        if command.intent and command.intent != prediction.intent:
            prediction = IntentPrediction(intent=command.intent, confidence=prediction.confidence,
                                          ranking=prediction.ranking, oos_reason=None, model=prediction.model,
                                          stage=prediction.stage)
        return replace(turn, nlu=replace(nlu, text=text, entities=ents, intent=prediction))

    # -- orders -------------------------------------------------------------------------------
    def _may_refer(self, text: str) -> bool:
        """Whether the text could single out an order at all (a word of the catalog's products, a
        recency, a comparison or digits): the order system is asked only then."""
        return bool(descriptor_tokens(text) & self._catalog_words() or re.search(r"\d{2,}", text)
                    or describing_characters(text) & self._catalog_characters()
                    or resolve_recency(text, ["a", "b"]) or resolve_comparison(text, {"a": 1.0, "b": 2.0})
                    or resolve_other(text, ["a", "b"], "a") or item_count(text) is not None)

    def _catalog_words(self) -> frozenset[str]:
        """Every describing word of the catalog's products (read once, on first use)."""
        if self._words is None:
            words: set[str] = set()
            for p in self._catalog:
                words |= self._product_tokens(p.id)
            self._words = frozenset(words)
            self._tokens.clear()  # built for every product once; kept only for those conversations name
        return self._words

    def _catalog_characters(self) -> frozenset[str]:
        """Every Chinese character of the catalog's describing words (read once, on first use)."""
        if self._chars is None:
            self._chars = frozenset(ch for w in self._catalog_words() for ch in w if "\u3400" <= ch <= "\ufaff")
        return self._chars

    def _owned_product(self, turn: Turn, flat: str) -> str | None:
        """The product of the kind a question names as the customer's own ("my X", "the X I
        bought", "我买的X"), when their orders hold exactly one product of that kind and the
        question is about the thing, not its order (arriving, returns, refunds)."""
        if self._kind_products is None or turn.actor.role != "customer" or not _OWN_ITEM_RE.search(flat):
            return None
        thing = _OWN_ITEM_RE.sub(" ", flat)  # what is said of it, "I bought" aside
        if _ORDER_CUE_RE.search(thing) or _ORDER_TALK_RE.search(thing) or not is_question(turn.nlu.text):
            return None
        kind = self._named_kind_products(turn)
        if not kind:
            return None
        mine = {i.product_id for o in self._customer_orders(turn) for i in o.items if i.product_id in kind}
        return next(iter(mine)) if len(mine) == 1 else None

    def _named_kind_products(self, turn: Turn) -> set[str]:
        """The products of the kinds the message names outright (empty: none, or no catalog reader)."""
        if self._kind_products is None:
            return set()
        key = (turn.nlu.text, turn.lang)
        said = self._kinds_said
        if said is not None and said[0] == key:
            return set(said[1])
        try:
            kinds = frozenset(self._kind_products(*key))
        except Exception:  # noqa: BLE001 - a catalog that cannot read the sentence: names none
            kinds = frozenset()
        self._kinds_said = (key, kinds)
        return set(kinds)

    def _customer_orders(self, turn: Turn) -> list[Order]:
        try:
            return list(self._orders.list_orders(turn.actor, limit=_ORDERS_LOOKED_AT))
        except (ConnectorError, OSError) as exc:
            log.info("orders unavailable for a reference: %s", type(exc).__name__)
            return []

    def _order_reference(self, turn: Turn, orders: list[Order], *, bare: bool) -> Resolution | None:
        text = turn.nlu.text
        if not orders:
            return None
        ids = [o.order_id for o in orders]
        found = resolve_digits(text, ids, bare=bare)
        if found is not None:
            return found
        found = resolve_recency(text, ids)
        if found is not None:
            # "the charger from my last order": the newest order that holds what the words describe
            holding = [i for i, _ in described(text, [Candidate(o.order_id, "", self._order_tokens(o)) for o in orders])]
            if holding and found.id not in holding:
                newest = [i for i in ids if i in holding]
                return Resolution(newest[0], "recency") if found.id == ids[0] else found
            return found
        count = item_count(text)
        if count is not None:  # "the one with three things in it", "三件东西的那单"
            holding = [o.order_id for o in orders if holds(o, count)]
            if len(holding) == 1:
                return Resolution(holding[0], "description")
        listed = [i for i in (turn.state.slots.get("listed_orders") or []) if i in ids]
        kinds = self._named_kind_products(turn)
        if kinds:
            # a kind of product named outright ("我的智能手表"): only an order holding one of that
            # kind is described (not the one whose 智能手机 shares two characters with it); none: none
            orders = [o for o in orders if any(i.product_id in kinds for i in o.items)]
            listed = [i for i in listed if i in {o.order_id for o in orders}]
            if len(orders) <= 1:
                return Resolution(orders[0].order_id, "description") if orders else None
        candidates = [Candidate(o.order_id, "", self._order_tokens(o)) for o in orders]
        if listed:  # the orders the bot just listed come first: a description picks among them
            shown = [c for c in candidates if c.id in listed]
            found = (resolve_comparison(text, {o.order_id: o.total for o in orders if o.order_id in listed},
                                        turn.state.slots.get("order_id"))
                     or resolve_other(text, listed, turn.state.slots.get("order_id"))
                     or resolve_description(text, shown))
            if found is not None:
                return found
        # (the orders that hold the kind named tie by it, whatever else their words share)
        ties = described(text, candidates) or ([(o.order_id, 1.0) for o in orders] if kinds else [])
        found = resolve_description(text, candidates) or self._by_standing(turn, orders, ties)
        if found is None and listed:  # "鞋子那个": a word inside an item's name, among the listed first
            found = resolve_characters(text, [c for c in candidates if c.id in listed])
        return found or resolve_characters(text, candidates)

    @staticmethod
    def _by_standing(turn: Turn, orders: list[Order], ties: list[tuple[str, float]]) -> Resolution | None:
        """Several orders hold what the text describes ("is my air fryer on the way?" with one air
        fryer delivered and one shipped): a question about where an order is means the one still
        on its way, when exactly one is."""
        if len(ties) < 2 or not _STATUS_Q_RE.search(turn.nlu.text):
            return None
        tied = {i for i, _ in ties}
        open_ = [o.order_id for o in orders if o.order_id in tied and o.status in ("processing", "shipped")]
        return Resolution(open_[0], "description") if len(open_) == 1 else None

    def _nth_named(self, text: str, ids: list[str], ordinal: int | None) -> tuple[str | None, list[str]]:
        """The ``ordinal``-th (or the middle) of the products named in ``text``, in the order they are named."""
        low = text.lower()
        where = []
        for i in ids:
            own = self._product_tokens(i) - set().union(*(self._product_tokens(j) for j in ids if j != i))
            hits = [m.start() for t in own for m in re.finditer(re.escape(t), low)]
            if not hits:
                return None, []
            where.append((min(hits), i))
        ordered = [i for _, i in sorted(where)]
        if ordinal is None:
            return (ordered[len(ordered) // 2] if len(ordered) % 2 else None), ordered
        k = ordinal - 1 if ordinal > 0 else len(ordered) + ordinal
        return (ordered[k] if 0 <= k < len(ordered) else None), ordered

    def _sibling_by_code(self, text: str, focus: str) -> Resolution | None:
        """A model code alone ("W8的话", "and the x400?") names the product of the focus product's
        kind whose name holds that code, when exactly one does."""
        codes = {c.lower() for c in _CODE_RE.findall(text)}
        current = self._catalog.get(focus)
        if not codes or current is None:
            return None
        index = self._code_index()
        found = {i for c in codes for i in index.get(c, ())}
        same = [i for i in found if i != focus and (p := self._catalog.get(i)) is not None and p.category == current.category]
        return Resolution(same[0], "description") if len(same) == 1 else None

    def _code_index(self) -> dict[str, frozenset[str]]:
        """Model codes in product names (letters and digits: "w8", "x400") -> product ids, read once
        per catalog (a live edit brings a new catalog and a new index)."""
        cached = getattr(self, "_codes", None)
        if cached is not None and cached[0] is self._catalog:
            return cached[1]
        index: dict[str, set[str]] = {}
        for p in self._catalog:
            own = re.split(r"\s(?:for|für|pour|para)\s|适用于|适配", p.name, maxsplit=1)[0]  # not "band for Tempo W8"
            for c in _CODE_RE.findall(own):
                index.setdefault(c.lower(), set()).add(p.id)
        frozen = {c: frozenset(ids) for c, ids in index.items()}
        self._codes = (self._catalog, frozen)
        return frozen

    def _names_item_of(self, turn: Turn, order_id: str) -> bool:
        """Whether the text describes an item of the customer's order ``order_id``."""
        order = next((o for o in self._customer_orders(turn) if o.order_id == order_id), None)
        if order is None:
            return False
        words = descriptor_tokens(turn.nlu.text)
        return any(self._product_tokens(i.product_id, i.name) & words for i in order.items)

    def _item_asked(self, turn: Turn, order: Order | None) -> str | None:
        """The product of ``order`` a question asks about ("the coffee maker in my latest order"),
        when the text describes one of its items and asks something about it."""
        if order is None or not order.items:
            return None
        cands = [Candidate(i.product_id, "", self._product_tokens(i.product_id, i.name)) for i in order.items]
        words = descriptor_tokens(turn.nlu.text)
        named = [c for c in cands if c.tokens & words]
        # several of its items named ("买游戏机那单里的水壶": the order by one, the item by the other):
        # the one named last, next to the question
        pid = self._named_last(turn.nlu.text, named) if len(named) > 1 else None
        found = resolve_description(turn.nlu.text, cands) if len(cands) > 1 and pid is None else None
        pid = pid or (found.id if found is not None else (cands[0].id if len(cands) == 1 else None))
        if pid is None and len(cands) > 1:
            pid = self._named_last(turn.nlu.text, cands)
        if pid is None or self._catalog.get(pid) is None:
            return None
        return pid if self._asks(self._without_name(turn.nlu.text, pid), pid, turn.lang) else None

    def _order_tokens(self, order: Order) -> frozenset[str]:
        # what is in it, not where it stands: status words are what questions ask ("has it shipped?",
        # "取消") and would pick an order by the question's own words
        # and what names it (name, brand, kind), not every value of its listing: "how long is your
        # return window" is no reference to the order with a laptop that runs Windows
        out: frozenset[str] = frozenset()
        for item in order.items:
            out |= self._product_tokens(item.product_id, item.name, named=True)
        return out

    # -- products -----------------------------------------------------------------------------
    def _salient_products(self, state) -> list[str]:
        out: list[str] = []
        for key in ("listed_products", "mentioned_products"):
            out += [i for i in (state.slots.get(key) or []) if isinstance(i, str)]
        frame = state.slots.get("frame") or {}
        out += [i for i in frame.get("products") or [] if isinstance(i, str)]
        if isinstance(state.slots.get("product_id"), str):
            out.append(state.slots["product_id"])
        return list(dict.fromkeys(out))

    @staticmethod
    def _named_last(text: str, cands: list[Candidate]) -> str | None:
        """The candidate whose describing word comes last in ``text`` (None when none is named)."""
        low = text.lower()
        words = descriptor_tokens(text)
        shared = {t for t in words if sum(t in c.tokens for c in cands) > 1}
        best, where = None, -1
        for c in cands:
            hits = [low.rfind(t) for t in (c.tokens & words) - shared]
            pos = max(hits, default=-1)
            if pos > where:
                best, where = c.id, pos
        return best

    def _related_of_kind(self, turn: Turn, product_id: str) -> list[str]:
        """What goes with ``product_id`` (:meth:`Catalog.goes_with`) of the kinds the message names."""
        kinds = self._named_kind_products(turn)
        return [p.id for p in self._catalog.goes_with(product_id) if p.id in kinds] if kinds else []

    def _names_other_kind(self, turn: Turn, products: list[str]) -> bool:
        """Whether the message names a kind of product none of ``products`` is: a new search, not a
        question over them ("which earbuds last longest" after smartwatches were listed)."""
        text = turn.nlu.text
        if self._other_kind is None or _PRONOUN_RE.search(text) or any(self._mentions(text, i) for i in products):
            return False  # "is it waterproof", "键盘带背光吗" (a word of the keyboard cover's own name)
        try:
            return bool(self._other_kind(text, turn.lang, list(products)))
        except Exception:  # noqa: BLE001 - a catalog that cannot read the sentence: the same kind
            return False

    def _asks_accessory_of(self, text: str, owner: str) -> bool:
        """Whether ``text`` names the kind of one of ``owner``'s accessories that the owner's own
        names do not hold ("Lumen S6的手机壳", "a lumen s6 case"): the accessory is asked for."""
        own = self._product_text(owner, named=True).lower()
        return any(self._names_kind(text, acc, own) for acc in self._catalog.accessories(owner))

    @staticmethod
    def _names_kind(text: str, accessory: Any, own: str) -> bool:
        """Whether ``text`` names the kind of ``accessory`` (a Chinese word of its name, the last
        English word before "for"), a word ``own`` (its owner's names) does not hold."""
        for run in _CJK_RUN_RE.findall(getattr(accessory, "name_zh", "") or ""):
            if run not in _ZH_FOR_WORDS and run in text and run not in own:
                return True
        kind = re.split(r"\s+(?:for|with|to)\s+", accessory.name.lower(), maxsplit=1)[0].split()
        word = kind[-1] if kind else ""
        return len(word) >= 3 and word not in own and bool(re.search(rf"\b{re.escape(word)}(?:e?s)?\b", text.lower()))

    def _product_text(self, pid: str, fallback: str = "", *, named: bool = False) -> str:
        """The words that describe a product: its names, brand and kind, and (unless ``named``) the
        text values of its attributes."""
        p = self._catalog.get(pid)
        if p is None:
            return fallback
        values = "" if named else " ".join(str(a.value) for a in p.attributes.values() if isinstance(a.value, str))
        names = " ".join([p.name, p.name_zh, *(t.get("name", "") for t in p.translations.values()), *p.aliases])
        # the shopper's words for what its names say (store synonyms: "充电宝" for a 移动电源)
        names = " ".join([names, *(word for word, target in self._synonyms if target.search(names))])
        return " ".join([fallback, names, p.brand, p.category.replace("_", " "), values])

    def _product_tokens(self, pid: str, fallback: str = "", *, named: bool = False) -> frozenset[str]:
        """The describing tokens of a product (``named``: of its names, brand and kind only), kept
        while the catalog holds the same product (a live edit replaces it and they are read again)."""
        p = self._catalog.get(pid)
        key = f"{pid}\x00named" if named else pid
        cached = self._tokens.get(key)
        if cached is not None and cached[0] is p and p is not None:
            return cached[1] | descriptor_tokens(fallback) if fallback else cached[1]
        tokens = frozenset(descriptor_tokens(self._product_text(pid, named=named)))
        if p is not None:
            if len(self._tokens) > 50_000:
                self._tokens.clear()
            self._tokens[key] = (p, tokens)
        return tokens | descriptor_tokens(fallback) if fallback else tokens

    def _product_description(self, text: str, salient: list[str]) -> Resolution | None:
        cands = [Candidate(pid, "", self._product_tokens(pid)) for pid in salient if self._catalog.get(pid) is not None]
        return resolve_description(text, cands, min_score=0.6)

    def _product_head(self, text: str, salient: list[str]) -> Resolution | None:
        """"这个盒子" / "this case": the product in the conversation the demonstrative's noun names."""
        cands = []
        for pid in salient:
            p = self._catalog.get(pid)
            if p is not None:
                words = [p.name, p.name_zh, p.category.replace("_", " "), *p.aliases]
                words += [t.get(k, "") for t in p.translations.values() for k in ("name", "category")]
                cands.append((pid, " ".join(words)))
        return resolve_head(text, cands)

    def _relational(self, products: tuple[str, ...], frame: dict, focus: str | None) -> tuple[str, ...]:
        """An elliptical turn after a question about two products ("does the Cell 50 charge my Quiet
        60?" → "and the Novu S5?"): the new product takes the place of the one of its category, else
        of the one not in focus; the question keeps its other product."""
        before = [i for i in frame.get("named") or [] if isinstance(i, str)]
        if len(products) != 1 or len(before) != 2 or products[0] in before:
            return products
        new = self._catalog.get(products[0])
        kinds = {i: p.category for i in before if (p := self._catalog.get(i)) is not None}
        same = [i for i in before if new is not None and kinds.get(i) == new.category]
        replaced = same[0] if len(same) == 1 else next((i for i in before if i != focus), before[1])
        kept = next(i for i in before if i != replaced)
        return (kept, products[0])

    @staticmethod
    def _named_by_bot(state, focus: str | None) -> Resolution | None:
        """"this one" / "它" right after the bot named one other product about the one in focus (an
        accessory it suggested, a compatible item) -- one the customer did not name: that product."""
        frame = state.slots.get("frame") or {}
        if not isinstance(frame, dict) or frame.get("intent") not in _PRODUCT_INTENTS or not frame.get("named"):
            return None  # (a list of search results names no one product: "it" is the top pick in focus)
        named = set(frame.get("named") or [])
        others = [i for i in frame.get("products") or [] if i != focus and i not in named]
        return Resolution(others[0], "named") if len(others) == 1 else None

    def _names_only(self, text: str, products: tuple[str, ...]) -> bool:
        """The turn is little more than a product's name ("Novu Edge 2的话", "the Wave 3?")."""
        if not products:
            return False
        p = self._catalog.get(products[0])
        if p is None:
            return False
        core = _ELLIPSIS_EDGES_RE.sub(" ", text)  # "那蓝牙音箱呢": the particles around the name say nothing
        rest = descriptor_tokens(core) - descriptor_tokens(" ".join([p.name, p.name_zh, p.brand, *p.aliases]))
        return len(rest) <= 1

    @staticmethod
    def _attribute_labels(catalog: Catalog) -> dict[str, tuple[str, str]]:
        labels: dict[str, tuple[str, str]] = {}
        for p in catalog:
            for key, a in p.attributes.items():
                if key not in labels:
                    labels[key] = (a.label or key.replace("_", " "), a.label_zh or "")
        return labels

    def _without_name(self, text: str, product_id: str) -> str:
        """``text`` without the words of the product's names (what is left is what it asks)."""
        p = self._catalog.get(product_id)
        return text if p is None else p.without_names(text)

    def _mentions(self, text: str, product_id: str) -> bool:
        """Whether the text names the product by any word of its own ("that toaster")."""
        return bool(descriptor_tokens(text) & self._product_tokens(product_id))

    def _names_label(self, text: str) -> bool:
        """Whether the text names one of the catalog's attributes by its label."""
        if self._en_labels is not None and self._en_labels.search(text.lower()):
            return True
        return any(zh in text for zh in self._zh_labels)

    def _asks(self, text: str, product_id: str, lang: str) -> bool:
        """Whether ``text`` asks something specific about ``product_id``: the product QA's reading
        when it has one, else a catalog attribute label found in the text. Where an order stands
        ("when does it arrive?") is never a product question."""
        if _STATUS_Q_RE.search(text):
            return False
        if _PRICE_STOCK_RE.search(text):
            return True
        if self._asks_about is not None and self._asks_about(text, product_id, lang):
            return True
        # an attribute the store's catalog names, even one this product lacks ("跑鞋防水吗": it says no)
        return self._names_label(text)

    # -- small talk ---------------------------------------------------------------------------
    def _chit_chat(self, turn: Turn) -> bool:
        ents = turn.nlu.entities
        if ents.order_ids or ents.product_ids or ents.brands or ents.emails or ents.phones or ents.malformed_order_ids:
            return False
        if _ORDER_CUE_RE.search(turn.nlu.text) or _PRICE_STOCK_RE.search(turn.nlu.text):
            return False
        if _HAVE_RE.search(turn.nlu.text) or SELL_RE.search(turn.nlu.text):
            return False  # "do you sell matcha powder": whether the store has it, answered (or said it has not)
        if descriptor_tokens(turn.nlu.text) & self._catalog_words():
            return False  # "navy hoodies?": words of the catalog's products are no small talk
        known, total = self._vocab.share(turn.nlu.text)
        return total == 0 or known * 3 < total
