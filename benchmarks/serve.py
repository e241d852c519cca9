"""Saving and serving: torch vs ONNX Runtime (fp32, int8) vs OpenVINO, safe folders vs pickle.

For ``FineTunedClassifier()`` (defaults, random_state=0) fine-tuned on the
full training splits of SST-2, TREC and CR, one fine-tuned for one epoch on
2,000 GoEmotions rows (multi-label), and ``PretrainedFeaturizer()``,
measures in one run on this machine:

* predictions per second on the SST-2 test set (1,821 texts, batch 32,
  longest first in every runtime): torch (the loaded estimator) vs
  ``skadapt.export_onnx`` fp32 vs int8 on ONNX Runtime, and both folders on
  OpenVINO (``skadapt.load(folder, runtime="openvino")``) when it is
  installed: the first call of a freshly loaded folder (load seconds
  apart), and later calls (best of 3 interleaved rounds);
* test accuracy of each runtime on SST-2, TREC and CR, the largest
  absolute difference of their probabilities from torch's and how many
  predictions equal torch's (also for the multi-label model, with its
  micro-F1);
* the CPU's flags that decide what int8 and bf16 gain (AVX2, AVX-512,
  VNNI, BF16, AMX);
* cold start of ``skadapt predict MODEL one-row.csv`` in a new process
  (median of 3): a pickle (``--trust-pickle``), a ``skadapt.save`` folder
  (torch), ONNX folders;
* size on disk of each.

Fitted models are kept under ``--work`` (as ``skadapt.save`` folders), so a
rerun measures without refitting (the ONNX folders are exported again each
run). Writes ``results/serve.json`` and ``.md`` (``--output NAME``:
``results/NAME.json`` and ``.md``, for a run on another CPU).

    python benchmarks/serve.py            # about 20 min on 2 cores the first time, 3 min after
    python benchmarks/serve.py --datasets sst2   # the SST-2 model only (one fine-tune, about 6 min)
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

from _machine import cpu_flags, cpu_flags_text, cpu_model  # noqa: E402  (benchmarks/_machine.py)

RESULTS = Path(__file__).parent / "results"
SKADAPT = Path(sys.executable).with_name("skadapt")
# "torch" is the loaded estimator as it predicts by default (precision="auto": bf16 where the CPU has it);
# "torch-fp32" the same folder pinned to fp32, as every estimator predicted before precision="auto".
RUNTIMES = ("torch", "torch-fp32", "onnx-fp32", "onnx-int8", "openvino-fp32", "openvino-int8")
DATASETS = ("sst2", "trec", "cr", "goemotions")


def has_openvino():
    import importlib.util

    return importlib.util.find_spec("openvino") is not None


def folder_size(path):
    path = Path(path)
    return path.stat().st_size if path.is_file() else sum(f.stat().st_size for f in path.rglob("*") if f.is_file())


def fitted(work, name, make, X, y, *, onnx=True):
    """The saved model ``name`` under ``work``: fitted and saved the first time, then loaded; with
    ``onnx``, its fp32 and int8 ONNX folders exported beside it."""
    from skadapt.persistence import read_metadata

    folder = work / name
    if not (folder / "skadapt-model.json").exists():
        start = time.perf_counter()
        model = make().fit(X, y)
        fit_s = round(time.perf_counter() - start, 1)
        skadapt.save(model, folder, overwrite=True, metadata={"fit_s": fit_s})
        print(f"fitted {name} in {fit_s:.0f} s", flush=True)
    fit_s = read_metadata(folder).get("fit_s")  # kept with the model, so a rerun reports it too
    if onnx:
        model = skadapt.load(folder)
        for quantize in (None, "int8"):  # exported again each run (seconds): the export being measured is this one
            skadapt.export_onnx(model, work / f"{name}-onnx-{quantize or 'fp32'}", quantize=quantize, overwrite=True)
    return fit_s


def onnx_folder(work, name, runtime):
    return work / f"{name}-onnx-{runtime.rsplit('-', 1)[1]}"


def load_runtime(work, name, runtime):
    if runtime == "torch":
        return skadapt.load(work / name)
    if runtime == "torch-fp32":  # "auto" resolved to fp32 at load, whatever the CPU
        os.environ["SKADAPT_CPU_BF16"] = "0"
        try:
            model = skadapt.load(work / name)
        finally:
            del os.environ["SKADAPT_CPU_BF16"]
        if isinstance(model, PretrainedFeaturizer):  # it resolves "auto" at each transform
            model.set_params(precision="fp32")
        return model
    return skadapt.load(onnx_folder(work, name, runtime), runtime=runtime.split("-")[0].replace("onnx", "onnxruntime"))


def available_runtimes():
    return RUNTIMES if has_openvino() else RUNTIMES[:4]


def runtimes(work, name):
    return {runtime: load_runtime(work, name, runtime) for runtime in available_runtimes()}


def first_calls(work, name, method, X):
    """Seconds to load each runtime's folder afresh and texts per second of its first call, one runtime at a time."""
    import gc

    out = {}
    for runtime in available_runtimes():
        gc.collect()
        start = time.perf_counter()
        model = load_runtime(work, name, runtime)
        if runtime.startswith("torch") and hasattr(model, "set_params") and method == "transform":
            model.set_params(cache=False)
        loaded = time.perf_counter() - start
        start = time.perf_counter()
        getattr(model, method)(X)
        out[runtime] = {"load_s": round(loaded, 2), "first_call_texts_per_s": round(len(X) / (time.perf_counter() - start), 1)}
        del model
    return out


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
    parser.add_argument("--datasets", default=",".join(DATASETS),
                        help=f"comma-separated, among {', '.join(DATASETS)} (sst2 is always measured)")
    parser.add_argument("--output", default="serve", help="name of the results files under results/ (default: serve)")
    args = parser.parse_args(argv)
    chosen = {"sst2", *args.datasets.split(",")}
    unknown = chosen - set(DATASETS)
    if unknown:
        parser.error(f"unknown --datasets {', '.join(sorted(unknown))}; choose among {', '.join(DATASETS)}.")
    work = Path(args.work)
    work.mkdir(parents=True, exist_ok=True)
    start_all = time.perf_counter()
    from importlib import metadata

    model_name, flags = cpu_model(), cpu_flags()
    versions = {p: metadata.version(p) for p in ("onnxruntime", "openvino") if p != "openvino" or has_openvino()}
    out = {"machine": f"{model_name or platform.processor() or platform.machine()}, {os.cpu_count()} cores, torch "
                      f"{torch.__version__}, {torch.get_num_threads()} threads, "
                      + ", ".join(f"{p} {v}" for p, v in versions.items()),
           "cpu_flags": flags, "fit_s": {}}
    print(f"CPU flags: {cpu_flags_text()}", flush=True)

    # -- fit (once) --------------------------------------------------------------
    data = {}
    for name in [d for d in DATASETS[:3] if d in chosen]:
        train, test = load_dataset(name, split="train"), load_dataset(name, split="test")
        data[name] = (list(test.data), np.asarray(test.target))
        out["fit_s"][name] = fitted(work, f"finetune-{name}", lambda: FineTunedClassifier(random_state=0),
                                    list(train.data), np.asarray(train.target))
    if "goemotions" in chosen:
        goemotions = load_dataset("goemotions", split="train")
        rows = np.random.default_rng(0).choice(len(goemotions.data), 2000, replace=False)
        out["fit_s"]["goemotions-2000"] = fitted(
            work, "finetune-goemotions", lambda: FineTunedClassifier(max_epochs=1, random_state=0),
            [goemotions.data[i] for i in rows], np.asarray(goemotions.target)[rows])
    fitted(work, "featurizer", PretrainedFeaturizer, ["a text"], None)

    # -- speed on the SST-2 test set ---------------------------------------------
    X_sst2 = data["sst2"][0]
    # First: each folder loaded afresh and its first call timed, before anything else ran on that model.
    out["first_call"] = {"FineTunedClassifier.predict_proba": first_calls(work, "finetune-sst2", "predict_proba", X_sst2),
                         "PretrainedFeaturizer.transform": first_calls(work, "featurizer", "transform", X_sst2)}
    out["speed_texts_per_s"] = {
        "FineTunedClassifier.predict_proba": throughput(runtimes(work, "finetune-sst2"), "predict_proba", X_sst2),
    }
    featurizers = runtimes(work, "featurizer")
    for runtime in ("torch", "torch-fp32"):
        featurizers[runtime].set_params(cache=False)  # every text encoded, as ONNX does
    out["speed_texts_per_s"]["PretrainedFeaturizer.transform"] = throughput(featurizers, "transform", X_sst2)
    openvino = runtimes(work, "finetune-sst2").get("openvino-fp32")
    if openvino is not None:
        out["openvino_precision"] = openvino._session.precision

    # -- accuracy and agreement ----------------------------------------------------
    out["accuracy"] = {}
    for name, (X, y) in data.items():
        models = runtimes(work, f"finetune-{name}")
        proba = {runtime: model.predict_proba(X) for runtime, model in models.items()}
        classes = models["torch"].classes_
        out["accuracy"][name] = {
            **{runtime: round(float(np.mean(classes[p.argmax(axis=1)] == y)), 4) for runtime, p in proba.items()},
            **{f"max_abs_proba_diff_{r}": float(np.abs(proba[r] - proba["torch"]).max()) for r in proba if r != "torch"},
            **{f"mean_abs_proba_diff_{r}": float(np.abs(proba[r] - proba["torch"]).mean()) for r in proba if r != "torch"},
            **{f"agreement_{r}": round(float(np.mean(proba[r].argmax(1) == proba["torch"].argmax(1))), 4)
               for r in proba if r != "torch"},
        }
    if "goemotions" in chosen:
        test = load_dataset("goemotions", split="test")
        X, Y = list(test.data), np.asarray(test.target)
        proba = {runtime: model.predict_proba(X) for runtime, model in runtimes(work, "finetune-goemotions").items()}
        out["accuracy"]["goemotions (multi-label, micro-F1)"] = {
            **{runtime: round(float(f1_score(Y, p >= 0.5, average="micro", zero_division=0)), 4)
               for runtime, p in proba.items()},
            **{f"max_abs_proba_diff_{r}": float(np.abs(proba[r] - proba["torch"]).max()) for r in proba if r != "torch"},
            **{f"mean_abs_proba_diff_{r}": float(np.abs(proba[r] - proba["torch"]).mean()) for r in proba if r != "torch"},
            **{f"agreement_{r}": round(float(np.mean((proba[r] >= 0.5) == (proba["torch"] >= 0.5))), 4)
               for r in proba if r != "torch"},
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
    if has_openvino():
        candidates.update({"ONNX fp32 folder, --runtime openvino": (work / "finetune-sst2-onnx-fp32", ["--runtime", "openvino"]),
                           "ONNX int8 folder, --runtime openvino": (work / "finetune-sst2-onnx-int8", ["--runtime", "openvino"])})
    out["cold_start_s"] = {label: cold_start(path, one_row, extra) for label, (path, extra) in candidates.items()}
    out["size_mb"] = {label: round(folder_size(path) / 1e6, 1) for label, (path, _) in candidates.items()}
    out["wall_s"] = round(time.perf_counter() - start_all)

    RESULTS.mkdir(exist_ok=True)
    (RESULTS / f"{args.output}.json").write_text(json.dumps(out, indent=2) + "\n")
    (RESULTS / f"{args.output}.md").write_text(markdown(out) + "\n")
    print(markdown(out))


NAMES = {"torch": "torch (precision auto)", "torch-fp32": "torch fp32", "onnx-fp32": "ONNX fp32", "onnx-int8": "ONNX int8", "openvino-fp32": "OpenVINO (fp32 folder)",
         "openvino-int8": "OpenVINO (int8 folder)"}


def markdown(out):
    flags = ", ".join(out.get("cpu_flags", [])) or "none of the listed"
    lines = [f"Machine: {out['machine']}; CPU flags: {flags}"
             + (f"; OpenVINO computes in {out['openvino_precision']}" if out.get("openvino_precision") else "")
             + f"; run took {out['wall_s']} s.", ""]
    for what, speed in out["speed_texts_per_s"].items():
        first = out["first_call"][what]
        lines += [f"**{what}**, texts/s on the SST-2 test set (1,821):", "",
                  "| runtime | load s | first call | later calls (best of 3) | later / torch (auto) | later / torch fp32 "
                  "(as before precision='auto') | later / ONNX fp32 |", "|---|---|---|---|---|---|---|"]
        for runtime, value in speed.items():
            lines.append(f"| {NAMES[runtime]} | {first[runtime]['load_s']:.2f} | {first[runtime]['first_call_texts_per_s']:.0f} | "
                         f"{value:.0f} | {value / speed['torch']:.2f}x | {value / speed['torch-fp32']:.2f}x | "
                         f"{value / speed['onnx-fp32']:.2f}x |")
        lines.append("")
    others = [r for r in RUNTIMES[1:] if any(f"agreement_{r}" in r_ for r_ in out["accuracy"].values())]
    lines += ["| test accuracy | " + " | ".join(NAMES[r] for r in ("torch", *others)) + " | "
              + " | ".join(f"{NAMES[r]}: max abs Δp, predictions = torch's" for r in others) + " |",
              "|---|" + "---|" * (1 + 2 * len(others))]
    for name, r in out["accuracy"].items():
        lines.append(f"| {name} | " + " | ".join(f"{r[k]:.4f}" for k in ("torch", *others)) + " | "
                     + " | ".join(f"{r['max_abs_proba_diff_' + k]:.1e}, {100 * r['agreement_' + k]:.1f} %" for k in others)
                     + " |")
    lines += ["", "| `skadapt predict MODEL one-row.csv` | cold start s (median of 3) | size on disk MB |",
              "|---|---|---|"]
    for label, seconds in out["cold_start_s"].items():
        lines.append(f"| {label} | {seconds:.2f} | {out['size_mb'][label]:.1f} |")
    return "\n".join(lines)


if __name__ == "__main__":
    main()
