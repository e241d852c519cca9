"""Every supervised task: regression (one or several outputs) and multi-label classification."""

import pickle

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.compose import TransformedTargetRegressor
from sklearn.linear_model import LogisticRegression, RidgeCV
from sklearn.metrics import f1_score
from sklearn.model_selection import GridSearchCV, cross_validate
from sklearn.multiclass import OneVsRestClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import MultiLabelBinarizer

from skadapt import (
    FineTunedClassifier,
    FineTunedRegressor,
    PretrainedFeaturizer,
    ScratchClassifier,
    ScratchRegressor,
    export_backbone,
)

CNN = {"embedding_dim": 16, "num_filters": 4}


def scratch_regressor(**kw):
    return ScratchRegressor(**{"backbone_kwargs": CNN, "max_epochs": 10, "lr": 3e-2, "device": "cpu",
                               "random_state": 0, **kw})


def scratch_classifier(**kw):
    return ScratchClassifier(**{"backbone_kwargs": CNN, "max_epochs": 3, "lr": 1e-2, "device": "cpu",
                                "random_state": 0, **kw})


@pytest.fixture
def scores(texts):
    """Two scores per text on a scale far from 0 and 1 (thousands), positive texts higher."""
    X, labels = texts
    rng = np.random.default_rng(0)
    high = np.array([label == "pos" for label in labels], dtype=float)
    y = np.column_stack([5000 + 800 * high, 3000 - 500 * high]) + rng.normal(0, 50, (len(X), 2))
    return X, y


@pytest.fixture
def tags(texts):
    """Three labels per text as an indicator matrix: 'positive', 'negative' and 'long' (more than 3 words)."""
    X, labels = texts
    lists = [[label] + (["long"] if len(x.split()) > 3 else []) for x, label in zip(X, labels)]
    return X, MultiLabelBinarizer().fit_transform(lists)


# -- regression -------------------------------------------------------------

def test_regressor_predicts_in_the_callers_units_and_shape(scores):
    X, y = scores
    reg = scratch_regressor().fit(X, y)
    assert reg.n_outputs_ == 2
    np.testing.assert_allclose(reg.target_mean_, y.mean(axis=0))
    predicted = reg.predict(X)
    assert predicted.shape == (len(X), 2) and predicted.dtype == np.float64
    # learned on the standardised scale, returned on the caller's: the texts' two groups come apart
    assert reg.score(X, y) > 0.5
    one = scratch_regressor().fit(X, y[:, 0])
    assert one.predict(X).shape == (len(X),)
    column = scratch_regressor().fit(X, y[:, :1])
    assert column.predict(X).shape == (len(X), 1)


def test_regressor_target_scale_does_not_change_what_is_learned(scores):
    # Standardised inside fit: the same model, up to units, whatever the scale of y.
    X, y = scores
    small = scratch_regressor().fit(X, y / 1000).predict(X)
    large = scratch_regressor().fit(X, y).predict(X)
    np.testing.assert_allclose(small * 1000, large, rtol=1e-4)


def test_finetuned_regressor_starts_from_a_ridge_on_the_frozen_features(scores, tiny_sbert):
    X, y = scores
    # lr so small that training does not move the weights: what is left is the start
    reg = FineTunedRegressor(tiny_sbert, lr=1e-12, max_epochs=1, batch_size=8, device="cpu", random_state=0)
    reg.fit(X, y[:, 0])
    ridge = make_pipeline(PretrainedFeaturizer(tiny_sbert, device="cpu"), RidgeCV(alphas=np.logspace(-3, 3, 7)))
    expected = ridge.fit(X, y[:, 0]).predict(X)
    np.testing.assert_allclose(reg.predict(X), expected, rtol=1e-3)
    random_start = clone(reg).set_params(head_init="random").fit(X, y[:, 0]).predict(X)
    assert not np.allclose(random_start, expected, rtol=1e-2)


def test_scratch_regressor_can_train_on_every_row_for_max_epochs(scores):
    X, y = scores
    stopped = scratch_regressor(max_epochs=6).fit(X, y)
    assert "valid_loss" in stopped.history_[-1]  # the default holds rows out
    full = scratch_regressor(max_epochs=6, early_stopping=False).fit(X, y)
    assert len(full.history_) == 6 and "valid_loss" not in full.history_[-1]


def test_scratch_regressor_text_cnn_reads_single_words_unless_told_otherwise(scores, tmp_path):
    """Regression's TextCNN has filters of widths 1-4 (scores add up word by word), the classifier keeps
    Kim's 3-5, the user's filter_sizes win, and a saved regressor keeps its widths."""
    import skadapt

    X, y = scores
    quick = {"max_epochs": 1, "early_stopping": False, "device": "cpu", "random_state": 0}
    default = ScratchRegressor(backbone_kwargs={"embedding_dim": 8, "num_filters": 2}, **quick).fit(X, y)
    assert default.backbone_.filter_sizes == (1, 2, 3, 4)
    assert default.get_params()["backbone_kwargs"] == {"embedding_dim": 8, "num_filters": 2}  # not written into
    assert ScratchRegressor(backbone_kwargs={"filter_sizes": (2,)}, **quick).fit(X, y).backbone_.filter_sizes == (2,)
    labels = [int(v > np.median(y[:, 0])) for v in y[:, 0]]
    assert ScratchClassifier(max_epochs=1, device="cpu").fit(X, labels).backbone_.filter_sizes == (3, 4, 5)
    skadapt.save(default, tmp_path / "model")
    loaded = skadapt.load(tmp_path / "model")
    assert loaded.backbone_.recipe.filter_sizes == (1, 2, 3, 4)
    np.testing.assert_allclose(loaded.predict(X), default.predict(X), rtol=1e-5)


def test_huber_loss_is_used_when_asked(scores):
    import torch

    X, y = scores
    assert isinstance(scratch_regressor(loss="huber").fit(X, y).net_.criterion_, torch.nn.HuberLoss)
    assert isinstance(scratch_regressor().fit(X, y).net_.criterion_, torch.nn.MSELoss)


def test_regressor_contract_clone_pickle_pipeline_search(scores, tiny_sbert):
    X, y = scores
    reg = scratch_regressor()
    assert clone(reg).get_params() == reg.get_params()
    reg.fit(X, y)
    twin = pickle.loads(pickle.dumps(reg))
    np.testing.assert_array_equal(twin.predict(X), reg.predict(X))
    # same random_state, same predictions
    np.testing.assert_array_equal(scratch_regressor().fit(X, y).predict(X), reg.predict(X))
    search = GridSearchCV(scratch_regressor(), {"loss": ["squared_error", "huber"]}, cv=2, n_jobs=2).fit(X, y)
    assert set(search.cv_results_["param_loss"]) == {"squared_error", "huber"}
    assert search.best_estimator_.predict(X[:3]).shape == (3, 2)
    finetuned = FineTunedRegressor(tiny_sbert, max_epochs=1, batch_size=8, device="cpu", random_state=0)
    search = GridSearchCV(finetuned, {"frozen_groups": [0, "all"]}, cv=2, n_jobs=2).fit(X, y)
    assert list(search.cv_results_["param_frozen_groups"]) == [0, "all"]
    assert np.isfinite(search.best_score_)


def test_regressor_in_a_pipeline_and_with_early_stopping(scores, tags):
    from sklearn.preprocessing import FunctionTransformer

    X, y = scores
    pipe = make_pipeline(FunctionTransformer(lambda texts: [t.upper() for t in texts]), scratch_regressor())
    assert pipe.fit(X, y).predict(X).shape == (len(X), 2)
    # early stopping holds out rows without stratifying, which sklearn cannot do on indicator matrices
    X, Y = tags
    clf = scratch_classifier(early_stopping=True, validation_fraction=0.25).fit(X, Y)
    assert "valid_loss" in clf.history_[-1] and clf.predict(X).shape == Y.shape


def test_transformed_target_regressor_around_a_regressor(scores):
    X, y = scores
    model = TransformedTargetRegressor(scratch_regressor(), func=np.log, inverse_func=np.exp).fit(X, y[:, 0])
    predicted = model.predict(X)
    assert predicted.shape == (len(X),) and np.all(predicted > 0)
    assert model.score(X, y[:, 0]) > 0.5


def test_regressor_backbone_can_be_exported(scores, tmp_path):
    X, y = scores
    reg = scratch_regressor().fit(X, y)
    name = export_backbone(reg, tmp_path / "reg-cnn")
    features = PretrainedFeaturizer(name, device="cpu").fit(X).transform(X)
    assert features.shape[0] == len(X)


# -- multi-label ------------------------------------------------------------

@pytest.mark.parametrize("make", ["scratch", "finetuned"])
def test_multilabel_fit_predict_proba_and_threshold(make, tags, tiny_sbert):
    X, Y = tags
    clf = (scratch_classifier() if make == "scratch"
           else FineTunedClassifier(tiny_sbert, max_epochs=2, batch_size=8, device="cpu", random_state=0))
    clf.fit(X, Y)
    assert clf.multilabel_ and list(clf.classes_) == [0, 1, 2]
    proba = clf.predict_proba(X)
    assert proba.shape == Y.shape and np.all((proba > 0) & (proba < 1))
    predicted = clf.predict(X)
    assert predicted.shape == Y.shape and predicted.dtype == Y.dtype
    np.testing.assert_array_equal(predicted, (proba >= 0.5).astype(Y.dtype))
    # threshold only moves the cut: more labels below 0.5, fewer above
    low, high = clf.set_params(threshold=0.1).predict(X), clf.set_params(threshold=0.9).predict(X)
    assert np.all(low >= predicted) and np.all(high <= predicted) and low.sum() > high.sum()


def test_multilabel_linear_probe_is_one_logistic_regression_per_label(tags, tiny_sbert):
    X, Y = tags
    clf = FineTunedClassifier(tiny_sbert, lr=1e-12, max_epochs=1, batch_size=8, device="cpu", random_state=0)
    clf.fit(X, Y)
    features = PretrainedFeaturizer(tiny_sbert, device="cpu").fit(X).transform(X)
    expected = OneVsRestClassifier(LogisticRegression(C=1.0, max_iter=1000)).fit(features, Y).predict_proba(X=features)
    np.testing.assert_allclose(clf.predict_proba(X), expected, atol=1e-3)


def test_rows_with_no_label_are_valid(tags):
    X, Y = tags
    Y = Y.copy()
    Y[:5] = 0
    assert scratch_classifier().fit(X, Y).predict(X).shape == Y.shape


def test_multilabel_y_in_every_form_sklearn_gives(tags):
    import pandas as pd
    import scipy.sparse

    X, Y = tags
    expected = scratch_classifier().fit(X, Y).predict(X)
    for same in (Y.tolist(), pd.DataFrame(Y), pd.DataFrame(Y).astype("Int64"), Y.astype(object),
                 scipy.sparse.csr_matrix(Y)):  # MultiLabelBinarizer(sparse_output=True)
        np.testing.assert_array_equal(scratch_classifier().fit(X, same).predict(X), expected)
    as_bool = scratch_classifier().fit(X, Y.astype(bool)).predict(X)
    assert as_bool.dtype == bool and (as_bool == expected.astype(bool)).all()


def test_a_column_of_labels_is_single_label(texts):
    from sklearn.exceptions import DataConversionWarning

    X, y = texts
    with pytest.warns(DataConversionWarning):
        clf = scratch_classifier().fit(X, np.array(y).reshape(-1, 1))
    assert not clf.multilabel_ and list(clf.classes_) == ["neg", "pos"]


def test_label_never_positive_in_training_warns_and_stays_zero(tags):
    X, Y = tags
    Y = np.column_stack([Y, np.zeros(len(Y), dtype=Y.dtype)])
    with pytest.warns(UserWarning, match=r"label column\(s\) \[3\] have no positive row and will always be predicted 0"):
        clf = scratch_classifier(threshold=0.01).fit(X, Y)
    assert not clf.predict(X)[:, 3].any()


def test_cross_validate_with_multilabel_scoring(tags):
    from sklearn.metrics import jaccard_score
    from sklearn.model_selection import KFold

    X, Y = tags
    folds = KFold(3, shuffle=True, random_state=0)
    result = cross_validate(scratch_classifier(), X, Y, cv=folds, scoring=["f1_micro", "f1_macro", "jaccard_samples"])
    # sklearn's scorers read the indicator matrix predict returns: the same figures as by hand
    for i, (train, test) in enumerate(folds.split(X)):
        predicted = scratch_classifier().fit([X[j] for j in train], Y[train]).predict([X[j] for j in test])
        assert result["test_f1_micro"][i] == pytest.approx(f1_score(Y[test], predicted, average="micro"))
        assert result["test_f1_macro"][i] == pytest.approx(f1_score(Y[test], predicted, average="macro"))
        assert result["test_jaccard_samples"][i] == pytest.approx(jaccard_score(Y[test], predicted, average="samples"))


def test_multilabel_grid_search_over_threshold(tags):
    X, Y = tags
    search = GridSearchCV(scratch_classifier(), {"threshold": [0.3, 0.7]}, cv=2, n_jobs=2, scoring="f1_micro")
    search.fit(X, Y)
    assert list(search.cv_results_["param_threshold"]) == [0.3, 0.7]


# -- class_weight -----------------------------------------------------------

def test_class_weight_single_label_moves_predictions(texts):
    X, y = texts
    plain = scratch_classifier(max_epochs=10).fit(X, y).predict(X)
    weighted = scratch_classifier(max_epochs=10, class_weight={"neg": 1000.0, "pos": 1e-4}).fit(X, y).predict(X)
    assert (weighted == "neg").mean() > (plain == "neg").mean()
    assert (weighted == "neg").mean() > 0.9


def test_class_weight_balanced_single_label_matches_sklearn(texts):
    import torch
    from sklearn.utils.class_weight import compute_class_weight

    X, _ = texts
    y = ["pos"] * 4 + ["neg"] * (len(X) - 4)  # skewed
    clf = scratch_classifier(class_weight="balanced").fit(X, y)
    expected = compute_class_weight("balanced", classes=np.array(["neg", "pos"]), y=y)
    torch.testing.assert_close(clf.net_.criterion_.weight, torch.tensor(expected, dtype=torch.float32))


def test_class_weight_scales_each_rows_loss_as_sklearn_does():
    # sklearn weighs each row's loss and averages over rows; torch's weighted
    # CrossEntropyLoss divides by the batch's weights, so in a batch of one
    # class the weights would cancel.
    import torch

    from skadapt.estimators._network import ClassWeightedCrossEntropy, LabelWeightedBCE

    logits, target = torch.tensor([[0.2, -1.0], [1.5, 0.3], [0.0, 0.0]]), torch.tensor([1, 1, 1])
    plain = torch.nn.functional.cross_entropy(logits, target)
    torch.testing.assert_close(ClassWeightedCrossEntropy([1.0, 3.0])(logits, target), 3 * plain)
    target = torch.tensor([0, 1, 1])
    rows = torch.nn.functional.cross_entropy(logits, target, reduction="none")
    torch.testing.assert_close(ClassWeightedCrossEntropy([2.0, 0.5])(logits, target),
                               (rows * torch.tensor([2.0, 0.5, 0.5])).mean())
    # multi-label: negatives may weigh 0, which BCEWithLogitsLoss's pos_weight cannot say
    logits, target = torch.tensor([[0.3, -2.0]]), torch.tensor([[0.0, 1.0]])
    rows = torch.nn.functional.binary_cross_entropy_with_logits(logits, target, reduction="none")
    loss = LabelWeightedBCE(negative=[0.0, 1.0], positive=[1.0, 4.0])(logits, target)
    torch.testing.assert_close(loss, (rows * torch.tensor([[0.0, 4.0]])).mean())


def test_class_weight_balanced_multilabel_weighs_each_label(tags):
    import torch

    X, Y = tags
    clf = scratch_classifier(class_weight="balanced").fit(X, Y)
    n, positives = len(Y), Y.sum(axis=0)
    # sklearn's balanced weights per label: n / (2 * count) for its negative and positive rows
    torch.testing.assert_close(clf.net_.criterion_.negative, torch.tensor(n / (2 * (n - positives)), dtype=torch.float32))
    torch.testing.assert_close(clf.net_.criterion_.positive, torch.tensor(n / (2 * positives), dtype=torch.float32))
    # a dict applies to every label column, as in OneVsRestClassifier(LogisticRegression(class_weight=...))
    every = scratch_classifier(class_weight={0: 1.0, 1: 5.0}).fit(X, Y).net_.criterion_
    torch.testing.assert_close(every.positive, torch.tensor([5.0, 5.0, 5.0]))
    per_label = scratch_classifier(class_weight=[{1: 2.0}, {0: 0.5}, {}]).fit(X, Y).net_.criterion_
    torch.testing.assert_close(per_label.positive, torch.tensor([2.0, 1.0, 1.0]))
    torch.testing.assert_close(per_label.negative, torch.tensor([1.0, 0.5, 1.0]))


def test_linear_probe_start_honours_class_weight(texts, tiny_sbert):
    X, _ = texts
    y = ["pos"] * 6 + ["neg"] * (len(X) - 6)
    weights = {"neg": 1.0, "pos": 6.0}
    clf = FineTunedClassifier(tiny_sbert, lr=1e-12, max_epochs=1, batch_size=8, device="cpu", random_state=0,
                              class_weight=weights, contrastive_steps=0).fit(X, y)
    features = PretrainedFeaturizer(tiny_sbert, device="cpu").fit(X).transform(X)
    expected = LogisticRegression(C=1.0, max_iter=1000, class_weight=weights).fit(features, y).predict_proba(features)
    np.testing.assert_allclose(clf.predict_proba(X), expected, atol=1e-3)


# -- bad input --------------------------------------------------------------

def test_continuous_y_to_a_classifier_names_the_regressors(scores):
    X, y = scores
    with pytest.raises(ValueError, match=r"Unknown label type: continuous.*FineTunedRegressor or ScratchRegressor"):
        scratch_classifier().fit(X, y[:, 0])


@pytest.mark.parametrize(
    "bad, message",
    [
        (lambda Y: [["pos", "long"] if r[0] else ["neg"] for r in Y], r"list of label lists.*MultiLabelBinarizer"),
        (lambda Y: Y * 2, r"must be a 0/1 indicator matrix, but it holds the values \[0.0, 2.0\]"),
        (lambda Y: np.where(Y == 1, 1.0, np.nan), r"y contains NaN or None \(at row 0\)"),
    ],
)
def test_bad_multilabel_y(bad, message, tags):
    X, Y = tags
    with pytest.raises(ValueError, match=message):
        scratch_classifier().fit(X, bad(Y))


@pytest.mark.parametrize(
    "y, message",
    [
        (["high", "low"] * 18, r"needs numeric y, but y holds strings.*Classifier"),
        ([1.0, np.nan] * 18, r"y contains NaN or infinity \(at row 1\)"),
        ([1.0, np.inf] * 18, r"y contains NaN or infinity \(at row 1\)"),
        ([1.0, 2.0], r"inconsistent numbers of samples"),
        (None, r"requires y to be passed"),
    ],
)
def test_bad_regression_y(y, message, texts):
    X, _ = texts
    with pytest.raises(ValueError, match=message):
        scratch_regressor().fit(X, y)


def test_score_refuses_a_y_of_another_width(scores, tags):
    X, y = scores
    reg = scratch_regressor().fit(X, y)
    with pytest.raises(ValueError, match=r"y has 1 outputs, but ScratchRegressor was fitted with 2"):
        reg.score(X, y[:, 0])
    X, Y = tags
    clf = scratch_classifier().fit(X, Y)
    with pytest.raises(ValueError, match=r"y has 2 label columns, but ScratchClassifier was fitted with 3"):
        clf.score(X, Y[:, :2])


@pytest.mark.parametrize(
    "params, message",
    [
        ({"threshold": 1.5}, r"'threshold' parameter of ScratchClassifier must be a float in the range "
                             r"\(0.0, 1.0\)\. Got 1.5 instead"),
        ({"class_weight": "balance"}, r"'class_weight' parameter of ScratchClassifier must be a str among "
                                      r"\{'balanced'\}, an instance of 'dict', an instance of 'list' or None"),
        ({"class_weight": [{0: 1.0}]}, r"class_weight must be None, 'balanced' or a dict"),  # a list: multi-label's
        ({"class_weight": {"maybe": 2.0}}, r"class_weight names classes that are not in y: \['maybe'\]"),
    ],
)
def test_bad_classifier_parameters(params, message, texts):
    with pytest.raises(ValueError, match=message):
        scratch_classifier(**params).fit(*texts)


@pytest.mark.parametrize(
    "class_weight, message",
    [
        ({"pos": 2.0}, r"a dict \{0: w0, 1: w1\} .* or a list of 3 such dicts"),
        ([{0: 1.0}, {1: 2.0}], r"a list of 3 such dicts, one per label column"),
        ({0: 1.0, 1: -2.0}, r"finite, non-negative weights"),
    ],
)
def test_bad_multilabel_class_weight(class_weight, message, tags):
    X, Y = tags
    with pytest.raises(ValueError, match=message):
        scratch_classifier(class_weight=class_weight).fit(X, Y)


def test_bad_loss(scores):
    with pytest.raises(ValueError, match=r"'loss' parameter of ScratchRegressor must be a str among "
                                         r"\{.*'huber'.*\}\. Got 'l1' instead"):
        scratch_regressor(loss="l1").fit(*scores)


def test_multilabel_f1_is_better_than_chance_on_separable_tags(tags):
    # the labels follow from the words, so a trained model recovers most of them
    X, Y = tags
    clf = scratch_classifier(max_epochs=10).fit(X, Y)
    assert f1_score(Y, clf.predict(X), average="micro") > 0.8
