"""Embedding fallback for product linking: descriptions that no alias or fuzzy match catches.

"the hydrova bottle", "brewmaster espresso machine", "Vortex 手柄" name a product without any of
its aliases. :class:`EmbeddingProductMatcher` embeds each product's names once (English and
Chinese name, aliases, the name without its brand; in memory, lazily as they first become
candidates, and, with ``cache_dir``, on disk beside a manifest of model, data hash and the vector
file's SHA-256 once all are embedded; vectors that do not match it are embedded again), embeds
the text, and links the product whose best name is closest by cosine. Guards keep ordinary text from becoming a product:

- **anchor**: a product is a candidate only if the text shares a *distinctive* word with its names
  (not a customer-service word like "order" or "refund", see :data:`~knowledge.graph.fuzzy.COMMON_WORDS`),
  and only the products sharing the text's rarest such word compete ("hydrova bottle": Hydrova's
  products, not every bottle);
- **threshold**: the best cosine must reach ``threshold``;
- **margin**: it must beat the runner-up candidate by ``margin`` ("the aurora earbuds" is two
  products, so it links none);
- **specific**: when even the text's rarest word is shared by more than ``max_candidates`` products
  ("kettle" in a store of 1,000 kettles), the text names no one product, and nothing is embedded.

A large catalog is not embedded up front: beyond ``eager_limit`` names, :meth:`warm_up` only loads
vectors cached on disk, and a turn embeds the few candidates it meets the first time they come up
(at most ``max_candidates`` products), so ``store build`` of a 50,000-product kit does not spend
minutes embedding names most customers never mention.

``threshold`` and ``margin`` were chosen on benchmarks/data/product_linking.csv (see
benchmarks/product_linking.py, which reports precision and recall).

Example:
    >>> m = EmbeddingProductMatcher(catalog, e5)                  # doctest: +SKIP
    >>> m.match("is the hydrova bottle dishwasher safe?")          # doctest: +SKIP
    'P1196'
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import re
import threading
from collections import defaultdict
from pathlib import Path

import numpy as np

from knowledge.kernel.integrity import folder_checksums, verify_checksums
from knowledge.embedders import Embedder

from .catalog import Catalog
from .columns import join_texts, pack_rows, split_texts, unpack_rows
from .fuzzy import COMMON_WORDS

__all__ = ["EmbeddingProductMatcher", "DEFAULT_THRESHOLD", "DEFAULT_MARGIN", "TABLES_VERSION"]

#: the layout of :meth:`EmbeddingProductMatcher.tables`; tables of another layout are not read
TABLES_VERSION = 1

log = logging.getLogger(__name__)

DEFAULT_THRESHOLD = 0.86  # E5 cosines; chosen on benchmarks/data/product_linking.csv
DEFAULT_MARGIN = 0.02
_LATIN_RE = re.compile(r"[0-9a-z]+")
_CJK_RE = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff]+")
_MAX_TEXT = 300  # characters embedded: product mentions are short; long text is not a description


def _words(text: str) -> set[str]:
    """Distinctive words: Latin words of 3+ characters that are not customer-service talk, and
    Chinese character bigrams (unigrams for a lone character)."""
    low = text.lower()
    out = {w for w in _LATIN_RE.findall(low) if len(w) >= 3 and w not in COMMON_WORDS and not w.isdigit()}
    for run in _CJK_RE.findall(low):
        out.update(run[i : i + 2] for i in range(max(1, len(run) - 1)))
    return out


class EmbeddingProductMatcher:
    """Links a text to one product by embedding similarity, behind anchor/threshold/margin guards.

    Args:
        catalog: the products.
        embedder: any :class:`~knowledge.embedders.Embedder` (multilingual E5 handles both languages).
        threshold: the cosine the best product name needs.
        margin: how far the best candidate must lead the runner-up.
        cache_dir: where product vectors are kept between runs (``None``: memory only).

    Example:
        >>> m = EmbeddingProductMatcher(catalog, HashEmbedder(), threshold=0.5)  # doctest: +SKIP
    """

    def __init__(
        self,
        catalog: Catalog,
        embedder: Embedder,
        *,
        threshold: float = DEFAULT_THRESHOLD,
        margin: float = DEFAULT_MARGIN,
        cache_dir: str | Path | None = None,
        max_candidates: int = 48,
        eager_limit: int = 20_000,
    ) -> None:
        if max_candidates <= 0:
            raise ValueError(f"max_candidates must be > 0, got {max_candidates}")
        if eager_limit < 0:
            raise ValueError(f"eager_limit must be >= 0, got {eager_limit}")
        self.max_candidates, self.eager_limit = max_candidates, eager_limit
        if not -1.0 <= threshold <= 1.0:
            raise ValueError(f"threshold must be within [-1, 1], got {threshold}")
        if not 0.0 <= margin <= 1.0:
            raise ValueError(f"margin must be within [0, 1], got {margin}")
        self._embedder = embedder
        self.threshold, self.margin = threshold, margin
        self._cache_dir = Path(cache_dir) if cache_dir is not None else None
        prebuilt = catalog.prebuilt.get("names")
        if prebuilt is not None and prebuilt[0].get("version") == TABLES_VERSION and prebuilt[0].get("count") == len(catalog):
            self._load_tables(catalog, *prebuilt)  # what a store build worked out from these very products
        else:
            self._learn(catalog)
        self._owner_arr = np.asarray(self._owner, dtype=np.int64)
        self._vectors: np.ndarray | None = None
        self._have = np.zeros(0, dtype=bool)
        self._digest = ""
        self._lock = threading.Lock()

    def _learn(self, catalog: Catalog) -> None:
        """Each product's names and the distinctive words that anchor them."""
        self._texts: list[str] = []
        self._owner: list[int] = []
        self._ids: list[str] = []
        self._by_word: dict[str, set[int] | np.ndarray] = defaultdict(set)
        for p in catalog:
            k = len(self._ids)
            self._ids.append(p.id)
            noun = p.name[len(p.brand):].strip() if p.brand and p.name.startswith(p.brand) else p.name
            names = dict.fromkeys(n for n in (p.name, p.name_zh, *p.aliases, noun) if n)
            for n in names:
                self._texts.append(n)
                self._owner.append(k)
                for w in _words(n) | _words(p.brand):
                    self._by_word[w].add(k)

    def tables(self) -> tuple[dict, dict[str, np.ndarray]]:
        """The names and their anchor words as ``(JSON data, numeric arrays)``, for a store build to
        save (:mod:`knowledge.kit.built`); the vectors are cached apart (``cache_dir``)."""
        keys, flat, offsets = pack_rows({w: sorted(rows) for w, rows in self._by_word.items()})
        doc = {"version": TABLES_VERSION, "count": len(self._ids), "texts": join_texts(self._texts), "words": keys}
        return doc, {"owner": np.asarray(self._owner, dtype=np.int64), "word_rows": flat, "word_offsets": offsets}

    def _load_tables(self, catalog: Catalog, doc: dict, arrays: dict[str, np.ndarray]) -> None:
        self._ids = [p.id for p in catalog]
        self._texts = split_texts(doc["texts"], len(arrays["owner"]), "texts")
        self._owner = np.asarray(arrays["owner"], dtype=np.int64).tolist()
        if self._owner and not 0 <= min(self._owner) <= max(self._owner) < len(self._ids):
            raise ValueError("the saved product names belong to another catalog")
        # each word's products as a sorted array (a view into one array), read like the sets _learn makes
        self._by_word = unpack_rows(doc["words"], arrays["word_rows"], arrays["word_offsets"])

    # -- product vectors, once --------------------------------------------------------------------
    def _data_hash(self) -> str:
        h = hashlib.sha256(self._embedder.name.encode())
        for t in self._texts:
            h.update(b"\0" + t.encode())
        return h.hexdigest()

    def warm_up(self) -> None:
        """Embed every product name now (or load them from ``cache_dir`` when model and names match);
        beyond ``eager_limit`` names, only load a matching cache (the rest is embedded as met)."""
        if len(self._texts) <= self.eager_limit:
            self._ensure(np.arange(len(self._texts)))
            return
        with self._lock:
            if self._vectors is None:
                self._digest = self._data_hash()
                cached = self._load(self._digest)
                if cached is not None:
                    self._vectors, self._have = cached, np.ones(len(self._texts), dtype=bool)

    def _ensure(self, rows: np.ndarray) -> None:
        """Make sure the names in ``rows`` are embedded: from the disk cache on first use, else
        lazily (a turn embeds only its few candidates' names the first time they come up)."""
        with self._lock:
            if self._vectors is None:
                self._digest = self._data_hash()
                cached = self._load(self._digest)
                if cached is not None:
                    self._vectors, self._have = cached, np.ones(len(self._texts), dtype=bool)
                    return
            missing = rows[~self._have[rows]] if self._vectors is not None else rows
            if not len(missing):
                return
            vecs = np.asarray(self._embedder.embed([self._texts[i] for i in missing], kind="query"), dtype=np.float32)
            if self._vectors is None:
                self._vectors = np.zeros((len(self._texts), vecs.shape[1]), dtype=np.float32)
                self._have = np.zeros(len(self._texts), dtype=bool)
            self._vectors[missing] = vecs
            self._have[missing] = True
            if self._have.all():
                self._save(self._digest, self._vectors)

    def _paths(self) -> tuple[Path, Path]:
        return self._cache_dir / "product-names.json", self._cache_dir / "product-names.npy"

    def _load(self, digest: str) -> np.ndarray | None:
        if self._cache_dir is None:
            return None
        manifest, data = self._paths()
        try:
            meta = json.loads(manifest.read_text())
            if meta.get("hash") != digest or meta.get("model") != self._embedder.name:
                return None
            # edited, swapped or older (no record) vectors are re-embedded, never served
            if verify_checksums(data.parent, meta.get("files") or {}, names=[data.name]):
                log.info("product-name vectors in %s do not match their checksum; re-embedding", data.parent)
                return None
            vecs = np.load(data, allow_pickle=False)
        except (OSError, ValueError, AttributeError, TypeError):
            return None
        if vecs.shape != (len(self._texts), meta.get("dim")) or vecs.dtype != np.float32:
            return None
        return vecs

    def _save(self, digest: str, vecs: np.ndarray) -> None:
        if self._cache_dir is None:
            return
        manifest, data = self._paths()
        try:
            self._cache_dir.mkdir(parents=True, exist_ok=True)
            manifest.unlink(missing_ok=True)  # no manifest while the vectors change
            tmp = data.with_suffix(".tmp.npy")
            np.save(tmp, vecs, allow_pickle=False)
            tmp.replace(data)
            tmp_manifest = manifest.with_suffix(".tmp.json")
            tmp_manifest.write_text(json.dumps({"model": self._embedder.name, "hash": digest, "dim": int(vecs.shape[1]),
                                                "names": len(self._texts),
                                                "files": folder_checksums(data.parent, [data.name])}))
            tmp_manifest.replace(manifest)
        except OSError as exc:  # a read-only cache costs a re-embedding next time, nothing more
            log.warning("cannot cache product-name vectors in %s: %s", self._cache_dir, exc)

    # -- matching -----------------------------------------------------------------------------------
    def candidates(self, text: str) -> list[int]:
        """Products sharing the text's rarest distinctive word with their names (none: ``[]``)."""
        shared = [w for w in _words(text[:_MAX_TEXT]) if w in self._by_word]
        if not shared:
            return []
        rarest = min(len(self._by_word[w]) for w in shared)
        if rarest > self.max_candidates:
            return []  # even the rarest word is everywhere: the text names no one product
        out: set[int] = set()
        for w in shared:
            if len(self._by_word[w]) == rarest:
                out.update(int(k) for k in self._by_word[w])
        return sorted(out)

    def scores(self, text: str) -> list[tuple[str, float]]:
        """``(product id, best-name cosine)`` for each anchored candidate, best first."""
        cand = self.candidates(text)
        if not cand:
            return []
        rows = np.flatnonzero(np.isin(self._owner_arr, cand))
        self._ensure(rows)
        q = np.asarray(self._embedder.embed([text[:_MAX_TEXT]], kind="query"), dtype=np.float32)[0]
        sims = self._vectors[rows] @ q
        best: dict[int, float] = {}
        for row, sim in zip(rows, sims):
            k = self._owner[row]
            if sim > best.get(k, -math.inf):
                best[k] = float(sim)
        return sorted(((self._ids[k], s) for k, s in best.items()), key=lambda kv: (-kv[1], kv[0]))

    def match(self, text: str) -> str | None:
        """The product ``text`` describes, or ``None`` when no candidate clears the guards."""
        ranked = self.scores(text)
        if not ranked or ranked[0][1] < self.threshold:
            return None
        if len(ranked) > 1 and ranked[0][1] - ranked[1][1] < self.margin:
            return None
        return ranked[0][0]
