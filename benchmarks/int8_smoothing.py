"""int8 with and without smoothing (SmoothQuant, docs/serving.md): how far int8 moves each model from fp32.

For the models ``benchmarks/serve.py`` fine-tunes (``FineTunedClassifier()``
on all of SST-2, TREC and CR; one epoch on 2,000 GoEmotions rows,
multi-label) — fitted here the first time, read from ``--work`` after —
exports int8 folders three ways and compares their test-set predictions with
the torch model's in fp32:

* ``off``: ``calibration=False``, the int8 export before smoothing;
* ``bundled``: the default, smoothed on 192 bundled sentences (SST-2, TREC, CR);
* ``own``: smoothed on 256 training texts of the model's own set.

Reports, per model and way: predictions equal to torch fp32's (labels at
0.5 for the multi-label model), mean and largest change of a probability,
test accuracy (micro-F1), with the CPU's flags. Writes
``results/int8_smoothing.json`` and ``.md``.

    python benchmarks/int8_smoothing.py --work /tmp/skadapt-serve   # about 4 min, plus 14 to fit the models once
"""

import argparse
import json
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

import numpy as np  # noqa: E402
from sklearn.metrics import f1_score  # noqa: E402

sys.path.insert(0, str(Path(__file__).parent))
import serve  # noqa: E402  (the same fitted models as the serving benchmark)

import skadapt  # noqa: E402
from skadapt import FineTunedClassifier  # noqa: E402
from skadapt.datasets import load_dataset  # noqa: E402

from _machine import cpu_flags_text  # noqa: E402

RESULTS = Path(__file__).parent / "results"
DATASETS = ("sst2", "trec", "cr", "goemotions")
WAYS = ("off", "bundled", "own")


def model_and_data(work, name):
    """The fitted model's folder name, the test rows, their targets, and 256 training texts."""
    train, test = load_dataset(name, split="train"), load_dataset(name, split="test")
    rng = np.random.default_rng(0)
    if name == "goemotions":
        rows = rng.choice(len(train.data), 2000, replace=False)
        serve.fitted(work, "finetune-goemotions", lambda: FineTunedClassifier(max_epochs=1, random_state=0),
                     [train.data[i] for i in rows], np.asarray(train.target)[rows], onnx=False)
    else:
        serve.fitted(work, f"finetune-{name}", lambda: FineTunedClassifier(random_state=0),
                     list(train.data), np.asarray(train.target), onnx=False)
    own = [train.data[i] for i in rng.choice(len(train.data), 256, replace=False)]
    return f"finetune-{name}", list(test.data), np.asarray(test.target), own


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--work", default="/tmp/skadapt-serve", help="folder for the fitted models (serve.py's)")
    parser.add_argument("--datasets", default=",".join(DATASETS), help=f"comma-separated, among {', '.join(DATASETS)}")
    args = parser.parse_args(argv)
    chosen = args.datasets.split(",")
    unknown = set(chosen) - set(DATASETS)
    if unknown:
        parser.error(f"unknown --datasets {', '.join(sorted(unknown))}; choose among {', '.join(DATASETS)}.")
    work = Path(args.work)
    work.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    out = {"cpu_flags": cpu_flags_text(), "results": {}}
    print(f"CPU flags: {out['cpu_flags']}", flush=True)
    for name in chosen:
        folder, X, y, own = model_and_data(work, name)
        torch_model = serve.load_runtime(work, folder, "torch-fp32")
        reference = torch_model.predict_proba(X)
        multilabel = name == "goemotions"
        rows = {}
        for way, calibration in zip(WAYS, (False, None, own)):
            int8 = work / f"{folder}-int8-{way}"
            # the export copies the network in fp32, whatever precision the loaded model predicts in
            skadapt.export_onnx(torch_model, int8, quantize="int8", calibration=calibration, overwrite=True)
            served = skadapt.load(int8)
            proba = served.predict_proba(X)
            if multilabel:
                agree = np.mean((proba >= 0.5) == (reference >= 0.5))
                score = f1_score(y, proba >= 0.5, average="micro", zero_division=0)
            else:
                agree = np.mean(proba.argmax(1) == reference.argmax(1))
                score = np.mean(served.classes_[proba.argmax(1)] == y)
            moved = np.abs(proba - reference)
            rows[way] = {"agreement": round(float(agree), 4), "mean_abs_proba_diff": round(float(moved.mean()), 4),
                         "max_abs_proba_diff": round(float(moved.max()), 3), "score": round(float(score), 4)}
            print(name, way, rows[way], flush=True)
        reference_score = (f1_score(y, reference >= 0.5, average="micro", zero_division=0) if multilabel
                           else np.mean(torch_model.classes_[reference.argmax(1)] == y))
        out["results"][name] = {"torch_fp32_score": round(float(reference_score), 4), **rows}
    out["wall_s"] = round(time.perf_counter() - start)
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "int8_smoothing.json").write_text(json.dumps(out, indent=2) + "\n")
    lines = [f"CPU flags: {out['cpu_flags']}; run took {out['wall_s']} s.", "",
             "| model | torch fp32 score | way | predictions = torch fp32's | mean abs Δp | max abs Δp | int8 score |",
             "|---|---|---|---|---|---|---|"]
    for name, result in out["results"].items():
        for way in WAYS:
            r = result[way]
            lines.append(f"| {name} | {result['torch_fp32_score']} | {way} | {100 * r['agreement']:.1f} % | "
                         f"{r['mean_abs_proba_diff']} | {r['max_abs_proba_diff']} | {r['score']} |")
    (RESULTS / "int8_smoothing.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
