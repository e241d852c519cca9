"""Regression and multi-label: the three ways and TF-IDF on EmoBank and GoEmotions.

Fits, with their defaults (random_state=0):

EmoBank (valence, arousal, dominance as one 3-output regression; 8,062
training rows, official test split of 1,000):

* ``scratch``   ScratchRegressor()                          (Kim TextCNN, random init)
* ``transfer``  PretrainedFeaturizer() + RidgeCV()          (frozen MiniLM)
* ``finetune``  FineTunedRegressor()                        (MiniLM, ridge start, 3 epochs)
* ``tfidf``     TfidfVectorizer() + RidgeCV()               (alpha by leave-one-out)

GoEmotions (28 labels; 10,000 training rows drawn with seed 0, official
test split of 5,427), each read at thresholds 0.5 and 0.25 (balanced: 0.5
and 0.8) from one fit:

* ``scratch``   ScratchClassifier()                           (Kim TextCNN, random init)
* ``transfer``  PretrainedFeaturizer() + OneVsRest(LogisticRegression())
* ``finetune``  FineTunedClassifier()                         (MiniLM, per-label probe start, 3 epochs)
* ``finetune-balanced``  FineTunedClassifier(class_weight="balanced")
* ``tfidf``     TfidfVectorizer() + OneVsRest(LogisticRegression())

Metrics are those of ``skadapt compare``: the mean over outputs of RMSE,
MAE, R² and Spearman for EmoBank; micro-F1, macro-F1 and samples-Jaccard for
GoEmotions. Writes ``results/tasks_<dataset>.json`` and ``.md`` (or
``--output``) and prints the table.

    python benchmarks/tasks.py                     # everything (about 20 min on 2 cores)
    python benchmarks/tasks.py --datasets emobank --strategies transfer,tfidf   # replaces those rows
    python benchmarks/tasks.py --datasets goemotions --strategies finetune --train-rows all \
        --output tasks_goemotions_all              # the stretch run, all 43,410 rows (about 25 min)
"""

import argparse
import json
import os
import platform
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

import numpy as np  # noqa: E402
import torch  # noqa: E402
from sklearn.feature_extraction.text import TfidfVectorizer  # noqa: E402
from sklearn.linear_model import LogisticRegression, RidgeCV  # noqa: E402
from sklearn.multiclass import OneVsRestClassifier  # noqa: E402
from sklearn.pipeline import make_pipeline  # noqa: E402

from skadapt import (  # noqa: E402
    FineTunedClassifier,
    FineTunedRegressor,
    PretrainedFeaturizer,
    ScratchClassifier,
    ScratchRegressor,
)
from skadapt.cache.embeddings import clear_memory  # noqa: E402
from skadapt.cli.compare import scores  # noqa: E402  (the metrics skadapt compare reports)
from skadapt.datasets import load_dataset  # noqa: E402
from _machine import cpu_flags_text  # noqa: E402  (benchmarks/_machine.py)

ALPHAS = np.logspace(-3, 3, 7)
# Multi-label predictions are read at sklearn's 0.5 and at the threshold
# docs/tasks.md recommends for many skewed labels, 0.25: chosen on the
# GoEmotions dev split (mean of micro- and macro-F1 of scratch and finetune
# over 0.15-0.35), never on the test split. One fit serves both. With
# class_weight="balanced" every probability rises, and its best dev
# threshold was 0.8.
THRESHOLDS = {"finetune-balanced": (0.5, 0.8)}
DEFAULT_THRESHOLDS = (0.5, 0.25)

REGRESSION = {
    "scratch": lambda: ScratchRegressor(random_state=0),
    "transfer": lambda: make_pipeline(PretrainedFeaturizer(), RidgeCV(alphas=ALPHAS)),
    "finetune": lambda: FineTunedRegressor(random_state=0),
    "tfidf": lambda: make_pipeline(TfidfVectorizer(), RidgeCV(alphas=ALPHAS)),
}
MULTILABEL = {
    "scratch": lambda: ScratchClassifier(random_state=0),
    "transfer": lambda: make_pipeline(PretrainedFeaturizer(), OneVsRestClassifier(LogisticRegression(max_iter=2000))),
    "finetune": lambda: FineTunedClassifier(random_state=0),
    "finetune-balanced": lambda: FineTunedClassifier(class_weight="balanced", random_state=0),
    "tfidf": lambda: make_pipeline(TfidfVectorizer(), OneVsRestClassifier(LogisticRegression(max_iter=1000))),
}
DATASETS = {"emobank": REGRESSION, "goemotions": MULTILABEL}
RESULTS = Path(__file__).parent / "results"


def run_one(make, X_train, y_train, X_test, y_test, multilabel, thresholds=DEFAULT_THRESHOLDS):
    """Fit and score one model; multi-label: one result per threshold, from one fit."""
    model = make()
    clear_memory()  # no features cached by earlier runs: each row costs what a fresh run costs
    start = time.perf_counter()
    model.fit(X_train, y_train)
    fit_s = time.perf_counter() - start
    start = time.perf_counter()
    predicted = model.predict_proba(X_test) if multilabel else model.predict(X_test)
    cost = {"fit_s": round(fit_s, 1), "predict_s": round(time.perf_counter() - start, 1)}
    if not multilabel:
        return [{**{k: round(float(v), 4) for k, v in scores("regression", y_test, predicted).items()}, **cost}]
    return [{"threshold": t, **{k: round(float(v), 4) for k, v in scores("multilabel", y_test, predicted >= t).items()},
             **cost} for t in thresholds]


def markdown(rows):
    lines = []
    for dataset, metrics in (("emobank", ("rmse", "spearman", "r2")),
                             ("goemotions", ("micro_f1", "macro_f1", "samples_jaccard"))):
        chosen = [r for r in rows if r["dataset"] == dataset]
        if not chosen:
            continue
        names = {"rmse": "mean RMSE ↓", "spearman": "mean Spearman", "r2": "R²", "micro_f1": "micro-F1",
                 "macro_f1": "macro-F1", "samples_jaccard": "samples-Jaccard"}
        threshold = dataset == "goemotions"
        lines += ["", f"| dataset | train rows | strategy |{' threshold |' if threshold else ''} "
                      f"{' | '.join(names[m] for m in metrics)} | fit s | predict s |",
                  "|---|---|---|" + "---|" * (len(metrics) + threshold) + "---|---|"]
        for r in chosen:
            cells = " | ".join(f"{r[m]:.3f}" for m in metrics)
            cut = f" {r['threshold']} |" if threshold else ""
            lines.append(f"| {dataset} | {r['train_rows']} | {r['strategy']} |{cut} "
                         f"{cells} | {r['fit_s']:.1f} | {r['predict_s']:.1f} |")
    return "\n".join(lines).strip()


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--datasets", default="emobank,goemotions")
    parser.add_argument("--strategies", default=None, help="comma-separated; default: every strategy of each set")
    parser.add_argument("--train-rows", default="10000", help="GoEmotions training rows drawn with seed 0, or 'all'")
    parser.add_argument("--output", default=None, help="name of the results files under results/ "
                        "(default: tasks_<dataset>)")
    args = parser.parse_args(argv)

    for dataset in args.datasets.split(","):
        strategies = DATASETS[dataset]
        chosen = args.strategies.split(",") if args.strategies else list(strategies)
        unknown = [s for s in chosen if s not in strategies]
        if unknown:
            parser.error(f"--strategies: {unknown[0]!r} is not a strategy for {dataset}; choose from {', '.join(strategies)}")
        started, rows = time.perf_counter(), []
        X_train, y_train = load_dataset(dataset, split="train", return_X_y=True)
        X_test, y_test = load_dataset(dataset, split="test", return_X_y=True)
        if dataset == "goemotions" and args.train_rows != "all":
            index = np.random.RandomState(0).choice(len(X_train), int(args.train_rows), replace=False)
            X_train, y_train = [X_train[i] for i in index], y_train[index]
        for strategy in chosen:
            for result in run_one(strategies[strategy], list(X_train), y_train, list(X_test), y_test,
                                  multilabel=dataset == "goemotions",
                                  thresholds=THRESHOLDS.get(strategy, DEFAULT_THRESHOLDS)):
                row = {"dataset": dataset, "train_rows": len(X_train), "strategy": strategy, **result}
                rows.append(row)
                print(json.dumps(row), flush=True)
        save(rows, args.output or f"tasks_{dataset}", round(time.perf_counter() - started, 1))


def save(rows, name, wall_s):
    """Write ``results/<name>.json`` and ``.md``; rows of a rerun replace their earlier versions."""
    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / f"{name}.json"
    if path.exists():
        key = lambda r: (r["dataset"], r["train_rows"], r["strategy"], r.get("threshold"))  # noqa: E731
        new = {key(r): r for r in rows}
        old = json.loads(path.read_text())["rows"]
        rows = [new.pop(key(r), r) for r in old] + list(new.values())  # in place, new ones at the end
    meta = {
        "machine": f"{platform.machine()}, {os.cpu_count()} cores ({cpu_flags_text()}), torch {torch.__version__}, "
        f"{torch.get_num_threads()} threads",
        "multilabel_thresholds": {"default": DEFAULT_THRESHOLDS, **THRESHOLDS},
        "wall_s": wall_s,
    }
    path.write_text(json.dumps({"meta": meta, "rows": rows}, indent=2) + "\n")
    table = markdown(rows)
    (RESULTS / f"{name}.md").write_text(table + "\n")
    print(table)
    print(f"\n{meta['machine']}; wall time of this run {wall_s} s; written to {path}")


if __name__ == "__main__":
    main()
