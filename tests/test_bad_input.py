"""Bad input gets one clear ValueError (or NotFittedError), never a torch traceback."""

import inspect
import re

import numpy as np
import pytest
import torch
from sklearn.exceptions import NotFittedError
from sklearn.utils._param_validation import InvalidParameterError

from skadapt import FineTunedClassifier, FineTunedRegressor, PretrainedFeaturizer, ScratchClassifier, ScratchRegressor

CNN = {"embedding_dim": 8, "num_filters": 2}


def scratch(**kw):
    return ScratchClassifier(backbone_kwargs=CNN, max_epochs=1, device="cpu", **kw)


@pytest.mark.parametrize(
    "X, message",
    [
        ("just one text", r"single string; wrap one text in a list"),
        ([], r"X is empty"),
        (["fine", None, "ok"], r"X\[1\] is missing"),
        (["fine", float("nan")], r"X\[1\] is missing"),
        (["fine", 3, "ok"], r"X\[1\] is a int .* expects every item of X to be a string"),
        (np.zeros((4, 3)), r"expects text .* numeric array of shape \(4, 3\).*backbone='mlp'"),
        ([[1.0, 2.0], [3.0, 4.0]], r"expects text .*backbone='mlp'"),
    ],
)
def test_bad_text_input(X, message):
    n = 2 if isinstance(X, str) else max(len(X), 2)
    with pytest.raises(ValueError, match=message):
        scratch().fit(X, ["a", "b"] * (n // 2) + ["a"] * (n % 2))


def test_text_given_to_mlp():
    with pytest.raises(ValueError, match=r"backbone 'mlp' expects a numeric 2-D array, got text"):
        ScratchClassifier(backbone="mlp").fit(["a text", "another"], [0, 1])


@pytest.mark.parametrize(
    "y, message",
    [
        (["a", "b"], r"inconsistent numbers of samples"),
        (["a", "a", "a"], r"only one class \('a'\)"),
        ([0.0, np.nan, 1.0], r"y contains NaN or None \(at row 1\)"),
        (["a", None, "b"], r"y contains NaN or None"),
        (["a", float("nan"), "b"], r"y contains NaN or None \(at row 1\)"),  # df["label"].tolist()
        (("a", "b", float("nan")), r"y contains NaN or None \(at row 2\)"),
        (None, r"requires y to be passed"),
        ([0.1, 0.2, 0.3], r"Unknown label type"),
    ],
)
def test_bad_targets(y, message):
    with pytest.raises(ValueError, match=message):
        scratch().fit(["x", "y", "z"], y)


def test_early_stopping_on_too_few_rows_says_so():
    from skadapt import ScratchRegressor

    with pytest.raises(ValueError, match=r"early_stopping=True holds out validation_fraction=0.1 of the rows, which "
                                         r"leaves none to train on with n_samples=1"):
        ScratchRegressor(max_epochs=1).fit(["one text"], [1.0])


@pytest.mark.parametrize(
    "params, message",
    [
        ({"lr": 0}, r"'lr' parameter of ScratchClassifier must be a str among \{'auto'\} or a float in the range "
                    r"\(0.0, inf\)\. Got 0 instead"),
        ({"lr": -1e-3}, r"'lr' parameter of ScratchClassifier must be .* Got -0.001 instead"),
        ({"batch_size": 0}, r"'batch_size' parameter of ScratchClassifier must be an int in the range \[1, inf\)\. "
                            r"Got 0 instead"),
        ({"max_epochs": -2}, r"'max_epochs' parameter of ScratchClassifier must be an int in the range \[1, inf\)\. "
                             r"Got -2 instead"),
        ({"frozen_groups": -1}, r"'frozen_groups' parameter of ScratchClassifier must be a str among \{'all'\} or an "
                                r"int in the range \[0, inf\)\. Got -1 instead"),
        ({"lr_decay": 0}, r"'lr_decay' parameter of ScratchClassifier must be a float in the range \(0.0, 1.0\]\. "
                          r"Got 0 instead"),
        ({"warmup": 2}, r"'warmup' parameter of ScratchClassifier must be a float in the range \[0.0, 1.0\]\. "
                        r"Got 2 instead"),
        ({"head_dropout": 1.0}, r"'head_dropout' parameter of ScratchClassifier must be a float in the range "
                                r"\[0.0, 1.0\)\. Got 1.0 instead"),
        ({"backbone_kwargs": {"nope": 1}}, r"backbone_kwargs=\{'nope': 1\} does not fit backbone 'textcnn'.*embedding_dim"),
        ({"backbone_kwargs": [("nope", 1)]}, r"'backbone_kwargs' parameter of ScratchClassifier must be an instance "
                                             r"of 'dict' or None"),
        ({"device": "tpu"}, r"'device' parameter of ScratchClassifier must be a str among \{.*'auto'.*\} or "
                            r"'cuda:N'\. Got 'tpu' instead"),
    ],
)
def test_bad_parameters(params, message):
    est = ScratchClassifier(max_epochs=1, device="cpu").set_params(**params)
    with pytest.raises(ValueError, match=message):
        est.fit(["a b", "c d"], [0, 1])


def test_wrong_parameter_type():
    with pytest.raises(TypeError, match=r"'max_epochs' parameter of ScratchClassifier must be an int in the range "
                                        r"\[1, inf\)\. Got 1.5 instead"):
        ScratchClassifier(max_epochs=1.5).fit(["a b", "c d"], [0, 1])


ESTIMATORS = [FineTunedClassifier, ScratchClassifier, FineTunedRegressor, ScratchRegressor, PretrainedFeaturizer]


@pytest.mark.parametrize("Estimator", ESTIMATORS, ids=lambda c: c.__name__)
def test_every_parameter_has_declared_constraints(Estimator):
    """Each class's own table names exactly its constructor's parameters (skorch's prefixed ones aside)."""
    signature = inspect.signature(Estimator.__init__).parameters.values()
    params = {p.name for p in signature if p.name != "self" and p.kind is not p.VAR_KEYWORD}
    assert set(vars(Estimator).get("_parameter_constraints", {})) == params


@pytest.mark.parametrize("Estimator", ESTIMATORS, ids=lambda c: c.__name__)
def test_sklearn_param_validation(Estimator):
    """sklearn's own check: a value of a wrong type, or out of range, of any declared parameter is refused
    by fit (and partial_fit, fit_transform) with an InvalidParameterError that names it."""
    from sklearn.utils.estimator_checks import check_param_validation

    check_param_validation(Estimator.__name__, Estimator())


@pytest.mark.parametrize("Estimator, params", [
    (FineTunedClassifier, {"contrastive_steps": True}),  # a bool is not a number of steps
    (FineTunedRegressor, {"head_init": "zeros"}),
    (ScratchRegressor, {"loss": "l1"}),
    (ScratchClassifier, {"threshold": 1.0}),
    (PretrainedFeaturizer, {"max_chunks": 0}),
])
def test_bad_declared_parameter_names_it(Estimator, params):
    (name, value), = params.items()
    with pytest.raises(InvalidParameterError, match=rf"The '{name}' parameter of {Estimator.__name__} must be .* "
                                                    rf"Got {re.escape(repr(value))} instead\."):
        Estimator(**params).fit(["a b", "c d"], [0, 1])


def test_skorch_options_are_outside_the_table_and_checked_apart():
    ScratchClassifier(optimizer__momentum=0.9)._validate_params()  # not in the table: left to skorch
    with pytest.raises(ValueError, match=r"unknown parameter 'optimiser__lr'; skorch's own options take a prefix"):
        ScratchClassifier(optimiser__lr=1.0).fit(["a b", "c d"], [0, 1])


def test_warm_started_fit_checks_its_parameters_too():
    est = scratch(warm_start=True, random_state=0).fit(["a b", "c d"], [0, 1])
    with pytest.raises(InvalidParameterError, match=r"'max_epochs' parameter of ScratchClassifier"):
        est.set_params(max_epochs=0).fit(["a b", "c d"], [0, 1])


def test_unknown_backbone_lists_choices_and_closest():
    with pytest.raises(ValueError, match=r"backbone='minlm' is not registered; available backbones: .*minilm.*Did you mean 'minilm'\?"):
        FineTunedClassifier(backbone="minlm").fit(["a", "b"], [0, 1])


@pytest.mark.skipif(torch.cuda.is_available(), reason="a GPU is present")
def test_cuda_without_gpu():
    with pytest.raises(ValueError, match=r"device='cuda' was requested but no CUDA GPU is available"):
        scratch().set_params(device="cuda").fit(["a", "b"], [0, 1])


def test_bad_featurizer_batch_size():
    with pytest.raises(ValueError, match=r"'batch_size' parameter of PretrainedFeaturizer must be an int in the range "
                                         r"\[1, inf\)\. Got 0 instead"):
        PretrainedFeaturizer(batch_size=0).fit(["a"])


@pytest.mark.parametrize("est", [scratch(), FineTunedClassifier(), PretrainedFeaturizer()], ids=lambda e: type(e).__name__)
def test_use_before_fit(est):
    method = est.transform if isinstance(est, PretrainedFeaturizer) else est.predict
    with pytest.raises(NotFittedError):
        method(["a text"])


def test_predict_rejects_bad_input_after_fit():
    est = scratch(random_state=0).fit(["a b", "c d", "e f", "g h"], [0, 1, 0, 1])
    with pytest.raises(ValueError, match="single string"):
        est.predict("a b")
    with pytest.raises(ValueError, match=r"X\[0\] is missing"):
        est.predict([None])
