"""precision="auto" (the default) against fp32 on this CPU: speed and accuracy.

"auto" runs bf16 autocast where the device computes bfloat16 natively (a CPU
with AVX-512 BF16 or AMX, a GPU with bf16) and fp32 elsewhere. Measured:

1. ``epoch``: one epoch of ``FineTunedClassifier(max_epochs=1, head_init="random")``
   on 2,048 SST-2 rows, as ``speed.py``'s fine-tune figure (its own process
   per precision, after a warm-up fit), for precision "auto" and "fp32";
2. ``accuracy``: ``FineTunedClassifier(random_state=0)`` on the full train
   split of SST-2, TREC and CR, test accuracy and fit seconds, under "auto"
   (fp32's figures from ``results/strategies.json``, or measured again with
   ``--fp32``);
3. ``transfer``: ``PretrainedFeaturizer(precision=p) + LogisticRegression()``
   on the same sets for p in fp32 and bf16 (encoding texts/s and accuracy):
   whether "auto" should encode in bf16 too;
   ``scratch``: ``ScratchClassifier(random_state=0)`` (TextCNN from random
   weights) on the same sets under "fp32" and "auto";
4. ``fewshot``: ``FineTunedClassifier(random_state=seed)`` on ``fewshot.py``'s
   subsets (8 rows per class, seeds 0-4) under "auto" and "fp32", one torch
   thread, beside the SetFit cells ``fewshot.py`` recorded
   (``results/fewshot_cells.jsonl``): fit time against SetFit's, accuracy
   against fp32's and against fewshot.py's own fine-tune cells.

The CPU's flags and what torch reports go with the figures. Writes
``results/precision.json`` (merged stage by stage) and ``results/precision.md``.

    python benchmarks/precision.py                        # all stages (~25 min on 2 cores with native bf16)
    python benchmarks/precision.py --stages epoch
    python benchmarks/precision.py --stages accuracy --fp32   # the fp32 fine-tunes measured here too (~10 min)
    python benchmarks/precision.py --report
"""

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

import numpy as np  # noqa: E402

from _machine import cpu_flags, cpu_model  # noqa: E402
from speed import FT_ROWS, peak_mb, reset_peak, rss_mb, sst2  # noqa: E402

RESULTS = Path(__file__).parent / "results"
JSON = RESULTS / "precision.json"
DATASETS = ("sst2", "trec", "cr")
# fp32 fine-tuning accuracy measured by strategies.py (FineTunedClassifier(random_state=0), full train split)
STRATEGIES = RESULTS / "strategies.json"


def machine():
    import torch

    from skadapt.estimators import _execution as x

    return {
        "cpu": cpu_model(),
        "cores": os.cpu_count(),
        "torch": torch.__version__,
        "threads": torch.get_num_threads(),
        "python": platform.python_version(),
        "cpu_flags": cpu_flags(),
        "torch_cpu_capability": torch.backends.cpu.get_cpu_capability(),
        "torch_avx512_bf16": bool(torch.cpu._is_avx512_bf16_supported()),
        "torch_amx_tile": bool(torch.cpu._is_amx_tile_supported()),
        "auto_resolves_to": x.resolve_precision("auto", "cpu"),
    }


# -- 1: one fine-tuning epoch, each precision in its own process ------------------
def child_epoch(precision):
    from skadapt import FineTunedClassifier

    X, y = sst2()
    X, y = X[:FT_ROWS], y[:FT_ROWS]
    params = dict(max_epochs=1, head_init="random", batch_size=32, device="cpu", random_state=0,
                  precision=precision)
    FineTunedClassifier(**params).fit(X[:64], y[:64])  # warm-up: first load and first kernels
    clf = FineTunedClassifier(**params)
    before = rss_mb()
    reset_peak()
    start = time.perf_counter()
    clf.fit(X, y)
    seconds = time.perf_counter() - start
    return {"precision": precision, "ran_in": clf.precision_, "rows": len(X), "seconds": round(seconds, 2),
            "samples_per_s": round(len(X) / seconds, 1), "peak_mb": round(peak_mb()), "rss_before_mb": round(before),
            "train_loss": round(float(clf.history_[-1, "train_loss"]), 4)}


def in_child(precision):
    done = subprocess.run([sys.executable, __file__, "--child", precision], capture_output=True, text=True)
    if done.returncode:
        raise RuntimeError(f"the {precision} epoch failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def epoch_stage(repeats):
    runs = {"auto": [], "fp32": []}
    for _ in range(repeats):  # interleaved, so that a slow spell of the machine hits both
        for precision in ("fp32", "auto"):
            runs[precision].append(in_child(precision))
            print("epoch", runs[precision][-1], flush=True)
    best = {p: min(r, key=lambda row: row["seconds"]) for p, r in runs.items()}
    return {"runs": runs, "best": best, "speedup": round(best["fp32"]["seconds"] / best["auto"]["seconds"], 2)}


# -- 2: full-data fine-tuning accuracy ---------------------------------------------
def splits(dataset):
    from skadapt.datasets import load_dataset

    return tuple(load_dataset(dataset, split=split, return_X_y=True) for split in ("train", "test"))


def finetune(dataset, precision, estimator="FineTunedClassifier"):
    from sklearn.metrics import accuracy_score

    import skadapt
    from skadapt.cache.embeddings import clear_memory

    (X_train, y_train), (X_test, y_test) = splits(dataset)
    clear_memory()
    clf = getattr(skadapt, estimator)(random_state=0, precision=precision)
    start = time.perf_counter()
    clf.fit(X_train, y_train)
    fit_s = time.perf_counter() - start
    start = time.perf_counter()
    accuracy = float(accuracy_score(y_test, clf.predict(X_test)))
    return {"dataset": dataset, "precision": precision, "ran_in": clf.precision_, "train_rows": len(X_train),
            "accuracy": round(accuracy, 4), "fit_s": round(fit_s, 1),
            "predict_s": round(time.perf_counter() - start, 1)}


def strategies_fp32():
    rows = json.loads(STRATEGIES.read_text())["rows"] if STRATEGIES.exists() else []
    return {r["dataset"]: {"dataset": r["dataset"], "precision": "fp32", "ran_in": "fp32", "accuracy": r["accuracy"],
                           "fit_s": r["fit_s"], "source": "results/strategies.json"}
            for r in rows if r["strategy"] == "finetune" and r["per_class"] is None}


def accuracy_stage(datasets, precisions, previous):
    rows = dict(previous.get("rows", {}))
    for dataset in datasets:
        for precision in precisions:
            row = finetune(dataset, precision)
            rows[f"{dataset}/{precision}"] = row
            print("accuracy", row, flush=True)
    for dataset, row in strategies_fp32().items():
        rows.setdefault(f"{dataset}/fp32", row)
    return {"rows": rows}


# -- 3: transfer: the featurizer's encoding in bf16 ---------------------------------
def transfer_stage(datasets):
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import accuracy_score

    from skadapt import PretrainedFeaturizer

    rows = {}
    for dataset in datasets:
        (X_train, y_train), (X_test, y_test) = splits(dataset)
        texts = list(X_train) + list(X_test)
        features = {}
        for precision in ("fp32", "bf16"):
            featurizer = PretrainedFeaturizer(precision=precision, cache=False, device="cpu").fit(texts[:8])
            featurizer.transform(texts[:64])  # warm-up
            start = time.perf_counter()
            F = featurizer.transform(texts)
            seconds = time.perf_counter() - start
            features[precision] = F
            head = LogisticRegression(max_iter=1000).fit(F[:len(X_train)], y_train)
            accuracy = float(accuracy_score(y_test, head.predict(F[len(X_train):])))
            rows[f"{dataset}/{precision}"] = {"dataset": dataset, "precision": precision, "texts": len(texts),
                                              "encode_s": round(seconds, 1),
                                              "texts_per_s": round(len(texts) / seconds, 1),
                                              "accuracy": round(accuracy, 4)}
            print("transfer", rows[f"{dataset}/{precision}"], flush=True)
        a, b = features["fp32"], features["bf16"]
        cosine = (a * b).sum(1) / np.linalg.norm(a, axis=1) / np.linalg.norm(b, axis=1)
        rows[f"{dataset}/bf16"]["min_cosine_to_fp32"] = round(float(cosine.min()), 5)
    return {"rows": rows}


# -- 4: few-shot cells (fewshot.py's 8 rows per class) against SetFit ------------------
def fewshot_stage(datasets, seeds, sizes, precisions):
    """FineTunedClassifier(random_state=seed, precision=p) on fewshot.py's subsets, one torch thread
    (as fewshot.py's SetFit cells were measured); SetFit's and today's cells from its results."""
    import torch
    from sklearn.metrics import accuracy_score

    import fewshot
    from skadapt import FineTunedClassifier
    from skadapt.cache.embeddings import clear_memory
    from strategies import per_class_subset

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    cells = []
    try:
        for per_class in sizes:
            for seed in seeds:
                for dataset in datasets:
                    (X_train, y_train), (X_test, y_test) = fewshot.splits(dataset)
                    X, y = per_class_subset(X_train, y_train, per_class, seed=seed)
                    for precision in precisions:
                        clear_memory()
                        start = time.perf_counter()
                        clf = FineTunedClassifier(random_state=seed, precision=precision).fit(X, y)
                        fit_s = time.perf_counter() - start
                        accuracy = float(accuracy_score(y_test, clf.predict(X_test)))
                        cell = {"dataset": dataset, "per_class": per_class, "seed": seed, "precision": precision,
                                "ran_in": clf.precision_, "contrastive_steps": clf.contrastive_steps_,
                                "accuracy": round(accuracy, 4), "fit_s": round(fit_s, 2), "threads": 1}
                        cells.append(cell)
                        print("fewshot", cell, flush=True)
    finally:
        torch.set_num_threads(threads)
    reference = [c for c in fewshot.read_cells() if c["method"] in ("setfit", "finetune")]
    return {"cells": cells, "reference_cells": reference}


def fewshot_table(f):
    def mean(rows, key):
        return float(np.mean([r[key] for r in rows])) if rows else float("nan")

    lines = ["| set | rows/class | seeds | SetFit acc / fit s | fewshot.py's fine-tune cells acc / fit s | "
             "fp32 now acc / fit s | auto now acc / fit s | auto fit / SetFit's (target ≤ 0.33) |",
             "|---|---|---|---|---|---|---|---|"]
    keys = sorted({(c["dataset"], c["per_class"]) for c in f["cells"]}, key=lambda k: (k[1], DATASETS.index(k[0])))
    for dataset, per_class in keys:
        mine = [c for c in f["cells"] if c["dataset"] == dataset and c["per_class"] == per_class]
        seeds = sorted({c["seed"] for c in mine})
        ref = [c for c in f["reference_cells"] if c["dataset"] == dataset and c["per_class"] == per_class
               and c["seed"] in seeds]
        setfit = [c for c in ref if c["method"] == "setfit"]
        before = [c for c in ref if c["method"] == "finetune"]
        fp32 = [c for c in mine if c["precision"] == "fp32"]
        auto = [c for c in mine if c["precision"] == "auto"]

        def cell(rows):
            return f"{mean(rows, 'accuracy'):.3f} / {mean(rows, 'fit_s'):.1f}" if rows else "—"
        ratio = f"{mean(auto, 'fit_s') / mean(setfit, 'fit_s'):.2f}" if auto and setfit else "—"
        lines.append(f"| {dataset} | {per_class} | {','.join(map(str, seeds))} | {cell(setfit)} | {cell(before)} | "
                     f"{cell(fp32)} | {cell(auto)} | {ratio} |")
    return lines


# -- report ---------------------------------------------------------------------------
def markdown(r):
    m = r["machine"]
    lines = [f"CPU: {m['cpu']} ({m['cores']} cores, torch {m['torch']}, {m['threads']} threads); flags "
             f"{', '.join(m['cpu_flags']) or 'none of note'}; torch reports capability {m['torch_cpu_capability']}, "
             f"AVX-512 BF16 {m['torch_avx512_bf16']}, AMX {m['torch_amx_tile']}: precision=\"auto\" runs "
             f"**{m['auto_resolves_to']}** here.", ""]
    if "epoch" in r:
        e = r["epoch"]
        auto, fp32 = e["best"]["auto"], e["best"]["fp32"]
        lines += ["| one fine-tuning epoch, 2,048 SST-2 rows | fp32 | auto | "
                  "fp32 / auto (target ≥ 1.8 with native bf16) |",
                  "|---|---|---|---|",
                  f"| seconds (best of {len(e['runs']['auto'])}) | {fp32['seconds']} | {auto['seconds']} "
                  f"({auto['ran_in']}) | {e['speedup']} |",
                  f"| samples/s | {fp32['samples_per_s']} | {auto['samples_per_s']} | |",
                  f"| peak memory MB | {fp32['peak_mb']} | {auto['peak_mb']} | |", ""]
    if "accuracy" in r:
        rows = r["accuracy"]["rows"]
        lines += ["| FineTunedClassifier(random_state=0), full train split | fp32 accuracy | auto accuracy | "
                  "auto − fp32 (target ≥ −0.3 points) | fit s fp32 / auto |", "|---|---|---|---|---|"]
        for dataset in DATASETS:
            f, a = rows.get(f"{dataset}/fp32"), rows.get(f"{dataset}/auto")
            if not (f and a):
                continue
            source = " (strategies.json)" if f.get("source") else ""
            lines.append(f"| {dataset} | {f['accuracy']:.4f}{source} | {a['accuracy']:.4f} ({a['ran_in']}) | "
                         f"{100 * (a['accuracy'] - f['accuracy']):+.2f} | {f['fit_s']} / {a['fit_s']} |")
        lines.append("")
    if "scratch" in r:
        rows = r["scratch"]["rows"]
        lines += ["| ScratchClassifier(random_state=0) (TextCNN), full train split | fp32 accuracy | auto accuracy | "
                  "auto − fp32 | fit s fp32 / auto |", "|---|---|---|---|---|"]
        for dataset in DATASETS:
            f, a = rows.get(f"{dataset}/fp32"), rows.get(f"{dataset}/auto")
            if f and a:
                lines.append(f"| {dataset} | {f['accuracy']:.4f} | {a['accuracy']:.4f} ({a['ran_in']}) | "
                             f"{100 * (a['accuracy'] - f['accuracy']):+.2f} | {f['fit_s']} / {a['fit_s']} |")
        lines.append("")
    if "transfer" in r:
        rows = r["transfer"]["rows"]
        lines += ["| PretrainedFeaturizer + LogisticRegression | fp32 accuracy | bf16 accuracy | encode texts/s "
                  "fp32 / bf16 | min cosine bf16 vs fp32 features |", "|---|---|---|---|---|"]
        for dataset in DATASETS:
            f, b = rows.get(f"{dataset}/fp32"), rows.get(f"{dataset}/bf16")
            if f and b:
                lines.append(f"| {dataset} | {f['accuracy']:.4f} | {b['accuracy']:.4f} | {f['texts_per_s']} / "
                             f"{b['texts_per_s']} | {b['min_cosine_to_fp32']} |")
        lines.append("")
    if "fewshot" in r:
        lines += fewshot_table(r["fewshot"])
        lines += ["", "Few-shot: test accuracy and fit seconds, means over the seeds; one torch thread per fit, as "
                  "fewshot.py's SetFit cells (SetFit 1.2, 20 pair iterations) were measured.", ""]
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--stages", default="epoch,accuracy,transfer,scratch,fewshot")
    parser.add_argument("--datasets", default=",".join(DATASETS))
    parser.add_argument("--repeats", type=int, default=2, help="epoch runs per precision (best counts)")
    parser.add_argument("--fp32", action="store_true",
                        help="accuracy: fine-tune in fp32 (kept beside the auto rows) rather than read strategies.json")
    parser.add_argument("--report", action="store_true", help="only print and write the table")
    parser.add_argument("--seeds", default="0,1,2,3,4", help="fewshot: subset seeds")
    parser.add_argument("--sizes", default="8", help="fewshot: rows per class")
    parser.add_argument("--fewshot-precisions", default="auto,fp32", help="fewshot: precisions to fit in")
    args = parser.parse_args(argv)
    if args.child:
        print(json.dumps(child_epoch(args.child)))
        return
    results = json.loads(JSON.read_text()) if JSON.exists() else {}
    results["machine"] = machine()
    datasets = args.datasets.split(",")
    if not args.report:
        for stage in args.stages.split(","):
            if stage == "epoch":
                results["epoch"] = epoch_stage(args.repeats)
            elif stage == "accuracy":
                precisions = ("fp32",) if args.fp32 else ("auto",)
                results["accuracy"] = accuracy_stage(datasets, precisions, results.get("accuracy", {}))
            elif stage == "transfer":
                results["transfer"] = transfer_stage(datasets)
            elif stage == "scratch":
                rows = {}
                for dataset in datasets:
                    for precision in ("fp32", "auto"):
                        rows[f"{dataset}/{precision}"] = finetune(dataset, precision, "ScratchClassifier")
                        print("scratch", rows[f"{dataset}/{precision}"], flush=True)
                results["scratch"] = {"rows": rows}
            elif stage == "fewshot":
                results["fewshot"] = fewshot_stage(datasets, [int(s) for s in args.seeds.split(",")],
                                                   [int(s) for s in args.sizes.split(",")],
                                                   args.fewshot_precisions.split(","))
            else:
                parser.error(f"--stages: unknown stage {stage!r}; "
                             "choose from epoch, accuracy, transfer, scratch, fewshot")
            RESULTS.mkdir(exist_ok=True)
            JSON.write_text(json.dumps(results, indent=2) + "\n")
    text = markdown(results)
    (RESULTS / "precision.md").write_text(text + "\n")
    print(text)


if __name__ == "__main__":
    main()
