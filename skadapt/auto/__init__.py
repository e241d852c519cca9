"""The way chosen for you: ``AutoClassifier`` and ``AutoRegressor`` search the ways inside ``fit``, with the
engine that ``skadapt compare --time-budget`` runs."""

from ._estimators import AutoClassifier, AutoRegressor, parse_budget
from ._multilabel import ThresholdedOneVsRest

__all__ = ["AutoClassifier", "AutoRegressor", "ThresholdedOneVsRest", "parse_budget"]
