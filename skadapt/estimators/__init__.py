"""The three ways of using a neural model, as scikit-learn estimators, for every supervised task."""

from .classifiers import FineTunedClassifier, ScratchClassifier
from .featurizer import PretrainedFeaturizer
from .one_vs_rest import ThresholdedOneVsRest
from .regressors import FineTunedRegressor, ScratchRegressor

__all__ = ["FineTunedClassifier", "FineTunedRegressor", "PretrainedFeaturizer", "ScratchClassifier", "ScratchRegressor",
           "ThresholdedOneVsRest"]
