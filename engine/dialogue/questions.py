"""Is a message a question? Shoppers rarely type the question mark.

"wait real quick, if i cancel how soon does the money come back", "对了我那副耳机续航多久来着",
"does it come in blue" are questions: a question word near the start (after the fillers people open
with), a hypothetical ("if I ..."), or a Chinese question word or particle anywhere.

Example:
    >>> is_question("oh btw do these run true to size"), is_question("3400 Wilshire Blvd, LA 90010")
    (True, False)
"""

from __future__ import annotations

import re

__all__ = ["HAVE_RE", "SELL_RE", "asks_for_one", "is_question", "about_unplaced_order", "supposes_action"]

# whether the store has something: "do you have ...", "is there ...", "有没有", "有吗"
HAVE_RE = re.compile(r"\b(?:do|does) (?:you|u|ya|the store) (?:also )?(?:have|sell|carry|stock)\b|\bis there\b|"
                     r"\bare there\b|\bgot any\b|\bany (?:available|in stock)\b|有吗|有没有|有卖|有货吗|卖不卖",
                     re.IGNORECASE)
# whether the store sells something: "do you sell ...", "any ... for sale", "卖", "在售"
SELL_RE = re.compile(r"\b(?:do|does|can|will)\s+(?:you|u|ya|they|y'all)(?:\s+guys)?\s+(?:sell|carry|stock|have any|offer)\b"
                     r"|\bany\b.{1,40}\bfor sale\b|卖|出售|在售|有货", re.IGNORECASE)
# a product asked for beside the one in view: "a case for it", "also", "再来个", "还要"
_FOR_ONE_RE = re.compile(r"\bfor (?:it|that|this|that one|this one)\b|\balso\b|\bany\b|再来|还要|还有|另外|配个|给它",
                         re.IGNORECASE)


def asks_for_one(text: str) -> bool:
    """Whether the words ask for a product (whether the store has one, one for the product in
    view), not for a value of the product in view ("这个盒子充满能给耳机续多久")."""
    return bool(HAVE_RE.search(text) or _FOR_ONE_RE.search(text))

_MARK = re.compile(r"[?？]")
_FILLERS = frozenset("oh ok okay so and also btw wait hey hi well um uh hmm real quick quickly actually lol "
                     "haha sorry but then one more thing q question".split())
_EN_START = frozenset("what what's whats how how's why when where where's which who whose whom is are was were "
                      "do does did can could will would should shall may might has have had isn't aren't doesn't "
                      "don't can't won't if any anything".split())
_ZH = re.compile(r"吗|呢\s*$|多久|多少|几(?:个|天|号|点|年|月|块|升|寸|种|款|次|件|斤|克|米|岁|小时|分钟|档|口|孔|寸)|"
                 r"几(?=[^\u4e00-\u9fff]|$)|什么|啥|怎么|怎样|哪|是否|谁(?!都|也)|"
                 r"能不能|可不可以|会不会|有没有|要不要|是不是|如何|为啥|为什么|来着")
_WORD = re.compile(r"[a-z']+")
_SENTENCE = re.compile(r"[.!;。！；]+\s*")


def is_question(text: str) -> bool:
    """Whether ``text`` asks something (see the module docstring)."""
    if _MARK.search(text):
        return True
    if _ZH.search(text):
        return True
    # each sentence may open the question ("nice. does it empty itself?")
    for sentence in _SENTENCE.split(text.lower()):
        words = _WORD.findall(sentence)
        skipped = 0
        while words and words[0] in _FILLERS and skipped < 4:
            words, skipped = words[1:], skipped + 1
        if words and words[0] in _EN_START:
            return True
    return False


# an order still to be placed: "if I order today", "order now", "今天下单", "现在买的话"
_FUTURE_ORDER_RE = re.compile(
    r"\b(?:if|when) (?:i|we) (?:order|buy|place (?:an|the|my) order|check ?out|purchase)\b|"
    r"\b(?:order|buy|purchase)(?: it| one| them)? (?:today|now|tonight|tomorrow|this (?:week|morning|afternoon))\b|"
    r"(?:今天|现在|马上|今晚|明天|这周)(?:下单|买|购买|拍)|(?:如果|要是|假如)[^，。？?]{0,6}(?:下单|买)|下单的话|买的话",
    re.IGNORECASE)
# the customer's own, placed order: "my order", "the one I ordered", "我的订单", "我买的"
_MY_ORDER_RE = re.compile(r"\bmy (?:order|package|parcel|delivery)\b|\b(?:i|we) (?:ordered|bought|purchased)\b|"
                          r"我的(?:订单|单|包裹|快递)|我(?:买|订|下单)的|那(?:个|一)?单", re.IGNORECASE)


def about_unplaced_order(text: str) -> bool:
    """Whether ``text`` asks about an order still to be placed ("if I order today, will it come by
    Friday?", "今天下单今天能到吗") and names none of the customer's own: the store's policies
    answer it, not one of their orders."""
    return bool(_FUTURE_ORDER_RE.search(text)) and not _MY_ORDER_RE.search(text)


# the customer supposing an act of their own: "if i cancel something that's still processing, how long
# till ...", "what happens if I send it back opened", "如果我取消了，钱多久退回来"
_SUPPOSE_RE = re.compile(
    r"^\s*(?:(?:and|but|so|also|ok|okay)\s*,?\s+)?(?:what happens |what if |what about if |how about if )?"
    r"(?:if|suppose|say|in case) (?:i|we)(?:'d| would| were to| do| did| just| ever| already)?\s+[a-z]+|"
    r"\bwhat (?:happens|would happen) if (?:i|we)\b|"
    r"^\s*(?:请问|想问一?下|问一?下)?[，,]?\s*(?:那|那么)?(?:如果|要是|假如|万一)(?:我|我们)", re.IGNORECASE)
# asking the assistant to do it ("if it hasn't shipped, can you cancel it", "要是没发货就帮我取消")
_ASKS_TO_DO_RE = re.compile(r"\b(?:please|pls|plz|go ahead|just do)\b|\b(?:can|could) (?:you|u) (?:please )?(?:cancel|"
                            r"return|change|send|process|start|open|refund|ship|update|switch)\b|帮我|麻烦",
                            re.IGNORECASE)

_ASKED_RE = re.compile(r"[?？]|\b(?:how|when|what|will|would|do|does|did|is|are|am|can|could|should|who|where|why|any)\b",
                       re.IGNORECASE)


def supposes_action(text: str) -> bool:
    """Whether ``text`` asks what would follow from something the customer supposes doing ("if I
    cancel, how long till the charge goes away?", "如果我取消了，钱多久退回来"): a question for the
    store's policies, no request to do it."""
    m = _SUPPOSE_RE.search(text)
    if m is None or _ASKS_TO_DO_RE.search(text):
        return False
    rest = text[m.end():]  # what it asks of the supposition ("if i cancel it" alone asks nothing)
    return bool(_ASKED_RE.search(rest) or _ZH.search(rest))
