"""The search engine of ``skadapt compare`` and the Auto estimators: every way on the same splits, over growing
train sizes, cheapest first, within a time budget; with ``halving``, only the ways whose learning curves may still
win go on to more rows."""

import math
import sys
import time
import traceback
import warnings
from dataclasses import dataclass, field

import numpy as np
from sklearn.metrics import (
    accuracy_score,
    f1_score,
    jaccard_score,
    mean_absolute_error,
    r2_score,
    root_mean_squared_error,
)
from sklearn.model_selection import train_test_split
from tqdm.auto import tqdm

from .._long_texts import LongTextWarning
from ..cache.embeddings import clear_memory
from ._multilabel import choose_threshold

STRATEGIES = ("scratch", "transfer", "transfer-hgb", "finetune", "tfidf", "other", "static")
DESCRIPTIONS = {
    "classification": {
        "scratch": "ScratchClassifier({scratch})",
        "transfer": "PretrainedFeaturizer + LogisticRegression (C by 3-fold CV)",
        "transfer-hgb": "PretrainedFeaturizer + HistGradientBoostingClassifier",
        "finetune": "FineTunedClassifier",
        "tfidf": "TfidfVectorizer + LogisticRegression",
        "other": "OtherColumns + HistGradientBoostingClassifier",
        "static": "FineTunedClassifier(static:BACKBONE, lr=1e-3): static embeddings trained",
    },
    "regression": {
        "scratch": "ScratchRegressor({scratch})",
        "transfer": "PretrainedFeaturizer + RidgeCV (alpha by leave-one-out)",
        "transfer-hgb": "PretrainedFeaturizer + HistGradientBoostingRegressor",
        "finetune": "FineTunedRegressor",
        "tfidf": "TfidfVectorizer + RidgeCV (alpha by leave-one-out; 5-fold above 2000 rows)",
        "other": "OtherColumns + HistGradientBoostingRegressor",
        "static": "FineTunedRegressor(static:BACKBONE, lr=1e-3): static embeddings trained",
    },
    "multilabel": {
        "scratch": "ScratchClassifier({scratch}), multi-label",
        "transfer": "PretrainedFeaturizer + one-vs-rest LogisticRegression (C=1)",
        "transfer-hgb": "PretrainedFeaturizer + one-vs-rest HistGradientBoostingClassifier",
        "finetune": "FineTunedClassifier, multi-label",
        "tfidf": "TfidfVectorizer + one-vs-rest LogisticRegression (C=1)",
        "other": "OtherColumns + one-vs-rest HistGradientBoostingClassifier",
        "static": "FineTunedClassifier(static:BACKBONE, lr=1e-3), multi-label",
    },
}
# On a table: what each strategy reads besides its text (the estimators' fusion of the other columns).
TABLE_NOTES = {
    "scratch": "{model}, text + other columns",
    "transfer": "{model}, text + other columns",
    "transfer-hgb": "{model}, text + other columns",
    "finetune": "{model}, text + other columns",
    "tfidf": "{model}: one TfidfVectorizer per text column + OtherColumns",
    "other": "{model}: the other columns alone",
    "static": "{model}, text + other columns",
}
# The figures reported for each task, the first one ranking the strategies.
METRICS = {
    "classification": ("accuracy", "macro_f1"),
    "regression": ("rmse", "mae", "r2", "spearman"),
    "multilabel": ("micro_f1", "macro_f1", "samples_jaccard"),
}
LOWER_IS_BETTER = {"rmse", "mae"}
RIDGE_ALPHAS = np.logspace(-3, 3, 7)
# RidgeCV's leave-one-out on sparse TF-IDF goes through the n x n Gram matrix:
# O(n^3) time and n^2 memory (149 s on EmoBank's 8,062 rows on 2 cores, where
# 5-fold takes 10 s), so larger training sets choose alpha by 5-fold CV.
TFIDF_LOO_MAX_ROWS = 2000
# What each kind of data is compared with by default (a table's "other" only when it has other columns).
DEFAULT_STRATEGIES = {"text": ("scratch", "transfer", "finetune", "tfidf"), "image": ("scratch", "transfer", "finetune"),
                      "table": ("other", "tfidf", "scratch", "transfer", "transfer-hgb", "finetune")}
DEFAULT_SCRATCH_BACKBONE = {"text": "textcnn", "image": "cnn"}
# Seconds per training row per epoch, measured on 2 CPU cores (benchmarks/README.md);
# used for --time-budget until a strategy's first fit gives its own rate.
PRIOR_SECONDS_PER_ROW = {"scratch": 0.0012, "transfer": 0.004, "transfer-hgb": 0.004, "finetune": 0.02,
                         "tfidf": 0.0002, "other": 0.0001, "static": 0.0003}
# Seconds per predicted row, likewise.
PRIOR_PREDICT_SECONDS_PER_ROW = {"scratch": 0.0004, "transfer": 0.0035, "transfer-hgb": 0.0035, "finetune": 0.004,
                                 "tfidf": 0.00002, "other": 0.00001, "static": 0.00006}
DEFAULT_EPOCHS = {"scratch": 10, "finetune": 3, "static": 3}
# The static way: model2vec static embeddings distilled from the backbone (the plugin
# skadapt-static), trained as FineTuned* does at the rate an embedding table needs
# (the transformer's 5e-5 barely moves it: 0.776 against 0.836 on SST-2, benchmarks/static.py).
STATIC_LR = 1e-3
# Under a time budget with halving (the Auto search), the pretrained ways that are trained run one epoch on the rungs
# before the last they can reach, and on that one as many epochs as fit in the time left (at least one, at most
# their default): their first epoch over more rows gains more than more epochs over fewer rows in the same time
# (SST-2, on 2 AVX2 cores: 1,384 rows x 1 epoch 0.829 test accuracy in 30 s, 346 rows x 3 epochs 0.812 in 30 s,
# 1,384 x 2 0.835 in 50 s). Scratch keeps its epochs: a network from random weights needs them.
BUDGET_EPOCH_WAYS = ("finetune", "static")
PROBE_EPOCHS = 1
# On that last rung they take the rows one epoch over fits in this share of the time left: the estimate, from a
# fit on a quarter of the rows or fewer, can be low (GoEmotions at 2 minutes, filling all of it: 3,890 rows,
# 130 s in all).
BUDGET_ROWS_SHARE = 0.9
# Fine-tuning few rows per class runs the contrastive stage first, which costs far more per row:
# 0.26 to 0.9 s per row at 8 and 64 rows per class in benchmarks/fewshot.py (one core per process).
PRIOR_FEWSHOT_FINETUNE_SECONDS_PER_ROW = 0.4


def primary_metric(task):
    return METRICS[task][0]


def describe(strategy, task, scratch_backbone, table=False):
    """The model behind a strategy, as the results table names it."""
    model = DESCRIPTIONS[task][strategy].format(scratch=scratch_backbone)
    return TABLE_NOTES[strategy].format(model=model) if table else model


def make_estimator(strategy, *, backbone, max_epochs, seed, verbose, scratch_backbone="textcnn", task="classification",
                   n_rows=None, long_texts="chunk", columns=None, n_outputs=1, contrastive_steps="auto"):
    """The estimator behind each strategy name, for ``task`` and ``n_rows`` training rows
    (``long_texts``: the policy of the neural ways for texts past their backbone's limit;
    ``columns``: a table's :class:`~skadapt.cli.data.Columns`, None for a list of texts;
    ``contrastive_steps``: fine-tuning's, see ``FineTuned*``)."""
    from sklearn.compose import ColumnTransformer
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.pipeline import make_pipeline

    from ..estimators import (FineTunedClassifier, FineTunedRegressor, PretrainedFeaturizer, ScratchClassifier,
                              ScratchRegressor)
    from ..tables import OtherColumns

    epochs = {} if max_epochs is None else {"max_epochs": max_epochs}
    table = {} if columns is None else {"text_columns": list(columns.text)}
    regression = task == "regression"  # multi-label: the classifiers, given the 0/1 indicator matrix
    if strategy == "scratch":
        scratch = ScratchRegressor if regression else ScratchClassifier
        return scratch(backbone=scratch_backbone, random_state=seed, verbose=verbose, long_texts=long_texts,
                       **table, **epochs)
    if strategy == "finetune":
        finetuned = FineTunedRegressor if regression else FineTunedClassifier
        return finetuned(backbone=backbone, random_state=seed, verbose=verbose, long_texts=long_texts,
                         contrastive_steps=contrastive_steps, **table, **epochs)
    if strategy == "static":
        finetuned = FineTunedRegressor if regression else FineTunedClassifier
        return finetuned(backbone=static_backbone(backbone), lr=STATIC_LR, random_state=seed, verbose=verbose,
                         long_texts=long_texts, **table, **epochs)
    if strategy in ("transfer", "transfer-hgb"):
        featurizer = PretrainedFeaturizer(backbone=backbone, verbose=verbose, long_texts=long_texts, **table)
        return make_pipeline(featurizer, make_head(strategy, task, n_rows, n_outputs, seed))
    if strategy == "other":
        return make_pipeline(OtherColumns(**table), make_head(strategy, task, n_rows, n_outputs, seed))
    if columns is None:
        return make_pipeline(TfidfVectorizer(), make_head(strategy, task, n_rows))
    # a table: each text column's own vocabulary, the other columns preprocessed as the estimators do;
    # OtherColumns reads the whole row (it drops the text columns itself)
    branches = [(f"tfidf_{name}", TfidfVectorizer(), name) for name in columns.text]
    if columns.other:
        branches.append(("other", OtherColumns(**table), columns.names))
    return make_pipeline(ColumnTransformer(branches), make_head(strategy, task, n_rows))


def static_backbone(backbone):
    """The static way's backbone: static embeddings distilled from ``backbone`` (``"minilm"`` when None)."""
    return f"static:{backbone or 'minilm'}"


def make_head(strategy, task, n_rows=None, n_outputs=1, seed=0):
    """The sklearn model that transfer, tfidf and other fit on their features."""
    from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor
    from sklearn.linear_model import LogisticRegression, RidgeCV
    from sklearn.model_selection import GridSearchCV
    from sklearn.multioutput import MultiOutputRegressor

    from ..estimators import ThresholdedOneVsRest

    if strategy in ("transfer-hgb", "other"):  # gradient boosting: one model per output or label
        if task == "regression":
            boosted = HistGradientBoostingRegressor(random_state=seed)
            return boosted if n_outputs == 1 else MultiOutputRegressor(boosted)
        boosted = HistGradientBoostingClassifier(random_state=seed)
        return ThresholdedOneVsRest(boosted) if task == "multilabel" else boosted
    if task == "regression":
        if strategy == "tfidf" and n_rows is not None and n_rows > TFIDF_LOO_MAX_ROWS:
            return RidgeCV(alphas=RIDGE_ALPHAS, cv=5)
        # Ridge with alpha chosen by efficient leave-one-out, for every output at once
        return RidgeCV(alphas=RIDGE_ALPHAS)
    if task == "multilabel":
        # C fixed at 1: a grid would cost one search per label (28x on GoEmotions)
        return ThresholdedOneVsRest(LogisticRegression(max_iter=1000))
    if strategy == "transfer":
        return GridSearchCV(LogisticRegression(max_iter=2000), {"C": np.logspace(-2, 3, 6)}, cv=3)
    return LogisticRegression(max_iter=1000)


def long_text_counts(model, X_train):
    """``{"long_texts", "over_limit", "limit", "dropped_share"}`` for a fitted strategy's training texts:
    how many were past its backbone's limit, and what its policy did with them (TF-IDF reads every word)."""
    from ..estimators._long import prepare, summary

    from ..tables import OtherColumns, column_texts

    estimator = model.steps[0][1] if hasattr(model, "steps") else model
    if isinstance(estimator, OtherColumns):
        return {"long_texts": "no text"}
    splitter = getattr(estimator, "text_splitter_", None)
    if splitter is None:
        return {"long_texts": None if hasattr(estimator, "backbone_") else "whole text"}
    stats = getattr(estimator, "long_text_stats_", None)
    if stats is None:  # the featurizer learns nothing in fit: count now (on a table, each text cell apart)
        texts = X_train
        if getattr(estimator, "table_", None) is not None:
            texts = [text for name in estimator.table_["text_columns"] for text in column_texts(X_train, name)]
        stats = summary(prepare(estimator.backbone_, splitter, texts, estimator.backbone, "X", warn=False)[1])
    return {"long_texts": splitter["policy"], "over_limit": stats["n_over_limit"], "limit": splitter["limit"],
            "dropped_share": round(stats["dropped_tokens"] / max(1, stats["content_tokens"]), 4)}


def _finite(value):
    """NaN (a Spearman correlation of constant predictions) becomes None, which JSON can hold."""
    return None if value is None or not np.isfinite(value) else round(float(value), 4)


def scores(task, y_true, y_pred):
    """The task's metrics; with several regression outputs, each figure is
    computed per output and then averaged over the outputs."""
    if task == "classification":
        return {"accuracy": accuracy_score(y_true, y_pred), "macro_f1": f1_score(y_true, y_pred, average="macro")}
    if task == "multilabel":
        y_pred = np.asarray(y_pred).astype(int)
        return {
            "micro_f1": f1_score(y_true, y_pred, average="micro", zero_division=0),
            "macro_f1": f1_score(y_true, y_pred, average="macro", zero_division=0),
            "samples_jaccard": jaccard_score(y_true, y_pred, average="samples", zero_division=0),
        }
    from scipy.stats import spearmanr

    y_true = np.asarray(y_true, dtype=float).reshape(len(y_true), -1)
    y_pred = np.asarray(y_pred, dtype=float).reshape(len(y_pred), -1)
    with warnings.catch_warnings():  # constant predictions: Spearman is undefined, reported as None
        warnings.simplefilter("ignore")
        spearman = [spearmanr(y_true[:, j], y_pred[:, j]).statistic for j in range(y_true.shape[1])]
    return {
        "rmse": root_mean_squared_error(y_true, y_pred, multioutput="raw_values").mean(),
        "mae": mean_absolute_error(y_true, y_pred, multioutput="raw_values").mean(),
        "r2": r2_score(y_true, y_pred, multioutput="raw_values").mean(),
        "spearman": np.mean(spearman),
    }


def take(X, index):
    """The rows ``index`` of ``X``: a list of texts or paths, or a table (a DataFrame, renumbered)."""
    if hasattr(X, "iloc"):
        return X.iloc[np.asarray(index, dtype=int)].reset_index(drop=True)
    return [X[i] for i in index]


def _rows(X):
    return X.reset_index(drop=True) if hasattr(X, "iloc") else list(X)


@dataclass
class Evaluation:
    """The folds: ``(train_index, test_index)`` pairs over ``X`` (a list, or a table's DataFrame), plus a description."""

    X: object
    y: np.ndarray
    folds: list
    description: str
    task: str = "classification"
    n_train: int = field(init=False)

    def __post_init__(self):
        self.n_train = min(len(train) for train, _ in self.folds)

    @property
    def stratified(self):
        # sklearn stratifies on one column of classes only: not on numbers, nor on label sets
        return self.task == "classification"


def subsample(train_index, y, size, seed=0, stratify=True):
    """A subset of ``size`` rows (all of them when ``size`` is None), stratified by class if ``stratify``."""
    if size is None or size >= len(train_index):
        return train_index
    subset, _ = train_test_split(train_index, train_size=size, stratify=y[train_index] if stratify else None,
                                 random_state=seed)
    return subset


class Comparison:
    """Runs every (train size, strategy, fold), one fitted model at a time.

    ``run()`` yields one result dict per (size, strategy) as it finishes, so a
    caller interrupted by Ctrl-C keeps everything finished so far.

    With ``time_budget``, a fit whose estimated seconds (measured rates once a
    strategy has run, priors before) exceed what is left is skipped. With
    ``halving`` (successive halving on rows, with a learning-curve cut), all
    strategies go on from the first size, and from later ones those whose
    curve may still reach the best score (see ``_going_on``), at least two;
    under a budget the pretrained ways that are trained then run as many
    epochs as fit (see ``budget_epochs``), recorded in the row's ``epochs``.
    ``metric`` ranks them (the task's first metric by default);
    ``reuse_features`` keeps the frozen backbone's features from fit to fit
    (the cost then measured is that of the texts not seen before). On
    multi-label data ``threshold="tune"`` cuts each strategy's probabilities
    where its validation score is best, recorded in the row's ``threshold``.
    """

    def __init__(self, evaluation, strategies, sizes, *, backbone="minilm", scratch_backbone="textcnn",
                 max_epochs=None, time_budget=None, seed=0, verbose=0, keep_models=False, threshold=0.5,
                 long_texts="chunk", columns=None, halving=False, metric=None, reuse_features=False):
        self.evaluation = evaluation
        self.strategies = strategies
        self.sizes = sizes
        self.backbone = backbone
        self.scratch_backbone = scratch_backbone
        self.max_epochs = max_epochs
        self.time_budget = time_budget
        self.seed = seed
        self.verbose = verbose
        self.keep_models = keep_models
        self.threshold = threshold  # multi-label: every strategy's probabilities cut at this, or "tune": each its own
        self.long_texts = long_texts
        self.columns = columns  # a table's Columns; None for a list of texts
        self.halving = halving
        self.reuse_features = reuse_features
        self.metric = metric or primary_metric(evaluation.task)
        self.models = {}  # strategy -> model fitted on all training rows, when keep_models
        self.last_models = {}  # strategy -> its last fitted model, when keep_models
        self._rate = {}  # strategy -> measured seconds per training row
        self._rate_few_shot = {}  # strategy -> whether that rate was measured with the contrastive stage
        self.started = None

    def _rates(self, strategy, n_rows):
        """Seconds per training row (and epoch, for the ways that train epochs) and per predicted row on
        ``n_rows``: measured once the strategy has run, priors before. A fine-tuning rate measured on one side of
        the contrastive stage's threshold says little about the other, so across it the fit's prior stands; with
        the stage, the rate is per row of the whole fit (its steps do not follow the epochs)."""
        few_shot = self._few_shot(strategy, n_rows)
        fit_rate, predict_rate = self._rate.get(strategy, (None, None))
        if fit_rate is None or self._rate_few_shot[strategy] != few_shot:
            fit_rate = PRIOR_FEWSHOT_FINETUNE_SECONDS_PER_ROW if few_shot else PRIOR_SECONDS_PER_ROW[strategy]
        if predict_rate is None:
            predict_rate = PRIOR_PREDICT_SECONDS_PER_ROW[strategy]
        return fit_rate, predict_rate

    def _epoch_factor(self, strategy, n_rows, epochs=None):
        """What the per-row rate is multiplied by: the epochs of a fit that trains epochs, else 1."""
        if strategy not in DEFAULT_EPOCHS or self._few_shot(strategy, n_rows):
            return 1
        return epochs or self.max_epochs or DEFAULT_EPOCHS[strategy]

    def fit_seconds(self, strategy, n_rows, epochs=None):
        """Seconds one fit of ``strategy`` on ``n_rows`` (``epochs``: its default when None) is expected to take."""
        return self._rates(strategy, n_rows)[0] * self._epoch_factor(strategy, n_rows, epochs) * n_rows

    def _few_shot(self, strategy, n_rows):
        """Whether FineTunedClassifier's contrastive stage runs on ``n_rows`` (see its contrastive_steps)."""
        from ..estimators._contrastive import AUTO_MAX_ROWS_PER_CLASS

        if strategy != "finetune" or self.max_epochs is not None or self.evaluation.task != "classification":
            return False
        if self._stage_skipped():
            return False
        return n_rows / len(np.unique(self.evaluation.y)) <= AUTO_MAX_ROWS_PER_CLASS

    def _stage_skipped(self):
        """Whether a budgeted halving search fine-tunes its smaller rungs without the contrastive stage: where
        all the training rows are past the stage's threshold, the final fit runs without it, so the rungs that
        probe it do too. On TREC's full set the first rung's 45 rows per class would otherwise run it, at 0.4 s
        a row (benchmarks/fewshot.py) against 0.02 s a row and epoch without: most of a 2-minute budget."""
        from ..estimators._contrastive import AUTO_MAX_ROWS_PER_CLASS

        if not self.halving or self.time_budget is None or self.evaluation.task != "classification":
            return False
        return self.evaluation.n_train / len(np.unique(self.evaluation.y)) > AUTO_MAX_ROWS_PER_CLASS

    def estimate(self, strategy, n_rows, epochs=None):
        """Seconds to fit ``n_rows`` (for ``epochs``) and predict the test rows, over all folds."""
        predict_rate = self._rates(strategy, n_rows)[1]
        n_test = sum(len(test) for _, test in self.evaluation.folds)
        return self.fit_seconds(strategy, n_rows, epochs) * len(self.evaluation.folds) + predict_rate * n_test

    def budget_epochs(self, strategy, n_rows, last, left):
        """The epochs of a fit under the budget, for the ways of ``BUDGET_EPOCH_WAYS`` in a halving search where
        the user set none: ``PROBE_EPOCHS`` before the ``last`` rung the way can reach, the default on it, fewer
        when only fewer fit in ``left`` seconds (one at least: an estimate over ``left`` then skips the fit).
        None for the others: the estimator's own."""
        if (strategy not in BUDGET_EPOCH_WAYS or not self.halving or self.time_budget is None
                or self.max_epochs is not None or self._few_shot(strategy, n_rows)):
            return None
        planned = DEFAULT_EPOCHS[strategy] if last else min(PROBE_EPOCHS, DEFAULT_EPOCHS[strategy])
        fitting = [e for e in range(planned, 0, -1) if self.estimate(strategy, n_rows, e) <= left]
        return fitting[0] if fitting else 1

    def budget_rows(self, strategy, n_rows, left):
        """The rows of a fit on the last rung ``strategy`` can reach, for the ways of ``BUDGET_EPOCH_WAYS`` in a
        halving search where the user set no epochs: as many as one epoch over them fits in ``BUDGET_ROWS_SHARE``
        of ``left`` seconds, up to all the training rows (the epochs then fill what is left, see
        ``budget_epochs``). The rungs grow four times, so the time between this rung and the next would otherwise
        go unused: a first epoch over more rows gains more than more epochs (``PROBE_EPOCHS``' measurements).
        ``n_rows`` for the other ways and where the contrastive stage runs on either side (its cost does not
        follow rows and epochs)."""
        if not self._plans_rows(strategy, n_rows):
            return n_rows
        rows = max(n_rows, min(self.evaluation.n_train, self._rows_that_fit(strategy, left)))
        return n_rows if self._few_shot(strategy, rows) else rows

    def fewer_rows(self, strategy, n_rows, left, had):
        """When a fit of ``strategy`` on its rung's ``n_rows`` would overrun ``left`` (the other ways' fits on
        that rung took longer than planned), the rows one epoch over fits, as ``budget_rows``, if that is at
        least twice the ``had`` rows of its last fit; else None (the fit is skipped)."""
        if not self._plans_rows(strategy, n_rows):
            return None
        rows = min(n_rows, self._rows_that_fit(strategy, left))
        return rows if rows >= 2 * had and not self._few_shot(strategy, rows) else None

    def _plans_rows(self, strategy, n_rows):
        return (strategy in BUDGET_EPOCH_WAYS and self.halving and self.time_budget is not None
                and self.max_epochs is None and not self._few_shot(strategy, n_rows))

    def _rows_that_fit(self, strategy, left):
        fixed = self.estimate(strategy, 0, PROBE_EPOCHS)  # predicting the validation rows
        per_row = self.estimate(strategy, 1, PROBE_EPOCHS) - fixed
        return int((BUDGET_ROWS_SHARE * left - fixed) / per_row) if per_row > 0 else self.evaluation.n_train

    def _last_for(self, strategy, size, sizes, left):
        """Whether ``size`` is the last rung ``strategy`` can reach: the last of all, or one after which its next
        rung, even for one epoch, would not fit in what is left (its fit here then gets the epochs that fit)."""
        if size == sizes[-1]:
            return True
        following = sizes[sizes.index(size) + 1] or self.evaluation.n_train
        probe = PROBE_EPOCHS if strategy in BUDGET_EPOCH_WAYS else None
        return self.estimate(strategy, size, probe) + self.estimate(strategy, following, probe) > left

    def left(self):
        """Seconds of the budget left (None: no budget)."""
        if self.time_budget is None:
            return None
        return self.time_budget - (time.perf_counter() - self.started)

    def run(self):
        ev = self.evaluation
        # a size at least as large as the training data is "all" of it
        sizes = list(dict.fromkeys(None if s is None or s >= ev.n_train else s for s in self.sizes))
        self.started = time.perf_counter()
        total = len(sizes) * len(self.strategies) * len(ev.folds)
        going_on, dropped, curves = list(self.strategies), {}, {}
        with tqdm(total=total, desc="compare", unit="fit", disable=None) as bar:
            for size in sizes:
                finished = []
                for strategy in self.strategies:
                    n_rows = ev.n_train if size is None else size
                    model = describe(strategy, ev.task, self.scratch_backbone, self.columns is not None)
                    row = {"strategy": strategy, "model": model,
                           "train_size": "all" if size is None else size, "train_rows": n_rows}
                    had = curves[strategy][-1][0] if curves.get(strategy) else 0  # the rows of its last fit
                    if had >= ev.n_train:  # its last rung took all the rows already (budget_rows)
                        bar.update(len(ev.folds))
                        continue
                    if strategy not in going_on:
                        bar.update(len(ev.folds))
                        yield {**row, "status": dropped.setdefault(strategy, "stopped: its learning curve fell "
                                                                                "short on fewer rows")}
                        continue
                    epochs = None
                    if self.time_budget is not None:
                        left = self.left()
                        last = self._last_for(strategy, size, sizes, left)
                        if last:
                            n_rows = self.budget_rows(strategy, n_rows, left)
                        epochs = self.budget_epochs(strategy, n_rows, last, left)
                        estimate = self.estimate(strategy, n_rows, epochs)
                        fewer = self.fewer_rows(strategy, n_rows, left, had) if estimate > left else None
                        if fewer is not None:  # the plan fell short: the rows that still fit, one epoch
                            n_rows = fewer
                            epochs = self.budget_epochs(strategy, n_rows, True, left)
                            estimate = self.estimate(strategy, n_rows, epochs)
                        row["train_rows"] = n_rows  # the row stays on its rung (the table's "best at this size")
                        if epochs is not None:
                            row["epochs"] = epochs
                        if estimate > left:
                            bar.update(len(ev.folds))
                            dropped[strategy] = "stopped: skipped on fewer rows"
                            yield {**row, "status": f"skipped: estimated {estimate:.0f} s > {max(left, 0):.0f} s left"}
                            continue
                        bar.set_postfix_str(f"{strategy}, {n_rows} rows, {max(self.left(), 0):.0f} s left")
                    else:
                        bar.set_postfix_str(f"{strategy}, {n_rows} rows")
                    try:
                        result = self._fit_folds(strategy, None if n_rows >= ev.n_train else n_rows, bar, epochs)
                    except Exception as exc:  # one failed fit must not lose the others' results
                        message = str(exc).splitlines()[0] if str(exc) else ""
                        # The whole traceback is kept (results.json, and on the terminal with
                        # --verbose): a failure may be a bug, not the data or the machine.
                        trace = traceback.format_exc()
                        result = {"status": f"failed: {type(exc).__name__}: {message}"[:200], "traceback": trace}
                        tqdm.write(trace if self.verbose else f"{strategy} on {n_rows} rows failed: "
                                   f"{type(exc).__name__}: {exc} (traceback in results.json; --verbose prints it)",
                                   file=sys.stderr)
                    if result.get("status") == "ok" and result.get(self.metric) is not None:
                        finished.append((n_rows, result[self.metric], strategy))
                    elif self.halving:  # a failed or skipped fit does not go on to more rows
                        dropped[strategy] = f"stopped: {result.get('status', 'skipped').split(':')[0]} on fewer rows"
                    yield {**row, **result}
                if self.halving and finished:
                    for rows, score, strategy in finished:
                        curves.setdefault(strategy, []).append((rows, score))
                    going_on = self._going_on([s for _, _, s in finished], curves, ev.n_train)

    def _going_on(self, finished, curves, n_train):
        """The strategies that go on to more rows, from their learning curves so far.

        After the first rung every finished strategy goes on: one point says
        nothing of how fast a way learns, and the ways that start lowest
        often learn fastest (scratch on SST-2: below TF-IDF and transfer on
        346 rows, ahead of transfer on all 6,920). After that, a strategy goes
        on while its curve, extended in log rows to all the training rows,
        reaches the best score measured so far; at least two go on.
        """
        sign = -1 if self.metric in LOWER_IS_BETTER else 1
        if all(len(curves[s]) < 2 for s in finished):
            return list(finished)
        best = max(sign * curves[s][-1][1] for s in finished)

        def reach(strategy):
            points = curves[strategy]
            (n0, s0), (n1, s1) = points[max(len(points) - 2, 0)], points[-1]
            slope = 0.0 if n1 == n0 else sign * (s1 - s0) / (math.log(n1) - math.log(n0))
            return sign * s1 + max(slope, 0.0) * (math.log(n_train) - math.log(n1))

        ranked = sorted(finished, key=reach, reverse=True)
        return [s for i, s in enumerate(ranked) if i < 2 or reach(s) >= best]

    def _threshold(self, predictions):
        """The multi-label cut: the one given, or with ``threshold="tune"`` the one of ``THRESHOLD_GRID`` that
        scores best on all the folds' validation rows together (the rows that then score the strategy: with 19
        cuts and one per strategy, the optimism is small; on GoEmotions at 2 minutes, fine-tuning's validation
        micro-F1 0.506 at its cut against 0.497 on the test set)."""
        if self.threshold != "tune":
            return self.threshold
        y_true = np.concatenate([self.evaluation.y[index] for index, _ in predictions])
        proba = np.concatenate([proba for _, proba in predictions])
        return choose_threshold(y_true, proba, lambda y, indicator: scores("multilabel", y, indicator)[self.metric])

    def _fit_folds(self, strategy, size, bar, epochs=None):
        ev = self.evaluation
        metrics = METRICS[ev.task]
        predictions, scored, times, long_texts = [], [], [], None
        for train_index, test_index in ev.folds:
            subset = subsample(train_index, ev.y, size, self.seed, stratify=ev.stratified)
            model = make_estimator(strategy, backbone=self.backbone, max_epochs=epochs or self.max_epochs, seed=self.seed,
                                   verbose=self.verbose, scratch_backbone=self.scratch_backbone, task=ev.task,
                                   n_rows=len(subset), long_texts=self.long_texts, columns=self.columns,
                                   n_outputs=ev.y.shape[1] if ev.y.ndim == 2 else 1,
                                   contrastive_steps=0 if self._stage_skipped() else "auto")
            X_train, X_test = take(ev.X, subset), take(ev.X, test_index)
            # Each fit and prediction is timed as a user's single run would
            # be: no features cached by an earlier fit (loaded weights stay
            # shared; reading them is a one-off cost of the process). The
            # Auto search wants its model, not the timings: with
            # reuse_features, transfer encodes each text once over all rungs.
            if not self.reuse_features:
                clear_memory()
            with warnings.catch_warnings():
                # The table says how many texts were past the limit and what was done with them.
                warnings.simplefilter("ignore", LongTextWarning)
                start = time.perf_counter()
                model.fit(X_train, ev.y[subset])
                fit_s = time.perf_counter() - start
                start = time.perf_counter()
                # multi-label: probabilities, cut below at one threshold for every strategy, estimators' and
                # sklearn's alike
                predicted = model.predict_proba(X_test) if ev.task == "multilabel" else model.predict(X_test)
                predict_s = time.perf_counter() - start
            if not long_texts:
                long_texts = long_text_counts(model, X_train)
            predictions.append((test_index, predicted))
            times.append((fit_s, 1000 * predict_s / len(X_test)))
            bar.update(1)
        threshold = None
        if ev.task == "multilabel":
            threshold = self._threshold(predictions)
            predictions = [(index, (proba >= threshold).astype(int)) for index, proba in predictions]
        for test_index, predicted in predictions:
            fold = scores(ev.task, ev.y[test_index], predicted)
            scored.append([fold[m] for m in metrics])
        if self.keep_models:
            self.last_models[strategy] = model  # its fit on the most rows (the last fold's): what Auto falls back on
            if size is None and len(ev.folds) == 1:
                self.models[strategy] = model  # fitted on every training row: --save-best reuses it
        fit_s, predict_s = np.mean(times, axis=0)
        self._rate[strategy] = (fit_s / len(subset) / self._epoch_factor(strategy, len(subset), epochs),
                                predict_s / 1000)
        self._rate_few_shot[strategy] = self._few_shot(strategy, len(subset))
        result = {m: _finite(v) for m, v in zip(metrics, np.mean(scored, axis=0))}
        result.update({"fit_s": round(float(fit_s), 3), "predict_s_per_1k": round(float(predict_s), 3), "status": "ok",
                       **long_texts})
        if self.threshold == "tune" and threshold is not None:
            result["threshold"] = threshold
        if len(scored) > 1:
            result[f"{metrics[0]}_std"] = _finite(np.std([s[0] for s in scored]))
            if self.metric != metrics[0]:
                result[f"{self.metric}_std"] = _finite(np.std([s[metrics.index(self.metric)] for s in scored]))
        return result


def best_rows(results, task="classification", metric=None):
    """Per train size, the strategy with the best ``metric`` (the task's primary one by default): the
    highest, or the lowest for an error such as RMSE."""
    metric = metric or primary_metric(task)
    sign = -1 if metric in LOWER_IS_BETTER else 1
    best = {}
    for row in results:
        if row["status"] != "ok" or row.get(metric) is None:
            continue
        key = row["train_size"]
        if key not in best or sign * row[metric] > sign * best[key][metric]:
            best[key] = row
    return best
