"""Bad input gets one clear ValueError (or NotFittedError), never a torch traceback."""

import numpy as np
import pytest
import torch
from sklearn.exceptions import NotFittedError

from skadapt import FineTunedClassifier, PretrainedFeaturizer, ScratchClassifier

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
        ({"lr": 0}, r"lr == 0, must be > 0"),
        ({"lr": -1e-3}, r"lr == -0.001, must be > 0"),
        ({"batch_size": 0}, r"batch_size == 0, must be > 0"),
        ({"max_epochs": -2}, r"max_epochs == -2, must be > 0"),
        ({"frozen_groups": -1}, r"frozen_groups must be a non-negative integer or 'all'"),
        ({"lr_decay": 0}, r"lr_decay == 0, must be > 0"),
        ({"warmup": 2}, r"warmup == 2, must be <= 1"),
        ({"head_dropout": 1.0}, r"head_dropout == 1.0, must be < 1"),
        ({"backbone_kwargs": {"nope": 1}}, r"backbone_kwargs=\{'nope': 1\} does not fit backbone 'textcnn'.*embedding_dim"),
        ({"device": "tpu"}, r"device must be 'auto', 'cpu', 'cuda'"),
    ],
)
def test_bad_parameters(params, message):
    est = ScratchClassifier(max_epochs=1, device="cpu").set_params(**params)
    with pytest.raises(ValueError, match=message):
        est.fit(["a b", "c d"], [0, 1])


def test_wrong_parameter_type():
    with pytest.raises(TypeError, match=r"max_epochs must be an instance of int"):
        ScratchClassifier(max_epochs=1.5).fit(["a b", "c d"], [0, 1])


def test_unknown_backbone_lists_choices_and_closest():
    with pytest.raises(ValueError, match=r"backbone='minlm' is not registered; available backbones: .*minilm.*Did you mean 'minilm'\?"):
        FineTunedClassifier(backbone="minlm").fit(["a", "b"], [0, 1])


@pytest.mark.skipif(torch.cuda.is_available(), reason="a GPU is present")
def test_cuda_without_gpu():
    with pytest.raises(ValueError, match=r"device='cuda' was requested but no CUDA GPU is available"):
        scratch().set_params(device="cuda").fit(["a", "b"], [0, 1])


def test_bad_featurizer_batch_size():
    with pytest.raises(ValueError, match=r"batch_size == 0, must be > 0"):
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
