"""AutoClassifier / AutoRegressor against each way's default, within a time budget.

Cells: SST-2, TREC, CR on their full training splits and on 8 and 64 rows
per class (stratified, seed 0), EmoBank (regression, 3 outputs, RMSE) and
GoEmotions on 10,000 training rows drawn with seed 0 (multi-label,
micro-F1); each with budgets of 2 and 10 minutes. For each cell: the Auto
estimator's test score, its wall time against the budget, the way it chose,
whether it refitted the winner on every row, and beside it the hindsight
best of the fixed ways as measured by ``strategies.py``, ``fewshot.py`` and
``tasks.py`` (their results files; for 8 and 64 rows per class, fewshot's
mean over 5 seeds for the fine-tuned and transfer rows).

Writes ``results/auto.json`` and ``.md`` after every cell (rows merge, so a
run can be split) and prints the table.

    python benchmarks/auto.py                                  # every cell, both budgets (about 2 h on 2 cores)
    python benchmarks/auto.py --budgets 120 --cells sst2-8,trec-full
"""

import argparse
import json
import os
import platform
import re
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

import numpy as np  # noqa: E402
import torch  # noqa: E402
from sklearn.model_selection import train_test_split  # noqa: E402

from skadapt import AutoClassifier, AutoRegressor  # noqa: E402
from skadapt.auto._engine import scores  # noqa: E402  (the metrics compare reports)
from skadapt.datasets import load_dataset  # noqa: E402
from _machine import cpu_flags_text  # noqa: E402  (benchmarks/_machine.py)

RESULTS = Path(__file__).parent / "results"
CELLS = ["sst2-8", "trec-8", "cr-8", "sst2-64", "trec-64", "cr-64", "sst2-full", "trec-full", "cr-full",
         "emobank-full", "goemotions-10k"]
TASKS = {"emobank": ("regression", "rmse"), "goemotions": ("multilabel", "micro_f1")}


def cell_data(cell):
    dataset, size = cell.split("-")
    X, y = load_dataset(dataset, return_X_y=True)
    X_test, y_test = load_dataset(dataset, split="test", return_X_y=True)
    X, y = np.asarray(X, dtype=object), np.asarray(y)
    if size == "10k":
        index = np.random.RandomState(0).choice(len(X), 10_000, replace=False)
        X, y = X[index], y[index]
    elif size != "full":
        per_class = int(size)
        n_classes = len(np.unique(y))
        index, _ = train_test_split(np.arange(len(y)), train_size=per_class * n_classes, stratify=y, random_state=0)
        X, y = X[index], y[index]
    return list(X), y, list(X_test), np.asarray(y_test)


def hindsight(cell):
    """The best fixed way's test score as measured by the other benchmarks: (way, score), or None."""
    dataset, size = cell.split("-")
    if size == "full" and dataset in ("sst2", "trec", "cr"):
        rows = json.loads((RESULTS / "strategies.json").read_text())["rows"]
        rows = [r for r in rows if r["dataset"] == dataset and r.get("per_class") is None
                and r["train_rows"] == max(x["train_rows"] for x in rows if x["dataset"] == dataset)]
        best = max(rows, key=lambda r: r["accuracy"])
        return best["strategy"], best["accuracy"]
    if size in ("8", "64"):
        for line in (RESULTS / "fewshot.md").read_text().splitlines():
            cells = [c.strip() for c in line.strip("|").split("|")]
            if len(cells) > 3 and cells[0] == dataset and cells[1] == size:
                transfer, finetune = (float(re.match(r"[\d.]+", c).group()) for c in cells[2:4])
                return ("finetune", finetune) if finetune >= transfer else ("transfer", transfer)
    task_file = {"emobank": "tasks_emobank.json", "goemotions": "tasks_goemotions.json"}.get(dataset)
    if task_file:
        _, metric = TASKS[dataset]
        rows = json.loads((RESULTS / task_file).read_text())["rows"]
        rows = [r for r in rows if r.get("threshold") in (None, 0.5) and r["strategy"] != "finetune-balanced"]
        best = (min if metric == "rmse" else max)(rows, key=lambda r: r[metric])
        return best["strategy"], best[metric]
    return None


def run_cell(cell, budget):
    dataset = cell.split("-")[0]
    task, metric = TASKS.get(dataset, ("classification", "accuracy"))
    X, y, X_test, y_test = cell_data(cell)
    auto = (AutoRegressor if task == "regression" else AutoClassifier)(time_budget=budget, random_state=0)
    start = time.perf_counter()
    auto.fit(X, y)
    wall = time.perf_counter() - start
    predicted = auto.predict(X_test)
    score = scores(task, y_test, predicted)[metric]
    best = hindsight(cell)
    board = auto.leaderboard_
    return {
        "cell": cell, "budget_s": budget, "train_rows": len(X), "metric": metric, "score": round(float(score), 4),
        "chose": auto.best_params_["way"], "refitted": bool(auto.refitted_), "wall_s": round(wall, 1),
        "over_budget": round(wall / budget - 1, 3),
        "hindsight_way": best and best[0], "hindsight_score": best and best[1],
        "tried": "; ".join(f"{w}@{r}:{s.split(':')[0]}" for w, r, s in zip(board.way, board.train_rows, board.status)),
    }


def write(rows, meta):
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "auto.json").write_text(json.dumps({"meta": meta, "rows": rows}, indent=1))
    lines = ["| cell | budget | rows | metric | Auto | chose (refit) | wall s | hindsight best | gap |",
             "|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        gap = ""
        if r["hindsight_score"] is not None:
            diff = r["score"] - r["hindsight_score"]
            gap = f"{-diff / r['hindsight_score']:+.1%}" if r["metric"] == "rmse" else f"{100 * diff:+.1f} pts"
        lines.append(f"| {r['cell']} | {r['budget_s']:.0f} s | {r['train_rows']} | {r['metric']} | {r['score']:.3f} | "
                     f"{r['chose']} ({'yes' if r['refitted'] else 'no'}) | {r['wall_s']:.0f} | "
                     f"{r['hindsight_way']} {r['hindsight_score']} | {gap} |")
    lines.append("")
    lines.append(meta["machine"])
    (RESULTS / "auto.md").write_text("\n".join(lines) + "\n")
    return "\n".join(lines)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cells", default=",".join(CELLS))
    parser.add_argument("--budgets", default="120,600", help="seconds, comma-separated")
    args = parser.parse_args()
    path = RESULTS / "auto.json"
    rows = json.loads(path.read_text())["rows"] if path.exists() else []
    meta = {"machine": f"{platform.machine()}, {os.cpu_count()} cores ({cpu_flags_text()}), torch {torch.__version__}, "
                       f"{torch.get_num_threads()} threads"}
    for budget in (float(b) for b in args.budgets.split(",")):
        for cell in args.cells.split(","):
            row = run_cell(cell, budget)
            rows = [r for r in rows if (r["cell"], r["budget_s"]) != (cell, budget)] + [row]
            rows.sort(key=lambda r: (r["budget_s"], CELLS.index(r["cell"])))
            print(write(rows, meta), flush=True)


if __name__ == "__main__":
    main()
