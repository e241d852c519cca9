"""``skadapt compare``: the three ways and TF-IDF on the same splits, over growing train sizes."""

import time
from dataclasses import dataclass, field

import numpy as np
from sklearn.metrics import accuracy_score, f1_score
from sklearn.model_selection import StratifiedKFold, train_test_split
from tqdm.auto import tqdm

from ..cache.embeddings import clear_memory
from ._errors import UsageError

STRATEGIES = ("scratch", "transfer", "finetune", "tfidf")
DESCRIPTIONS = {
    "scratch": "ScratchClassifier({scratch})",
    "transfer": "PretrainedFeaturizer + LogisticRegression (C by 3-fold CV)",
    "finetune": "FineTunedClassifier",
    "tfidf": "TfidfVectorizer + LogisticRegression",
}
# What each kind of data is compared with by default.
DEFAULT_STRATEGIES = {"text": STRATEGIES, "image": ("scratch", "transfer", "finetune")}
DEFAULT_SCRATCH_BACKBONE = {"text": "textcnn", "image": "cnn"}
# Seconds per training row per epoch, measured on 2 CPU cores (benchmarks/README.md);
# used for --time-budget until a strategy's first fit gives its own rate.
PRIOR_SECONDS_PER_ROW = {"scratch": 0.0012, "transfer": 0.004, "finetune": 0.02, "tfidf": 0.0002}
# Seconds per predicted row, likewise.
PRIOR_PREDICT_SECONDS_PER_ROW = {"scratch": 0.0004, "transfer": 0.0035, "finetune": 0.004, "tfidf": 0.00002}
DEFAULT_EPOCHS = {"scratch": 10, "finetune": 3}


def make_estimator(strategy, *, backbone, max_epochs, seed, verbose, scratch_backbone="textcnn"):
    """The estimator behind each strategy name."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import GridSearchCV
    from sklearn.pipeline import make_pipeline

    from .. import FineTunedClassifier, PretrainedFeaturizer, ScratchClassifier

    epochs = {} if max_epochs is None else {"max_epochs": max_epochs}
    if strategy == "scratch":
        return ScratchClassifier(backbone=scratch_backbone, random_state=seed, verbose=verbose, **epochs)
    if strategy == "transfer":
        return make_pipeline(
            PretrainedFeaturizer(backbone=backbone, verbose=verbose),
            GridSearchCV(LogisticRegression(max_iter=2000), {"C": np.logspace(-2, 3, 6)}, cv=3),
        )
    if strategy == "finetune":
        return FineTunedClassifier(backbone=backbone, random_state=seed, verbose=verbose, **epochs)
    return make_pipeline(TfidfVectorizer(), LogisticRegression(max_iter=1000))


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


@dataclass
class Evaluation:
    """The folds: ``(train_index, test_index)`` pairs over ``X``, plus a description."""

    X: list
    y: np.ndarray
    folds: list
    description: str
    n_train: int = field(init=False)

    def __post_init__(self):
        self.n_train = min(len(train) for train, _ in self.folds)


def make_evaluation(X, y, *, test=None, test_size=None, cv=None, seed=0):
    """Hold out a test set (given, or ``test_size`` of the data) or cross-validate."""
    y = np.asarray(y)
    classes, counts = np.unique(y, return_counts=True)
    if len(classes) < 2:
        raise UsageError(f"the label column has only one class ({classes.tolist()[0]!r}); a classifier needs two or more.")
    if test is not None:
        X_test, y_test = test
        X_all = list(X) + list(X_test)
        y_all = np.concatenate([y, np.asarray(y_test)])
        folds = [(np.arange(len(X)), np.arange(len(X), len(X_all)))]
        return Evaluation(X_all, y_all, folds, f"held-out test set of {len(X_test)} rows")
    if cv is not None:
        if cv < 2:
            raise UsageError(f"--cv must be at least 2, got {cv}.")
        if counts.min() < cv:
            raise UsageError(
                f"--cv {cv}: class {classes.tolist()[counts.argmin()]!r} has only {counts.min()} rows, fewer than the "
                f"{cv} folds; use a smaller --cv or --test-size."
            )
        folds = list(StratifiedKFold(cv, shuffle=True, random_state=seed).split(np.zeros(len(y)), y))
        return Evaluation(list(X), y, folds, f"{cv}-fold stratified cross-validation")
    test_size = 0.2 if test_size is None else test_size
    if not 0 < test_size < 1:
        raise UsageError(f"--test-size must be between 0 and 1, got {test_size}.")
    if counts.min() < 2:
        raise UsageError(
            f"class {classes.tolist()[counts.argmin()]!r} has a single row, so it cannot be in both the training and "
            "the test set; add rows or drop the class."
        )
    index = np.arange(len(y))
    try:
        train, held_out = train_test_split(index, test_size=test_size, stratify=y, random_state=seed)
    except ValueError as exc:
        raise UsageError(f"--test-size {test_size}: {exc}") from None
    return Evaluation(list(X), y, [(train, held_out)], f"stratified held-out {test_size:.0%} of {len(y)} rows")


def subsample(train_index, y, size, seed=0):
    """A stratified subset of ``size`` rows (all of them when ``size`` is None)."""
    if size is None or size >= len(train_index):
        return train_index
    subset, _ = train_test_split(train_index, train_size=size, stratify=y[train_index], random_state=seed)
    return subset


class Comparison:
    """Runs every (train size, strategy, fold), one fitted model at a time.

    ``run()`` yields one result dict per (size, strategy) as it finishes, so a
    caller interrupted by Ctrl-C keeps everything finished so far.
    """

    def __init__(self, evaluation, strategies, sizes, *, backbone="minilm", scratch_backbone="textcnn",
                 max_epochs=None, time_budget=None, seed=0, verbose=0, keep_models=False):
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
        self.models = {}  # strategy -> model fitted on all training rows, when keep_models
        self._rate = {}  # strategy -> measured seconds per training row

    def check_sizes(self):
        """Fail before any fit if a train size cannot be drawn from every fold."""
        smallest = min((s for s in self.sizes if s is not None), default=None)
        n_classes = len(np.unique(self.evaluation.y))
        if smallest is not None and smallest > self.evaluation.n_train:
            raise UsageError(
                f"--train-sizes: the smallest size, {smallest}, is more than the {self.evaluation.n_train} training "
                "rows; use smaller sizes or 'all'."
            )
        if smallest is not None and smallest < n_classes:
            raise UsageError(
                f"--train-sizes: {smallest} rows cannot hold one row of each of the {n_classes} classes; use a larger size."
            )
        for size in self.sizes:
            for train_index, _ in self.evaluation.folds:
                try:
                    subsample(train_index, self.evaluation.y, size, self.seed)
                except ValueError as exc:
                    raise UsageError(f"--train-sizes: cannot draw a stratified subset of {size} rows: {exc}") from None

    def _estimate(self, strategy, n_rows):
        """Seconds to fit ``n_rows`` and predict the test rows, over all folds."""
        fit_rate, predict_rate = self._rate.get(strategy, (None, None))
        if fit_rate is None:
            epochs = self.max_epochs or DEFAULT_EPOCHS.get(strategy, 1)
            fit_rate = PRIOR_SECONDS_PER_ROW[strategy] * (epochs if strategy in DEFAULT_EPOCHS else 1)
            predict_rate = PRIOR_PREDICT_SECONDS_PER_ROW[strategy]
        n_test = sum(len(test) for _, test in self.evaluation.folds)
        return fit_rate * n_rows * len(self.evaluation.folds) + predict_rate * n_test

    def run(self):
        ev = self.evaluation
        # a size at least as large as the training data is "all" of it
        sizes = list(dict.fromkeys(None if s is None or s >= ev.n_train else s for s in self.sizes))
        started = time.perf_counter()
        total = len(sizes) * len(self.strategies) * len(ev.folds)
        with tqdm(total=total, desc="compare", unit="fit", disable=None) as bar:
            for size in sizes:
                for strategy in self.strategies:
                    n_rows = ev.n_train if size is None else size
                    row = {"strategy": strategy, "model": DESCRIPTIONS[strategy].format(scratch=self.scratch_backbone),
                           "train_size": "all" if size is None else size, "train_rows": n_rows}
                    if self.time_budget is not None:
                        left = self.time_budget - (time.perf_counter() - started)
                        estimate = self._estimate(strategy, n_rows)
                        if estimate > left:
                            bar.update(len(ev.folds))
                            yield {**row, "status": f"skipped: estimated {estimate:.0f} s > {max(left, 0):.0f} s left"}
                            continue
                    bar.set_postfix_str(f"{strategy}, {n_rows} rows")
                    try:
                        result = self._fit_folds(strategy, size, bar)
                    except Exception as exc:  # one failed fit must not lose the others' results
                        message = str(exc).splitlines()[0] if str(exc) else ""
                        result = {"status": f"failed: {type(exc).__name__}: {message}"[:200]}
                        tqdm.write(f"{strategy} on {n_rows} rows failed: {type(exc).__name__}: {exc}")
                    yield {**row, **result}

    def _fit_folds(self, strategy, size, bar):
        ev = self.evaluation
        scores = []
        for train_index, test_index in ev.folds:
            subset = subsample(train_index, ev.y, size, self.seed)
            model = make_estimator(strategy, backbone=self.backbone, max_epochs=self.max_epochs,
                                   seed=self.seed, verbose=self.verbose, scratch_backbone=self.scratch_backbone)
            X_train = [ev.X[i] for i in subset]
            X_test = [ev.X[i] for i in test_index]
            # Each fit and prediction is timed as a user's single run would
            # be: no features cached by an earlier fit (loaded weights stay
            # shared; reading them is a one-off cost of the process).
            clear_memory()
            start = time.perf_counter()
            model.fit(X_train, ev.y[subset])
            fit_s = time.perf_counter() - start
            start = time.perf_counter()
            predicted = model.predict(X_test)
            predict_s = time.perf_counter() - start
            y_test = ev.y[test_index]
            scores.append((accuracy_score(y_test, predicted), f1_score(y_test, predicted, average="macro"),
                           fit_s, 1000 * predict_s / len(X_test)))
            bar.update(1)
        if self.keep_models and size is None and len(ev.folds) == 1:
            self.models[strategy] = model  # fitted on every training row: --save-best reuses it
        accuracy, macro_f1, fit_s, predict_s = np.mean(scores, axis=0)
        self._rate[strategy] = (fit_s / len(subset), predict_s / 1000)
        result = {"accuracy": round(float(accuracy), 4), "macro_f1": round(float(macro_f1), 4),
                  "fit_s": round(float(fit_s), 3), "predict_s_per_1k": round(float(predict_s), 3), "status": "ok"}
        if len(scores) > 1:
            result["accuracy_std"] = round(float(np.std([s[0] for s in scores])), 4)
        return result


def best_rows(results):
    """Per train size, the strategy with the highest accuracy."""
    best = {}
    for row in results:
        if row["status"] != "ok":
            continue
        key = row["train_size"]
        if key not in best or row["accuracy"] > best[key]["accuracy"]:
            best[key] = row
    return best
