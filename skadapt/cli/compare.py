"""``skadapt compare``: reading its options into the search engine (``skadapt.auto._engine``), which the Auto
estimators share."""

import numpy as np
from sklearn.model_selection import KFold, StratifiedKFold, train_test_split

from ..auto._engine import (  # noqa: F401  (the command's names, and the tests')
    DEFAULT_SCRATCH_BACKBONE,
    DEFAULT_STRATEGIES,
    LOWER_IS_BETTER,
    METRICS,
    STRATEGIES,
    Comparison,
    Evaluation,
    _rows,
    best_rows,
    make_estimator,
    primary_metric,
    scores,
    subsample,
    take,
)
from ._errors import UsageError


def parse_strategies(text):
    names = [s.strip() for s in text.split(",") if s.strip()]
    unknown = [s for s in names if s not in STRATEGIES]
    if unknown or not names:
        raise UsageError(
            f"--strategies: unknown strategy {unknown[0] if unknown else text!r}; choose from {', '.join(STRATEGIES)}."
        )
    return list(dict.fromkeys(names))


def parse_train_sizes(text):
    sizes = []
    for part in (p.strip() for p in text.split(",")):
        if part == "all":
            sizes.append(None)
            continue
        try:
            size = int(part)
        except ValueError:
            raise UsageError(f"--train-sizes: {part!r} is not a whole number or 'all'; e.g. 32,128,512,all.") from None
        if size < 2:
            raise UsageError(f"--train-sizes: {size} is too small; each size must be at least 2 rows.")
        sizes.append(size)
    return sorted(set(s for s in sizes if s is not None)) + ([None] if None in sizes else [])


def make_evaluation(X, y, *, test=None, test_size=None, cv=None, seed=0, task="classification"):
    """Hold out a test set (given, or ``test_size`` of the data) or cross-validate.

    Classes are stratified; regression and multi-label rows are shuffled
    and split plainly.
    """
    y = np.asarray(y)
    if task == "classification":
        classes, counts = np.unique(y, return_counts=True)
        if len(classes) < 2:
            raise UsageError(f"the label column has only one class ({classes.tolist()[0]!r}); a classifier needs two or more.")
    elif len(y) < 2:
        raise UsageError(f"DATA has {len(y)} row; learning and testing need at least two.")
    if test is not None:
        X_test, y_test = test
        if hasattr(X, "iloc"):
            import pandas as pd

            X_all = pd.concat([X, X_test], ignore_index=True)
        else:
            X_all = list(X) + list(X_test)
        y_all = np.concatenate([y, np.asarray(y_test)])
        folds = [(np.arange(len(X)), np.arange(len(X), len(X_all)))]
        return Evaluation(X_all, y_all, folds, f"held-out test set of {len(X_test)} rows", task)
    if cv is not None:
        if cv < 2:
            raise UsageError(f"--cv must be at least 2, got {cv}.")
        if task != "classification":
            if len(y) < cv:
                raise UsageError(f"--cv {cv}: DATA has only {len(y)} rows, fewer than the {cv} folds; use a smaller --cv.")
            folds = list(KFold(cv, shuffle=True, random_state=seed).split(np.zeros(len(y))))
            return Evaluation(_rows(X), y, folds, f"{cv}-fold cross-validation", task)
        if counts.min() < cv:
            raise UsageError(
                f"--cv {cv}: class {classes.tolist()[counts.argmin()]!r} has only {counts.min()} rows, fewer than the "
                f"{cv} folds; use a smaller --cv or --test-size."
            )
        folds = list(StratifiedKFold(cv, shuffle=True, random_state=seed).split(np.zeros(len(y)), y))
        return Evaluation(_rows(X), y, folds, f"{cv}-fold stratified cross-validation", task)
    test_size = 0.2 if test_size is None else test_size
    if not 0 < test_size < 1:
        raise UsageError(f"--test-size must be between 0 and 1, got {test_size}.")
    if task == "classification" and counts.min() < 2:
        raise UsageError(
            f"class {classes.tolist()[counts.argmin()]!r} has a single row, so it cannot be in both the training and "
            "the test set; add rows or drop the class."
        )
    index = np.arange(len(y))
    stratify = y if task == "classification" else None
    try:
        train, held_out = train_test_split(index, test_size=test_size, stratify=stratify, random_state=seed)
    except ValueError as exc:
        raise UsageError(f"--test-size {test_size}: {exc}") from None
    kind = "stratified held-out" if task == "classification" else "held-out"
    return Evaluation(_rows(X), y, [(train, held_out)], f"{kind} {test_size:.0%} of {len(y)} rows", task)


def check_sizes(comparison):
    """Fail before any fit if a train size cannot be drawn from every fold."""
    smallest = min((s for s in comparison.sizes if s is not None), default=None)
    if smallest is not None and smallest > comparison.evaluation.n_train:
        raise UsageError(
            f"--train-sizes: the smallest size, {smallest}, is more than the {comparison.evaluation.n_train} training "
            "rows; use smaller sizes or 'all'."
        )
    if not comparison.evaluation.stratified:
        return  # a plain random subset of any size up to the training rows can be drawn
    n_classes = len(np.unique(comparison.evaluation.y))
    if smallest is not None and smallest < n_classes:
        raise UsageError(
            f"--train-sizes: {smallest} rows cannot hold one row of each of the {n_classes} classes; use a larger size."
        )
    for size in comparison.sizes:
        for train_index, _ in comparison.evaluation.folds:
            try:
                subsample(train_index, comparison.evaluation.y, size, comparison.seed)
            except ValueError as exc:
                raise UsageError(f"--train-sizes: cannot draw a stratified subset of {size} rows: {exc}") from None
