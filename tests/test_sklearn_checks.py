"""scikit-learn's own estimator checks.

Numeric-input configurations get every common check through
``parametrize_with_checks``; a check that cannot hold is listed with its
reason in ``skadapt.testing.EXPECTED_FAILED_CHECKS``. sklearn skips all common
checks for text estimators, so those get its API-level checks one by one.
"""

import tempfile

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.utils import estimator_checks as ec
from sklearn.utils.estimator_checks import parametrize_with_checks

from skadapt import (
    FineTunedClassifier,
    FineTunedRegressor,
    PretrainedFeaturizer,
    ScratchClassifier,
    ScratchRegressor,
)
from skadapt.estimators import ThresholdedOneVsRest
from skadapt.testing import expected_failed_checks


def _exported_mlp():
    """A numeric pretrained backbone for the featurizer's checks (built at collection: checks are parametrised)."""
    from skadapt import export_backbone

    X = np.random.default_rng(0).random((30, 4))
    clf = ScratchClassifier("mlp", max_epochs=1, random_state=0, device="cpu").fit(X, np.arange(30) % 2)
    return export_backbone(clf, tempfile.mkdtemp(prefix="skadapt-checks-") + "/mlp")


@parametrize_with_checks(
    [
        ScratchClassifier(backbone="mlp", device="cpu"),
        ScratchRegressor(backbone="mlp", device="cpu"),  # defaults as they are: lr="auto" is 1e-2 for mlp
        PretrainedFeaturizer(_exported_mlp(), device="cpu"),
        # the Auto search's one-vs-rest head; any cut but 0.5 fails check_classifier_multioutput by design
        # (predict then disagrees with decision_function > 0)
        ThresholdedOneVsRest(LogisticRegression()),
    ],
    expected_failed_checks=expected_failed_checks,
)
def test_sklearn_compatible_estimator(estimator, check):
    check(estimator)


def test_tags_switch_on_the_multilabel_and_multioutput_checks():
    """sklearn runs its multi-label and multi-output checks only when the tags say so."""
    from sklearn.utils import get_tags

    assert get_tags(ScratchClassifier(backbone="mlp")).classifier_tags.multi_label
    assert get_tags(FineTunedClassifier()).classifier_tags.multi_label
    assert get_tags(ScratchRegressor(backbone="mlp")).target_tags.multi_output
    assert get_tags(FineTunedRegressor()).target_tags.multi_output


API_CHECKS = [
    ec.check_estimator_cloneable,
    ec.check_parameters_default_constructible,
    ec.check_no_attributes_set_in_init,
    ec.check_get_params_invariance,
    ec.check_set_params,
    ec.check_do_not_raise_errors_in_init_or_set_params,
    ec.check_estimator_repr,
    ec.check_mixin_order,
]
TEXT_ESTIMATORS = [
    ScratchClassifier(),
    ScratchClassifier(backbone="minilm"),
    FineTunedClassifier(),
    ScratchRegressor(),
    FineTunedRegressor(),
    PretrainedFeaturizer(),
]


@pytest.mark.parametrize("check", API_CHECKS, ids=lambda c: c.__name__)
@pytest.mark.parametrize("estimator", TEXT_ESTIMATORS, ids=repr)
def test_text_estimators_api_checks(estimator, check):
    check(type(estimator).__name__, estimator)


def test_scratch_lr_auto_trains_at_the_backbones_own_rate():
    X = np.random.default_rng(0).random((20, 3))
    model = ScratchRegressor(backbone="mlp", max_epochs=1, random_state=0).fit(X, X.sum(axis=1))
    assert model.lr == "auto" and model.net_.lr == 1e-2
    explicit = ScratchRegressor(backbone="mlp", lr=3e-3, max_epochs=1, random_state=0).fit(X, X.sum(axis=1))
    assert explicit.net_.lr == 3e-3
    # "auto" is Scratch*'s alone
    with pytest.raises(TypeError, match=r"'lr' parameter of FineTunedRegressor must be a float in the range "
                                        r"\(0.0, inf\)\. Got 'auto' instead"):
        FineTunedRegressor(lr="auto").fit(["a text", "another"], [1.0, 2.0])
