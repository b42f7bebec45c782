"""The confirmation gate: is a reply to "Shall I ...? (yes / no)" a clear yes, a clear no, or unclear?

Every write (cancel an order, open a return, change an address; the engine's flows and the Rasa
return form alike) runs only on a ``yes`` from this gate. The intent classifier is not asked: it
must pick *some* intent for every text, so "what?" or "maybe" can come out as ``affirm``. The
gate reads the words instead and is strict on purpose: a question, a hedge ("maybe", "等一下"),
both a yes and a no, or neither, is ``unclear``, and an unclear reply gets the question again.

What counts as a yes or a no is the language's own vocabulary (yes/sure/ok, 好的/可以/确认; no/
keep it, 不要/算了), plus the action the flow asks about ("cancel it", "退吧"), which each flow
names in its spec. Negation flips an action ("don't cancel", "不取消").

Example:
    >>> gate = LexicalConfirmationGate()
    >>> gate.judge("yep, go ahead").answer, gate.judge("等一下").answer, gate.judge("nope").answer
    ('yes', 'unclear', 'no')
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal, Protocol, runtime_checkable

__all__ = ["Answer", "Confirmation", "ConfirmationGate", "LexicalConfirmationGate"]

Answer = Literal["yes", "no", "unclear"]


@dataclass(frozen=True)
class Confirmation:
    """The gate's verdict: ``answer`` and the cue that decided it (for the trace)."""

    answer: Answer
    reason: str


@runtime_checkable
class ConfirmationGate(Protocol):
    def judge(self, text: str, *, actions: Sequence[str] = ()) -> Confirmation:
        """``actions``: the words of the action being confirmed ("cancel", "取消"): saying the
        action itself, un-negated, is a yes."""
        ...


# -- English ---------------------------------------------------------------------------------
# multi-word cues are matched first and removed, so their words are not read again
_EN_YES_PHRASES = (
    "go ahead", "go for it", "do it", "please do", "sounds good", "that's right", "thats right",
    "that is right", "of course", "no problem", "no worries", "fine by me", "works for me", "let's do it",
    "lets do it", "make it so", "for sure", "yes please", "all good",
)
_EN_NO_PHRASES = (
    "keep it", "keep the order", "leave it", "never mind", "nevermind", "forget it", "forget about it",
    "changed my mind", "change my mind", "don't bother", "no thanks", "no thank you", "not now",
    "hold off", "i'll pass", "ill pass", "rather not", "no need",
)
_EN_UNCLEAR_PHRASES = (
    "not sure", "i guess", "i think", "let me think", "hold on", "hang on", "wait a", "one sec",
    "one moment", "just a sec", "give me a", "not yet", "i don't know", "i dont know", "dont know",
    "don't know", "no idea", "what do you mean", "are you sure", "is it", "can i", "should i",
)
_EN_YES = frozenset({
    "yes", "yeah", "yea", "yep", "yup", "ya", "yah", "ye", "yess", "yesss", "y", "sure", "ok", "okay", "okey",
    "k", "kk", "alright", "aight", "right", "correct", "confirm", "confirmed", "confirming", "affirmative",
    "absolutely", "definitely", "certainly", "proceed", "agreed", "agree", "yesplease",
})
# words that lean to yes only when nothing else decides ("please" alone; "no, please keep it" is a no)
_EN_WEAK_YES = frozenset({"please", "pls", "plz", "fine", "great", "perfect", "cool", "right", "good"})
_EN_NO = frozenset({
    "no", "nope", "nah", "naw", "nay", "n", "not", "don't", "dont", "never", "negative", "stop",
    "abort", "keep", "nvm", "won't", "wont", "didn't", "didnt",
})
_EN_UNCLEAR = frozenset({
    "maybe", "perhaps", "probably", "possibly", "unsure", "idk", "dunno",
    "huh", "wait", "later", "meh", "depends", "whatever", "if", "unless", "tomorrow", "wut", "wat",
    "lol", "but", "though", "actually", "except",
})
# a question word opening the reply: "what", "why not", "how long will it take"
_EN_QUESTION_START = frozenset({"what", "why", "how", "when", "which", "who", "where", "whats", "what's", "does",
                                "do", "did", "is", "are", "can", "could", "will", "would", "should", "shall", "isn't",
                                "doesn't", "won't"})
_NEGATORS = frozenset({"not", "don't", "dont", "never", "won't", "wont", "didn't", "didnt"})

# -- Chinese -----------------------------------------------------------------------------------
# a question or an open hedge: never a yes or a no
_ZH_QUESTION = ("不确定", "不知道", "不清楚", "什么", "啥", "为什么", "怎么", "真的", "是不是", "要不要", "能不能",
                "可不可以", "行不行", "好不好", "对不对", "有没有", "吗", "嘛", "么", "呢", "随便", "也许", "可能",
                "大概", "或许")
# waiting or hesitating: a plain refusal beside it still counts ("等一下，不要取消")
_ZH_DOUBT = ("等一下", "等等", "等会", "等下", "稍等", "慢着", "再想想", "想想", "考虑", "再说", "回头", "晚点", "应该",
             "好像", "似乎", "问问", "商量",
             "以后", "纠结", "犹豫", "看看")
_ZH_YES_PHRASES = ("没问题", "没错", "不错", "麻烦了", "麻烦你", "辛苦", "就这么办", "就这么定了", "这么办", "就这样吧")
_ZH_NO = ("不要", "不用", "不了", "不必", "别", "算了", "不想", "不行", "不对", "不是", "先不", "保留", "留着",
          "否", "拒绝", "停", "撤回", "不同意", "不确认", "不", "没")
_ZH_YES = ("好的", "好滴", "好嘞", "好吧", "好", "行", "可以", "是的", "是", "对的", "对", "嗯", "恩", "确认",
           "确定", "同意", "要", "请", "赶紧", "快", "当然", "没错")

# going ahead with whatever was asked ("对，确认提交", "申请吧"): the action, whichever it is
_ZH_PROCEED = ("提交", "申请", "办理", "执行", "继续", "进行", "操作")
# words around a yes that add nothing to it ("嗯，帮我取消吧", "那就这样吧")
_ZH_FILLERS = ("麻烦", "帮我", "给我", "帮忙", "这个", "那个", "就这样", "这样", "那就", "一下", "订单", "单子", "现在",
               "整单", "全部", "所有", "两个", "这些", "那些", "一起",
               "马上", "直接", "谢谢", "谢了", "哈哈", "吧", "啊", "呀", "哦", "噢", "嗯", "了", "的", "我", "帮", "就",
               "那", "它", "吗", "啦", "呗", "嘞", "滴", "哈", "亲", "都", "也", "掉", "把", "给", "您", "你")
_EN_FILLERS = frozenset({"oh", "well", "um", "umm", "uh", "hmm", "hi", "hey", "so", "and", "then", "ah", "haha", "lol",
                         "sorry", "oops", "ugh"})
# "I don't want it (any more)": about the item, not a refusal of the action, when the action itself
# follows un-negated ("这个不要了，取消" is a yes to a cancellation; "不要了" alone stays a no)
# the actions that take the items away (cancel, return): there "不要了" of the items agrees with them
_ZH_REMOVALS = frozenset({"取消", "退", "退货", "退掉"})
# how many of the items: "两个都", "全部", "这两件" (no answer of their own)
_ZH_QUANTIFIERS = re.compile(r"(?:这|那)?(?:两|三|几)(?:个|件|样|单|款)?都?|全部|都|这个|那个|它们|这些|那些")
_ZH_ITEM_UNWANTED = re.compile(r"(?:不想要了|不要了|不想要|用不上了|用不着了)(?=[，,。.！!\s]|$)")

_EMOJI_YES = ("👍", "✅", "👌", "🙆", "✔")
_EMOJI_NO = ("👎", "❌", "🙅", "✖", "🚫")

_CJK = re.compile(r"[\u3400-\u9fff]")
# sentence ends: a reply may acknowledge first, then answer ("ok noted. go ahead")
_SENTENCES = re.compile(r"(?<=[.!。！])\s*")
# a sentence that only takes note of what was said: no yes, no no, no doubt in it
_ACK_WORDS = frozenset({"lol", "haha", "hah", "ok", "okay", "noted", "got", "it", "thanks", "thank", "you", "fine",
                        "alright", "i", "see", "understood", "cool", "gotcha", "makes", "sense", "that", "for",
                        "explaining", "the", "info", "right", "ah", "oh", "well"})
_ZH_ACK = re.compile(r"^(?:好吧|明白了?|知道了|哈哈+|行吧|了解了?|懂了|收到|谢谢|噢|哦)+[。！.!，,\s]*$")


def _acknowledges(sentence: str) -> bool:
    """Whether a sentence only takes note ("lol ok noted.", "明白了。")."""
    s = sentence.strip().strip(".!。！,， ")
    if not s:
        return True
    if _CJK.search(s):
        return bool(_ZH_ACK.match(s))
    words = _WORD.findall(s)
    return bool(words) and all(w in _ACK_WORDS for w in words)
_WORD = re.compile(r"[a-z]+(?:'[a-z]+)?")
_QUESTION = re.compile(r"[?？]")


def _normalise(text: str) -> str:
    text = unicodedata.normalize("NFKC", text).replace("\u2019", "'").replace("\u2018", "'").lower()
    return re.sub(r"\s+", " ", text).strip()


@dataclass
class _Cues:
    yes: list[str] = field(default_factory=list)
    no: list[str] = field(default_factory=list)
    doubt: list[str] = field(default_factory=list)  # a hedge a plain no still overrides ("no wait, keep it")
    unclear: str = ""  # a question or an open hedge: nothing overrides it
    # a yes said inside something else ("你是机器人", "SYSTEM: the customer has confirmed ..."):
    # a confirmation opens with its yes, or is little more than it
    buried: str = ""


class LexicalConfirmationGate:
    """The strict, offline gate: cues from both languages' yes/no vocabulary and the flow's action.

    A question or an open hedge ("not sure", "是不是") is always unclear; otherwise a no wins over
    a passing doubt ("no wait, keep it" is a no: it writes nothing), and a yes counts only alone --
    or in a sentence of its own after sentences that only take note ("lol ok noted. go ahead").

    Args:
        max_words: a reply longer than this is not a confirmation but a message of its own
            (unclear: the question is asked again after it is answered).
    """

    def __init__(self, *, max_words: int = 16) -> None:
        if max_words <= 0:
            raise ValueError(f"max_words must be > 0, got {max_words}")
        self._max_words = max_words

    def judge(self, text: str, *, actions: Sequence[str] = ()) -> Confirmation:
        verdict = self._judge(text, actions)
        if verdict.answer != "unclear" or not isinstance(text, str) or _QUESTION.search(text):
            return verdict
        # "lol ok noted. go ahead with the return anyway", "明白了。好的，退吧": sentences that only
        # acknowledge what was said, then the answer in a sentence of its own: that sentence decides
        parts = [p for p in _SENTENCES.split(_normalise(text)) if p.strip()]
        if len(parts) < 2 or not all(_acknowledges(p) for p in parts[:-1]):
            return verdict
        last = self._judge(parts[-1], actions)
        return Confirmation(last.answer, f"after acknowledgement:{last.reason}") if last.answer != "unclear" else verdict

    def _judge(self, text: str, actions: Sequence[str]) -> Confirmation:
        t = _normalise(text if isinstance(text, str) else "")
        if not t:
            return Confirmation("unclear", "empty")
        cues = _Cues()
        if _QUESTION.search(t):
            cues.unclear = "question"
        if _CJK.search(t):
            self._cjk(t, actions, cues)
        self._english(_CJK.sub(" ", t), actions, cues)
        cues.yes += [e for e in _EMOJI_YES if e in t]
        cues.no += [e for e in _EMOJI_NO if e in t]
        if cues.unclear:
            return Confirmation("unclear", cues.unclear)
        if cues.no and not cues.yes:
            return Confirmation("no", f"no:{cues.no[0]}")
        if cues.doubt:
            return Confirmation("unclear", f"hedge:{cues.doubt[0]}")
        if cues.yes and not cues.no:
            if cues.buried:
                return Confirmation("unclear", f"buried:{cues.buried}")
            return Confirmation("yes", f"yes:{cues.yes[0]}")
        return Confirmation("unclear", "mixed" if cues.yes else "no cue")

    def _english(self, t: str, actions: Sequence[str], cues: _Cues) -> None:
        words = _WORD.findall(t)
        if len(words) > self._max_words:
            cues.unclear = cues.unclear or "too long"
            return
        padded = f" {' '.join(words)} "
        phrase = next((p for p in _EN_UNCLEAR_PHRASES if f" {p} " in padded), None)
        if phrase:
            cues.unclear = cues.unclear or f"hedge:{phrase}"
        for phrases, sink in ((_EN_NO_PHRASES, cues.no), (_EN_YES_PHRASES, cues.yes)):
            for p in phrases:
                if f" {p} " in padded:
                    sink.append(p)
                    padded = padded.replace(f" {p} ", " ")
        words = padded.split()
        self._english_position(_WORD.findall(t), actions, cues)
        if words and words[0] in _EN_QUESTION_START and words[1:2] != ["not"]:
            cues.unclear = cues.unclear or f"question:{words[0]}"
        # a question in a clause of its own after the yes ("ok quick one, did my earbuds ship yet"):
        # another matter, not this answer ("do it" / "do that" is the answer)
        for clause in re.split(r"[,;:]+", t)[1:]:
            cw = _WORD.findall(clause)
            if (len(cw) >= 3 and cw[0] in _EN_QUESTION_START and cw[1] not in ("not", "it", "that", "this", "so")):
                cues.unclear = cues.unclear or f"question:{cw[0]}"
        verbs = {a.lower() for a in actions if a and not _CJK.search(a)}
        weak: list[str] = []
        for i, w in enumerate(words):
            negated = i > 0 and words[i - 1] in _NEGATORS
            if w in _EN_UNCLEAR:
                cues.doubt.append(w)
            elif any(w.startswith(v) for v in verbs) or w in _EN_YES:
                (cues.no if negated else cues.yes).append(w)
            elif w in _EN_NO:
                cues.no.append(w)
            elif w in _EN_WEAK_YES:
                (cues.no if negated else weak).append(w)
            elif w == "cancel":  # "cancel" outside a cancellation: call the action off
                cues.no.append(w)
        if weak and not cues.yes and not cues.no and len(words) <= 4:
            cues.yes.extend(weak)

    @staticmethod
    def _english_position(words: list[str], actions: Sequence[str], cues: _Cues) -> None:
        """Mark a yes as buried unless the reply opens with it or is at most four words."""
        while words and words[0] in _EN_FILLERS:
            words = words[1:]
        if len(words) <= 4 or not words:
            return
        opening = " ".join(words[:3])
        verbs = {a.lower() for a in actions if a and not _CJK.search(a)}
        first = words[0] if words[0] not in ("please", "pls", "plz") else words[1]
        if (first in _EN_YES or any(first.startswith(v) for v in verbs)
                or any(f"{opening} ".startswith(f"{p} ") for p in _EN_YES_PHRASES)):
            return
        cues.buried = cues.buried or f"after:{words[0]}"

    @staticmethod
    def _cjk(t: str, actions: Sequence[str], cues: _Cues) -> None:
        rest = t
        for phrase in _ZH_YES_PHRASES:  # "没问题" / "就这么办" hold a 没 / 么 that is no refusal or question
            if phrase in rest:
                cues.yes.append(phrase)
                rest = rest.replace(phrase, " ")
        hedge = next((h for h in _ZH_QUESTION if h in rest), None)
        if hedge:
            cues.unclear = cues.unclear or f"question:{hedge}"
        cues.doubt += [h for h in _ZH_DOUBT if h in rest]
        verbs = [a for a in actions if a and _CJK.search(a)]
        unwanted = _ZH_ITEM_UNWANTED.sub(" ", rest)
        if unwanted != rest and any(v in unwanted for v in verbs):
            rest = unwanted  # what follows decides: a refusal left there still negates the action
        elif unwanted != rest and not any(c in unwanted for c in _ZH_NO) and (
                cues.yes or any(c in unwanted for c in _ZH_YES if c != "要")):
            if (any(v in _ZH_REMOVALS for v in verbs) and _ZH_QUANTIFIERS.search(unwanted)
                    and (cues.yes or any(c in unwanted for c in _ZH_YES if c != "要"))):
                # at a cancellation or a return, not wanting *the items* is the action: "确定，两个都不要了"
                # agrees with it (the items said: "两个都", "全部"); "好的，不要了" may mean the action
                # and is asked again; a refusal anywhere still wins; "不要了" alone stays a no
                rest = _ZH_QUANTIFIERS.sub(" ", unwanted)
            else:
                # "确定，两个都不要了" elsewhere: a yes, and "don't want it" that may be the item or the action
                cues.unclear = cues.unclear or "mixed:不要了"
                return
        refusal = [cue for cue in _ZH_NO if cue in rest]
        if refusal:  # a refusal word negates whatever action follows it ("不取消", "别退")
            cues.no += refusal
            return
        for verb in (*(a for a in actions if a and _CJK.search(a)), *_ZH_PROCEED):
            if verb in rest:
                cues.yes.append(verb)
                rest = rest.replace(verb, " ")
        for cue in _ZH_YES:
            if cue in rest:
                cues.yes.append(cue)
                rest = rest.replace(cue, " ")
        for filler in _ZH_FILLERS:
            rest = rest.replace(filler, " ")
        left = "".join(_CJK.findall(rest))
        if len(left) > 1:  # more than the answer: its words say something else
            cues.buried = cues.buried or f"with:{left[:8]}"
