"""Saving and serving: torch vs ONNX Runtime (fp32, int8), safe folders vs pickle.

For ``FineTunedClassifier()`` (defaults, random_state=0) fine-tuned on the
full training splits of SST-2, TREC and CR, one fine-tuned for one epoch on
2,000 GoEmotions rows (multi-label), and ``PretrainedFeaturizer()``,
measures in one run on this machine:

* predictions per second on the SST-2 test set (1,821 texts, batch 32,
  longest first in both runtimes): torch (the loaded estimator) vs
  ``skadapt.export_onnx`` fp32 vs int8, best of 3 interleaved rounds;
* test accuracy of each runtime on SST-2, TREC and CR, and the largest
  absolute difference of their probabilities from torch's (also for the
  multi-label model, with its micro-F1);
* cold start of ``skadapt predict MODEL one-row.csv`` in a new process
  (median of 3): a pickle (``--trust-pickle``), a ``skadapt.save`` folder
  (torch), ONNX folders;
* size on disk of each.

Fitted models are kept under ``--work`` (as ``skadapt.save`` folders), so a
rerun measures without refitting. Writes ``results/serve.json`` and ``.md``.

    python benchmarks/serve.py            # about 20 min on 2 cores the first time, 3 min after
"""

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

import joblib  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import torch  # noqa: E402
from sklearn.metrics import f1_score  # noqa: E402

import skadapt  # noqa: E402
from skadapt import FineTunedClassifier, PretrainedFeaturizer  # noqa: E402
from skadapt.datasets import load_dataset  # noqa: E402

RESULTS = Path(__file__).parent / "results"
SKADAPT = Path(sys.executable).with_name("skadapt")
RUNTIMES = ("torch", "onnx-fp32", "onnx-int8")


def folder_size(path):
    path = Path(path)
    return path.stat().st_size if path.is_file() else sum(f.stat().st_size for f in path.rglob("*") if f.is_file())


def fitted(work, name, make, X, y):
    """The saved model ``name`` under ``work``: fitted and saved the first time, then loaded."""
    from skadapt.persistence import read_metadata

    folder = work / name
    if not (folder / "skadapt-model.json").exists():
        start = time.perf_counter()
        model = make().fit(X, y)
        fit_s = round(time.perf_counter() - start, 1)
        skadapt.save(model, folder, overwrite=True, metadata={"fit_s": fit_s})
        print(f"fitted {name} in {fit_s:.0f} s", flush=True)
    fit_s = read_metadata(folder).get("fit_s")  # kept with the model, so a rerun reports it too
    for quantize in (None, "int8"):
        onnx = work / f"{name}-onnx-{quantize or 'fp32'}"
        if not (onnx / "skadapt-model.json").exists():
            skadapt.export_onnx(skadapt.load(folder), onnx, quantize=quantize, overwrite=True)
    return fit_s


def runtimes(work, name):
    return {"torch": skadapt.load(work / name),
            "onnx-fp32": skadapt.load(work / f"{name}-onnx-fp32"),
            "onnx-int8": skadapt.load(work / f"{name}-onnx-int8")}


def throughput(models, method, X, rounds=3):
    """Texts per second of each runtime, best of ``rounds`` interleaved rounds (noise on a shared machine)."""
    best = {}
    for _ in range(rounds):
        for runtime, model in models.items():
            start = time.perf_counter()
            getattr(model, method)(X)
            elapsed = time.perf_counter() - start
            best[runtime] = min(best.get(runtime, np.inf), elapsed)
    return {runtime: round(len(X) / s, 1) for runtime, s in best.items()}


def cold_start(model, csv, extra=(), runs=3):
    """Median wall seconds of ``skadapt predict MODEL csv`` in a fresh process."""
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run([str(SKADAPT), "predict", str(model), str(csv), *extra], check=True, capture_output=True)
        times.append(time.perf_counter() - start)
    return round(statistics.median(times), 2)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--work", default="/tmp/skadapt-serve", help="folder for the fitted models")
    args = parser.parse_args(argv)
    work = Path(args.work)
    work.mkdir(parents=True, exist_ok=True)
    start_all = time.perf_counter()
    out = {"machine": f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, torch "
                      f"{torch.__version__}, {torch.get_num_threads()} threads", "fit_s": {}}

    # -- fit (once) --------------------------------------------------------------
    data = {}
    for name in ("sst2", "trec", "cr"):
        train, test = load_dataset(name, split="train"), load_dataset(name, split="test")
        data[name] = (list(test.data), np.asarray(test.target))
        out["fit_s"][name] = fitted(work, f"finetune-{name}", lambda: FineTunedClassifier(random_state=0),
                                    list(train.data), np.asarray(train.target))
    goemotions = load_dataset("goemotions", split="train")
    rows = np.random.default_rng(0).choice(len(goemotions.data), 2000, replace=False)
    out["fit_s"]["goemotions-2000"] = fitted(
        work, "finetune-goemotions", lambda: FineTunedClassifier(max_epochs=1, random_state=0),
        [goemotions.data[i] for i in rows], np.asarray(goemotions.target)[rows])
    fitted(work, "featurizer", PretrainedFeaturizer, ["a text"], None)

    # -- speed on the SST-2 test set ---------------------------------------------
    X_sst2 = data["sst2"][0]
    out["speed_texts_per_s"] = {
        "FineTunedClassifier.predict_proba": throughput(runtimes(work, "finetune-sst2"), "predict_proba", X_sst2),
    }
    featurizers = runtimes(work, "featurizer")
    featurizers["torch"].set_params(cache=False)  # every text encoded, as ONNX does
    out["speed_texts_per_s"]["PretrainedFeaturizer.transform"] = throughput(featurizers, "transform", X_sst2)

    # -- accuracy and agreement ----------------------------------------------------
    out["accuracy"] = {}
    for name, (X, y) in data.items():
        models = runtimes(work, f"finetune-{name}")
        proba = {runtime: model.predict_proba(X) for runtime, model in models.items()}
        classes = models["torch"].classes_
        out["accuracy"][name] = {
            **{runtime: round(float(np.mean(classes[p.argmax(axis=1)] == y)), 4) for runtime, p in proba.items()},
            **{f"max_abs_proba_diff_{r}": float(np.abs(proba[r] - proba["torch"]).max()) for r in RUNTIMES[1:]},
            "mean_abs_proba_diff_onnx-int8": float(np.abs(proba["onnx-int8"] - proba["torch"]).mean()),
            "agreement_onnx-int8": round(float(np.mean(proba["onnx-int8"].argmax(1) == proba["torch"].argmax(1))), 4),
        }
    test = load_dataset("goemotions", split="test")
    X, Y = list(test.data), np.asarray(test.target)
    proba = {runtime: model.predict_proba(X) for runtime, model in runtimes(work, "finetune-goemotions").items()}
    out["accuracy"]["goemotions (multi-label, micro-F1)"] = {
        **{runtime: round(float(f1_score(Y, p >= 0.5, average="micro", zero_division=0)), 4)
           for runtime, p in proba.items()},
        **{f"max_abs_proba_diff_{r}": float(np.abs(proba[r] - proba["torch"]).max()) for r in RUNTIMES[1:]},
        "mean_abs_proba_diff_onnx-int8": float(np.abs(proba["onnx-int8"] - proba["torch"]).mean()),
        "agreement_onnx-int8": round(float(np.mean((proba["onnx-int8"] >= 0.5) == (proba["torch"] >= 0.5))), 4),
    }

    # -- cold start and size on disk ------------------------------------------------
    one_row = work / "one-row.csv"
    pd.DataFrame({"text": ["a gripping, funny and moving film"]}).to_csv(one_row, index=False)
    pickle_file = work / "finetune-sst2.joblib"
    joblib.dump({"model": skadapt.load(work / "finetune-sst2"), "task": "classification"}, pickle_file)
    candidates = {"pickle (joblib)": (pickle_file, ["--trust-pickle"]),
                  "skadapt.save folder (torch)": (work / "finetune-sst2", []),
                  "ONNX fp32 folder": (work / "finetune-sst2-onnx-fp32", []),
                  "ONNX int8 folder": (work / "finetune-sst2-onnx-int8", [])}
    out["cold_start_s"] = {label: cold_start(path, one_row, extra) for label, (path, extra) in candidates.items()}
    out["size_mb"] = {label: round(folder_size(path) / 1e6, 1) for label, (path, _) in candidates.items()}
    out["wall_s"] = round(time.perf_counter() - start_all)

    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "serve.json").write_text(json.dumps(out, indent=2) + "\n")
    (RESULTS / "serve.md").write_text(markdown(out) + "\n")
    print(markdown(out))


def markdown(out):
    lines = [f"Machine: {out['machine']}; run took {out['wall_s']} s.", "",
             "| texts/s on SST-2 test (1,821) | torch | ONNX fp32 | ONNX int8 | fp32 / torch | int8 / torch |",
             "|---|---|---|---|---|---|"]
    for what, speed in out["speed_texts_per_s"].items():
        lines.append(f"| {what} | {speed['torch']:.0f} | {speed['onnx-fp32']:.0f} | {speed['onnx-int8']:.0f} | "
                     f"{speed['onnx-fp32'] / speed['torch']:.2f}x | {speed['onnx-int8'] / speed['torch']:.2f}x |")
    lines += ["", "| test accuracy | torch | ONNX fp32 | ONNX int8 | int8 − torch (points) | max abs Δp fp32 | "
                  "int8: mean / max abs Δp | int8 predictions = torch's |", "|---|---|---|---|---|---|---|---|"]
    for name, r in out["accuracy"].items():
        lines.append(f"| {name} | {r['torch']:.4f} | {r['onnx-fp32']:.4f} | {r['onnx-int8']:.4f} | "
                     f"{100 * (r['onnx-int8'] - r['torch']):+.2f} | {r['max_abs_proba_diff_onnx-fp32']:.1e} | "
                     f"{r['mean_abs_proba_diff_onnx-int8']:.4f} / {r['max_abs_proba_diff_onnx-int8']:.3f} | "
                     f"{100 * r['agreement_onnx-int8']:.1f} % |")
    lines += ["", "| `skadapt predict MODEL one-row.csv` | cold start s (median of 3) | size on disk MB |",
              "|---|---|---|"]
    for label, seconds in out["cold_start_s"].items():
        lines.append(f"| {label} | {seconds:.2f} | {out['size_mb'][label]:.1f} |")
    return "\n".join(lines)


if __name__ == "__main__":
    main()
