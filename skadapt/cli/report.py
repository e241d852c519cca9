"""The comparison's outputs: terminal table, JSON, CSV and the learning-curve plot."""

import json
import os
import shutil
import tempfile
from pathlib import Path

from .compare import LOWER_IS_BETTER, METRICS, best_rows, primary_metric

# Headers of the terminal table and the plot, per metric.
LABELS = {"accuracy": "accuracy", "macro_f1": "macro-F1", "rmse": "RMSE", "mae": "MAE", "r2": "R2",
          "spearman": "Spearman", "micro_f1": "micro-F1", "samples_jaccard": "Jaccard"}


def columns(task):
    """The CSV's columns, in order."""
    return ["strategy", "train_size", "train_rows", *METRICS[task], "fit_s", "predict_s_per_1k", "status",
            "long_texts", "over_limit", "limit", "dropped_share"]


def metric_label(metric):
    return LABELS[metric] + (" (lower is better)" if metric in LOWER_IS_BETTER else "")


def format_table(results, task="classification"):
    """Aligned text table; ``*`` marks the best primary metric at each train size."""
    best = best_rows(results, task)
    metrics = METRICS[task]
    header = ["", "strategy", "train rows", *(LABELS[m] for m in metrics), "fit s", "predict s/1k", "note"]
    lines = []
    for row in results:
        ok = row["status"] == "ok"
        mark = "*" if ok and best.get(row["train_size"]) is row else ""
        figures = [f"{row[m]:.3f}" if ok and row.get(m) is not None else "-" for m in metrics]
        lines.append([
            mark, row["strategy"], str(row["train_rows"]) + (" (all)" if row["train_size"] == "all" else ""),
            *figures, f"{row['fit_s']:.1f}" if ok else "-", f"{row['predict_s_per_1k']:.2f}" if ok else "-",
            "; ".join(filter(None, [epochs_note(row), long_text_note(row)])) if ok else row["status"],
        ])
    widths = [max(len(r[i]) for r in [header, *lines]) for i in range(len(header))]
    left = (1, len(header) - 1)  # strategy and note read as text
    render = lambda cells: "  ".join(c.ljust(w) if i in left else c.rjust(w) for i, (c, w) in enumerate(zip(cells, widths)))  # noqa: E731
    out = [render(header), render(["-" * w for w in widths])] + [render(r) for r in lines]
    return "\n".join(line.rstrip() for line in out) + f"\n* best {metric_label(primary_metric(task))} at that train size"


def epochs_note(row):
    """The epochs a time budget set for a fit (``--time-budget``), "" when the estimator's own were run."""
    epochs = row.get("epochs")
    return "" if epochs is None else f"{epochs} epoch{'s' if epochs > 1 else ''} (time budget)"


def long_text_note(row):
    """What a strategy did with training texts past its backbone's limit ("" when there were none)."""
    if not row.get("over_limit"):
        return ""
    unit = "words" if row.get("strategy") == "scratch" else "tokens"
    kept = "read whole" if not row.get("dropped_share") else f"{row['dropped_share']:.0%} of their tokens dropped"
    return f"{row['over_limit']} texts over {row['limit']} {unit}: {row['long_texts']}, {kept}"


def plot(results, path, title, task="classification"):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    metric = primary_metric(task)
    fig, (ax_score, ax_time) = plt.subplots(1, 2, figsize=(11, 4.8))
    for strategy in dict.fromkeys(r["strategy"] for r in results):
        rows = [r for r in results if r["strategy"] == strategy and r["status"] == "ok"]
        if not rows:
            continue
        sizes = [r["train_rows"] for r in rows]
        ax_score.plot(sizes, [r[metric] for r in rows], marker="o", label=f"{strategy} ({rows[0]['model']})")
        ax_time.plot(sizes, [r["fit_s"] for r in rows], marker="o", label=strategy)
    ax_score.set(xscale="log", xlabel="training rows (log scale)", ylabel=f"test {metric_label(metric)}", title=title)
    ax_time.set(xscale="log", yscale="log", xlabel="training rows (log scale)", ylabel="fit seconds (log scale)",
                title="cost of fitting")
    from matplotlib.ticker import NullFormatter

    sizes = sorted({r["train_rows"] for r in results if r["status"] == "ok"})
    for ax in (ax_score, ax_time):
        ax.grid(True, which="both", alpha=0.3)
        # The measured sizes as plain numbers: log-axis labels such as 3x10^3 crowd each other
        ax.set_xticks(sizes, labels=[f"{n:,}" for n in sizes])
        ax.xaxis.set_minor_formatter(NullFormatter())
    # Below both panels, where it cannot hide a line.
    handles, labels = ax_score.get_legend_handles_labels()
    fig.legend(handles, labels, loc="lower center", ncol=2, fontsize=8, frameon=False)
    fig.tight_layout(rect=(0, 0.1, 1, 1))
    fig.savefig(path, dpi=120)
    plt.close(fig)


def check_writable(output, option="--output"):
    """Fail before the long job if folder ``output`` could not be created or written.

    Nothing is created here: the folder appears only when results are written.
    """
    output = Path(output).absolute()
    if output.exists() and not output.is_dir():
        return f"{option} {str(output)!r} is a file; give a folder."
    existing = next(p for p in (output, *output.parents) if p.exists())
    if not existing.is_dir():
        return f"{option} {str(output)!r} cannot be created: {str(existing)!r} is a file; choose another folder."
    try:
        with tempfile.NamedTemporaryFile(dir=existing):
            pass
    except OSError as exc:
        return f"{option} {str(output)!r} cannot be written ({exc.strerror or exc}); choose another folder."
    return None


def write_outputs(results, meta, output):
    """Write results.json, results.csv and learning_curve.png into ``output``.

    Files are written to a temporary folder first and moved in at the end, so
    the output folder never holds a half-written set.
    """
    import pandas as pd

    output = Path(output)
    output.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".skadapt-", dir=output))
    try:
        (staging / "results.json").write_text(json.dumps({"meta": meta, "results": results}, indent=2) + "\n")
        frame = pd.DataFrame(results).drop(columns="traceback", errors="ignore")  # in the JSON only
        task = meta.get("task", "classification")
        order = columns(task)
        frame = frame[[c for c in order if c in frame] + [c for c in frame if c not in order]]
        frame.to_csv(staging / "results.csv", index=False)
        title = f"{meta['data']}: {LABELS[primary_metric(task)]} by training-set size"
        plot(results, staging / "learning_curve.png", title, task)
        for name in ("results.json", "results.csv", "learning_curve.png"):
            os.replace(staging / name, output / name)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return output / "learning_curve.png"
