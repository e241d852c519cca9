"""Long texts: each ``long_texts`` policy on full-length movie reviews, and the default on SST-2.

On ``review_polarity`` (Pang & Lee 2004: 1,600 training and 400 test
reviews, mean 746 words; nearly every review is past MiniLM's 256 tokens),
side by side in one run, with each estimator's defaults otherwise
(random_state=0):

* ``transfer``  PretrainedFeaturizer(long_texts=...) + LogisticRegression()
* ``finetune``  FineTunedClassifier(long_texts=...)              (3 epochs)
* ``scratch``   ScratchClassifier(long_texts=...)                (TextCNN, 10 epochs; ``whole``:
                one sequence of up to 4,096 words, TextCNN's max-over-time pooling reading it all)
* ``tfidf``     TfidfVectorizer() + LogisticRegression()         (reads every word: the reference)

for the policies ``truncate`` (the first 256 tokens), ``head_tail`` (64 +
190), ``chunk-mean``, ``chunk-max`` (transfer, scratch) and
``chunk-attention`` (finetune). Accuracy and macro-F1 on the test split,
fit and predict seconds, and the process's peak resident memory during the
row above what it held before (sampled every 20 ms).

``--sst2`` adds the default policy beside ``truncate`` on SST-2, whose
sentences are all within the limit: the same figures, and fit times within
noise of each other, show that short texts take today's path.

Writes ``results/long_texts.json`` and ``.md`` and prints the table.

    python benchmarks/long_texts.py                                  # everything (about 90 min on 2 cores)
    python benchmarks/long_texts.py --ways transfer,tfidf --sst2     # replaces those rows
"""

import argparse
import json
import os
import platform
import threading
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

import numpy as np  # noqa: E402
import torch  # noqa: E402
from sklearn.feature_extraction.text import TfidfVectorizer  # noqa: E402
from sklearn.linear_model import LogisticRegression  # noqa: E402
from sklearn.metrics import accuracy_score, f1_score  # noqa: E402
from sklearn.pipeline import make_pipeline  # noqa: E402

from skadapt import FineTunedClassifier, LongTextWarning, PretrainedFeaturizer, ScratchClassifier  # noqa: E402
from skadapt.cache.embeddings import clear_memory  # noqa: E402
from skadapt.datasets import load_dataset  # noqa: E402
from _machine import cpu_flags_text  # noqa: E402  (benchmarks/_machine.py)

RESULTS = Path(__file__).parent / "results"
POLICIES = {  # name -> the estimator's long-text parameters
    "truncate": {"long_texts": "truncate"},
    "head_tail": {"long_texts": "head_tail"},
    "chunk-mean": {"long_texts": "chunk", "chunk_pooling": "mean"},
    "chunk-max": {"long_texts": "chunk", "chunk_pooling": "max"},
    "chunk-attention": {"long_texts": "chunk", "chunk_pooling": "attention"},
    "whole": {"long_texts": "truncate", "backbone_kwargs": {"max_length": 4096}},
    "default": {},
}
WAYS = {
    "transfer": (lambda p: make_pipeline(PretrainedFeaturizer(**p), LogisticRegression(max_iter=2000)),
                 ("truncate", "head_tail", "chunk-mean", "chunk-max")),
    "finetune": (lambda p: FineTunedClassifier(random_state=0, **p),
                 ("truncate", "head_tail", "chunk-mean", "chunk-attention")),
    "scratch": (lambda p: ScratchClassifier(random_state=0, **p), ("truncate", "head_tail", "chunk-mean", "whole")),
    "tfidf": (lambda p: make_pipeline(TfidfVectorizer(), LogisticRegression(max_iter=2000)), ("-",)),
}


class PeakMemory:
    """The peak resident memory of this process while in the ``with`` block, above what it held at the start."""

    def __enter__(self):
        self.start = self.peak = self._rss()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, self._rss())

    def _sample(self):
        while not self._stop.wait(0.02):
            self.peak = max(self.peak, self._rss())

    @staticmethod
    def _rss():
        with open("/proc/self/statm") as file:
            return int(file.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")

    @property
    def mib(self):
        return round((self.peak - self.start) / 2**20)


def run_one(make, policy, X_train, y_train, X_test, y_test):
    model = make(POLICIES.get(policy, {}))
    clear_memory()  # no features cached by earlier rows: each row costs what a fresh run costs
    with PeakMemory() as memory:
        import warnings

        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", LongTextWarning)
            start = time.perf_counter()
            model.fit(X_train, y_train)
            fit_s = time.perf_counter() - start
            start = time.perf_counter()
            predicted = model.predict(X_test)
            predict_s = time.perf_counter() - start
    warned = [str(w.message) for w in caught if issubclass(w.category, LongTextWarning)]
    return {"accuracy": round(accuracy_score(y_test, predicted), 4),
            "macro_f1": round(f1_score(y_test, predicted, average="macro"), 4),
            "fit_s": round(fit_s, 1), "predict_s": round(predict_s, 1), "peak_mib": memory.mib,
            "warnings": warned[:2]}


def markdown(rows):
    lines = ["| dataset | way | policy | accuracy | macro-F1 | fit s | predict s | peak MiB |",
             "|---|---|---|---|---|---|---|---|"]
    for r in rows:
        lines.append(f"| {r['dataset']} | {r['way']} | {r['policy']} | {r['accuracy']:.3f} | {r['macro_f1']:.3f} | "
                     f"{r['fit_s']:.1f} | {r['predict_s']:.1f} | {r['peak_mib']} |")
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--ways", default="transfer,finetune,scratch,tfidf")
    parser.add_argument("--policies", default=None, help="comma-separated; default: each way's own list")
    parser.add_argument("--sst2", action="store_true", help="also the default policy beside 'truncate' on SST-2")
    parser.add_argument("--sst2-rows", default="all", help="SST-2 training rows for finetune (the first N, or all)")
    parser.add_argument("--output", default="long_texts", help="name of the results files under results/")
    args = parser.parse_args(argv)
    ways = args.ways.split(",")
    unknown = [w for w in ways if w not in WAYS]
    if unknown:
        parser.error(f"--ways: {unknown[0]!r} is not one of {', '.join(WAYS)}")

    started, rows = time.perf_counter(), []
    data = {name: (load_dataset(name, split="train", return_X_y=True), load_dataset(name, split="test", return_X_y=True))
            for name in ["review_polarity"] + (["sst2"] if args.sst2 else [])}

    def record(dataset, way, policy, result):
        row = {"dataset": dataset, "way": way, "policy": policy, **result}
        rows.append(row)
        print(json.dumps(row), flush=True)

    for way in ways:
        make, policies = WAYS[way]
        chosen = [p for p in (args.policies.split(",") if args.policies else policies) if p in policies]
        (X_train, y_train), (X_test, y_test) = data["review_polarity"]
        for policy in chosen:
            record("review_polarity", way, policy, run_one(make, policy, list(X_train), y_train, list(X_test), y_test))
        if args.sst2 and way != "tfidf":
            (X_train, y_train), (X_test, y_test) = data["sst2"]
            if way == "finetune" and args.sst2_rows != "all":
                X_train, y_train = X_train[: int(args.sst2_rows)], y_train[: int(args.sst2_rows)]
            for policy in ("truncate", "default"):
                record("sst2", way, policy, run_one(make, policy, list(X_train), y_train, list(X_test), y_test))
    save(rows, args.output, round(time.perf_counter() - started, 1))


def save(rows, name, wall_s):
    """Write ``results/<name>.json`` and ``.md``; rows of a rerun replace their earlier versions."""
    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / f"{name}.json"
    key = lambda r: (r["dataset"], r["way"], r["policy"])  # noqa: E731
    if path.exists():
        new = {key(r): r for r in rows}
        old = json.loads(path.read_text())["rows"]
        rows = [new.pop(key(r), r) for r in old] + list(new.values())  # in place, new ones at the end
    meta = {
        "machine": f"{platform.machine()}, {os.cpu_count()} cores ({cpu_flags_text()}), torch {torch.__version__}, "
                   f"{torch.get_num_threads()} threads",
        "wall_s": wall_s,
    }
    path.write_text(json.dumps({"meta": meta, "rows": rows}, indent=2) + "\n")
    table = markdown(rows)
    (RESULTS / f"{name}.md").write_text(table + "\n")
    print(table)
    print(f"\n{meta['machine']}; wall time of this run {wall_s} s; written to {path}")


if __name__ == "__main__":
    main()
