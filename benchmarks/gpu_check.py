"""One short GPU run: encoding throughput and fine-tuning speed and accuracy, fp32 against bf16.

On the bundled SST-2 (6,920 training and 872 test sentences) with MiniLM:

* encode: ``PretrainedFeaturizer(device=..., precision=p, cache=False)``
  over the training sentences, texts per second (after a warm-up batch);
* fine-tune: ``FineTunedClassifier(precision=p, random_state=0)`` with its
  defaults (3 epochs), samples per second (rows x epochs / fit seconds) and
  test accuracy; peak GPU memory.

for ``p`` in fp32 and bf16 (``--precisions`` adds fp16). Writes
``results/gpu_check.json`` and prints the table. Needs a CUDA GPU; ``--device
cpu --rows 256`` runs the same code on a CPU as a quick check of the script.

    python benchmarks/gpu_check.py                       # a few minutes on one GPU
    python benchmarks/gpu_check.py --device cpu --rows 256 --epochs 1
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

import numpy as np  # noqa: E402
import torch  # noqa: E402

from skadapt import FineTunedClassifier, PretrainedFeaturizer  # noqa: E402
from skadapt.cache import clear_caches  # noqa: E402
from skadapt.datasets import load_dataset  # noqa: E402

RESULTS = Path(__file__).parent / "results"


def synchronise(device):
    if device.startswith("cuda"):
        torch.cuda.synchronize()


def peak_memory_mb(device):
    return round(torch.cuda.max_memory_allocated() / 2**20) if device.startswith("cuda") else None


def reset_peak(device):
    if device.startswith("cuda"):
        torch.cuda.reset_peak_memory_stats()


def measure(precision, device, X_train, y_train, X_test, y_test, epochs, batch_size):
    clear_caches()
    featurizer = PretrainedFeaturizer(device=device, precision=precision, cache=False, batch_size=batch_size)
    featurizer.fit(X_train[:8]).transform(X_train[:batch_size])  # warm-up: kernels, allocator
    synchronise(device)
    reset_peak(device)
    start = time.perf_counter()
    featurizer.transform(X_train)
    synchronise(device)
    encode_s = time.perf_counter() - start
    encode_memory = peak_memory_mb(device)

    clear_caches()
    reset_peak(device)
    epochs_arg = {} if epochs is None else {"max_epochs": epochs}
    clf = FineTunedClassifier(device=device, precision=precision, random_state=0, **epochs_arg)
    start = time.perf_counter()
    clf.fit(X_train, y_train)
    synchronise(device)
    fit_s = time.perf_counter() - start
    n_epochs = len(clf.history_)
    accuracy = clf.score(X_test, y_test)
    return {
        "precision": precision,
        "encode_texts_per_s": round(len(X_train) / encode_s, 1),
        "encode_peak_mb": encode_memory,
        "finetune_samples_per_s": round(len(X_train) * n_epochs / fit_s, 1),
        "finetune_fit_s": round(fit_s, 1),
        "finetune_peak_mb": peak_memory_mb(device),
        "finetune_accuracy": round(float(accuracy), 4),
    }


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--device", default="cuda")
    parser.add_argument("--precisions", default="fp32,bf16")
    parser.add_argument("--rows", type=int, help="use only this many training rows (default: all 6,920)")
    parser.add_argument("--epochs", type=int, help="fine-tuning epochs (default: FineTunedClassifier's, 3)")
    parser.add_argument("--batch-size", type=int, default=128, help="encoding batch size")
    args = parser.parse_args(argv)
    if args.device.startswith("cuda") and not torch.cuda.is_available():
        print("no CUDA GPU here; run this on a GPU machine (or --device cpu --rows 256 to check the script).",
              file=sys.stderr)
        return 2
    X_train, y_train = load_dataset("sst2", split="train", return_X_y=True)
    X_test, y_test = load_dataset("sst2", split="test", return_X_y=True)
    if args.rows:
        rng = np.random.default_rng(0)
        keep = rng.choice(len(X_train), args.rows, replace=False)
        X_train, y_train = [X_train[i] for i in keep], y_train[keep]
    X_train = list(X_train)
    rows = []
    started = time.perf_counter()
    for precision in args.precisions.split(","):
        row = measure(precision, args.device, X_train, y_train, list(X_test), y_test, args.epochs, args.batch_size)
        rows.append(row)
        print(json.dumps(row), flush=True)
    gpu = torch.cuda.get_device_name() if args.device.startswith("cuda") else "none"
    meta = {"machine": f"{platform.machine()}, {os.cpu_count()} cores, GPU {gpu}, torch {torch.__version__}",
            "device": args.device, "train_rows": len(X_train), "wall_s": round(time.perf_counter() - started, 1)}
    written = ""
    if args.device.startswith("cuda"):  # a CPU run only checks the script
        RESULTS.mkdir(exist_ok=True)
        (RESULTS / "gpu_check.json").write_text(json.dumps({"meta": meta, "rows": rows}, indent=2) + "\n")
        written = f"; wrote {RESULTS / 'gpu_check.json'}"
    print("| precision | encode texts/s | fine-tune samples/s | fit s | test accuracy | peak MB (encode / fine-tune) |")
    print("|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['precision']} | {r['encode_texts_per_s']} | {r['finetune_samples_per_s']} | {r['finetune_fit_s']} | "
              f"{r['finetune_accuracy']:.3f} | {r['encode_peak_mb']} / {r['finetune_peak_mb']} |")
    print(f"\n{meta['machine']}; wall {meta['wall_s']} s{written}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
