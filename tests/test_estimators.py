"""The estimator contract users rely on: sklearn rules, pickling, pipelines, search."""

import pickle

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV, cross_val_score
from sklearn.pipeline import make_pipeline

from skadapt import FineTunedClassifier, PretrainedFeaturizer, ScratchClassifier

CNN = {"embedding_dim": 16, "num_filters": 4}


def scratch(**kw):
    return ScratchClassifier(backbone_kwargs=CNN, max_epochs=3, lr=1e-2, device="cpu", random_state=0, **kw)


@pytest.fixture
def finetuned(tiny_sbert):
    return FineTunedClassifier(tiny_sbert, max_epochs=1, batch_size=8, device="cpu", random_state=0)


def test_unfitted_estimators_are_small_and_clone_without_loading(tiny_sbert):
    for est in [scratch(), FineTunedClassifier(tiny_sbert), PretrainedFeaturizer(tiny_sbert)]:
        assert len(pickle.dumps(est)) < 2_000
        twin = clone(est)
        assert twin.get_params() == est.get_params()
        assert not [k for k in vars(twin) if k.endswith("_")]


def test_get_set_params_round_trip():
    est = FineTunedClassifier(backbone_kwargs={"max_length": 64})
    est.set_params(lr=1e-4, frozen_groups="all")
    params = est.get_params()
    assert params["lr"] == 1e-4 and params["frozen_groups"] == "all"
    assert params["backbone_kwargs"] == {"max_length": 64}
    assert clone(est).get_params() == params


@pytest.mark.parametrize("make", ["scratch", "finetuned"])
def test_fit_predict_proba_string_labels(make, texts, request):
    est = scratch() if make == "scratch" else request.getfixturevalue("finetuned")
    X, y = texts
    est.fit(X, y)
    assert list(est.classes_) == ["neg", "pos"]
    proba = est.predict_proba(X[:5])
    assert proba.shape == (5, 2)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, atol=1e-9)
    # predict agrees with predict_proba, row by row, in the caller's order
    np.testing.assert_array_equal(est.predict(X[:5]), np.array(["neg", "pos"])[proba.argmax(1)])
    assert len(est.history_) == est.max_epochs


def test_any_hashable_labels(texts):
    X, y = texts
    y_int = np.array([10 if label == "pos" else -3 for label in y])
    est = scratch().fit(X, y_int)
    assert list(est.classes_) == [-3, 10]
    # the same model as with the string labels (same order: neg < pos, -3 < 10), its answers in the new labels
    as_strings = scratch().fit(X, y).predict(X)
    np.testing.assert_array_equal(est.predict(X), np.where(as_strings == "pos", 10, -3))
    assert est.predict(X).dtype == y_int.dtype


def test_same_random_state_same_predictions(texts, finetuned):
    X, y = texts
    a = scratch().fit(X, y).predict_proba(X)
    b = scratch().fit(X, y).predict_proba(X)
    np.testing.assert_array_equal(a, b)
    c = scratch(head_dropout=0.5).set_params(random_state=1).fit(X, y).predict_proba(X)
    assert not np.array_equal(a, c)
    p1 = clone(finetuned).fit(X, y).predict_proba(X)
    p2 = clone(finetuned).fit(X, y).predict_proba(X)
    np.testing.assert_array_equal(p1, p2)


def test_fit_leaves_global_torch_rng_alone(texts):
    import torch

    torch.manual_seed(123)
    expected = torch.rand(3)
    torch.manual_seed(123)
    scratch().fit(*texts)
    np.testing.assert_array_equal(torch.rand(3), expected)


@pytest.mark.parametrize("make", ["scratch", "finetuned", "featurizer"])
def test_fitted_estimators_pickle_with_identical_output(make, texts, request, tiny_sbert):
    X, y = texts
    if make == "featurizer":
        est = PretrainedFeaturizer(tiny_sbert, device="cpu").fit(X)
        method = "transform"
    else:
        est = scratch() if make == "scratch" else request.getfixturevalue("finetuned")
        est.fit(X, y)
        method = "predict_proba"
    twin = pickle.loads(pickle.dumps(est))
    np.testing.assert_array_equal(getattr(twin, method)(X), getattr(est, method)(X))


def test_fitted_finetuned_pickle_holds_weights_once(finetuned, texts):
    est = finetuned.fit(*texts)
    n_bytes = sum(p.numel() * p.element_size() for p in est.net_.module_.parameters())
    assert len(pickle.dumps(est)) < 1.5 * n_bytes + 3_000_000  # + tokenizer


def test_pipeline_cross_val_and_grid_search(texts, tiny_sbert):
    X, y = texts
    scores = cross_val_score(scratch(), X, y, cv=3)
    assert scores.shape == (3,) and np.all((0 <= scores) & (scores <= 1))

    pipe = make_pipeline(PretrainedFeaturizer(tiny_sbert, device="cpu"), LogisticRegression())
    search = GridSearchCV(pipe, {"logisticregression__C": [0.1, 10.0]}, cv=2, n_jobs=2).fit(X, y)
    assert search.best_params_["logisticregression__C"] in (0.1, 10.0)

    search = GridSearchCV(scratch(), {"lr": [1e-3, 1e-2]}, cv=2, n_jobs=2).fit(X, y)
    assert set(search.cv_results_["param_lr"]) == {1e-3, 1e-2}
    assert search.best_estimator_.predict(X[:3]).shape == (3,)


def test_grid_search_over_finetuned_parameter(texts, tiny_sbert):
    est = FineTunedClassifier(tiny_sbert, max_epochs=1, batch_size=8, device="cpu", random_state=0)
    search = GridSearchCV(est, {"frozen_groups": [0, "all"]}, cv=2, n_jobs=2).fit(*texts)
    assert list(search.cv_results_["param_frozen_groups"]) == [0, "all"]


@pytest.mark.parametrize("make", ["scratch", "finetuned"])
def test_predictions_do_not_depend_on_batching_or_order(make, texts, request):
    # Rows are padded per batch; a row's prediction must not depend on which
    # (longer or shorter) rows share its batch, nor on where it sits in X.
    est = scratch() if make == "scratch" else request.getfixturevalue("finetuned")
    X, y = texts
    X = list(X) + ["great", "a " * 60 + "terrible film"]
    est.fit(X[:-2], y)
    proba = est.predict_proba(X)
    alone = np.vstack([est.predict_proba([x]) for x in X])
    np.testing.assert_allclose(proba, alone, atol=1e-5)
    np.testing.assert_allclose(est.predict_proba(X[::-1])[::-1], proba, atol=1e-5)


def test_grid_search_over_featurizer_option(texts, tiny_sbert):
    pipe = make_pipeline(PretrainedFeaturizer(tiny_sbert, device="cpu"), LogisticRegression())
    grid = {"pretrainedfeaturizer__pooling": ["mean", "cls"]}
    search = GridSearchCV(pipe, grid, cv=2).fit(*texts)
    assert list(search.cv_results_["param_pretrainedfeaturizer__pooling"]) == ["mean", "cls"]
    # the two poolings give different features, so the search compared two models
    feats = [clone(pipe).set_params(**{k: p}).fit(*texts)[0].transform(texts[0][:3]) for k in grid for p in grid[k]]
    assert not np.allclose(*feats)


def test_featurizer_output(tiny_sbert, texts):
    X, _ = texts
    featurizer = PretrainedFeaturizer(tiny_sbert, batch_size=4, device="cpu").fit(X)
    Z = featurizer.transform(X)
    assert Z.dtype == np.float32 and Z.shape == (len(X), 32)
    names = featurizer.get_feature_names_out()
    assert names[0] == "sbert_0" and len(names) == 32
    # batch size and input order do not change the features
    Z_batched = PretrainedFeaturizer(tiny_sbert, batch_size=7, device="cpu").fit(X).transform(X[::-1])[::-1]
    np.testing.assert_allclose(Z, Z_batched, atol=1e-5)
    frame = featurizer.set_output(transform="pandas").transform(pd.Series(X))
    assert isinstance(frame, pd.DataFrame) and list(frame.columns) == list(names)


def test_featurizer_normalize_and_pooling(tiny_sbert, texts):
    X, _ = texts
    Z = PretrainedFeaturizer(tiny_sbert, normalize=True, device="cpu").fit(X).transform(X)
    np.testing.assert_allclose(np.linalg.norm(Z, axis=1), 1.0, atol=1e-5)
    Z_mean = PretrainedFeaturizer(tiny_sbert, device="cpu").fit(X).transform(X)
    Z_cls = PretrainedFeaturizer(tiny_sbert, pooling="cls", device="cpu").fit(X).transform(X)
    assert not np.allclose(Z_mean, Z_cls)


def test_text_columns_as_series_and_frame(texts):
    X, y = texts
    est = scratch().fit(pd.Series(X), pd.Series(y))
    a = est.predict(pd.DataFrame({"text": X}))
    np.testing.assert_array_equal(a, est.predict(np.array(X, dtype=object)))


def test_awkward_texts_work(finetuned, texts):
    X, y = texts
    odd = ["", "🎬🍿 great 👍", " ".join(["word"] * 10_000), "\n\t", "ünïcödé ñ"]
    for est in (scratch(), finetuned):
        est.fit(X + odd[:2], y + ["pos", "pos"])
        assert est.predict(odd).shape == (5,)


def test_max_length_beyond_the_model_is_capped_with_a_warning(tiny_sbert, texts):
    X, _ = texts
    long_text = " ".join(["word"] * 1_000)
    featurizer = PretrainedFeaturizer(tiny_sbert, max_length=10_000, device="cpu")
    with pytest.warns(UserWarning, match="max_length=10000 exceeds what the model can take .128 tokens."):
        featurizer.fit(X)
    assert featurizer.transform([long_text]).shape == (1, 32)


def test_scratch_minilm_architecture_is_untrained(tiny_sbert, texts):
    import torch

    X, y = texts
    pretrained = PretrainedFeaturizer(tiny_sbert, device="cpu").fit(X).module_
    est = ScratchClassifier(tiny_sbert, max_epochs=1, lr=1e-9, device="cpu", random_state=0).fit(X, y)
    scratch_weights = dict(est.net_.module_.backbone.named_parameters())
    compared = [name for name, _ in pretrained.named_parameters() if name.endswith("word_embeddings.weight")]
    assert len(compared) == 1, "the word embeddings were not found by name"  # else the test below checks nothing
    pretrained_weights = dict(pretrained.named_parameters())
    for name in compared:
        assert scratch_weights[name].shape == pretrained_weights[name].shape
        assert not torch.allclose(scratch_weights[name], pretrained_weights[name])


def test_fine_tuning_needs_pretrained_backbone(texts):
    with pytest.raises(ValueError, match="no pretrained weights.*ScratchClassifier"):
        FineTunedClassifier(backbone="textcnn").fit(*texts)
    with pytest.raises(ValueError, match="no pretrained weights"):
        PretrainedFeaturizer(backbone="textcnn").fit(texts[0])


def test_mlp_on_numeric_matrix():
    from sklearn.datasets import load_iris

    X, y = load_iris(return_X_y=True)
    est = ScratchClassifier(backbone="mlp", lr=1e-2, max_epochs=30, device="cpu", random_state=0).fit(X, y)
    assert est.n_features_in_ == 4
    assert est.score(X, y) > 0.9
