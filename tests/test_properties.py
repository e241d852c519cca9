"""Property-based input testing (hypothesis) over the public surface.

The property: a call either succeeds with outputs of the documented shape and
dtype, or raises ValueError / TypeError / NotFittedError (the CLI:
UsageError) raised by skadapt's own checks or sklearn's validation —
never an exception from inside torch, skorch, numpy or tokenizers. The
budget (examples per test) keeps the suite fast; ``SKADAPT_HYPOTHESIS_EXAMPLES``
raises it for a longer hunt.
"""

import os
import traceback

import numpy as np
import pandas as pd
import pytest
from sklearn.exceptions import NotFittedError

hypothesis = pytest.importorskip("hypothesis")
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from skadapt import PretrainedFeaturizer, ScratchClassifier, ScratchRegressor, get_backbone  # noqa: E402
from skadapt.cli._errors import UsageError  # noqa: E402

EXAMPLES = int(os.environ.get("SKADAPT_HYPOTHESIS_EXAMPLES", "25"))
PROPERTY = settings(max_examples=EXAMPLES, deadline=None, derandomize=True,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
FOREIGN = (f"{os.sep}torch{os.sep}", f"{os.sep}skorch{os.sep}", f"{os.sep}numpy{os.sep}", f"{os.sep}tokenizers{os.sep}",
           f"{os.sep}transformers{os.sep}", f"{os.sep}sentence_transformers{os.sep}")
SMALL = {"backbone_kwargs": {"embedding_dim": 8, "num_filters": 4}, "max_epochs": 1, "batch_size": 8,
         "device": "cpu", "random_state": 0}

# Texts a user's data holds: empty, blank, emoji, right-to-left, control characters, very long.
odd_text = st.one_of(
    st.text(max_size=40),
    st.sampled_from(["", " ", "\t\n", "😀🎉", "مرحبا بالعالم", "שלום", "\x00\x07\x1b", "a\u200bb", "ÉÈ ñ"]),
    st.integers(1, 10_000).map(lambda n: "word " * n),
)
texts = st.lists(odd_text, min_size=1, max_size=12)
# Labels as they arrive: mixed types, missing values, bools, one class, many classes.
label = st.one_of(st.sampled_from(["a", "b", "c"]), st.integers(-3, 3), st.booleans(), st.none(),
                  st.just(float("nan")), st.floats(allow_nan=False, allow_infinity=False, width=32), st.text(max_size=3))
LABEL_KINDS = {
    "strings": st.sampled_from(["pos", "neg", "neutral"]),
    "integers": st.integers(-2, 2),
    "bools": st.booleans(),
    "one class": st.just("only"),
    "a class per row": None,  # drawn below: unique labels
    "mixed, missing": label,
}


@st.composite
def labelled_texts(draw, numeric=False):
    """``(X, y)`` of one length (now and then one row short), ``y`` of one kind of label or of a mix."""
    X = draw(texts)
    n = len(X)
    if numeric:
        values = draw(st.sampled_from([st.floats(-1e6, 1e6, width=32), st.integers(-5, 5),
                                       st.one_of(st.floats(width=32), st.none(), st.text(max_size=2))]))
        y = draw(st.lists(values, min_size=n, max_size=n))
    else:
        kind = draw(st.sampled_from(sorted(LABEL_KINDS)))
        if kind == "a class per row":
            y = draw(st.lists(st.text(min_size=1, max_size=4), min_size=n, max_size=n, unique=True))
        else:
            y = draw(st.lists(LABEL_KINDS[kind], min_size=n, max_size=n))
    if draw(st.integers(0, 9)) == 0:
        y = y[:-1]
    return X, y


def expected_failure(exc, allowed=(ValueError, TypeError, NotFittedError)):
    """Whether ``exc`` is one of ours: an allowed type, raised by a ``raise`` statement outside the
    model libraries (an error from numpy's C code surfaces in its Python caller's frame, not at a raise)."""
    if not isinstance(exc, allowed):
        return False
    frame = traceback.extract_tb(exc.__traceback__)[-1]
    raised_here = (frame.line or "").lstrip().startswith("raise")
    return raised_here and not any(part in frame.filename for part in FOREIGN) and bool(str(exc))


def check_call(call, validate, allowed=(ValueError, TypeError, NotFittedError)):
    try:
        result = call()
    except Exception as exc:  # noqa: BLE001  (the property is about which exceptions come out)
        assert expected_failure(exc, allowed), "".join(traceback.format_exception(exc))
        hypothesis.event(f"refused: {str(exc)[:40]}")  # --hypothesis-show-statistics lists the outcomes
        return
    hypothesis.event("succeeded")
    validate(result)


@PROPERTY
@given(data=labelled_texts())
def test_a_classifier_fits_any_texts_and_labels_or_says_why(data):
    X, y = data

    def fit_predict():
        clf = ScratchClassifier(**SMALL).fit(X, y)
        return clf, clf.predict(X), clf.predict_proba(X)

    def validate(result):
        clf, predicted, proba = result
        assert predicted.shape == (len(X),) and proba.shape == (len(X), len(clf.classes_))
        assert np.allclose(proba.sum(axis=1), 1.0)
        assert set(predicted.tolist()) <= set(clf.classes_.tolist())

    check_call(fit_predict, validate)


@PROPERTY
@given(data=labelled_texts(numeric=True))
def test_a_regressor_fits_any_texts_and_numbers_or_says_why(data):
    X, y = data

    def fit_predict():
        return ScratchRegressor(**SMALL).fit(X, y).predict(X)

    def validate(predicted):
        assert predicted.shape == (len(X),) and predicted.dtype == np.float64 and np.isfinite(predicted).all()

    check_call(fit_predict, validate)


@PROPERTY
@given(n=st.integers(1, 6), d=st.integers(1, 4),
       dtype=st.sampled_from([np.float32, np.float64, np.int64, object, np.bool_]),
       special=st.sampled_from([None, np.nan, np.inf, "text"]))
def test_a_numeric_backbone_takes_any_matrix_or_says_why(n, d, dtype, special):
    X = np.arange(n * d).reshape(n, d).astype(dtype)
    if special is not None:
        X = X.astype(object)
        X[0, 0] = special
    y = np.arange(n) % 2

    def fit_predict():
        return ScratchClassifier("mlp", max_epochs=1, device="cpu").fit(X, y).predict_proba(X)

    check_call(fit_predict, lambda proba: proba.shape == (n, 2) or pytest.fail(f"shape {proba.shape}"))


@pytest.fixture(scope="module")
def featurizer(tiny_sbert):
    return PretrainedFeaturizer(tiny_sbert, device="cpu", cache=False).fit(["a text"])


@PROPERTY
@given(X=st.one_of(texts, st.just([]), st.just("one string"), st.lists(st.one_of(st.none(), st.integers()), max_size=3)))
def test_the_featurizer_transforms_any_texts_or_says_why(featurizer, X):
    def validate(features):
        assert features.shape == (len(X), featurizer.n_features_out_) and features.dtype == np.float32
        assert np.isfinite(features).all()

    check_call(lambda: featurizer.transform(X), validate)


@PROPERTY
@given(name=st.one_of(st.text(max_size=30), st.sampled_from(["minilm", "MiniLM", "sbert:", "exported:", ":", "mlp:x",
                                                              "textcnn", "minilmm", "sbert:/no/such/folder"])))
def test_backbone_names_resolve_or_are_refused_clearly(name):
    def validate(spec):
        assert spec.name and spec.input_kind in ("text", "array", "image")

    check_call(lambda: get_backbone(name), validate)


@PROPERTY
@given(frame=st.lists(st.tuples(odd_text, label), min_size=0, max_size=15), task=st.sampled_from(
    ["auto", "classification", "regression", "multilabel"]), sep=st.sampled_from([None, ";"]))
def test_the_command_reads_any_table_or_says_why(tmp_path_factory, frame, task, sep):
    from skadapt.cli.data import load_data

    path = tmp_path_factory.mktemp("data") / "data.csv"
    pd.DataFrame(frame, columns=["text", "label"]).to_csv(path, index=False)

    def validate(data):
        assert len(data.X) == len(data.y) > 0 and data.task in ("classification", "regression", "multilabel")

    check_call(lambda: load_data(str(path), "text", ["label"], task=task, label_sep=sep), validate, (UsageError,))


def test_the_property_detects_a_foreign_exception():
    """The checker itself: an error raised inside numpy is not accepted as one of ours."""
    with pytest.raises(ValueError) as foreign:
        np.zeros(2).reshape(3)
    assert not expected_failure(foreign.value)
    with pytest.raises(ValueError) as ours:
        ScratchClassifier().fit(["a"], None)
    assert expected_failure(ours.value)
