"""Character TF-IDF heads: the one-text fast path gives what scikit-learn's vectorizer gives."""

from __future__ import annotations

import numpy as np
import pytest

from engine.nlu.sparse import TfidfHead, train_tfidf_head

POS = ["质量很好，物流也快", "非常满意，推荐购买", "great quality, fast delivery", "love it, works perfectly",
       "包装精美  好评", "really good value"]
NEG = ["质量太差了，退货", "物流慢，客服态度差", "broke after two days", "terrible, do not buy",
       "完全不值这个价", "arrived damaged\tand late"]
NEU = ["请问什么时候发货", "how do I change my address", "有没有大一号的", "where is my parcel",
       "可以开发票吗", "do you ship to canada"]


def _train(labels_sets):
    texts, labels = [], []
    for name, rows in labels_sets:
        for t in rows * 3:  # min_df 2: every n-gram of a row appears at least twice
            texts.append(t)
            labels.append(name)
    return train_tfidf_head(texts, labels, [], [], cs=(3.0,), progress=False)[0]


@pytest.mark.parametrize("sets", [
    [("positive", POS), ("negative", NEG), ("neutral", NEU)],
    [("positive", POS), ("negative", NEG)],  # binary: scikit-learn keeps one weight row
])
def test_the_fast_path_matches_the_vectorizer(tmp_path, sets):
    head = _train(sets)
    head.save(tmp_path)
    loaded = TfidfHead.load(tmp_path, head.labels)
    probes = ["质量很好", "Terrible   quality!!", "where  is\n\nmy parcel", "", "zzz qqq", "物流很快，好评 GREAT"] + POS + NEG
    for model in (head, loaded):
        slow = np.asarray(model.vectorizer.transform(probes) @ model.coef.T) + model.intercept
        if slow.shape[1] == 1:
            slow = np.hstack([np.zeros_like(slow), slow])
        slow = np.exp(slow - slow.max(1, keepdims=True))
        slow /= slow.sum(1, keepdims=True)
        fast = np.vstack([model.probabilities([t]) for t in probes])  # one text at a time: the fast path
        assert model._direct_ok()
        assert np.allclose(fast, slow, atol=1e-5)
        assert np.allclose(model.probabilities(probes), slow, atol=1e-5)  # a big batch: the vectorizer
