"""The comparison's outputs: terminal table, JSON, CSV and the learning-curve plot."""

import json
import os
import shutil
import tempfile
from pathlib import Path

from .compare import best_rows

COLUMNS = ["strategy", "train_size", "train_rows", "accuracy", "macro_f1", "fit_s", "predict_s_per_1k", "status"]


def format_table(results):
    """Aligned text table; ``*`` marks the best accuracy at each train size."""
    best = best_rows(results)
    header = ["", "strategy", "train rows", "accuracy", "macro-F1", "fit s", "predict s/1k", "note"]
    lines = []
    for row in results:
        ok = row["status"] == "ok"
        mark = "*" if ok and best.get(row["train_size"]) is row else ""
        lines.append([
            mark, row["strategy"], str(row["train_rows"]) + (" (all)" if row["train_size"] == "all" else ""),
            f"{row['accuracy']:.3f}" if ok else "-", f"{row['macro_f1']:.3f}" if ok else "-",
            f"{row['fit_s']:.1f}" if ok else "-", f"{row['predict_s_per_1k']:.2f}" if ok else "-",
            "" if ok else row["status"],
        ])
    widths = [max(len(r[i]) for r in [header, *lines]) for i in range(len(header))]
    render = lambda cells: "  ".join(c.ljust(w) if i in (1, 7) else c.rjust(w) for i, (c, w) in enumerate(zip(cells, widths)))  # noqa: E731
    out = [render(header), render(["-" * w for w in widths])] + [render(r) for r in lines]
    return "\n".join(line.rstrip() for line in out) + "\n* best accuracy at that train size"


def plot(results, path, title):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (ax_acc, ax_time) = plt.subplots(1, 2, figsize=(11, 4.8))
    for strategy in dict.fromkeys(r["strategy"] for r in results):
        rows = [r for r in results if r["strategy"] == strategy and r["status"] == "ok"]
        if not rows:
            continue
        sizes = [r["train_rows"] for r in rows]
        ax_acc.plot(sizes, [r["accuracy"] for r in rows], marker="o", label=f"{strategy} ({rows[0]['model']})")
        ax_time.plot(sizes, [r["fit_s"] for r in rows], marker="o", label=strategy)
    ax_acc.set(xscale="log", xlabel="training rows (log scale)", ylabel="test accuracy", title=title)
    ax_time.set(xscale="log", yscale="log", xlabel="training rows (log scale)", ylabel="fit seconds (log scale)",
                title="cost of fitting")
    for ax in (ax_acc, ax_time):
        ax.grid(True, which="both", alpha=0.3)
    # Below both panels, where it cannot hide a line.
    handles, labels = ax_acc.get_legend_handles_labels()
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
        frame = pd.DataFrame(results)
        frame = frame[[c for c in COLUMNS if c in frame] + [c for c in frame if c not in COLUMNS]]
        frame.to_csv(staging / "results.csv", index=False)
        plot(results, staging / "learning_curve.png", f"{meta['data']}: accuracy by training-set size")
        for name in ("results.json", "results.csv", "learning_curve.png"):
            os.replace(staging / name, output / name)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return output / "learning_curve.png"
