"""Accuracy and cost of the three ways against TF-IDF, on the bundled data.

Fits, with their defaults (random_state=0):

* ``scratch``   ScratchClassifier()                       (Kim TextCNN, random init)
* ``transfer``  PretrainedFeaturizer() + LogisticRegression()  (frozen MiniLM)
* ``finetune``  FineTunedClassifier()                     (MiniLM, LP-FT, 3 epochs)
* ``tfidf``     TfidfVectorizer() + LogisticRegression()  (classic baseline)

on the train split of SST-2, TREC and CR, scores the test split, and repeats
on 8 and 64 rows per class (stratified, seed 0) of SST-2 and TREC. Writes
``results/strategies.json`` and ``results/strategies.md`` and prints the table.

    python benchmarks/strategies.py                 # everything (about 15 min on 2 cores)
    python benchmarks/strategies.py --datasets trec --strategies transfer,tfidf
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
from sklearn.linear_model import LogisticRegression  # noqa: E402
from sklearn.metrics import accuracy_score, f1_score  # noqa: E402
from sklearn.model_selection import train_test_split  # noqa: E402
from sklearn.pipeline import make_pipeline  # noqa: E402

from skadapt import FineTunedClassifier, PretrainedFeaturizer, ScratchClassifier  # noqa: E402
from skadapt.cache.embeddings import clear_memory  # noqa: E402
from skadapt.datasets import load_dataset  # noqa: E402
from _machine import cpu_flags_text  # noqa: E402  (benchmarks/_machine.py)

STRATEGIES = {
    "scratch": lambda: ScratchClassifier(random_state=0),
    "transfer": lambda: make_pipeline(PretrainedFeaturizer(), LogisticRegression(max_iter=1000)),
    "finetune": lambda: FineTunedClassifier(random_state=0),
    "tfidf": lambda: make_pipeline(TfidfVectorizer(), LogisticRegression(max_iter=1000)),
}
FEW_SHOT = {"sst2": (8, 64), "trec": (8, 64)}
RESULTS = Path(__file__).parent / "results"


def per_class_subset(X, y, n_per_class, seed=0):
    """A stratified subset with ``n_per_class`` rows of every class."""
    classes = np.unique(y)
    X_sub, _, y_sub, _ = train_test_split(
        np.asarray(X, dtype=object), y, train_size=n_per_class * len(classes), stratify=y, random_state=seed
    )
    return list(X_sub), y_sub


def run_one(strategy, X_train, y_train, X_test, y_test):
    model = STRATEGIES[strategy]()
    clear_memory()  # no features cached by earlier runs: each row costs what a fresh run costs
    start = time.perf_counter()
    model.fit(X_train, y_train)
    fit_s = time.perf_counter() - start
    start = time.perf_counter()
    predicted = model.predict(X_test)
    predict_s = time.perf_counter() - start
    return {
        "accuracy": round(float(accuracy_score(y_test, predicted)), 4),
        "macro_f1": round(float(f1_score(y_test, predicted, average="macro")), 4),
        "fit_s": round(fit_s, 1),
        "predict_s": round(predict_s, 1),
    }


def markdown(rows):
    lines = [
        "| dataset | train rows | strategy | accuracy | macro-F1 | fit s | predict s |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(
            f"| {r['dataset']} | {r['train_rows']} | {r['strategy']} | {r['accuracy']:.3f} | "
            f"{r['macro_f1']:.3f} | {r['fit_s']:.1f} | {r['predict_s']:.1f} |"
        )
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--datasets", default="sst2,trec,cr")
    parser.add_argument("--strategies", default=",".join(STRATEGIES))
    parser.add_argument("--no-few-shot", action="store_true", help="skip the 8 and 64 rows per class runs")
    args = parser.parse_args(argv)
    datasets = args.datasets.split(",")
    strategies = args.strategies.split(",")
    for name in strategies:
        if name not in STRATEGIES:
            parser.error(f"--strategies: unknown strategy {name!r}; choose from {', '.join(STRATEGIES)}")

    rows = []
    started = time.perf_counter()
    for dataset in datasets:
        X_train, y_train = load_dataset(dataset, split="train", return_X_y=True)
        X_test, y_test = load_dataset(dataset, split="test", return_X_y=True)
        sizes = [None] + ([] if args.no_few_shot else list(FEW_SHOT.get(dataset, ())))
        for per_class in sizes:
            if per_class is None:
                Xs, ys = X_train, y_train
            else:
                Xs, ys = per_class_subset(X_train, y_train, per_class)
            for strategy in strategies:
                result = run_one(strategy, Xs, ys, X_test, y_test)
                row = {"dataset": dataset, "train_rows": len(Xs), "per_class": per_class, "strategy": strategy, **result}
                rows.append(row)
                print(json.dumps(row), flush=True)

    RESULTS.mkdir(exist_ok=True)
    meta = {
        "machine": f"{platform.machine()}, {os.cpu_count()} cores ({cpu_flags_text()}), torch {torch.__version__}, "
        f"{torch.get_num_threads()} threads",
        "wall_s": round(time.perf_counter() - started, 1),
    }
    (RESULTS / "strategies.json").write_text(json.dumps({"meta": meta, "rows": rows}, indent=2) + "\n")
    table = markdown(rows)
    (RESULTS / "strategies.md").write_text(table + "\n")
    print(table)
    print(f"\n{meta['machine']}; wall time {meta['wall_s']} s; written to {RESULTS}")


if __name__ == "__main__":
    main()
