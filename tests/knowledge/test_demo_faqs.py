"""Tests for the demo store's FAQ content (knowledge/demo/faqs.py).

Besides shape checks, these tests scan every answer for claims that contradict the three store
policies (returns within 30 days of delivery, free standard shipping over $49, refunds 5–7 business
days after the return reaches the warehouse) and for invented store facts stated two different
ways. The scanners are tested on contradictory samples too, so a regex that silently stops matching
fails here instead of passing everything.
"""

from __future__ import annotations

import re
from collections import Counter

import pytest

from knowledge.demo.faqs import FAQS

EN = [f for f in FAQS if f["lang"] == "en"]
ZH = [f for f in FAQS if f["lang"] == "zh"]
BY_ID = {f["id"]: f for f in FAQS}

CJK = re.compile(r"[\u4e00-\u9fff]")
DASH = re.compile(r"\s*[–-]\s*")


def _norm_range(text: str) -> str:
    return DASH.sub("–", text.strip())


def _sentences(entry: dict) -> list[str]:
    answer = entry["answer"]
    if entry["lang"] == "zh":
        return [s for s in re.split(r"(?<=[。！？])", answer) if s.strip()]
    return [s for s in re.split(r"(?<=[.!?])\s+", answer) if s.strip()]


# --- contradiction scanners (each returns a list of human-readable violations) --------------

_EN_RETURN = re.compile(r"\breturn", re.I)
_ZH_RETURN = re.compile(r"退货|退换|退回商品")
_EN_DAYS = re.compile(r"(\d+)(?:\s+|-)(?:calendar\s+)?days?\b", re.I)
_EN_WORD_DAYS = re.compile(
    r"\b(?:seven|ten|fourteen|fifteen|thirty|sixty|ninety)[- ]days?\b"
    r"|\b(?:\d+|one|two|three|six|twelve)[- ]months?\b",
    re.I,
)
_ZH_DAYS = re.compile(r"(\d+)\s*天")
_ZH_WORD_DAYS = re.compile(r"[一二三四五六七八九十百两]+\s*天")
_ZH_NO_REASON = re.compile(r"(?:[七7]|(?!30)\d+)\s*天无理由")


def return_window_violations(entries: list[dict]) -> list[str]:
    """Day counts in sentences about returns must be 30; no "7天无理由" style claims."""
    found = []
    for e in entries:
        if e["lang"] == "zh" and _ZH_NO_REASON.search(e["answer"]):
            found.append(f"{e['id']}: other no-reason return window in {e['answer']!r}")
        for s in _sentences(e):
            if e["lang"] == "en" and _EN_RETURN.search(s):
                days = [d for d in _EN_DAYS.findall(s) if d != "30"]
                words = _EN_WORD_DAYS.findall(s)
            elif e["lang"] == "zh" and _ZH_RETURN.search(s):
                days = [d for d in _ZH_DAYS.findall(s) if d != "30"]
                words = _ZH_WORD_DAYS.findall(s)
            else:
                continue
            if days or words:
                found.append(f"{e['id']}: return window {days or words} in {s!r}")
    return found


_EN_FREE_SHIP = re.compile(r"\bfree\b", re.I)
_EN_SHIP_WORD = re.compile(r"shipping|delivery\b|postage", re.I)
_EN_DOLLARS = re.compile(r"\$\s?(\d+(?:\.\d+)?)")
_ZH_FREE_SHIP = re.compile(r"免.{0,3}运费|包邮|免邮|免费配送")
_ZH_DOLLARS = re.compile(r"(\d+(?:\.\d+)?)\s*美元")
_SHIPPING_POLICY_AMOUNTS = {"49", "5.99"}


def free_shipping_violations(entries: list[dict]) -> list[str]:
    """Dollar amounts in sentences about free or standard shipping must be $49 or $5.99."""
    found = []
    for e in entries:
        for s in _sentences(e):
            if e["lang"] == "en":
                about = (_EN_FREE_SHIP.search(s) and _EN_SHIP_WORD.search(s)) or re.search(
                    r"standard shipping", s, re.I
                )
                amounts = _EN_DOLLARS.findall(s)
            else:
                about = _ZH_FREE_SHIP.search(s) or "标准运费" in s
                amounts = _ZH_DOLLARS.findall(s)
            bad = [a for a in amounts if a not in _SHIPPING_POLICY_AMOUNTS]
            if about and bad:
                found.append(f"{e['id']}: shipping amounts {bad} in {s!r}")
            if e["lang"] == "en" and re.search(r"\$49 or more|at least \$49", s):
                found.append(f"{e['id']}: threshold must be 'over $49' in {s!r}")
    return found


_EN_REFUND = re.compile(r"refund", re.I)
_EN_BUSINESS_DAYS = re.compile(r"(\d+(?:\s*[–-]\s*\d+)?)\s+business days", re.I)
_ZH_REFUND = re.compile(r"退款")
_ZH_BUSINESS_DAYS = re.compile(r"(\d+(?:\s*[–-]\s*\d+)?)\s*个工作日")
_ZH_REFUND_DAYS = re.compile(r"(\d+(?:\s*[–-]\s*\d+)?)\s*天")


def refund_timing_violations(entries: list[dict]) -> list[str]:
    """Business-day counts in sentences about refunds must be 5–7."""
    found = []
    for e in entries:
        for s in _sentences(e):
            if e["lang"] == "en" and _EN_REFUND.search(s):
                spans = _EN_BUSINESS_DAYS.findall(s)
            elif e["lang"] == "zh" and _ZH_REFUND.search(s):
                spans = _ZH_BUSINESS_DAYS.findall(s) + [
                    d for d in _ZH_REFUND_DAYS.findall(s) if d != "30"
                ]
            else:
                continue
            bad = [x for x in spans if _norm_range(x) != "5–7"]
            if bad:
                found.append(f"{e['id']}: refund timing {bad} in {s!r}")
    return found


# --- shape ------------------------------------------------------------------------------------


def test_counts_per_language():
    assert len(EN) >= 65, len(EN)
    assert len(ZH) >= 35, len(ZH)
    assert len(EN) + len(ZH) == len(FAQS), "every entry is 'en' or 'zh'"


def test_ids_unique_and_readable():
    counts = Counter(f["id"] for f in FAQS)
    assert [i for i, n in counts.items() if n > 1] == []
    for f in FAQS:
        assert re.fullmatch(r"(en|zh)-[a-z0-9]+(?:-[a-z0-9]+)*", f["id"]), f["id"]
        assert f["id"].startswith(f["lang"] + "-"), f["id"]


@pytest.mark.parametrize("entry", FAQS, ids=lambda f: f["id"])
def test_fields_and_types(entry):
    assert set(entry) == {"id", "lang", "kind", "question", "answer", "tags", "paraphrases"}
    assert entry["lang"] in {"en", "zh"}
    assert entry["kind"] in {"policy", "faq"}
    for key in ("question", "answer"):
        assert isinstance(entry[key], str) and entry[key].strip() == entry[key] != ""
    assert isinstance(entry["tags"], list) and entry["tags"]
    assert len(set(entry["tags"])) == len(entry["tags"])
    for tag in entry["tags"]:
        assert isinstance(tag, str) and re.fullmatch(r"[a-z][a-z0-9-]{1,19}", tag), tag


@pytest.mark.parametrize("entry", FAQS, ids=lambda f: f["id"])
def test_text_is_in_the_entry_language(entry):
    texts = [entry["question"], entry["answer"], *entry["paraphrases"]]
    if entry["lang"] == "zh":
        assert all(CJK.search(t) for t in texts), texts
    else:
        assert not any(CJK.search(t) for t in texts), texts


@pytest.mark.parametrize("entry", FAQS, ids=lambda f: f["id"])
def test_answer_is_one_to_three_sentences(entry):
    n = len(_sentences(entry))
    assert 1 <= n <= 3, (n, entry["answer"])


def _key(text: str) -> str:
    return re.sub(r"[^\w]+", "", text.casefold())


@pytest.mark.parametrize("entry", FAQS, ids=lambda f: f["id"])
def test_three_distinct_paraphrases(entry):
    paras = entry["paraphrases"]
    assert isinstance(paras, list) and len(paras) == 3
    assert all(isinstance(p, str) and p.strip() for p in paras)
    keys = [_key(p) for p in paras]
    assert len(set(keys)) == 3, paras
    question = _key(entry["question"])
    for k, p in zip(keys, paras):
        assert k != question and k not in question and question not in k, p


def test_paraphrases_unique_across_entries():
    counts = Counter(_key(p) for f in FAQS for p in f["paraphrases"])
    assert [p for p, n in counts.items() if n > 1] == []


# --- the three policies: stated in both languages -------------------------------------------

POLICY_STATEMENTS = {
    ("returns", "en"): ("en-returns-window", [r"\b30 days of delivery\b", r"prepaid return label",
                                              r"\bunused\b"]),
    ("returns", "zh"): ("zh-returns-window", [r"收货后30天内", r"预付运费的退货面单", r"未使用"]),
    ("shipping", "en"): ("en-shipping-free-threshold", [r"free on orders over \$49\b",
                                                        r"\$5\.99\b"]),
    ("shipping", "zh"): ("zh-shipping-free-threshold", [r"超过49美元", r"免标准运费",
                                                        r"5\.99美元"]),
    ("refunds", "en"): ("en-refunds-timing", [r"original payment method",
                                              r"5\s*[–-]\s*7 business days after your return "
                                              r"arrives at our warehouse"]),
    ("refunds", "zh"): ("zh-refunds-timing", [r"退货送达我们的仓库后", r"5\s*[–-]\s*7个工作日",
                                              r"原支付方式"]),
}


@pytest.mark.parametrize("policy,lang", sorted(POLICY_STATEMENTS))
def test_policy_stated(policy, lang):
    entry_id, patterns = POLICY_STATEMENTS[(policy, lang)]
    entry = BY_ID[entry_id]
    assert entry["kind"] == "policy" and entry["lang"] == lang
    assert policy in entry["tags"]
    for pattern in patterns:
        assert re.search(pattern, entry["answer"]), (pattern, entry["answer"])


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_return_window_mentioned_widely(lang):
    # The 30-day window is repeated wherever returns come up, not only in the policy entry.
    pattern = r"30 days of delivery|30-day return window" if lang == "en" else r"30天"
    tagged = [f for f in FAQS if f["lang"] == lang and "returns" in f["tags"]]
    stating = [f for f in tagged if re.search(pattern, f["answer"])]
    assert len(stating) >= len(tagged) // 2, [f["id"] for f in tagged if f not in stating]


# --- no entry contradicts the policies ------------------------------------------------------


def test_no_other_return_window():
    assert return_window_violations(FAQS) == []


def test_no_other_free_shipping_threshold_or_standard_rate():
    assert free_shipping_violations(FAQS) == []


def test_no_other_refund_timing():
    assert refund_timing_violations(FAQS) == []


def test_refunds_only_to_original_payment_method():
    for f in FAQS:
        if f["lang"] == "en":
            assert not re.search(r"refund[^.]*\b(?:as|to|in) (?:store credit|a gift card)\b",
                                 f["answer"], re.I), f["id"]
        else:
            assert not re.search(r"退款[^。]*(?:退到|转为|换成)(?:店铺余额|礼品卡)", f["answer"]), f["id"]


@pytest.mark.parametrize(
    "scanner,answer,lang",
    [
        (return_window_violations, "Returns are accepted within 14 days of delivery.", "en"),
        (return_window_violations, "You have a 60-day return window.", "en"),
        (return_window_violations, "You may return items within two months.", "en"),
        (return_window_violations, "本店支持7天无理由退货。", "zh"),
        (return_window_violations, "支持七天无理由。", "zh"),
        (return_window_violations, "收货后15天内可以退货。", "zh"),
        (free_shipping_violations, "Enjoy free shipping on orders over $35.", "en"),
        (free_shipping_violations, "Standard shipping costs $7.99.", "en"),
        (free_shipping_violations, "Free standard shipping on orders of $49 or more.", "en"),
        (free_shipping_violations, "满99美元包邮。", "zh"),
        (free_shipping_violations, "标准运费为6.99美元。", "zh"),
        (refund_timing_violations, "Refunds arrive within 10 business days.", "en"),
        (refund_timing_violations, "Your refund takes 3-5 business days.", "en"),
        (refund_timing_violations, "退款3–5个工作日到账。", "zh"),
        (refund_timing_violations, "退款一般7天内到账。", "zh"),
    ],
)
def test_scanners_catch_contradictions(scanner, answer, lang):
    assert scanner([{"id": f"{lang}-sample", "lang": lang, "answer": answer}]) != []


@pytest.mark.parametrize(
    "scanner,answer,lang",
    [
        (return_window_violations, "Returns are accepted within 30 days of delivery.", "en"),
        (return_window_violations, "支持30天内退货。", "zh"),
        (free_shipping_violations, "Standard shipping is free on orders over $49.", "en"),
        (free_shipping_violations, "订单金额超过49美元免标准运费。", "zh"),
        (refund_timing_violations, "Refunds arrive 5-7 business days after the return arrives.",
         "en"),
        (refund_timing_violations, "退款会在5–7个工作日内退回原支付方式。", "zh"),
    ],
)
def test_scanners_accept_the_policies(scanner, answer, lang):
    assert scanner([{"id": f"{lang}-sample", "lang": lang, "answer": answer}]) == []


# --- invented store facts are stated the same way everywhere --------------------------------

# (lang, regex with one or more groups, the one value every match must have)
FACTS = [
    ("en", r"(\d+) days of delivery", "30"),
    ("en", r"(\d+\s*[–-]\s*\d+) business days after (?:your |the )?return", "5–7"),
    ("en", r"[Ee]xpress shipping \(?(?:delivers in |takes )?(\d+\s*[–-]\s*\d+) business days",
     "1–2"),
    ("en", r"[Ee]xpress shipping[^.]*?\$(\d+\.\d\d)", "14.99"),
    ("en", r"[Ss]tandard shipping \(?(?:takes )?(\d+\s*[–-]\s*\d+) business days", "3–5"),
    ("en", r"[Ss]tandard shipping[^.]*?costs \$(\d+\.\d\d)|ship for a flat \$(\d+\.\d\d)", "5.99"),
    ("en", r"International shipping costs a flat \$(\d+\.\d\d)", "24.99"),
    ("en", r"(\d+\s*[–-]\s*\d+) business days\. Free standard shipping", "7–14"),
    ("en", r"placed by (\d+ [ap]m ET Monday–Friday)", "2 pm ET Monday–Friday"),
    ("en", r"within (\d+) days of (?:your )?purchase", "14"),
    ("en", r"(\d-\d{3}-\d{3}-\d{4})", "1-800-555-0199"),
    ("en", r"([A-Za-z0-9._]+@[A-Za-z0-9.]*[A-Za-z0-9])", "support@brightcart.com"),
    ("en", r"answer emails within (\d+ hours)", "24 hours"),
    ("en", r"live chat and phone (Monday[^.]*? ET and [^.]*? ET)",
     "Monday–Friday 8 am–8 pm ET and Saturday–Sunday 9 am–5 pm ET"),
    ("en", r"Chinese-speaking agents are available on live chat (Monday–Friday [^,.]*? ET)",
     "Monday–Friday 9 am–5 pm ET"),
    ("en", r"[Ff]ootwear and apparel are covered for (\d+ days)", "90 days"),
    ("en", r"earn (\d+ points?) for every \$1", "1 point"),
    ("en", r"(\d+) points give you \$5|in \$5 steps of (\d+) points", "100"),
    ("zh", r"收货后(\d+)天", "30"),
    ("zh", r"(\d+)天内退货", "30"),
    ("zh", r"(\d+\s*[–-]\s*\d+)个工作日内退回", "5–7"),
    ("zh", r"加急配送(?:需要)?(\d+\s*[–-]\s*\d+)个工作日", "1–2"),
    ("zh", r"加急[^。]*?(\d+\.\d\d)美元", "14.99"),
    ("zh", r"标准配送需要(\d+\s*[–-]\s*\d+)个工作日|5\.99美元，(\d+\s*[–-]\s*\d+)个工作日送达", "3–5"),
    ("zh", r"标准运费为(\d+\.\d\d)美元|收取(\d+\.\d\d)美元标准运费", "5.99"),
    ("zh", r"国际运费统一为(\d+\.\d\d)美元", "24.99"),
    ("zh", r"一般(\d+\s*[–-]\s*\d+)个\s*工作日送达", "7–14"),
    ("zh", r"(美国东部时间周一至周五下午\d+点)前下单", "美国东部时间周一至周五下午2点"),
    ("zh", r"购买后(\d+)天内", "14"),
    ("zh", r"(\d-\d{3}-\d{3}-\d{4})", "1-800-555-0199"),
    ("zh", r"([A-Za-z0-9._]+@[A-Za-z0-9.]*[A-Za-z0-9])", "support@brightcart.com"),
    ("zh", r"(\d+小时)内回复邮件", "24小时"),
    ("zh", r"电话服务时间为([^，。]*)",
     "美国东部时间周一至周五上午8点至晚上8点、周六和周日上午9点至下午5点"),
    ("zh", r"中文客服为([^，。]*)", "美国东部时间周一至周五上午9点至下午5点"),
    ("zh", r"鞋服自签收之日起(\d+天)", "90天"),
    ("zh", r"每消费1美元积(\d+)分", "1"),
    ("zh", r"(\d+)积分可抵5美元", "100"),
]


@pytest.mark.parametrize("lang,pattern,expected", FACTS, ids=lambda x: str(x)[:40])
def test_fact_stated_one_way(lang, pattern, expected):
    values = []
    for f in FAQS:
        if f["lang"] != lang:
            continue
        for m in re.finditer(pattern, f["answer"]):
            value = next(g for g in m.groups() if g is not None)
            values.append((f["id"], _norm_range(value) if DASH.search(value) else value))
    assert values, f"no {lang} answer states {pattern!r}"
    assert [v for v in values if v[1] != _norm_range(expected)] == []


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_warranty_lengths(lang):
    pattern = r"(\d+)-month warranty" if lang == "en" else r"(\d+)个月保修"
    kitchen = "itchen" if lang == "en" else "厨房"
    seen = set()
    for f in FAQS:
        if f["lang"] != lang:
            continue
        for s in _sentences(f):
            for months in re.findall(pattern, s):
                expected = "24" if kitchen in s else "12"
                assert months == expected, (f["id"], s)
                seen.add(months)
    assert seen == {"12", "24"}


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_business_day_ranges_are_known(lang):
    # Closed world: a new delivery or refund time has to be added here, on purpose.
    known = {"1–2", "3–5", "5–7", "7–14"}
    pattern = _EN_BUSINESS_DAYS if lang == "en" else _ZH_BUSINESS_DAYS
    ranges = {
        _norm_range(r)
        for f in FAQS
        if f["lang"] == lang
        for r in pattern.findall(f["answer"])
        if DASH.search(r)
    }
    assert ranges <= known, ranges - known


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_dollar_amounts_are_known(lang):
    # Closed world for prices and thresholds, so a second shipping rate can't slip in.
    known = {"1", "5", "5.99", "4.99", "14.99", "24.99", "25", "49", "100", "500"}
    pattern = _EN_DOLLARS if lang == "en" else _ZH_DOLLARS
    amounts = {a for f in FAQS if f["lang"] == lang for a in pattern.findall(f["answer"])}
    assert amounts <= known, amounts - known
