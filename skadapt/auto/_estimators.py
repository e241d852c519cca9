"""``AutoClassifier`` and ``AutoRegressor``: the way, chosen inside ``fit`` within a time budget.

The search is the engine of ``skadapt compare --time-budget`` (``_engine.Comparison``): every candidate way on
a validation split, cheapest first, over growing numbers of training rows; after the first rung only the ways whose
learning curves may still win go on to more rows (successive halving), a fit estimated to overrun what is left of
the budget is skipped, and fine-tuning runs the rows and epochs that fit; on multi-label data each way is cut
where its validation score is best. Each way's fit on the most rows it reached is its candidate; the winner is
refitted on every row when the budget allows."""

import math
import numbers
import re
import time
import warnings
from dataclasses import dataclass, field

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin
from sklearn.utils.validation import check_is_fitted

# Candidates by what X is, cheapest first (the engine's priors rank them so): a table adds gradient
# boosting on its other columns, and on text features beside them.
TEXT_WAYS = ("tfidf", "scratch", "transfer", "finetune")
TABLE_WAYS = ("other", "tfidf", "scratch", "transfer", "transfer-hgb", "finetune")
# Successive halving divides the rows by 4 per rung, 3 rungs at most, and stops where a rung would hold
# fewer than 64 rows or 8 per class: below that, validation scores are mostly noise.
RUNG_FACTOR, MAX_RUNGS, MIN_RUNG_ROWS, MIN_RUNG_ROWS_PER_CLASS = 4, 3, 64, 8
# Among the ways within one standard error of the best validation score, the first of these wins: how often
# each won on our measurements (fine-tuning first at every size of SST-2, TREC, CR, EmoBank, GoEmotions and
# the clothing table; transfer above scratch on most of them, below on all of SST-2, GoEmotions, the table). On a few dozen rows the scores differ mostly by chance (5-fold on 16
# CR rows put scratch first, 11.8 points below fine-tuning on the test set); on thousands the error is small
# and the scores decide.
PREFERENCE = ("finetune", "transfer", "scratch", "transfer-hgb", "tfidf", "other")
_UNITS = {"": 1, "s": 1, "sec": 1, "min": 60, "m": 60, "h": 3600}


def parse_budget(value, name="time_budget"):
    """Seconds from a positive number, or a string such as ``"90s"``, ``"10min"`` or ``"1.5h"``."""
    seconds = None
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        seconds = float(value)
    elif isinstance(value, str):
        match = re.fullmatch(r"\s*(\d+(?:\.\d*)?)\s*(s|sec|min|m|h)?\s*", value)
        if match:
            seconds = float(match.group(1)) * _UNITS[match.group(2) or ""]
    if seconds is None or not math.isfinite(seconds) or seconds <= 0:
        raise ValueError(
            f"{name} must be a positive number of seconds or a string such as '90s', '10min' or '1h', got {value!r}."
        )
    return seconds


def rung_sizes(n_train, n_classes=1):
    """The training rows of each rung, ``None`` (all of them) last: e.g. 6,920 rows -> [432, 1730, None]."""
    floor = max(MIN_RUNG_ROWS, MIN_RUNG_ROWS_PER_CLASS * n_classes)
    sizes, rows = [None], n_train
    while len(sizes) < MAX_RUNGS and rows // RUNG_FACTOR >= floor:
        rows //= RUNG_FACTOR
        sizes.insert(0, rows)
    return sizes


@dataclass
class TableColumns:
    """A table's columns as the engine reads them (the estimators' ``text_columns`` and the rest)."""

    text: list
    other: dict = field(default_factory=dict)

    @property
    def names(self):
        return list(self.text) + list(self.other)


class _AutoEstimator(BaseEstimator):
    """The search, the refit and the delegation to the winner; the task subclasses say what ``y`` is."""

    _task_kind = None

    def __init__(self, time_budget="10min", *, ways=None, validation=0.2, scoring=None, backbone="minilm",
                 scratch_backbone="textcnn", text_columns=None, random_state=0, verbose=0):
        self.time_budget = time_budget
        self.ways = ways
        self.validation = validation
        self.scoring = scoring
        self.backbone = backbone
        self.scratch_backbone = scratch_backbone
        self.text_columns = text_columns
        self.random_state = random_state
        self.verbose = verbose

    # -- checks ---------------------------------------------------------------
    def _task(self, y):
        raise NotImplementedError

    def _read_X(self, X):
        """``X`` as the engine takes it: a list of texts, or a DataFrame and its columns."""
        from .._texts import check_texts
        from ..tables import detect_kinds

        if hasattr(X, "columns") and len(X.columns) > 1:
            kinds = detect_kinds(X, self.text_columns)
            text = [name for name, kind in kinds.items() if kind == "text"]
            if not text:
                raise ValueError(
                    f"X is a table with no text column: none of {', '.join(map(repr, kinds))} holds strings of "
                    "several words; name the text columns with text_columns=[...]."
                )
            other = {name: kind for name, kind in kinds.items() if kind != "text"}
            return X.reset_index(drop=True), TableColumns(text, other)
        return list(check_texts(X, self.backbone)), None

    def _check_ways(self, columns):
        from ._engine import STRATEGIES

        if self.ways is None:
            ways = TABLE_WAYS if columns is not None else TEXT_WAYS
            return [w for w in ways if w != "other" or columns.other]
        ways = [self.ways] if isinstance(self.ways, str) else list(self.ways)
        if not ways:
            raise ValueError(f"ways must name at least one way of {', '.join(STRATEGIES)}, got an empty list.")
        for way in ways:
            if way not in STRATEGIES:
                raise ValueError(f"ways holds the unknown way {way!r}; choose from {', '.join(STRATEGIES)}.")
            if way == "other" and not (columns is not None and columns.other):
                raise ValueError(
                    "ways holds 'other', which learns from a table's columns besides its text, and X has none."
                )
        return list(dict.fromkeys(ways))

    def _check_scoring(self, task):
        from ._engine import METRICS

        if self.scoring is None:
            return METRICS[task][0]
        if self.scoring not in METRICS[task]:
            raise ValueError(f"scoring must be None or one of {', '.join(METRICS[task])} for {task} data, "
                             f"got {self.scoring!r}.")
        return self.scoring

    def _evaluation(self, X, y, task):
        """The validation folds over the training rows: a held-out fraction, or K folds."""
        from sklearn.model_selection import KFold, StratifiedKFold, train_test_split

        from ._engine import Evaluation

        index = np.arange(len(y))
        # single labels are stratified where every class can be in every part
        counts = np.unique(y, return_counts=True)[1] if task == "classification" else None
        v = self.validation
        if isinstance(v, numbers.Integral) and not isinstance(v, bool):
            if not 2 <= v <= len(y):
                raise ValueError(f"validation={v} folds need between 2 and {len(y)} (the rows), got {v}.")
            stratify = counts is not None and counts.min() >= v
            splitter = StratifiedKFold if stratify else KFold
            folds = list(splitter(v, shuffle=True, random_state=self._seed()).split(index, y if stratify else None))
            return Evaluation(X, y, folds, f"{v}-fold cross-validation", task)
        if not (isinstance(v, float) and 0 < v < 1):
            raise ValueError(f"validation must be a fraction in (0, 1) held out or a number of folds >= 2, got {v!r}.")
        held = round(v * len(y))
        stratify = counts is not None and counts.min() >= 2 and min(held, len(y) - held) >= len(counts)
        train, held_out = train_test_split(index, test_size=v, random_state=self._seed(),
                                           stratify=y if stratify else None)
        return Evaluation(X, y, [(train, held_out)], f"held-out {v:.0%} of {len(y)} rows", task)

    def _seed(self):
        from ..estimators._execution import seed_from

        seed = seed_from(self.random_state)
        return 0 if seed is None else seed

    # -- fit ------------------------------------------------------------------
    def fit(self, X, y):
        """Search the ways on a validation split within ``time_budget``, then refit the winner on every row.

        Parameters
        ----------
        X : list of str, 1-D array, Series or DataFrame
            Texts, or a table with text columns.
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
            As the estimators of each way take it.

        Returns
        -------
        self
        """
        from ._engine import BUDGET_EPOCH_WAYS, Comparison, make_estimator
        from ._multilabel import set_threshold

        started = time.perf_counter()
        budget = parse_budget(self.time_budget)
        X, columns = self._read_X(X)
        y, task = self._task(y, len(X))
        ways = self._check_ways(columns)
        metric = self._check_scoring(task)
        evaluation = self._evaluation(X, y, task)
        n_classes = len(np.unique(y)) if task == "classification" else 1
        n_outputs = y.shape[1] if y.ndim == 2 else 1
        options = dict(backbone=self.backbone, scratch_backbone=self.scratch_backbone, seed=self._seed(),
                       verbose=int(self.verbose), columns=columns)
        # multi-label: each way cut where its validation score is best (see _multilabel)
        comparison = Comparison(evaluation, ways, rung_sizes(evaluation.n_train, n_classes), max_epochs=None,
                                time_budget=budget, keep_models=True, halving=True, metric=metric,
                                threshold="tune" if task == "multilabel" else 0.5, reuse_features=True, **options)
        first = comparison.sizes[0] or evaluation.n_train

        def cost(way):  # its first fit, on the first rung's rows and (fine-tuning) one epoch
            return comparison.estimate(way, first, 1 if way in BUDGET_EPOCH_WAYS else None)

        cheapest = min(ways, key=cost)
        needed = cost(cheapest)
        if needed > budget:
            raise ValueError(
                f"time_budget={self.time_budget!r} ({budget:.0f} s) is too small to fit any way on these "
                f"{len(y)} rows: the cheapest, {cheapest}, needs about {math.ceil(needed)} s; give at least that."
            )
        rows, interrupted = [], False
        try:
            for row in comparison.run():
                rows.append(row)
        except KeyboardInterrupt:
            interrupted = True
        # Each way's candidate is its fit on the most rows it reached (the model the search kept for it); all
        # are scored on the same validation rows, so a way the budget stopped on fewer rows can still win.
        finals = {}
        for row in rows:
            if row.get("status") == "ok" and row.get(metric) is not None:
                finals[row["strategy"]] = row
        if not finals:
            if interrupted:
                raise KeyboardInterrupt
            raise RuntimeError("no way finished within time_budget; see the statuses: "
                               + "; ".join(f"{r['strategy']}: {r['status']}" for r in rows))
        chosen = _within_noise(list(finals.values()), metric, evaluation)
        winner, epochs, threshold = chosen["strategy"], chosen.get("epochs"), chosen.get("threshold")
        model, refitted = comparison.last_models[winner], False
        left = budget - (time.perf_counter() - started)
        if not interrupted and comparison.fit_seconds(winner, len(y), epochs) <= left:
            model = make_estimator(winner, max_epochs=epochs, task=task, n_rows=len(y), n_outputs=n_outputs,
                                   **options)
            model.fit(X, y)
            refitted = True
        if threshold is not None:
            threshold = set_threshold(model, threshold)
        if interrupted:
            warnings.warn(f"fit was interrupted: keeping the best model found so far ({winner} on "
                          f"{chosen['train_rows']} rows).", UserWarning, stacklevel=2)
        self.best_estimator_ = model
        self.best_params_ = {"way": winner, **({"max_epochs": epochs} if epochs is not None else {}),
                             **({"threshold": threshold} if threshold is not None else {})}
        self.best_score_ = chosen[metric]
        self.scoring_ = metric
        self.task_ = task
        self.refitted_ = refitted
        self.leaderboard_ = _leaderboard(rows, metric)
        self.fit_seconds_ = time.perf_counter() - started
        self._set_task_attributes(model, y)
        return self

    def _set_task_attributes(self, model, y):
        pass

    # -- the winner's answers -----------------------------------------------------
    def predict(self, X):
        """The winner's predictions.

        Parameters
        ----------
        X : list of str, 1-D array, Series or DataFrame
            Texts, or a table with the columns seen in ``fit``.

        Returns
        -------
        y_pred : ndarray of shape (n_samples,) or (n_samples, n_outputs)
            ``best_estimator_.predict(X)``.
        """
        check_is_fitted(self)
        return self.best_estimator_.predict(X)

    def _skadapt_saved_model(self):
        """What ``skadapt.save`` and ``export_onnx`` write for this estimator: the chosen model."""
        check_is_fitted(self)
        return self.best_estimator_

    def __sklearn_is_fitted__(self):
        return hasattr(self, "best_estimator_")


def _within_noise(candidates, metric, evaluation):
    """Among the candidates within one standard error of the best, the one fitted on the most rows (more rows
    are a safer bet than a difference within the noise), and among those the preferred way (``PREFERENCE``).

    The error: the folds' spread over the square root of their number; on one held-out split, the binomial
    error of an accuracy (other metrics: none, the best score decides). On 3 validation rows it is about 0.23,
    so on few rows the preference decides, as the measurements say it should.
    """
    from ._engine import LOWER_IS_BETTER

    sign = -1 if metric in LOWER_IS_BETTER else 1
    best = max(candidates, key=lambda r: sign * r[metric])
    n_folds = len(evaluation.folds)
    if n_folds > 1:
        error = (best.get(f"{metric}_std") or 0.0) / math.sqrt(n_folds)
    elif metric == "accuracy":  # binomial, with a success and a failure added: 3 right of 3 is not certainty
        n = len(evaluation.folds[0][1])
        p = (best[metric] * n + 1) / (n + 2)
        error = math.sqrt(p * (1 - p) / n)
    else:
        error = 0.0
    close = [r for r in candidates if sign * (best[metric] - r[metric]) <= error]
    most = max(r["train_rows"] for r in close)
    return min((r for r in close if r["train_rows"] == most),
               key=lambda r: PREFERENCE.index(r["strategy"]) if r["strategy"] in PREFERENCE else len(PREFERENCE))


def _leaderboard(rows, metric):
    """One line per (way, rows) the search tried, in the order tried, as a DataFrame (``epochs``: those of each
    fit whose epochs the search set, else missing)."""
    import pandas as pd

    tuned = any("threshold" in row for row in rows)  # multi-label: each fit's cut
    table = pd.DataFrame([{
        "way": row["strategy"], "model": row["model"], "train_rows": row["train_rows"], "epochs": row.get("epochs"),
        **({"threshold": row.get("threshold")} if tuned else {}),
        metric: row.get(metric), "fit_s": row.get("fit_s"), "predict_s_per_1k": row.get("predict_s_per_1k"),
        "status": row["status"],
    } for row in rows])
    table["epochs"] = table["epochs"].astype("Int64")
    return table


class AutoClassifier(ClassifierMixin, _AutoEstimator):
    """Learning from scratch, transfer or fine-tuning, chosen for your data inside ``fit``, within a time budget.

    ``fit`` holds out ``validation`` of the rows and tries the ways on them
    as ``skadapt compare --time-budget`` does, cheapest first: TF-IDF with a
    logistic regression, ``ScratchClassifier``, ``PretrainedFeaturizer``
    with a logistic regression (C by 3-fold CV) and ``FineTunedClassifier``
    (on a table also gradient boosting on its other columns, and on text
    features beside them). Each way first learns from a quarter (or a
    sixteenth) of the training rows and then four times as many; from there
    only the ways whose learning curves, extended to all the rows, may still
    reach the best score go on (successive halving), a fit estimated to
    overrun the time left is skipped, and fine-tuning trains one epoch
    before the last rung it can reach and, on that one, as many rows and
    then epochs as fit.
    Each way's fit on the most rows it reached is its candidate, all
    scored on the same validation rows; the best is refitted on every row
    when the budget allows (``refitted_``), else its model from the search
    is kept.
    Single-label and multi-label (a 0/1 indicator ``y``). On multi-label
    data each way's probabilities are cut where its validation score is
    best (0.05 to 0.95 in steps of 0.05; a cut of 0.5 predicts almost no
    label of a model trained briefly on rare labels), and the winner keeps
    its cut: ``predict``, ``skadapt.save`` and ``export_onnx`` use it.

    Parameters
    ----------
    time_budget : float or str, default="10min"
        Seconds, or a string such as ``"90s"``, ``"10min"``, ``"1h"``: ``fit``
        plans to return within it, final refit included (fits are skipped
        on estimates, so it can run over when an estimate is wrong).
    ways : list of str, default=None
        Candidates among ``"tfidf"``, ``"scratch"``, ``"transfer"``,
        ``"transfer-hgb"``, ``"finetune"``, (tables) ``"other"`` and, with
        the plugin skadapt-static, ``"static"``; None: all that suit X
        (``"static"`` only when named).
    validation : float or int, default=0.2
        The fraction of rows held out to score the ways, or a number of
        cross-validation folds (each costs a fit of every way).
    scoring : str, default=None
        ``"accuracy"`` or ``"macro_f1"`` (multi-label: ``"micro_f1"``,
        ``"macro_f1"``, ``"samples_jaccard"``); None: the first.
    backbone : str, default="minilm"
        The pretrained backbone of transfer and fine-tuning.
    scratch_backbone : str, default="textcnn"
        The backbone ``ScratchClassifier`` trains from random weights.
    text_columns : list of str, default=None
        On a table, its text columns (None: detected).
    random_state : int, default=0
        Seeds the split and every candidate: the same value gives the same winner.
    verbose : int, default=0
        Passed to the candidates.

    Attributes
    ----------
    best_estimator_ : estimator or Pipeline
        The chosen model, fitted; ``predict`` and ``predict_proba`` go through it.
    best_params_ : dict
        ``{"way": ...}``, ``"max_epochs"`` when the search set the
        winner's epochs (fine-tuning), and on multi-label data the
        ``"threshold"`` its probabilities are cut at.
    best_score_ : float
        The winner's validation score.
    leaderboard_ : pandas.DataFrame
        Every (way, rows) tried: the epochs the search set (fine-tuning),
        the threshold chosen (multi-label), validation score, fit seconds,
        predict seconds per 1,000 rows, status (``ok``, ``skipped: ...``, ``stopped: ...``, ``failed: ...``).
    classes_ : ndarray
        The labels, as the winner holds them.
    refitted_ : bool
        Whether the winner was refitted on every row.

    Examples
    --------
    >>> from skadapt import AutoClassifier
    >>> from skadapt.datasets import load_sst2
    >>> X, y = load_sst2(return_X_y=True)
    >>> clf = AutoClassifier(time_budget="20s", ways=["tfidf", "scratch"]).fit(X[:300], y[:300])
    >>> clf.best_params_["way"] in ("tfidf", "scratch"), list(clf.leaderboard_.columns)[:3]
    (True, ['way', 'model', 'train_rows'])
    """

    def _task(self, y, n_samples):
        from ..estimators._targets import check_classification_targets

        targets = check_classification_targets(y, n_samples)
        y = np.asarray(y)
        return y, "multilabel" if targets.attributes["multilabel_"] else "classification"

    def _set_task_attributes(self, model, y):
        self.classes_ = getattr(model, "classes_", None)
        if self.classes_ is None:
            self.classes_ = np.unique(y) if y.ndim == 1 else np.arange(y.shape[1])

    def predict_proba(self, X):
        """The winner's probabilities (columns follow ``classes_``).

        Parameters
        ----------
        X : list of str, 1-D array, Series or DataFrame
            Texts, or a table with the columns seen in ``fit``.

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes)
            ``best_estimator_.predict_proba(X)``; for multi-label ``y`` one
            column per label.
        """
        check_is_fitted(self)
        return self.best_estimator_.predict_proba(X)


class AutoRegressor(RegressorMixin, _AutoEstimator):
    """The way that predicts your scores best, chosen inside ``fit`` within a time budget.

    As :class:`AutoClassifier`, with the regressors: TF-IDF with ridge
    regression, ``ScratchRegressor``, ``PretrainedFeaturizer`` with ridge
    regression and ``FineTunedRegressor``; ``y`` of shape ``(n,)`` or
    ``(n, k)``.

    Parameters
    ----------
    time_budget : float or str, default="10min"
        Seconds, or a string such as ``"90s"``, ``"10min"``, ``"1h"``.
    ways : list of str, default=None
        Candidates (see :class:`AutoClassifier`); None: all that suit X.
    validation : float or int, default=0.2
        The fraction of rows held out, or a number of folds.
    scoring : str, default=None
        ``"rmse"``, ``"mae"``, ``"r2"`` or ``"spearman"``; None: ``"rmse"``.
    backbone : str, default="minilm"
        The pretrained backbone of transfer and fine-tuning.
    scratch_backbone : str, default="textcnn"
        The backbone ``ScratchRegressor`` trains from random weights.
    text_columns : list of str, default=None
        On a table, its text columns (None: detected).
    random_state : int, default=0
        Seeds the split and every candidate.
    verbose : int, default=0
        Passed to the candidates.

    Attributes
    ----------
    best_estimator_, best_params_, best_score_, leaderboard_, refitted_
        As in :class:`AutoClassifier`.

    Examples
    --------
    >>> from skadapt import AutoRegressor
    >>> from skadapt.datasets import load_emobank
    >>> X, y = load_emobank(return_X_y=True)
    >>> reg = AutoRegressor(time_budget=20, ways=["tfidf", "scratch"]).fit(X[:300], y[:300])
    >>> reg.scoring_, reg.predict(X[:2]).shape  # valence, arousal, dominance
    ('rmse', (2, 3))
    """

    def _task(self, y, n_samples):
        from ..estimators._targets import check_regression_targets

        check_regression_targets(y, n_samples)
        return np.asarray(y, dtype=np.float64), "regression"
