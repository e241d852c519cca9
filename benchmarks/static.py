"""The static backbone (skadapt-static, model2vec) against frozen MiniLM, on the bundled data.

Measures, in one run on this machine:

* **encoding speed**: texts/s of ``PretrainedFeaturizer("static:minilm")``
  and of ``PretrainedFeaturizer("minilm")`` on the SST-2 test texts (1,821),
  features cache off, best of ``--repeats`` (MiniLM once: it takes seconds);
  model2vec's own ``StaticModel.encode`` beside them for reference;
* **transfer**: ``PretrainedFeaturizer(backbone) + LogisticRegression()`` as
  ``benchmarks/strategies.py``'s ``transfer`` strategy (its ``run_one``),
  trained on the train split of SST-2, TREC and CR and scored on the test
  split, for ``static:minilm`` and ``minilm``: accuracy, fit and predict s;
* the static backbone's other two ways on the same splits:
  ``FineTunedClassifier("static:minilm", lr=1e-3)`` and
  ``ScratchClassifier("static:minilm")`` (``--no-train`` skips them).

The distillation of ``static:minilm`` (once; then read from the cache) is
timed apart, before everything else. Writes ``results/static.json`` and
``results/static.md`` and prints the figures with the CPU's flags.

    python benchmarks/static.py                       # about 4 min on 2 cores
    python benchmarks/static.py --datasets sst2 --no-train
"""

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

import numpy as np  # noqa: E402
import torch  # noqa: E402
from sklearn.linear_model import LogisticRegression  # noqa: E402
from sklearn.pipeline import make_pipeline  # noqa: E402

sys.path.insert(0, str(Path(__file__).parent))
import strategies  # noqa: E402  (its run_one and STRATEGIES: the same transfer as the strategies table)

from skadapt import FineTunedClassifier, PretrainedFeaturizer, ScratchClassifier  # noqa: E402
from skadapt.cache import clear_caches  # noqa: E402
from skadapt.datasets import load_dataset  # noqa: E402

from _machine import FLAGS, cpu_flags  # noqa: E402  (benchmarks/_machine.py)

STATIC = "static:minilm"
RESULTS = Path(__file__).parent / "results"

# The strategies measured here, added to strategies.py's table so that run_one fits them the same way.
strategies.STRATEGIES.update({
    "transfer-static": lambda: make_pipeline(PretrainedFeaturizer(STATIC), LogisticRegression(max_iter=1000)),
    "finetune-static": lambda: FineTunedClassifier(STATIC, lr=1e-3, random_state=0),
    "scratch-static": lambda: ScratchClassifier(STATIC, random_state=0),
})


def texts_per_second(encode, texts, repeats):
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        encode(texts)
        best = min(best, time.perf_counter() - start)
    return len(texts) / best, best


def measure_speed(texts, repeats):
    """Texts/s of each featurizer on ``texts`` (fitted and warmed up first; cache off)."""
    rows = {}
    for name, backbone, times in (("static:minilm", STATIC, repeats), ("minilm", "minilm", 1)):
        featurizer = PretrainedFeaturizer(backbone, cache=False).fit(texts[:8])
        featurizer.transform(texts[:64])  # warm-up: first-call allocations, lazy imports
        rate, seconds = texts_per_second(featurizer.transform, texts, times)
        rows[name] = {"texts_per_s": round(rate), "seconds": round(seconds, 3), "dims": featurizer.n_features_out_}
        print(json.dumps({"speed": name, **rows[name]}), flush=True)
    static = PretrainedFeaturizer(STATIC).fit(texts[:1]).backbone_.load_static()
    static.encode(texts[:64])
    rate, seconds = texts_per_second(lambda t: static.encode(t, use_multiprocessing=False), texts, repeats)
    rows["model2vec StaticModel.encode"] = {"texts_per_s": round(rate), "seconds": round(seconds, 3),
                                            "dims": static.dim}
    print(json.dumps({"speed": "model2vec StaticModel.encode", **rows["model2vec StaticModel.encode"]}), flush=True)
    return rows


def markdown(meta, speed, rows):
    flags = ", ".join(f"{k} {'yes' if v else 'no'}" for k, v in meta["cpu_flags"].items())
    static_rate, minilm_rate = speed["static:minilm"]["texts_per_s"], speed["minilm"]["texts_per_s"]
    lines = [
        f"Machine: {meta['machine']}; CPU flags: {flags}.",
        (f"Distilling static:minilm from the bundled MiniLM: {meta['distill_s']} s (once; cached on disk)."
         if meta.get("distilled") else
         f"static:minilm read from its disk cache: {meta['distill_s']} s (distilling it, on the first run: 15-19 s)."),
        "",
        "Encoding the SST-2 test texts (1,821), features cache off:",
        "",
        "| featurizer | texts/s | seconds | dims |",
        "|---|---|---|---|",
    ]
    for name, r in speed.items():
        lines.append(f"| {name} | {r['texts_per_s']:,} | {r['seconds']:.3f} | {r['dims']} |")
    lines += ["", f"static:minilm encodes {static_rate / minilm_rate:.0f}x MiniLM's texts/s.", "",
              "| dataset | train rows | strategy | accuracy | macro-F1 | fit s | predict s |",
              "|---|---|---|---|---|---|---|"]
    for r in rows:
        lines.append(f"| {r['dataset']} | {r['train_rows']} | {r['strategy']} | {r['accuracy']:.3f} | "
                     f"{r['macro_f1']:.3f} | {r['fit_s']:.1f} | {r['predict_s']:.1f} |")
    by = {(r["dataset"], r["strategy"]): r for r in rows}
    gaps = [f"{d} {100 * (by[(d, 'transfer-static')]['accuracy'] - by[(d, 'transfer')]['accuracy']):+.1f}"
            for d in dict.fromkeys(r["dataset"] for r in rows)
            if (d, "transfer-static") in by and (d, "transfer") in by]
    if gaps:
        lines += ["", f"Transfer accuracy, static:minilm minus minilm (points): {', '.join(gaps)}."]
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--datasets", default="sst2,trec,cr")
    parser.add_argument("--repeats", type=int, default=5, help="timed passes of the static featurizer (best kept)")
    parser.add_argument("--no-train", action="store_true", help="skip finetune-static and scratch-static")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    present = cpu_flags()
    flags = {flag: flag in present for flag in FLAGS}
    print("CPU flags:", " ".join(f"{k}={'yes' if v else 'no'}" for k, v in flags.items()), flush=True)

    from skadapt_static._source import cache_folder

    cached = set(os.listdir(cache_folder())) if os.path.isdir(cache_folder()) else set()
    start = time.perf_counter()
    PretrainedFeaturizer(STATIC).fit(["warm"])  # distils on the first run ever; reads the cache after
    distill_s = round(time.perf_counter() - start, 1)
    distilled = bool(set(os.listdir(cache_folder())) - cached)
    print(json.dumps({"distilled": distilled, "seconds": distill_s, "cache": cache_folder()}), flush=True)

    X_sst2_test, _ = load_dataset("sst2", split="test", return_X_y=True)
    speed = measure_speed(list(X_sst2_test), args.repeats)
    clear_caches()

    ways = ["transfer-static", "transfer"] + ([] if args.no_train else ["finetune-static", "scratch-static"])
    rows = []
    for dataset in args.datasets.split(","):
        X_train, y_train = load_dataset(dataset, split="train", return_X_y=True)
        X_test, y_test = load_dataset(dataset, split="test", return_X_y=True)
        for strategy in ways:
            result = strategies.run_one(strategy, X_train, y_train, X_test, y_test)
            row = {"dataset": dataset, "train_rows": len(X_train), "strategy": strategy,
                   "backbone": "minilm" if strategy == "transfer" else STATIC, **result}
            rows.append(row)
            print(json.dumps(row), flush=True)

    meta = {
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, torch {torch.__version__}, "
        f"{torch.get_num_threads()} threads",
        "cpu_flags": flags,
        "distill_s": distill_s,
        "distilled": distilled,  # False: read from the disk cache
        "wall_s": round(time.perf_counter() - started, 1),
    }
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "static.json").write_text(json.dumps({"meta": meta, "speed": speed, "rows": rows}, indent=2) + "\n")
    table = markdown(meta, speed, rows)
    (RESULTS / "static.md").write_text(table + "\n")
    print(table)
    print(f"\nwall time {meta['wall_s']} s; written to {RESULTS}")


if __name__ == "__main__":
    main()
