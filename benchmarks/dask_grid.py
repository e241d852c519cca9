"""One GridSearchCV in one process (n_jobs=1) against the same search on a Dask cluster.

The search covers the three ways on the first ``--rows`` SST-2 training
sentences, with the same folds everywhere:

* ``finetune`` — ``FineTunedClassifier("minilm")``, 2 learning rates;
* ``scratch``  — ``ScratchClassifier("textcnn")``, 2 learning rates;
* ``transfer`` — ``PretrainedFeaturizer("minilm")`` + ``LogisticRegression``, 5 values of C.

``local`` runs them with ``n_jobs=1`` in this process (torch using every
core); ``dask`` on a ``LocalCluster`` of ``--workers`` processes with
``--threads`` thread(s) each, through ``joblib.parallel_backend("dask")``, as
docs/dask.md recommends for surviving a lost worker (X, y and the folds as
lists, which travel inside each task). ``dask_cold`` is the first search on fresh workers
(their imports of torch and the first model loads included, the cluster's
start-up timed apart); ``dask`` the same search once more after emptying the
workers' caches, like the local run: libraries imported, no model loaded,
nothing cached. The speed-up is local over ``dask``. In every process the
``transfer`` search finds the features that the fine-tuning's linear probe
encoded there (one in-memory cache per process), as it would for a user
running these searches in turn.

``--kill recipe`` then runs the dask searches again and SIGKILLs one busy
worker halfway (``--kill-at`` of the ``dask`` time): the outcome (finished or the
error), the time, and whether the scores equal the uninterrupted run.
``--kill plain`` does the same with ``y`` an array and ``cv=`` an integer,
which joblib scatters to single workers once they pass 1 kB (see
docs/dask.md): at the default 400 rows the loss of a worker can then fail
the search. ``--kill resilient`` passes numpy ``X`` and ``y`` and an integer
``cv`` through ``skadapt.dask.resilient_search``, which broadcasts them and the
folds to every worker; ``--kill all`` runs the three.

Writes ``results/dask_grid.json`` (or ``--out``) and prints a table.

    python benchmarks/dask_grid.py                 # the measurement (a few minutes on 2 idle cores)
    python benchmarks/dask_grid.py --rows 48 --cv 2 --max-epochs 1 --kill none --out /tmp/dask_grid.json
"""

import argparse
import json
import os
import platform
import signal
import threading
import time
import traceback
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

import numpy as np  # noqa: E402

RESULTS = Path(__file__).parent / "results"
STRATEGIES = ("finetune", "scratch", "transfer")


def searches(args, names):
    """(estimator, grid) per strategy; every estimator seeded."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline

    from skadapt import FineTunedClassifier, PretrainedFeaturizer, ScratchClassifier

    all_ = {
        "finetune": (FineTunedClassifier("minilm", max_epochs=args.max_epochs, device="cpu", random_state=0),
                     {"lr": [2e-5, 5e-5]}),
        "scratch": (ScratchClassifier("textcnn", max_epochs=args.max_epochs, device="cpu", random_state=0),
                    {"lr": [1e-3, 1e-2]}),
        "transfer": (make_pipeline(PretrainedFeaturizer("minilm", device="cpu"), LogisticRegression(max_iter=1000)),
                     {"logisticregression__C": list(np.logspace(-2, 2, 5))}),
    }
    return {name: all_[name] for name in names}


def run_searches(args, X, y, cv, dask=False, resilient=False):
    """Each strategy's search in turn; seconds, scores and best parameters of each.

    ``resilient``: numpy ``X``/``y`` and an integer ``cv`` through ``skadapt.dask.resilient_search``."""
    import joblib
    from sklearn.model_selection import GridSearchCV

    from skadapt.dask import resilient_search

    out, started = {}, time.perf_counter()
    for name, (est, grid) in searches(args, args.strategies).items():
        start = time.perf_counter()
        if resilient:
            with resilient_search(X, y, cv=cv) as folds:
                search = GridSearchCV(est, grid, cv=folds, refit=False).fit(X, y)
        elif dask:
            search = GridSearchCV(est, grid, cv=cv, refit=False)
            with joblib.parallel_backend("dask"):
                search.fit(X, y)
        else:
            search = GridSearchCV(est, grid, cv=cv, refit=False)
            search.fit(X, y)
        seconds = time.perf_counter() - start
        scores = search.cv_results_["mean_test_score"]
        out[name] = {
            "seconds": seconds,
            "fits": len(scores) * search.n_splits_,
            "mean_test_score": [float(s) for s in scores],
            "best_params": {k: float(v) if isinstance(v, (float, np.floating)) else v
                            for k, v in search.best_params_.items()},
        }
        print(f"  {name:<9} {seconds:7.1f} s  {len(scores) * search.n_splits_:3d} fits  "
              f"best {out[name]['best_params']}", flush=True)
    return {"total_s": time.perf_counter() - started, "per_strategy": out}


def _pid():
    return os.getpid()


def killed_run(args, client, X, y, cv, kill_after_s, reference, resilient=False):
    """The dask searches again, one busy worker SIGKILLed after ``kill_after_s``."""
    pids = client.run(_pid)
    victim = {}
    done = threading.Event()

    def kill():
        if done.wait(kill_after_s):
            return  # finished first: nothing to kill
        busy = sorted(client.processing().items(), key=lambda kv: -len(kv[1]))
        address = busy[0][0] if busy and busy[0][1] else next(iter(pids))
        os.kill(pids[address], signal.SIGKILL)
        victim.update(address=address, pid=pids[address], at_s=kill_after_s)
        print(f"  killed worker {address} (pid {pids[address]}) at {kill_after_s:.1f} s", flush=True)

    thread = threading.Thread(target=kill, daemon=True)
    thread.start()
    start = time.perf_counter()
    outcome = {"killed": victim}
    try:
        result = run_searches(args, X, y, cv, dask=True, resilient=resilient)
        outcome.update(finished=True, total_s=result["total_s"], same_scores_as_uninterrupted=all(
            result["per_strategy"][n]["mean_test_score"] == reference["per_strategy"][n]["mean_test_score"]
            for n in result["per_strategy"]))
    except Exception as exc:  # the outcome is the measurement
        outcome.update(finished=False, seconds_until_error=time.perf_counter() - start,
                       error=f"{type(exc).__name__}: {exc}"[:500])
        print("  " + traceback.format_exception_only(type(exc), exc)[-1].strip()[:300], flush=True)
    done.set()
    thread.join()
    try:
        client.wait_for_workers(args.workers, timeout=120)
        outcome["workers_after"] = len(client.scheduler_info()["workers"])
        outcome["victim_restarted"] = bool(victim) and victim["pid"] not in client.run(_pid).values()
    except Exception as exc:
        outcome["workers_after"] = f"{type(exc).__name__}: {exc}"
    return outcome


def table(results):
    lines = ["| strategy | fits | local (n_jobs=1) s | dask s | speed-up | best params local / dask |",
             "|---|---|---|---|---|---|"]
    local, dask_ = results["local"]["per_strategy"], results["dask"]["per_strategy"]
    for name in local:
        lines.append(f"| {name} | {local[name]['fits']} | {local[name]['seconds']:.1f} | "
                     f"{dask_[name]['seconds']:.1f} | {local[name]['seconds'] / dask_[name]['seconds']:.2f}x | "
                     f"{local[name]['best_params']} / {dask_[name]['best_params']} |")
    lines.append(f"| all | {sum(v['fits'] for v in local.values())} | {results['local']['total_s']:.1f} | "
                 f"{results['dask']['total_s']:.1f} | {results['speedup']:.2f}x | |")
    lines.append("")
    lines.append(f"fresh workers (their imports and first loads included): {results['dask_cold']['total_s']:.1f} s, "
                 f"after a cluster start-up of {results['dask_cold']['cluster_start_s']:.1f} s; "
                 f"largest difference of a mean test score, local against dask: {results['max_score_difference']:.2g}")
    for mode, outcome in results.get("killed", {}).items():
        lines.append(f"killed worker ({mode}): {json.dumps(outcome)}")
    return "\n".join(lines)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=400, help="SST-2 training rows (default 400)")
    parser.add_argument("--cv", type=int, default=3, help="folds (default 3)")
    parser.add_argument("--max-epochs", type=int, default=2, help="epochs of the two classifiers (default 2)")
    parser.add_argument("--workers", type=int, default=2, help="worker processes (default 2)")
    parser.add_argument("--threads", type=int, default=1, help="threads per worker (default 1)")
    parser.add_argument("--strategies", type=lambda s: s.split(","), default=list(STRATEGIES),
                        help="comma-separated subset of finetune,scratch,transfer")
    parser.add_argument("--kill", choices=("none", "recipe", "plain", "resilient", "both", "all"), default="recipe",
                        help="also run with a worker killed halfway (default: with the list recipe; both: "
                             "recipe and plain; all: and numpy through skadapt.dask.resilient_search)")
    parser.add_argument("--kill-at", type=float, default=0.5, help="when to kill, as a fraction of the dask time")
    parser.add_argument("--out", type=Path, default=RESULTS / "dask_grid.json")
    args = parser.parse_args()
    unknown = set(args.strategies) - set(STRATEGIES)
    if unknown:
        parser.error(f"unknown strategies {sorted(unknown)}")

    import dask
    import distributed
    import torch
    from distributed import Client, LocalCluster
    from sklearn.model_selection import StratifiedKFold

    from skadapt.cache import clear_caches
    from skadapt.datasets import load_sst2

    X, y = load_sst2(return_X_y=True)
    X, y = list(X[: args.rows]), np.asarray(y[: args.rows])
    # One set of folds for every run. As lists, like X and y_list, joblib
    # keeps them inside each task rather than scattering them to one worker.
    folds = [(train.tolist(), test.tolist()) for train, test in StratifiedKFold(args.cv).split(X, y)]
    y_list = y.tolist()
    results = {
        "machine": {"python": platform.python_version(), "cpus": os.cpu_count(), "torch": torch.__version__,
                    "torch_threads_local": torch.get_num_threads(), "dask": dask.__version__,
                    "distributed": distributed.__version__},
        "config": {"rows": args.rows, "cv": args.cv, "max_epochs": args.max_epochs, "workers": args.workers,
                   "threads_per_worker": args.threads, "strategies": args.strategies},
    }
    started = time.perf_counter()

    # Local first: starting a LocalCluster writes the workers' thread limits
    # (OMP_NUM_THREADS=1, ...) into this process's environment.
    print(f"local, n_jobs=1 ({torch.get_num_threads()} torch threads)", flush=True)
    clear_caches()
    results["local"] = run_searches(args, X, y_list, folds)

    print(f"dask, {args.workers} workers x {args.threads} thread(s), fresh workers", flush=True)
    start = time.perf_counter()
    with LocalCluster(n_workers=args.workers, threads_per_worker=args.threads, processes=True,
                      dashboard_address=":0") as cluster, Client(cluster) as client:
        client.wait_for_workers(args.workers)
        cluster_start = time.perf_counter() - start
        results["dask_cold"] = {"cluster_start_s": cluster_start, **run_searches(args, X, y_list, folds, dask=True)}
        # As the local run: libraries imported, no model loaded, nothing cached.
        print("dask, the same workers, their caches emptied", flush=True)
        client.run(clear_caches)
        results["dask"] = run_searches(args, X, y_list, folds, dask=True)
        kill_after = args.kill_at * results["dask"]["total_s"]
        killed = {}
        if args.kill in ("recipe", "both", "all"):
            print("dask, one worker killed (recipe)", flush=True)
            client.run(clear_caches)
            killed["recipe"] = killed_run(args, client, X, y_list, folds, kill_after, results["dask"])
        if args.kill in ("plain", "both", "all"):
            print("dask, one worker killed (plain: y an array, cv an integer)", flush=True)
            client.run(clear_caches)
            killed["plain"] = killed_run(args, client, X, y, args.cv, kill_after, results["dask"])
        if args.kill in ("resilient", "all"):
            print("dask, one worker killed (numpy X and y, cv an integer, skadapt.dask.resilient_search)", flush=True)
            client.run(clear_caches)
            killed["resilient"] = killed_run(args, client, np.asarray(X, dtype=object), y, args.cv, kill_after,
                                             results["dask"], resilient=True)
        if killed:
            results["killed"] = killed

    results["speedup"] = results["local"]["total_s"] / results["dask"]["total_s"]
    results["max_score_difference"] = max(
        float(np.max(np.abs(np.subtract(results["local"]["per_strategy"][n]["mean_test_score"],
                                        results["dask"]["per_strategy"][n]["mean_test_score"]))))
        for n in results["local"]["per_strategy"])
    results["wall_s"] = time.perf_counter() - started
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2) + "\n")
    print()
    print(table(results))
    print(f"\nwall time {results['wall_s']:.0f} s; written to {args.out}")


if __name__ == "__main__":
    main()
