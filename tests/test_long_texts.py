"""Texts longer than a backbone reads at once: truncated, head + tail, or chunked and pooled (issue 19)."""

import json
import warnings

import numpy as np
import pytest
import torch

import skadapt
from skadapt import FineTunedClassifier, LongTextWarning, PretrainedFeaturizer, ScratchClassifier
from skadapt._long_texts import Chunks, TextSplitter, capped_batches
from skadapt.cli.main import main

pytestmark = pytest.mark.usefixtures("empty_caches")  # conftest: no backbone or features left from other tests

LIMIT = 16  # tokens the tiny backbone reads at once here: most of the long texts below need several chunks
WORDS = ("good bad film plot actor scene music story ending dull great awful fine slow").split()


def long_texts(n, words, seed=0):
    rng = np.random.default_rng(seed)
    return [" ".join(rng.choice(WORDS, size=words)) for _ in range(n)]


@pytest.fixture
def mixed(texts):
    """Short texts (within the limit) plus long ones, and labels."""
    X, y = texts
    X = [t for t in X if len(t.split()) <= 6][:24]
    return X, long_texts(8, 60), ["pos", "neg"] * 16


def quiet(fn, *args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", LongTextWarning)
        return fn(*args, **kwargs)


# -- short texts: exactly today's path -------------------------------------------------------------------------


def test_short_texts_give_the_same_features_and_predictions_bit_for_bit_under_every_policy(tiny_sbert, mixed):
    short, _, y = mixed
    features = [PretrainedFeaturizer(tiny_sbert, long_texts=p, cache=False).fit(short).transform(short)
                for p in ("truncate", "head_tail", "chunk")]
    assert all(np.array_equal(features[0], f) for f in features[1:])
    proba = [FineTunedClassifier(tiny_sbert, long_texts=p, max_epochs=1, random_state=0).fit(short, y[:24])
             .predict_proba(short) for p in ("truncate", "chunk")]
    assert np.array_equal(proba[0], proba[1])


# -- the featurizer --------------------------------------------------------------------------------------------


def _chunk_features_one_by_one(featurizer, text):
    """Each chunk's features, computed alone through the backbone (no batching, no pooling)."""
    from skadapt.estimators._network import encode

    ids = featurizer.backbone_.prepare_whole([text])[0]
    items, _ = TextSplitter.from_state(featurizer.text_splitter_).split([ids])
    assert isinstance(items[0], Chunks) and len(items[0].sequences) > 1
    return np.stack([encode(featurizer.backbone_, featurizer.module_, [seq], batch_size=1, device="cpu")[0]
                     for seq in items[0].sequences])


@pytest.mark.parametrize("pooling, reduce", [("mean", np.mean), ("max", np.max)])
def test_a_long_text_is_one_row_pooled_over_its_chunks(tiny_sbert, mixed, pooling, reduce):
    short, long, _ = mixed
    featurizer = PretrainedFeaturizer(tiny_sbert, max_length=LIMIT, chunk_pooling=pooling, cache=False).fit(short)
    X = short[:5] + long[:3]
    features = featurizer.transform(X)
    assert features.shape == (8, featurizer.n_features_out_)
    for row, text in enumerate(long[:3], start=5):
        expected = reduce(_chunk_features_one_by_one(featurizer, text), axis=0)
        np.testing.assert_allclose(features[row], expected, atol=1e-5)


def test_the_feature_cache_keeps_one_entry_per_long_text_and_policies_apart(tiny_sbert, mixed, encoded):
    short, long, _ = mixed
    chunked = PretrainedFeaturizer(tiny_sbert, max_length=LIMIT).fit(short)
    first = chunked.transform(long)
    again = chunked.transform(long)
    assert np.array_equal(first, again) and encoded == [len(long)]  # the second call read the cache
    with pytest.warns(LongTextWarning):
        truncated = PretrainedFeaturizer(tiny_sbert, max_length=LIMIT, long_texts="truncate").fit(short).transform(long)
    assert encoded == [len(long), len(long)]  # another policy: other features, encoded again
    assert not np.allclose(first, truncated)


def test_head_tail_reads_the_end_of_a_text_and_truncate_does_not(tiny_sbert):
    start = "good " * 30
    a, b = start + "film plot", start + "awful dull"
    for policy, same in (("truncate", True), ("head_tail", False)):
        featurizer = PretrainedFeaturizer(tiny_sbert, max_length=LIMIT, long_texts=policy, cache=False).fit([a])
        features = quiet(featurizer.transform, [a, b])
        assert np.array_equal(features[0], features[1]) is same, policy


# -- fine-tuning and scratch -----------------------------------------------------------------------------------


def test_gradients_reach_a_chunk_beyond_the_limit_when_fine_tuning(tiny_sbert, mixed):
    from skadapt.estimators._network import collate_rows

    short, _, y = mixed
    clf = FineTunedClassifier(tiny_sbert, backbone_kwargs={"max_length": LIMIT}, max_epochs=1, random_state=0)
    clf.fit(short, y[:24])
    recipe, module = clf.backbone_, clf.net_.module_
    # A text whose last word is a token that appears nowhere else in it, past the first chunk.
    text = "good " * 40 + "orchestra"
    ids = recipe.prepare_whole([text])[0]
    rare = int(ids[-2])  # before [SEP]
    items, _ = TextSplitter.from_state(clf.text_splitter_).split([ids])
    assert isinstance(items[0], Chunks) and rare not in items[0].sequences[0]
    module.train()
    module.zero_grad()
    logits = module(**collate_rows(recipe, list(items)))
    (logits[:, 1] - logits[:, 0]).sum().backward()  # the sum of both logits would be constant (a symmetric head)
    embeddings = next(p for n, p in module.named_parameters() if n.endswith("word_embeddings.weight"))
    assert embeddings.grad[rare].abs().sum() > 0


@pytest.mark.parametrize("pooling", ["mean", "max", "attention"])
def test_every_pooling_trains_and_predicts_a_row_per_text(tiny_sbert, mixed, pooling):
    short, long, y = mixed
    clf = FineTunedClassifier(tiny_sbert, backbone_kwargs={"max_length": LIMIT}, chunk_pooling=pooling,
                              max_epochs=1, random_state=0)
    clf.fit(short + long, y)
    assert clf.predict_proba(long + short[:2]).shape == (10, 2)
    assert clf.long_text_stats_["n_over_limit"] == len(long) and clf.long_text_stats_["dropped_tokens"] == 0
    assert (clf.net_.module_.pool.score is not None) is (pooling == "attention")


def test_textcnn_reads_long_texts_in_chunks_of_its_max_length(texts):
    X, y = texts
    long = long_texts(6, 50)
    clf = ScratchClassifier(backbone_kwargs={"max_length": 20}, max_epochs=1, random_state=0)
    clf.fit(X + long, y + y[:6])
    assert clf.text_splitter_["limit"] == 20 and clf.text_splitter_["front"] == clf.text_splitter_["back"] == 0
    assert clf.long_text_stats_["n_over_limit"] == 6 and clf.long_text_stats_["dropped_tokens"] == 0
    with pytest.warns(LongTextWarning, match="6 of 42 texts"):
        ScratchClassifier(backbone_kwargs={"max_length": 20}, long_texts="truncate", max_epochs=1).fit(X + long, y + y[:6])


# -- the warning and the bound on chunks -----------------------------------------------------------------------


def test_the_warning_counts_texts_and_dropped_tokens_and_names_the_parameter(tiny_sbert, mixed):
    short, long, _ = mixed
    featurizer = PretrainedFeaturizer(tiny_sbert, max_length=LIMIT, long_texts="truncate", cache=False).fit(short)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        featurizer.transform(short + long)
    messages = [str(w.message) for w in caught if issubclass(w.category, LongTextWarning)]
    assert len(messages) == 1
    ids = featurizer.backbone_.prepare_whole(long)
    content = sum(len(i) - 2 for i in ids)
    share = (content - len(long) * (LIMIT - 2)) / content
    assert f"{len(long)} of {len(short) + len(long)} texts" in messages[0]
    assert f"{share:.0%}" in messages[0] and "long_texts='chunk'" in messages[0]
    with warnings.catch_warnings():
        warnings.simplefilter("error", LongTextWarning)  # chunked whole: nothing to say
        PretrainedFeaturizer(tiny_sbert, max_length=LIMIT, cache=False).fit(short).transform(short + long)


def test_max_chunks_bounds_a_huge_text_keeping_its_head_and_its_end(tiny_sbert, mixed):
    short, _, _ = mixed
    huge = " ".join(["good"] * 100_000) + " awful"
    featurizer = PretrainedFeaturizer(tiny_sbert, max_length=LIMIT, max_chunks=4, cache=False).fit(short)
    with pytest.warns(LongTextWarning, match="1 of 2 texts .* max_chunks=4"):
        features = featurizer.transform([huge, short[0]])
    assert features.shape[0] == 2 and np.isfinite(features).all()
    ids = featurizer.backbone_.prepare_whole([huge])
    items, stats = TextSplitter.from_state(featurizer.text_splitter_).split(ids)
    chunks = items[0].sequences
    assert len(chunks) == 4 and chunks[-1][-2] == ids[0][-2]  # the last chunk ends where the text does
    assert stats["n_over_max_chunks"] == 1


def test_batches_are_capped_in_sequences_so_a_long_text_does_not_blow_up_a_batch(tiny_sbert, mixed, monkeypatch):
    short, long, _ = mixed
    featurizer = PretrainedFeaturizer(tiny_sbert, max_length=LIMIT, batch_size=4, max_chunks=6, cache=False)
    featurizer.fit(short)
    shapes = []
    real = type(featurizer.backbone_).collate
    monkeypatch.setattr(type(featurizer.backbone_), "collate",
                        lambda self, items: shapes.append(real(self, items)["input_ids"].shape) or real(self, items))
    with pytest.warns(LongTextWarning, match="max_chunks=6"):
        featurizer.transform(short + long + [" ".join(["good"] * 5000)])
    assert max(rows for rows, _ in shapes) <= 6  # max(batch_size, max_chunks) sequences
    assert max(width for _, width in shapes) <= LIMIT
    assert sum(rows for rows, _ in shapes) > len(short) + len(long)  # the long texts were read in several chunks


def test_capped_batches_keep_rows_and_sequences_within_the_batch_size():
    sizes = np.array([1, 5, 1, 1, 3, 9, 1])
    batches = capped_batches(range(7), sizes, 4)
    assert sorted(i for b in batches for i in b) == list(range(7))
    assert all(len(b) == 1 or sizes[b].sum() <= 4 for b in batches)


# -- the splitter ----------------------------------------------------------------------------------------------


def test_the_splitter_keeps_special_tokens_and_cuts_as_documented():
    ids = np.arange(100, 130)  # 30 ids: [CLS] 28 text tokens [SEP]
    head_tail = TextSplitter("head_tail", 10, 1, 1).split([ids])[0][0]
    assert list(head_tail) == [100, 101, 102, *range(123, 129), 129]  # 2 head + 6 tail text tokens
    chunks = TextSplitter("chunk", 10, 1, 1, overlap=2).split([ids])[0][0].sequences
    assert all(c[0] == 100 and c[-1] == 129 and len(c) <= 10 for c in chunks)
    assert list(chunks[0][1:-1]) == list(range(101, 109)) and list(chunks[1][1:3]) == [107, 108]  # overlap 2
    assert chunks[-1][-2] == 128


@pytest.mark.parametrize("params, message", [
    ({"long_texts": "summarise"}, r"'long_texts' parameter of FineTunedClassifier must be a str among "
                                  r"\{.*'head_tail'.*\}\. Got 'summarise' instead"),
    ({"max_chunks": 0}, r"'max_chunks' parameter of FineTunedClassifier must be an int in the range \[1, inf\)"),
    ({"max_chunks": True}, r"'max_chunks' parameter of FineTunedClassifier must be an int .* Got True instead"),
    ({"chunk_overlap": -1}, r"'chunk_overlap' parameter of FineTunedClassifier must be an int in the range \[0, inf\)"),
    ({"chunk_overlap": LIMIT - 2}, "chunk_overlap must be smaller than the 14 text tokens"),
    ({"chunk_pooling": "sum"}, r"'chunk_pooling' parameter of FineTunedClassifier must be a str among "
                               r"\{.*'attention'.*\}\. Got 'sum' instead"),
])
def test_invalid_long_text_parameters_get_one_clear_sentence(tiny_sbert, params, message):
    with pytest.raises(ValueError, match=message):
        FineTunedClassifier(tiny_sbert, backbone_kwargs={"max_length": LIMIT}, max_epochs=1, **params).fit(
            ["a", "b"], [0, 1])


def test_the_featurizer_has_no_attention_pooling_and_says_why(tiny_sbert):
    with pytest.raises(ValueError, match=r"'chunk_pooling' parameter of PretrainedFeaturizer must be a str among "
                                         r"\{.*\} \(attention pooling is learned, so only the fine-tuned and "
                                         r"scratch estimators have it\)\. Got 'attention' instead"):
        PretrainedFeaturizer(tiny_sbert, chunk_pooling="attention").fit(["a"])


def test_empty_blank_and_control_character_texts_are_one_row_each(tiny_sbert, mixed):
    short, long, y = mixed
    odd = ["", "   ", "\t\n\x00\x1f", long[0]]
    features = PretrainedFeaturizer(tiny_sbert, max_length=LIMIT, cache=False).fit(short).transform(odd)
    assert features.shape[0] == 4 and np.isfinite(features).all()
    clf = FineTunedClassifier(tiny_sbert, backbone_kwargs={"max_length": LIMIT}, max_epochs=1, random_state=0)
    assert clf.fit(short + odd, y[:24] + ["pos", "neg"] * 2).predict(odd).shape == (4,)


# -- shipping --------------------------------------------------------------------------------------------------


def test_save_load_and_onnx_answer_like_torch_on_long_texts(tiny_sbert, mixed, tmp_path):
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline

    short, long, y = mixed
    X = short + long
    models = {
        "attention": FineTunedClassifier(tiny_sbert, backbone_kwargs={"max_length": LIMIT}, chunk_pooling="attention",
                                         max_epochs=2, random_state=0, lr=1e-3).fit(X, y),
        "head_tail": quiet(FineTunedClassifier(tiny_sbert, backbone_kwargs={"max_length": LIMIT},
                                               long_texts="head_tail", max_epochs=1, random_state=0).fit, X, y),
        "featurizer": make_pipeline(PretrainedFeaturizer(tiny_sbert, max_length=LIMIT, chunk_pooling="max"),
                                    LogisticRegression()).fit(X, y),
        "textcnn": ScratchClassifier(backbone_kwargs={"max_length": 12}, max_epochs=1, random_state=0).fit(X, y),
    }
    pool = models["attention"].net_.module_.pool
    assert pool.score.weight.abs().sum() > 0  # trained away from the mean, so saving it matters
    new = long_texts(5, 90, seed=1) + short[:3]
    for name, model in models.items():
        expected = quiet(model.predict_proba, new)
        loaded = skadapt.load(skadapt.save(model, tmp_path / f"{name}-saved"))
        np.testing.assert_array_equal(quiet(loaded.predict_proba, new), expected, err_msg=name)
        served = skadapt.load(skadapt.export_onnx(model, tmp_path / f"{name}-onnx"))
        assert np.abs(quiet(served.predict_proba, new) - expected).max() < 1e-4, name
    with pytest.warns(LongTextWarning, match="head_tail"):
        skadapt.load(str(tmp_path / "head_tail-onnx")).predict(new)


def test_compare_says_how_many_texts_were_long_and_what_each_strategy_did(tiny_sbert, tmp_path, capsys):
    import pandas as pd

    X = long_texts(10, 300) + long_texts(10, 4, seed=3)  # 300 words: past 256 tokens and TextCNN's 256 words
    data = tmp_path / "long.csv"
    pd.DataFrame({"text": X, "label": ["a", "b"] * 10}).to_csv(data, index=False)
    out = tmp_path / "out"
    code = main(["compare", str(data), "--backbone", tiny_sbert, "--strategies", "transfer,tfidf,scratch",
                 "--train-sizes", "all", "--max-epochs", "1", "--long-texts", "head_tail", "--test-size", "0.5",
                 "--output", str(out)])
    assert code == 0
    rows = {r["strategy"]: r for r in json.loads((out / "results.json").read_text())["results"]}
    assert rows["tfidf"]["long_texts"] == "whole text"
    n_long = rows["transfer"]["over_limit"]  # the long texts among the 10 training rows
    assert 0 < n_long < 10 and rows["scratch"]["over_limit"] == n_long
    for strategy in ("transfer", "scratch"):
        assert rows[strategy]["long_texts"] == "head_tail" and 0 < rows[strategy]["dropped_share"] < 1
    table = capsys.readouterr().out
    limit = rows["transfer"]["limit"]  # the tiny model's 128 positions
    assert f"{n_long} texts over {limit} tokens: head_tail" in table and f"{n_long} texts over 256 words" in table
