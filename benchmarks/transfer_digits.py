"""Knowledge learned on one task reused on another: scikit-learn's 8x8 digits.

1. Learn a small convolutional backbone from scratch on the digits 0-4
   (``ScratchClassifier(backbone="cnn")``) and export it with
   ``skadapt.export_backbone`` (safetensors + JSON).
2. On the digits 5-9, with 5, 10, 20 and 50 images per class, compare:

   * ``scratch``   ScratchClassifier(backbone="cnn")               random init, same architecture
   * ``transfer``  PretrainedFeaturizer("exported:...") + StandardScaler + LogisticRegression (C by 3-fold CV)
   * ``finetune``  FineTunedClassifier("exported:...")             linear-probe head, then all layers

   each averaged over ``--repeats`` random draws of the training images; the
   test set is every other 5-9 image. Scratch and fine-tuning get the same
   budget (``--epochs`` epochs, lr 1e-3, no warm-up or weight decay):
   neither is tuned on the test set.

The same runs are made for each ``--architectures`` entry: the default
2-block network and a deeper 3-block one, because which way wins depends on
how much a network must learn from few images. Writes
``results/transfer_digits.json`` and ``.md`` and the plot
``docs/img/transfer-digits.png``, and prints the table.

    python benchmarks/transfer_digits.py              # about 5 minutes on 2 cores
    python benchmarks/transfer_digits.py --repeats 2 --sizes 5,10
"""

import argparse
import json
import os
import platform
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
from sklearn.datasets import load_digits
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skadapt import FineTunedClassifier, PretrainedFeaturizer, ScratchClassifier, export_backbone
from skadapt.cache import clear_caches
from _machine import cpu_flags_text  # noqa: E402  (benchmarks/_machine.py)

RESULTS = Path(__file__).parent / "results"
PLOT = Path(__file__).parent.parent / "docs" / "img" / "transfer-digits.png"
ARCHITECTURES = {"2-block": (32, 64), "3-block": (16, 32, 64)}
STRATEGIES = ("scratch", "transfer", "finetune")


def make(strategy, backbone_name, channels, epochs, seed):
    trainer = {"lr": 1e-3, "max_epochs": epochs, "warmup": 0.0, "weight_decay": 0.0, "random_state": seed,
               "device": "cpu"}
    if strategy == "scratch":
        return ScratchClassifier("cnn", backbone_kwargs={"channels": channels}, **trainer)
    if strategy == "transfer":
        # C chosen by 3-fold cross-validation on the training images, as skadapt compare does.
        return make_pipeline(PretrainedFeaturizer(backbone_name, device="cpu"), StandardScaler(),
                             GridSearchCV(LogisticRegression(max_iter=5000), {"C": np.logspace(-3, 2, 6)}, cv=3))
    return FineTunedClassifier(backbone_name, **trainer)


def draw(y, classes, per_class, rng):
    return np.concatenate([rng.choice(np.flatnonzero(y == c), per_class, replace=False) for c in classes])


def run(args):
    digits = load_digits()
    X = (digits.images / 16.0).astype(np.float32)  # float pixels in [0, 1]
    y = digits.target
    source, target = y < 5, y >= 5
    rows, pretraining = [], {}
    folder = Path(tempfile.mkdtemp(prefix="skadapt-digits-"))
    for label, channels in ARCHITECTURES.items():
        if label not in args.architectures:
            continue
        start = time.perf_counter()
        pretrained = ScratchClassifier("cnn", backbone_kwargs={"channels": channels}, lr=1e-3,
                                       max_epochs=args.pretrain_epochs, random_state=0, device="cpu")
        # Held-out 0-4 accuracy shows the exported backbone learned its own task.
        held = np.random.default_rng(0).random(source.sum()) < 0.2
        pretrained.fit(X[source][~held], y[source][~held])
        source_accuracy = pretrained.score(X[source][held], y[source][held])
        pretrained.fit(X[source], y[source])
        name = export_backbone(pretrained, folder / f"cnn-{len(channels)}")
        pretraining[label] = {"source_accuracy": round(float(source_accuracy), 4),
                              "fit_s": round(time.perf_counter() - start, 1)}
        print(json.dumps({"architecture": label, **pretraining[label]}), flush=True)
        X_target, y_target = X[target], y[target]
        for per_class in args.sizes:
            scores = {s: [] for s in STRATEGIES}
            seconds = {s: [] for s in STRATEGIES}
            for repeat in range(args.repeats):
                train = draw(y_target, range(5, 10), per_class, np.random.default_rng(repeat))
                test = np.setdiff1d(np.arange(len(y_target)), train)
                for strategy in STRATEGIES:
                    clear_caches()  # each fit costs what a fresh one costs
                    model = make(strategy, name, channels, args.epochs, repeat)
                    start = time.perf_counter()
                    model.fit(X_target[train], y_target[train])
                    seconds[strategy].append(time.perf_counter() - start)
                    scores[strategy].append(model.score(X_target[test], y_target[test]))
            for strategy in STRATEGIES:
                row = {"architecture": label, "per_class": per_class, "strategy": strategy,
                       "accuracy": round(float(np.mean(scores[strategy])), 4),
                       "accuracy_std": round(float(np.std(scores[strategy])), 4),
                       "fit_s": round(float(np.mean(seconds[strategy])), 2), "repeats": args.repeats}
                rows.append(row)
                print(json.dumps(row), flush=True)
    return rows, pretraining


def markdown(rows, pretraining):
    lines = []
    for label in dict.fromkeys(r["architecture"] for r in rows):
        mine = [r for r in rows if r["architecture"] == label]
        sizes = list(dict.fromkeys(r["per_class"] for r in mine))
        lines += [
            f"**{label} CNN, channels {ARCHITECTURES[label]}** (held-out accuracy on 0-4 after pretraining: {pretraining[label]['source_accuracy']:.3f})",
            "",
            "| images per class (5-9) | " + " | ".join(str(s) for s in sizes) + " |",
            "|---|" + "---|" * len(sizes),
        ]
        for strategy in STRATEGIES:
            cells = []
            for size in sizes:
                row = next(r for r in mine if r["per_class"] == size and r["strategy"] == strategy)
                best = max(r["accuracy"] for r in mine if r["per_class"] == size)
                cell = f"{row['accuracy']:.3f} ± {row['accuracy_std']:.3f}"
                cells.append(f"**{cell}**" if row["accuracy"] == best else cell)
            lines.append(f"| {strategy} | " + " | ".join(cells) + " |")
        lines.append("")
    return "\n".join(lines)


def plot(rows, path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    labels = list(dict.fromkeys(r["architecture"] for r in rows))
    fig, axes = plt.subplots(1, len(labels), figsize=(5 * len(labels), 3.8), sharey=True, squeeze=False)
    for ax, label in zip(axes[0], labels):
        for strategy, marker in zip(STRATEGIES, "osD"):
            mine = [r for r in rows if r["architecture"] == label and r["strategy"] == strategy]
            x = [r["per_class"] for r in mine]
            mean = np.array([r["accuracy"] for r in mine])
            std = np.array([r["accuracy_std"] for r in mine])
            ax.plot(x, mean, marker=marker, label=strategy)
            ax.fill_between(x, mean - std, mean + std, alpha=0.15)
        ax.set_xscale("log")
        ax.minorticks_off()
        ax.set_xticks(x, [str(v) for v in x])
        ax.set_title(f"digits 5-9, {label} CNN {ARCHITECTURES[label]}", fontsize=10)
        ax.set_xlabel("training images per class")
        ax.grid(alpha=0.3)
    axes[0][0].set_ylabel("test accuracy")
    axes[0][0].legend(loc="lower right")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="5,10,20,50", help="images per class of the digits 5-9")
    parser.add_argument("--repeats", type=int, default=10, help="random draws of the training images per size")
    parser.add_argument("--epochs", type=int, default=30, help="epochs of scratch and fine-tuning")
    parser.add_argument("--pretrain-epochs", type=int, default=40, help="epochs of the 0-4 backbone")
    parser.add_argument("--architectures", default=",".join(ARCHITECTURES),
                        help="comma-separated, of: " + ", ".join(ARCHITECTURES))
    parser.add_argument("--replot", action="store_true", help="only redraw the plot from results/transfer_digits.json")
    args = parser.parse_args(argv)
    if args.replot:
        plot(json.loads((RESULTS / "transfer_digits.json").read_text())["rows"], PLOT)
        return
    args.sizes = [int(s) for s in args.sizes.split(",")]
    args.architectures = [a.strip() for a in args.architectures.split(",")]
    started = time.perf_counter()
    rows, pretraining = run(args)
    meta = {"machine": f"{platform.machine()}, {os.cpu_count()} cores ({cpu_flags_text()}), torch {torch.__version__}",
            "wall_s": round(time.perf_counter() - started, 1), "pretraining": pretraining,
            "arguments": {k: v for k, v in vars(args).items()}}
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "transfer_digits.json").write_text(json.dumps({"meta": meta, "rows": rows}, indent=2) + "\n")
    table = markdown(rows, pretraining)
    (RESULTS / "transfer_digits.md").write_text(table)
    plot(rows, PLOT)
    print(table)
    print(f"{meta['machine']}; wall time {meta['wall_s']} s; wrote {RESULTS}/transfer_digits.json and {PLOT}")


if __name__ == "__main__":
    main()
