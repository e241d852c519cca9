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
run can be split; each row records the machine it ran on) and prints the
table; under it, per budget with every cell run, Auto's mean score over the
cells beside each fixed way's at its defaults (issue 21's 2-minute target).

    python benchmarks/auto.py                                  # every cell, both budgets (about 2 h on 2 cores)
    python benchmarks/auto.py --budgets 120 --cells sst2-8,trec-full
    python benchmarks/auto.py --report                         # rewrite auto.md from auto.json
"""

import argparse
import functools
import json
import os
import platform
import re
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import torch  # noqa: E402
from sklearn.model_selection import train_test_split  # noqa: E402

from skadapt import AutoClassifier, AutoRegressor  # noqa: E402
from skadapt.auto._engine import make_estimator, scores  # noqa: E402  (compare's estimators and metrics)
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


@functools.lru_cache(maxsize=None)
def fixed_ways(cell):
    """Each fixed way's test score on the cell at its defaults, as measured by the other benchmarks:
    ``{way: score}``. On 8 and 64 rows per class, fine-tuning and transfer are fewshot's means over 5 seeds,
    scratch and TF-IDF strategies.py's seed-0 subset (the cell's), fitted here where it has none (CR)."""
    dataset, size = cell.split("-")
    if dataset in TASKS:
        _, metric = TASKS[dataset]
        rows = json.loads((RESULTS / f"tasks_{dataset}.json").read_text())["rows"]
        return {r["strategy"]: r[metric] for r in rows
                if r.get("threshold") in (None, 0.5) and r["strategy"] != "finetune-balanced"}
    rows = json.loads((RESULTS / "strategies.json").read_text())["rows"]
    rows = [r for r in rows if r["dataset"] == dataset]
    if size == "full":
        largest = max(r["train_rows"] for r in rows if r.get("per_class") is None)
        return {r["strategy"]: r["accuracy"] for r in rows if r.get("per_class") is None and r["train_rows"] == largest}
    scored = {r["strategy"]: r["accuracy"] for r in rows if r.get("per_class") == int(size)}
    for line in (RESULTS / "fewshot.md").read_text().splitlines():
        cells = [c.strip() for c in line.strip("|").split("|")]
        if len(cells) > 3 and cells[0] == dataset and cells[1] == size:
            scored["transfer"], scored["finetune"] = (float(re.match(r"[\d.]+", c).group()) for c in cells[2:4])
    missing = [way for way in ("tfidf", "scratch") if way not in scored]
    if missing:
        X, y, X_test, y_test = cell_data(cell)
        for way in missing:
            model = make_estimator(way, backbone="minilm", max_epochs=None, seed=0, verbose=0, n_rows=len(X))
            scored[way] = round(float(model.fit(X, y).score(X_test, y_test)), 4)
    return scored


def hindsight(cell, fixed=None):
    """The best fixed way's test score: (way, score)."""
    fixed = fixed or fixed_ways(cell)
    metric = TASKS.get(cell.split("-")[0], (None, "accuracy"))[1]
    best = (min if metric == "rmse" else max)(fixed, key=fixed.get)
    return best, fixed[best]


def run_cell(cell, budget, machine):
    dataset = cell.split("-")[0]
    task, metric = TASKS.get(dataset, ("classification", "accuracy"))
    X, y, X_test, y_test = cell_data(cell)
    auto = (AutoRegressor if task == "regression" else AutoClassifier)(time_budget=budget, random_state=0)
    start = time.perf_counter()
    auto.fit(X, y)
    wall = time.perf_counter() - start
    predicted = auto.predict(X_test)
    score = scores(task, y_test, predicted)[metric]
    fixed = fixed_ways(cell)
    best = hindsight(cell, fixed)
    board = auto.leaderboard_
    return {
        "cell": cell, "budget_s": budget, "train_rows": len(X), "metric": metric, "score": round(float(score), 4),
        "chose": auto.best_params_["way"], "threshold": auto.best_params_.get("threshold"),
        "refitted": bool(auto.refitted_), "wall_s": round(wall, 1),
        "over_budget": round(wall / budget - 1, 3),
        "hindsight_way": best[0], "hindsight_score": best[1], "fixed": fixed,
        "tried": "; ".join(f"{w}@{r}{'' if e is pd.NA else f'x{e}ep'}:{s.split(':')[0]}"
                           for w, r, e, s in zip(board.way, board.train_rows, board.epochs, board.status)),
        "machine": machine,
    }


def averages(rows):
    """Per budget with every cell run: Auto's mean score over the accuracy and micro-F1 cells beside each fixed
    way's, and EmoBank's RMSE beside theirs (an error does not average with scores)."""
    lines = []
    for budget in sorted({r["budget_s"] for r in rows}):
        done = {r["cell"]: r for r in rows if r["budget_s"] == budget}
        if set(done) != set(CELLS):
            continue
        fixed = {cell: fixed_ways(cell) for cell in CELLS}
        scored = [cell for cell in CELLS if done[cell]["metric"] != "rmse"]
        ways = sorted(set.intersection(*(set(fixed[cell]) for cell in CELLS)),
                      key=lambda way: -np.mean([fixed[cell][way] for cell in scored]))
        mean = lambda values: f"{np.mean(values):.4f}"  # noqa: E731
        lines.append(f"At {budget:.0f} s, mean over the {len(scored)} accuracy and micro-F1 cells: Auto "
                     f"{mean([done[c]['score'] for c in scored])}; each fixed way at its defaults (no budget): "
                     + ", ".join(f"{way} {mean([fixed[c][way] for c in scored])}" for way in ways)
                     + ". EmoBank RMSE: Auto " + f"{done['emobank-full']['score']:.4f}; "
                     + ", ".join(f"{way} {fixed['emobank-full'][way]:.4f}" for way in ways) + ".")
        lines.append("")
    return lines


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
    lines.extend(averages(rows))
    # rows run on different machines (sessions) say which ran where
    ran_on = {id(r): r.get("machine", meta["first_machine"]) for r in rows}
    machines = list(dict.fromkeys(ran_on.values()))
    for machine in machines:
        cells = [f"{r['cell']} at {r['budget_s']:.0f} s" for r in rows if ran_on[id(r)] == machine]
        lines.append(f"{machine}: {', '.join(cells)}" if len(machines) > 1 else machine)
        lines.append("")
    (RESULTS / "auto.md").write_text("\n".join(lines) + "\n")
    return "\n".join(lines)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cells", default=",".join(CELLS))
    parser.add_argument("--budgets", default="120,600", help="seconds, comma-separated")
    parser.add_argument("--report", action="store_true", help="rewrite results/auto.md from auto.json, run nothing")
    args = parser.parse_args()
    path = RESULTS / "auto.json"
    saved = json.loads(path.read_text()) if path.exists() else {"meta": {}, "rows": []}
    rows = saved["rows"]
    machine = (f"{platform.machine()}, {os.cpu_count()} cores ({cpu_flags_text()}), torch {torch.__version__}, "
               f"{torch.get_num_threads()} threads")
    # rows from before each row recorded its machine were all run on the first one
    first = saved["meta"].get("first_machine", saved["meta"].get("machine", machine))
    meta = {"machine": machine, "first_machine": first}
    if args.report:
        print(write(rows, meta))
        return
    for budget in (float(b) for b in args.budgets.split(",")):
        for cell in args.cells.split(","):
            row = run_cell(cell, budget, machine)
            rows = [r for r in rows if (r["cell"], r["budget_s"]) != (cell, budget)] + [row]
            rows.sort(key=lambda r: (r["budget_s"], CELLS.index(r["cell"])))
            print(write(rows, meta), flush=True)


if __name__ == "__main__":
    main()
