"""The way chosen for you: ``AutoClassifier`` and ``AutoRegressor`` search the ways inside ``fit``, with the
engine that ``skadapt compare --time-budget`` runs."""

from ._estimators import AutoClassifier, AutoRegressor, parse_budget

__all__ = ["AutoClassifier", "AutoRegressor", "parse_budget"]
