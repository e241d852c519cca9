"""The three ways of using a neural model, as scikit-learn estimators."""

from .classifiers import FineTunedClassifier, ScratchClassifier
from .featurizer import PretrainedFeaturizer

__all__ = ["FineTunedClassifier", "PretrainedFeaturizer", "ScratchClassifier"]
