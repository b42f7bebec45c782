"""What a store's own catalog says about the words customers use for its products.

:class:`CatalogVocabulary` is learned once from a :class:`~knowledge.graph.catalog.Catalog`, in every
language the catalog carries, and is what :mod:`knowledge.graph.constraints` reads a query with:

- **product types**: the levels of each category path (``Kitchen > Kettles``: ``kitchen``,
  ``kettle``) and the head nouns of product names (the words after the last model number: "Aurora
  X200 **Wireless Earbuds**" gives ``earbud`` and ``wireless earbud``; Chinese names and categories
  give their tail runs: ``无线耳机`` gives ``耳机`` and ``无线耳机``), each pointing at its products;
  a store may add ``synonyms`` (``{"earphones": "earbuds", "耳麦": "耳机"}``);
- **attribute cues**: each attribute's key, label words, label initials (``active noise
  cancelling`` -> ``anc``) and Chinese label fragments (``电池容量`` -> ``电池``, ``容量``);
- **values**: categorical attribute values in both languages (``black``/``黑色``, ``IPX7``), brands;
- **numbers**: price, rating, stock and every numeric attribute as arrays in base units
  (:func:`knowledge.graph.meaning.to_base`), so filters are vector operations over 50,000 products;
- **words**: an inverted index of name, category and description words (Chinese as bigrams) for
  ranking what the filters keep.

Example:
    >>> vocab = CatalogVocabulary(catalog)            # doctest: +SKIP
    >>> vocab.types_in("cheap wireless earbuds")      # doctest: +SKIP
    ['wireless earbud']
"""

from __future__ import annotations

import math
import re
import threading
from collections import defaultdict
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from .catalog import CATEGORY_SEP, Catalog, Product
from .columns import join_texts, pack_rows, split_texts, unpack_rows
from .fuzzy import COMMON_WORDS
from .meaning import unit_of, water_level

__all__ = ["CatalogVocabulary", "AttributeInfo", "norm_words", "singular", "value_heads"]

_WORD = re.compile(r"[a-z0-9]+(?:[.'][a-z0-9]+)*")
_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff]+")
_PAREN = re.compile(r"\([^)]*\)|（[^）]*）")
_ZH_HEAD = re.compile(r"(?:个|款|只|把|双|件|台|套|种|什么|啥|哪个|哪款|的)([\u4e00-\u9fff])|([\u4e00-\u9fff])子|"
                      r"([\u4e00-\u9fff])(?=[吗呢吧啊呀？?！!。，,]|$)")
_FOR = re.compile(r"\s+(?:for|fits|compatible with)\s+|适用于|适配|专用", re.IGNORECASE)
_MAX_TYPE_WORDS = 3
_MAX_ZH_TYPE = 6


@lru_cache(maxsize=1 << 18)
def singular(word: str) -> str:
    """A crude English singular, the same on both sides of a match: shoes -> shoe, earbuds -> earbud,
    smartwatches -> smartwatch, boxes -> box, glasses -> glass."""
    if len(word) > 4 and word.endswith(("ches", "shes", "xes", "sses", "zzes")):
        return word[:-2]
    if len(word) > 3 and word.endswith("s") and not word.endswith("ss"):
        return word[:-1]
    return word


def stem(word: str) -> str:
    """A crude English stem, the same on both sides of a match: mopping, mop -> mop; charging,
    charge -> charg; wirelessly -> wireless; washable -> wash."""
    for suffix in ("ingly", "ing", "ably", "able", "ly", "ed", "es", "s", "e"):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3 and not word.endswith("ss"):
            word = word[:-len(suffix)]
            break
    if len(word) > 3 and word[-1] == word[-2] and word[-1] not in "aeiousl":
        word = word[:-1]  # mopp -> mop, but not "press", "wall"
    return word


def norm_words(text: str) -> list[str]:
    """Lower-case Latin words, singular."""
    return [singular(w) for w in _WORD.findall(text.lower())]


def _word_set(text: str) -> set[str]:
    """The distinct singular Latin words of ``text`` (one regex pass; repeated words cost nothing)."""
    return {singular(w) for w in set(_WORD.findall(text.lower()))}


def _cjk_bigrams(text: str) -> set[str]:
    out: set[str] = set()
    for run in _CJK.findall(text):
        out.update(run[i:i + 2] for i in range(max(1, len(run) - 1)))
    return out


@dataclass
class AttributeInfo:
    """One attribute key across the catalog: its labels, kind and (numeric) dimension."""

    key: str
    label: str
    label_zh: str
    kind: str  # "number" | "bool" | "text" | "water"
    dimension: str | None = None  # the most common one
    unit: str | None = None
    dimensions: frozenset[str] = frozenset()  # every dimension its values come in ("capacity": L, g, persons)

    def measures(self, dimension: str | None) -> bool:
        if dimension is None:
            return False
        dims = {self.dimension, *self.dimensions}
        # a battery that lasts "12 months" answers "how long does it last" as well as hours do
        return dimension in dims or (dimension == "time" and "months" in dims)


class CatalogVocabulary:
    """Types, attribute cues, values and numbers learned from one catalog (see module docstring).

    Args:
        catalog: the store's products.
        synonyms: extra words for types or attributes, ``{word: word the catalog uses}``.
    """

    def __init__(self, catalog: Catalog, *, synonyms: dict[str, str] | None = None) -> None:
        self.products: list[Product] = list(catalog)
        self._synonyms = dict(synonyms) if synonyms else None
        self.row = {p.id: i for i, p in enumerate(self.products)}
        n = len(self.products)
        self.price = np.array([p.price for p in self.products], dtype=np.float64)
        self.rating = np.array([p.rating for p in self.products], dtype=np.float64)
        self.stock = np.array([p.stock for p in self.products], dtype=np.int64)
        self._words: dict[str, np.ndarray] = {}
        self._idf: dict[str, float] = {}
        self._indexed = threading.Event()
        self._index_error: BaseException | None = None
        prebuilt = catalog.prebuilt.get("vocabulary")
        if prebuilt is not None and _fits(prebuilt[0], n, synonyms):
            self._load_tables(*prebuilt)  # what a store build learned from these very products
            self._indexed.set()
        else:
            self._learn(catalog, synonyms)
        self._en_types = {t for t in self.types if not _CJK.search(t)}
        self._zh_types = sorted((t for t in self.types if _CJK.search(t) and len(t) > 1), key=len, reverse=True)
        self.cues = self._cues()
        # cues by their first word (Latin) or first two characters (Chinese): a question looks up
        # only the cues that can start in it, not every cue of every attribute
        self._cue_index: dict[str, list[tuple[str, str, int]]] = defaultdict(list)
        # single label words by their stem: "does it mop" names "mopping", "charge wirelessly"
        # names "wireless charging" (a weak cue, taken only where no word matched as written)
        self._stem_index: dict[str, set[str]] = defaultdict(set)
        for key, cues in self.cues.items():
            for cue, strength in cues:
                lead = cue[:2] if _CJK.match(cue) else cue.split(" ")[0]
                self._cue_index[lead].append((cue, key, strength))
                if strength == 2 and not _CJK.match(cue) and len(st := stem(cue)) >= 3:
                    self._stem_index[st].add(key)
        # feature labels written like a number and a unit ("5G"): never read as an amount
        self.flag_words = {c for k, a in self.attributes.items() if a.kind == "bool"
                           for c, _ in self.cues[k] if re.fullmatch(r"\d+[a-z]+", c)}
        if not self._indexed.is_set():
            # the word index (names, categories, descriptions) is the slow part on a big catalog and only
            # ranking without an asked order reads it: built on a thread, waited for on first use
            threading.Thread(target=self._index_in_background, name="catalog-word-index", daemon=True).start()

    def _learn(self, catalog: Catalog, synonyms: dict[str, str] | None) -> None:
        """Types, brands, heads and attribute values, learned from the products (no store build's tables)."""
        n = len(self.products)
        self.accessory = np.zeros(n, dtype=bool)
        for u, rel, _ in catalog.relations():
            if rel == "accessory_of" and u in self.row:
                self.accessory[self.row[u]] = True
        types: dict[str, set[int]] = defaultdict(set)
        self.head: list[str] = [""] * n  # each product's most specific type term
        brands = {w for p in self.products for w in norm_words(p.brand)}
        self.brands: dict[str, set[int]] = defaultdict(set)
        for i, p in enumerate(self.products):
            if p.brand:
                self.brands[" ".join(norm_words(p.brand)) or p.brand].add(i)
            for lang, name, category in self._texts(p):
                for term in _category_terms(category):
                    types[term].add(i)
                terms = _name_terms(name, brands, p.brand)
                for term in terms:
                    types[term].add(i)
                # the head is the longest English (else base-language) name term
                if terms and (lang in ("en", "base") and not _CJK.search(max(terms, key=len)) or not self.head[i]):
                    longest = max(terms, key=len)
                    if not self.head[i] or _CJK.search(self.head[i]) or len(longest) > len(self.head[i]):
                        self.head[i] = longest
        # a Chinese type word stands for the products its own products' English type names, also those
        # the catalog wrote no Chinese for ("耳机" -> every "earbud", not only those with a name:zh)
        for term in [t for t in types if _CJK.search(t)]:
            rows = types[term]
            full: dict[str, int] = defaultdict(int)
            last: dict[str, int] = defaultdict(int)
            for i in rows:
                if self.head[i] and not _CJK.search(self.head[i]):
                    full[self.head[i]] += 1
                    last[self.head[i].split(" ")[-1]] += 1  # the head noun: "wireless earbud" -> "earbud"
            for heads in (full, last):
                if not heads:
                    continue
                best = max(heads, key=heads.get)
                other = types.get(best, set())
                # the English type must be mostly these same products, not a wider one ("set" for 积木套装)
                if heads[best] >= 0.6 * len(rows) and other and heads[best] >= 0.6 * len(other):
                    types[term] = rows | other
                    break
        for word, target in (synonyms or {}).items():
            key = " ".join(norm_words(target)) or target
            if key in types:
                types[" ".join(norm_words(word)) or word] |= types[key]
        self.types: dict[str, np.ndarray] = {t: np.fromiter(sorted(rows), dtype=np.int64) for t, rows in types.items()
                                             if t and t not in COMMON_WORDS and t not in brands}
        # one-character Chinese head nouns (壶, 罐, 杯) only count where grammar marks them as a noun
        # ("什么罐子", "一把壶"), never inside other words ("包邮" is not a bag)
        heads_zh: dict[str, set[int]] = defaultdict(set)
        for i, p in enumerate(self.products):
            for name in (p.name_zh, p.name if _CJK.search(p.name[-1:] or "") else ""):
                if name and _CJK.fullmatch(name[-1]):
                    heads_zh[name[-1]].add(i)
        self._zh_heads = {c: np.fromiter(sorted(r), dtype=np.int64) for c, r in heads_zh.items() if len(r) >= 3}
        for c, rows in self._zh_heads.items():
            self.types.setdefault(c, rows)
        self.attributes: dict[str, AttributeInfo] = {}
        self.numbers: dict[str, np.ndarray] = {}
        self.dimension_of: dict[str, np.ndarray] = {}  # keys whose values come in several dimensions
        self._dim_code: dict[str, int] = {}  # dimension -> the small code dimension_of arrays hold
        self.values: dict[str, dict[str, set[int]]] = defaultdict(lambda: defaultdict(set))
        self._collect_attributes()

    def _index_in_background(self) -> None:
        try:
            self._index_words()
        except BaseException as exc:  # noqa: BLE001 - re-raised to the first caller of word_scores
            self._index_error = exc
        finally:
            self._indexed.set()

    def wait_indexed(self) -> None:
        """Block until the word index is built (ranking calls this itself)."""
        self._indexed.wait()
        if self._index_error is not None:
            raise self._index_error

    # -- building -----------------------------------------------------------------------------------
    @staticmethod
    def _texts(p: Product) -> list[tuple[str, str, str]]:
        out = [("base", p.name, p.category)]
        if p.name_zh:
            out.append(("zh", p.name_zh, p.translations.get("zh", {}).get("category", "")))
        for lang, t in p.translations.items():
            out.append((lang, t.get("name", ""), t.get("category", "")))
        return out

    def _collect_attributes(self) -> None:
        n = len(self.products)
        seen: dict[str, dict] = {}
        kinds: dict[int, str] = {}  # per attribute object: catalogs share equal values, so most repeat
        for p in self.products:
            for key, a in p.attributes.items():
                kind = kinds.get(id(a))
                if kind is None:
                    v = a.value
                    kind = kinds[id(a)] = ("bool" if isinstance(v, bool) else
                                           "number" if isinstance(v, (int, float)) and unit_of(a.unit) else
                                           "water" if water_level(v) is not None else "text")
                info = seen.get(key)
                if info is None:
                    info = seen[key] = {"label": a.label, "label_zh": a.label_zh, "kinds": defaultdict(int),
                                        "unit": None}
                info["kinds"][kind] += 1
                if kind == "number":
                    info["unit"] = info["unit"] or a.unit
                    info.setdefault("dims", defaultdict(int))[unit_of(a.unit)[0]] += 1
                if not info["label_zh"] and a.label_zh:
                    info["label_zh"] = a.label_zh
        for key, info in seen.items():
            kind = max(info["kinds"], key=info["kinds"].get)
            dims = info.get("dims") or {}
            main = max(dims, key=dims.get) if kind == "number" and dims else None
            self.attributes[key] = AttributeInfo(key, info["label"] or key.replace("_", " "), info["label_zh"], kind,
                                                 main, info["unit"], frozenset(dims) if kind == "number" else frozenset())
        for key, info in self.attributes.items():
            if info.kind in ("number", "water", "bool"):
                self.numbers[key] = np.full(n, np.nan)
            if len(info.dimensions) > 1:
                self.dimension_of[key] = np.full(n, -1, dtype=np.int8)
        memo: dict[tuple[int, str], object] = {}  # (attribute object, kind) -> number or value words
        # the words of attribute labels name attributes, not values ("battery" of "battery life" is no
        # "AA battery" power source): no head word of a value is one of them
        label_words = frozenset(w for a in self.attributes.values() for w in norm_words(f"{a.label} {a.label_zh}"))
        for i, p in enumerate(self.products):
            for key, a in p.attributes.items():
                info = self.attributes[key]
                got = memo.get((id(a), info.kind), _MISSING)
                if got is _MISSING:
                    got = memo[(id(a), info.kind)] = _reading(a, info, label_words)
                if got is None:
                    continue
                if info.kind == "text":
                    for word in got:
                        self.values[key][word].add(i)
                elif isinstance(got, tuple):
                    self.numbers[key][i] = got[0]
                    if key in self.dimension_of:
                        self.dimension_of[key][i] = self._dim_code.setdefault(got[1], len(self._dim_code))
                else:
                    self.numbers[key][i] = got

    def _cues(self) -> dict[str, list[tuple[str, int]]]:
        """attribute key -> [(cue, strength)]: label words and phrases, initials, Chinese fragments."""
        cues: dict[str, list[tuple[str, int]]] = {}
        for key, info in self.attributes.items():
            out: set[tuple[str, int]] = set()
            for text in {info.label.lower(), key.replace("_", " ").lower()}:
                words = norm_words(text)
                content = [w for w in words if w not in COMMON_WORDS or w in ("size", "color", "colour", "power")]
                if content:
                    out.add((" ".join(words), 3 * len(words)))
                for w in content:
                    if len(w) >= 3 and not w.isdigit():
                        out.add((w, 2))
                if len(words) >= 3:
                    out.add(("".join(w[0] for w in words), 3))
            zh = info.label_zh
            if zh:
                out.add((zh.lower(), 3 * len(zh)))
                for size in range(2, len(zh)):
                    for s in range(len(zh) - size + 1):
                        frag = zh[s:s + size]
                        if _CJK.fullmatch(frag):
                            out.add((frag, size))
            cues[key] = sorted(out, key=lambda c: -c[1])
        return cues

    def _index_words(self) -> None:
        postings: dict[str, list[int]] = defaultdict(list)
        for i, p in enumerate(self.products):
            words: set[str] = set()
            for _, name, category in self._texts(p):
                words |= _word_set(name)
                words |= _category_words(category)
                words |= _cjk_bigrams(name)
            for lang in ("base", *p.translations):
                desc = p.description if lang == "base" else p.translations[lang].get("description", "")
                words |= _word_set(desc) - COMMON_WORDS
                words |= _cjk_bigrams(desc)
            for w in words:
                postings[w].append(i)
        n = max(1, len(self.products))
        for w, rows in postings.items():
            if len(rows) < n * 0.5:
                self._words[w] = np.asarray(rows, dtype=np.int64)
                self._idf[w] = math.log(n / len(rows))

    # -- a store build's tables -----------------------------------------------------------------------
    def tables(self) -> tuple[dict, dict[str, np.ndarray]]:
        """What this vocabulary learned, as ``(JSON data, numeric arrays)`` for a store build to save
        (:mod:`knowledge.kit.built`); the word index included (waited for)."""
        self.wait_indexed()
        types_keys, types_flat, types_off = pack_rows(self.types)
        zh_keys, zh_flat, zh_off = pack_rows(self._zh_heads)
        words_keys, words_flat, words_off = pack_rows(self._words)
        value_pairs = [(k, w) for k, by in self.values.items() for w in by]
        values_flat, values_off = pack_rows({i: sorted(self.values[k][w]) for i, (k, w) in enumerate(value_pairs)})[1:]
        number_keys = list(self.numbers)
        dim_keys = list(self.dimension_of)
        n = len(self.products)
        doc = {
            "version": TABLES_VERSION, "count": n, "synonyms": self._synonyms,
            "head": join_texts(self.head), "brands": {b: sorted(rows) for b, rows in self.brands.items()},
            "types": types_keys, "zh_heads": zh_keys, "words": words_keys,
            "values": [list(pair) for pair in value_pairs],
            "attributes": [[a.key, a.label, a.label_zh, a.kind, a.dimension, a.unit, sorted(a.dimensions)]
                           for a in self.attributes.values()],
            "numbers": number_keys, "dimension_of": dim_keys, "dim_code": self._dim_code,
        }
        arrays = {
            "accessory": self.accessory, "types_rows": types_flat, "types_offsets": types_off,
            "zh_rows": zh_flat, "zh_offsets": zh_off, "words_rows": words_flat, "words_offsets": words_off,
            "idf": np.array([self._idf[w] for w in words_keys], dtype=np.float64),
            "values_rows": values_flat, "values_offsets": values_off,
            "numbers": np.stack([self.numbers[k] for k in number_keys]) if number_keys else np.zeros((0, n)),
            "dimension_of": (np.stack([self.dimension_of[k] for k in dim_keys]) if dim_keys
                             else np.zeros((0, n), dtype=np.int8)),
        }
        return doc, arrays

    def _load_tables(self, doc: dict, arrays: dict[str, np.ndarray]) -> None:
        """Take what :meth:`tables` saved (checked by :func:`_fits` to be of these products)."""
        n = len(self.products)
        self.accessory = np.asarray(arrays["accessory"], dtype=bool)
        self.head = split_texts(doc["head"], n, "head")
        self.brands = defaultdict(set, {b: set(rows) for b, rows in doc["brands"].items()})
        self.types = unpack_rows(doc["types"], arrays["types_rows"], arrays["types_offsets"])
        self._zh_heads = unpack_rows(doc["zh_heads"], arrays["zh_rows"], arrays["zh_offsets"])
        self._words = unpack_rows(doc["words"], arrays["words_rows"], arrays["words_offsets"])
        self._idf = dict(zip(doc["words"], arrays["idf"].tolist()))
        self.values = defaultdict(lambda: defaultdict(set))
        rows = unpack_rows(range(len(doc["values"])), arrays["values_rows"], arrays["values_offsets"])
        for i, (key, word) in enumerate(doc["values"]):
            self.values[key][word] = set(rows[i].tolist())
        self.attributes = {a[0]: AttributeInfo(a[0], a[1], a[2], a[3], a[4], a[5], frozenset(a[6]))
                           for a in doc["attributes"]}
        self.numbers = {k: arrays["numbers"][i] for i, k in enumerate(doc["numbers"])}
        self.dimension_of = {k: arrays["dimension_of"][i] for i, k in enumerate(doc["dimension_of"])}
        self._dim_code = {str(k): int(v) for k, v in doc["dim_code"].items()}
        if len(self.accessory) != n or any(len(col) != n for col in (*self.numbers.values(), *self.dimension_of.values())):
            raise ValueError("the saved vocabulary tables are of another catalog")

    # -- reading queries ------------------------------------------------------------------------------
    def types_in(self, text: str) -> list[str]:
        """Product-type terms the text names, longest first, none inside a longer one."""
        words = norm_words(text)
        found: list[tuple[int, int, str]] = []
        for size in range(_MAX_TYPE_WORDS, 0, -1):
            for s in range(len(words) - size + 1):
                term = " ".join(words[s:s + size])
                if term in self._en_types and not any(a <= s and s + size <= b for a, b, _ in found):
                    found.append((s, s + size, term))
        low = text.lower()
        taken: list[tuple[int, int]] = []
        zh: list[str] = []
        for term in self._zh_types:
            at = low.find(term)
            while at >= 0:
                if not any(a <= at and at + len(term) <= b for a, b in taken):
                    taken.append((at, at + len(term)))
                    zh.append(term)
                    break
                at = low.find(term, at + 1)
        for m in _ZH_HEAD.finditer(low):
            g = next(k for k in (1, 2, 3) if m.group(k))
            c, at = m.group(g), m.start(g)
            if c in self._zh_heads and not any(a <= at < b for a, b in taken):
                zh.append(c)
        return [t for _, _, t in found] + list(dict.fromkeys(zh))

    def partial_types_in(self, text: str) -> list[str]:
        """No whole type named: the types a word of the text starts ("coffee" -> "coffee maker",
        "保温" -> "保温水杯"); weaker evidence, used only where a request asks for products."""
        words = norm_words(text)
        low = text.lower()
        out: list[str] = []
        for w in set(words):
            if len(w) >= 3 and w not in COMMON_WORDS:
                out += [t for t in self._en_types if " " in t and t.split(" ")[0] == w]
        for run in _CJK.findall(low):
            for s in range(len(run) - 1):
                bigram = run[s:s + 2]
                out += [t for t in self._zh_types if len(t) >= 3 and t.startswith(bigram)]
        return sorted(set(out), key=lambda t: (-len(t), t))

    def dimension_mask(self, key: str, dimension: str | None) -> np.ndarray | None:
        """Which products hold ``key`` in ``dimension`` (None: the key has one dimension only)."""
        col = self.dimension_of.get(key)
        if col is None or dimension is None:
            return None
        return col == self._dim_code.get(dimension, -2)

    def rows_for_types(self, types: list[str]) -> np.ndarray:
        """Products of every named type when some are ("running" + "shoe"), else of any ("earbuds or headphones")."""
        sets = [self.types[t] for t in types if t in self.types]
        if not sets:
            return np.zeros(0, dtype=np.int64)
        both = sets[0]
        for rows in sets[1:]:
            both = np.intersect1d(both, rows, assume_unique=True)
        return both if len(both) else np.unique(np.concatenate(sets))

    def cue_keys(self, text: str, keys: set[str] | None = None) -> list[tuple[str, int, int]]:
        """``(attribute key, strength, position)`` of attributes the text names, strongest first."""
        low = text.lower()
        words = norm_words(low)
        latin = " " + " ".join(words) + " "
        leads = set(words) | {low[i:i + 2] for i in range(len(low) - 1) if _CJK.match(low[i])}
        best: dict[str, tuple[int, int]] = {}
        for lead in leads:
            for cue, key, strength in self._cue_index.get(lead, ()):
                if (keys is not None and key not in keys) or best.get(key, (0, 0))[0] > strength:
                    continue
                pos = latin.find(f" {cue} ") if not _CJK.match(cue) else low.find(cue)
                # (of two cues as strong, the earlier one: the set of leads is read in no fixed order)
                if pos >= 0 and (key not in best or best[key][0] < strength or pos < best[key][1]):
                    best[key] = (strength, pos)
        for w in words:
            for key in self._stem_index.get(stem(w), ()) if len(w) >= 3 else ():
                if key not in best and (keys is None or key in keys):
                    best[key] = (2, latin.find(f" {w} "))
        return sorted(((k, st, pos) for k, (st, pos) in best.items()), key=lambda c: (-c[1], c[2], c[0]))  # ties: by key

    def word_scores(self, text: str, rows: np.ndarray) -> np.ndarray:
        """A lexical relevance score (sum of idf of shared words) for each of ``rows``."""
        self.wait_indexed()
        score = np.zeros(len(self.products), dtype=np.float64)
        words = set(norm_words(text)) | _cjk_bigrams(text)
        for w in words:
            post = self._words.get(w)
            if post is not None:
                score[post] += self._idf[w]
        return score[rows]


_MISSING = object()
#: the layout of :meth:`CatalogVocabulary.tables`; a store build's tables of another layout are not read
TABLES_VERSION = 4  # 2: sizes keep their numbers as values ("size 5"); 3: "-ches/-shes/-xes" plurals, days as time;
# 4: a value of several words is found by its head word too ("glass" of "borosilicate glass")


def _fits(doc: dict, count: int, synonyms: dict[str, str] | None) -> bool:
    """Whether a store build's tables are for a catalog of ``count`` products learned with these synonyms."""
    return (doc.get("version") == TABLES_VERSION and doc.get("count") == count
            and (doc.get("synonyms") or None) == (dict(synonyms) if synonyms else None))


_SIZE_LABEL_RE = re.compile(r"\bsizes?\b|尺码|尺寸|码数|鞋码", re.IGNORECASE)


def is_size_attribute(info: AttributeInfo) -> bool:
    """Whether an attribute's label, in either language, names clothing or shoe sizes ("available
    sizes", "可选尺码")."""
    return any(label and _SIZE_LABEL_RE.search(label) for label in (info.label, info.label_zh))


def _reading(a, info: AttributeInfo, label_words: frozenset[str] = frozenset()):
    """What the vocabulary keeps of one attribute value: a number in base units (numbers, IP water
    levels, yes/no as 1/0) or the words of a text value in both languages; None when it has none."""
    v = a.value
    if info.kind == "number":
        u = unit_of(a.unit)
        if isinstance(v, (int, float)) and not isinstance(v, bool) and u:
            return float(v) * u[1], u[0]
        return None
    if info.kind == "water":
        level = water_level(v)
        return None if level is None else float(level)
    if info.kind == "bool":
        return (1.0 if v else 0.0) if isinstance(v, bool) else None
    words = []
    sizes = is_size_attribute(info)
    for item in (v if isinstance(v, list) else [v]):
        word = " ".join(norm_words(str(item)))
        if sizes and re.fullmatch(r"\d{1,3}(?:\.\d)?", str(item).strip()):
            words.append(str(item).strip())  # a size is a number ("size 5"): searched only as a size
            continue
        # a bare number ("101" keys) is no word to match: "under $101" names a price, not a value
        if len(word) >= 2 and word not in COMMON_WORDS and not re.fullmatch(r"[\d. ]+", word):
            words.append(word)
            words.extend(h for h in value_heads(word) if h not in label_words)
    for item in re.split(r"[、;；,，/]", a.value_zh or ""):
        item = item.strip()
        if len(item) >= 2 or _CJK.search(item):
            words.append(item)
            words.extend(h for h in value_heads(item) if h not in label_words and not any(h in w for w in label_words))
    return words


def value_heads(value: str) -> list[str]:
    """The head word of a value of several: "borosilicate glass" is glass, "高硼硅玻璃" is 玻璃, so "a
    glass pitcher" / "玻璃的有吗" find it (a value of one word has no other head)."""
    if _CJK.search(value):
        run = re.sub(r"[^\u3400-\u9fff]", "", value)
        return [run[-2:]] if len(run) >= 3 else []
    parts = value.split(" ")
    head = parts[-1] if len(parts) >= 2 else ""
    return [head] if len(head) >= 4 and head not in COMMON_WORDS and head.isalpha() else []


@lru_cache(maxsize=4096)
def _category_words(category: str) -> frozenset[str]:
    return frozenset(_word_set(category) | _cjk_bigrams(category))


@lru_cache(maxsize=4096)
def _category_terms(category: str) -> frozenset[str]:
    out: set[str] = set()
    for level in (category or "").split(CATEGORY_SEP.strip()):
        level = level.strip()
        if not level:
            continue
        words = norm_words(level)
        if words:
            out.add(" ".join(words))
        for run in _CJK.findall(level):
            out.update(run[s:] for s in range(len(run) - 1))
    return frozenset(out)


def _name_terms(name: str, brands: set[str], brand: str) -> set[str]:
    """Head-noun terms of a product name: the Latin words after its last model number (up to three),
    and the suffixes of its last Chinese run."""
    name = _FOR.split(_PAREN.sub(" ", name or ""))[0]  # "Watch Band for Tempo W8": the band is the noun
    out: set[str] = set()
    runs = _CJK.findall(name)
    if runs:
        run = runs[-1]
        if brand and run.startswith(brand) and len(run) > len(brand):
            run = run[len(brand):]
        run = run[-_MAX_ZH_TYPE:]
        out.update(run[s:] for s in range(len(run) - 1))
        return out
    words = norm_words(name)
    tail: list[str] = []
    for w in reversed(words):
        if any(ch.isdigit() for ch in w) or w in brands or len(tail) >= _MAX_TYPE_WORDS:
            break
        tail.insert(0, w)
    if len(tail) == len(words) and len(words) > 1:
        tail = tail[1:]  # no model number: the first word is the product's own name
    for s in range(len(tail)):
        out.add(" ".join(tail[s:]))
    return out
