"""Entry point of the ``skadapt`` command."""

import argparse
import sys
import time
from pathlib import Path

from ._errors import UsageError
from .data import MIN_DISTINCT_FOR_REGRESSION, TASKS

DEFAULT_LABEL_SEP = ";"  # joins predicted labels when the training data gave none (bundled multi-label)

DESCRIPTION = """Which way of using a neural model wins on your data, and at what cost.

  skadapt compare                         # bundled SST-2, train sizes 64,256,1024,all
  skadapt compare reviews.csv --text-column body --label-column stars --cv 5
  skadapt compare tickets.csv --text-column subject --text-column body --feature-columns auto  # a table
  skadapt compare womens_clothing         # a table: two text columns, age and three categories; rating 1-5
  skadapt compare emobank                 # regression: valence, arousal, dominance
  skadapt compare goemotions              # multi-label: 28 emotions
  skadapt compare scores.csv --label-column V,A,D          # several number columns: regression
  skadapt compare tags.csv --label-column tags --label-sep ';'  # "a;b" cells: multi-label
  skadapt compare --save-best best/ && skadapt predict best/ new.csv
  skadapt export-onnx best/ best-onnx/ --quantize int8 && skadapt predict best-onnx/ new.csv
  skadapt compare photos/ --backbone exported:my-cnn      # images: one subfolder per class
  skadapt backbones
"""


def build_parser():
    parser = argparse.ArgumentParser(prog="skadapt", description=DESCRIPTION,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)

    cmp = sub.add_parser("compare", help="learning from scratch vs transfer vs fine-tuning vs TF-IDF, as a learning curve",
                         formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    cmp.add_argument("data", nargs="?", default="sst2",
                     help="a CSV, TSV, JSON-lines or Parquet file, a bundled dataset (sst2, trec, cr, emobank, "
                          "goemotions, review_polarity, womens_clothing), or a folder of images with one subfolder "
                          "per class")
    cmp.add_argument("--text-column", action="append", metavar="NAME",
                     help="the text column (default: text); several, repeated or as a,b, are read as a table's "
                          "text columns")
    cmp.add_argument("--feature-columns", metavar="NAMES|auto",
                     help="a table's other columns (numbers, booleans, dates, categories), as a,b,c; auto: every "
                          "column but the labels and row identifiers (whole numbers or single words, unique per "
                          "row: listed as dropped), the text columns detected unless --text-column names them")
    cmp.add_argument("--label-column", action="append", metavar="NAME",
                     help="the label column (default: label); several, repeated or as V,A,D, are the outputs of "
                          "a regression, or 0/1 columns of multi-label data")
    cmp.add_argument("--task", choices=TASKS, default="auto",
                     help="auto: --label-sep means multi-label; several label columns mean regression (multi-label "
                          "if all are 0/1); one column of numbers, some not whole, with at least "
                          f"{MIN_DISTINCT_FOR_REGRESSION} distinct values, means regression; anything else, "
                          "classification")
    cmp.add_argument("--label-sep", metavar="SEP",
                     help="multi-label: each label cell holds labels separated by SEP (e.g. ';'); an empty cell "
                          "is a row with no label")
    cmp.add_argument("--threshold", type=float, default=None,
                     help="multi-label: every strategy predicts the labels whose probability is at least this "
                          "(default 0.5; 0.25 did best on GoEmotions' dev split, see docs/tasks.md)")
    cmp.add_argument("--strategies", default=None,
                     help="comma-separated subset of scratch, transfer, transfer-hgb, finetune, tfidf, other "
                          "(default: scratch, transfer, finetune, tfidf; on a table also other, the other columns "
                          "alone under gradient boosting, and transfer-hgb, text features + other columns under it)")
    cmp.add_argument("--backbone", default=None,
                     help="pretrained backbone for transfer and finetune (default: minilm for text; images need "
                          "one, e.g. exported:FOLDER or hf-vision:FOLDER)")
    cmp.add_argument("--scratch-backbone", default=None,
                     help="backbone ScratchClassifier or ScratchRegressor learns (default: textcnn for text, cnn "
                          "for images)")
    cmp.add_argument("--train-sizes", default="64,256,1024,all", help="comma-separated row counts, 'all' for every row")
    held = cmp.add_mutually_exclusive_group()
    held.add_argument("--test-file", help="score on this file (same columns) instead of a split of DATA")
    held.add_argument("--test-size", type=float, help="fraction of DATA held out for testing (default 0.2, "
                      "or the dataset's own test split for bundled data)")
    held.add_argument("--cv", type=int, help="K-fold cross-validation instead of one held-out set (stratified "
                      "for classification)")
    cmp.add_argument("--long-texts", choices=("chunk", "truncate", "head_tail"), default="chunk",
                     help="texts past a backbone's limit (MiniLM: 256 tokens; TextCNN: 256 words): read in chunks "
                     "whose features are pooled (default), cut to the first tokens, or to the head and the tail; "
                     "the table says how many texts were past the limit")
    cmp.add_argument("--max-epochs", type=int, help="epochs for scratch and finetune (default: each estimator's own)")
    cmp.add_argument("--time-budget", type=float, help="seconds: the search AutoClassifier runs; fits estimated to "
                     "exceed what is left are skipped; every strategy goes on from the first train size, and from "
                     "later ones only those whose learning curve may still reach the best score; fine-tuning "
                     "trains one epoch before the last size it can reach, and on that one the rows and then the "
                     "epochs that fit, unless --max-epochs is given")
    cmp.add_argument("--output", default="skadapt-results", help="folder for results.json, results.csv, learning_curve.png")
    cmp.add_argument("--save-best", metavar="FOLDER", help="refit the winner (best accuracy, lowest RMSE or best "
                     "micro-F1) on all training rows and save it to FOLDER (safetensors, JSON and skops; no pickle)")
    cmp.add_argument("--pickle", action="store_true", help="with --save-best: write a joblib pickle FILE instead "
                     "(loading a pickle runs any code in it: only for files that never leave your hands)")
    cmp.add_argument("--seed", type=int, default=0)
    cmp.add_argument("--verbose", action="store_true", help="report each fit's epochs")

    sub.add_parser("backbones", help="list the registered backbones")

    pred = sub.add_parser("predict", help="apply a model saved by 'compare --save-best' to new rows",
                          description="Writes prediction and proba_<class> columns (classification), "
                          "prediction_<output> (regression; prediction for one output), or labels, label_<name> "
                          "and proba_<name> (multi-label).")
    pred.add_argument("model", help="a folder written by --save-best, skadapt.save or export-onnx (an ONNX folder "
                      "predicts with ONNX Runtime)")
    pred.add_argument("--trust-pickle", action="store_true", help="accept a .joblib pickle as MODEL (loading it "
                      "runs any code it contains)")
    pred.add_argument("file", help="a CSV, TSV, JSON-lines or Parquet file, or a folder of images")
    pred.add_argument("--text-column", default="text")
    pred.add_argument("--output", help="write a CSV here instead of to standard output")
    pred.add_argument("--runtime", choices=("onnxruntime", "openvino"), default=None,
                      help="an ONNX folder: what runs it (default onnxruntime; openvino needs "
                      "pip install 'skadapt[openvino]')")

    cache = sub.add_parser("cache", help="what a disk embedding cache holds, or empty it",
                           description="A featurizer given cache=FOLDER keeps features under FOLDER/skadapt-embeddings/, "
                           "bounded by SKADAPT_CACHE_MAX_BYTES (default 10 GiB; least recently used shards go first).")
    cache.add_argument("action", choices=("info", "clear"))
    cache.add_argument("folder", nargs="?", default=".", help="the folder given as cache=FOLDER (default: here)")

    onnx = sub.add_parser("export-onnx", help="turn a saved model into an ONNX model for fast CPU serving",
                          description="Writes an ONNX model with its tokeniser into OUTPUT; 'skadapt predict OUTPUT' "
                          "then predicts with ONNX Runtime, without torch.")
    onnx.add_argument("model", help="a folder written by --save-best or skadapt.save")
    onnx.add_argument("output", help="the folder to write")
    onnx.add_argument("--quantize", choices=("none", "int8"), default="none",
                      help="int8: 8-bit weights (dynamic quantisation), about 4x smaller and faster on CPUs")
    onnx.add_argument("--calibration", metavar="FILE",
                      help="with --quantize int8: a CSV/TSV of texts like those the model will serve (column "
                      "--text-column), on which each layer's input range is measured and moved into its weights "
                      "(default: 192 bundled sentences)")
    onnx.add_argument("--text-column", default="text", help="the text column of --calibration (default: text)")
    onnx.add_argument("--overwrite", action="store_true", help="replace OUTPUT if it holds a model")
    return parser


def main(argv=None):
    # The environment is left as the user set it: HF_HUB_OFFLINE=1 forbids downloads, and without it
    # 'sbert:<hub id>' downloads where a network exists (minilm and local folders never need one).
    args = build_parser().parse_args(argv)
    try:
        commands = {"compare": run_compare, "backbones": run_backbones, "predict": run_predict,
                    "export-onnx": run_export_onnx, "cache": run_cache}
        return commands[args.command](args)
    except UsageError as exc:
        print(f"skadapt {args.command}: error: {exc}", file=sys.stderr)
        return 2


def run_backbones(args):
    from ..registry import list_backbones

    rows = [[r["name"], r["input_kind"], "yes" if r["pretrained"] else "no", r["plugin"], r["description"]]
            for r in list_backbones()]
    header = ["name", "input", "pretrained", "plugin", "description"]
    widths = [max(len(x[i]) for x in [header, *rows]) for i in range(4)]
    for cells in [header, *rows]:
        print("  ".join(c.ljust(w) for c, w in zip(cells, widths)) + "  " + cells[4])
    return 0


def run_compare(args):
    from .compare import (
        DEFAULT_SCRATCH_BACKBONE,
        DEFAULT_STRATEGIES,
        Comparison,
        check_sizes,
        make_evaluation,
        parse_strategies,
        parse_train_sizes,
        primary_metric,
    )
    from .data import check_target, is_image_folder, load_data, parse_label_columns, parse_names
    from .report import check_writable, format_table, write_outputs

    kind = "image" if is_image_folder(args.data) else "text"
    if args.strategies:
        strategies = parse_strategies(args.strategies)
    sizes = parse_train_sizes(args.train_sizes)
    text_only = [s for s in ("tfidf", "other") if args.strategies and s in strategies]
    if kind == "image" and text_only:
        raise UsageError(f"--strategies: {text_only[0]} works on text only; DATA is a folder of images.")
    if kind == "image" and (args.feature_columns or args.text_column):
        raise UsageError("--text-column and --feature-columns read a table; DATA is a folder of images.")
    args.scratch_backbone = args.scratch_backbone or DEFAULT_SCRATCH_BACKBONE[kind]
    args.label_column = parse_label_columns(args.label_column)
    args.text_column = parse_names(args.text_column, "--text-column")
    if args.feature_columns is not None and args.feature_columns.strip() != "auto":
        args.feature_columns = ",".join(parse_names(args.feature_columns, "--feature-columns"))
    data = load_data(args.data, args.text_column, args.label_column, task=args.task, label_sep=args.label_sep,
                     test_file=args.test_file, feature_columns=args.feature_columns and args.feature_columns.strip())
    if data.columns is not None:
        kind = "table"
    if not args.strategies:
        defaults = DEFAULT_STRATEGIES[kind]
        strategies = [s for s in defaults if s != "other" or data.columns.other]
    if "other" in strategies and not (data.columns and data.columns.other):
        raise UsageError("--strategies: other learns from a table's columns besides its text, and this data has "
                         "none; give them with --feature-columns NAMES or auto.")
    if "scratch" in strategies:
        check_backbone(args.scratch_backbone, "image" if kind == "image" else "text", "--scratch-backbone",
                       pretrained=False)
    if {"transfer", "transfer-hgb", "finetune"} & set(strategies):
        if args.backbone is None and kind == "image":
            raise UsageError(
                "--backbone: transfer and finetune on images need a pretrained image backbone, e.g. "
                "--backbone exported:FOLDER (see skadapt.export_backbone) or hf-vision:FOLDER; "
                "or compare --strategies scratch only."
            )
        args.backbone = args.backbone or "minilm"
        check_backbone(args.backbone, "image" if kind == "image" else "text", "--backbone", pretrained=True)
    if "static" in strategies:
        if kind != "text":
            raise UsageError(f"--strategies: static trains static word embeddings, for text; this DATA is {kind}.")
        check_static(args.backbone)
    if args.max_epochs is not None and args.max_epochs < 1:
        raise UsageError(f"--max-epochs must be at least 1, got {args.max_epochs}.")
    if args.time_budget is not None and args.time_budget <= 0:
        raise UsageError(f"--time-budget must be a positive number of seconds, got {args.time_budget}.")
    problem = check_writable(args.output)
    if problem:
        raise UsageError(problem)
    if args.pickle and not args.save_best:
        raise UsageError("--pickle goes with --save-best FILE; leave it out or add --save-best.")
    if args.save_best:
        check_save_target(args.save_best, args.pickle)

    check_target(data.task, data.y, data.target_names, data.name)
    if args.threshold is not None and data.task != "multilabel":
        raise UsageError(f"--threshold applies to multi-label data only; this data is {data.task}.")
    threshold = 0.5 if args.threshold is None else args.threshold
    if not 0 < threshold < 1:
        raise UsageError(f"--threshold must be between 0 and 1, got {threshold}.")
    test = None if args.test_size is not None or args.cv is not None else data.test
    evaluation = make_evaluation(data.X, data.y, test=test, test_size=args.test_size, cv=args.cv, seed=args.seed,
                                 task=data.task)
    comparison = Comparison(evaluation, strategies, sizes, backbone=args.backbone,
                            scratch_backbone=args.scratch_backbone, max_epochs=args.max_epochs,
                            time_budget=args.time_budget, seed=args.seed, verbose=int(args.verbose),
                            keep_models=bool(args.save_best), threshold=threshold, long_texts=args.long_texts,
                            columns=data.columns, halving=args.time_budget is not None)
    check_sizes(comparison)
    print(f"{data.name}: {data.task}, {evaluation.n_train} training rows; evaluation: {evaluation.description}",
          file=sys.stderr)
    if data.columns is not None:
        print(f"{data.name} is a table; {data.columns.describe()}", file=sys.stderr)

    results, interrupted, started = [], False, time.perf_counter()
    try:
        for row in comparison.run():
            results.append(row)
    except KeyboardInterrupt:
        interrupted = True
        print("\ninterrupted: keeping the results finished so far", file=sys.stderr)
    meta = {"data": data.name, "task": data.task, "primary_metric": primary_metric(data.task),
            **({"threshold": threshold} if data.task == "multilabel" else {}),
            "target_names": data.target_names, "evaluation": evaluation.description, "strategies": strategies,
            "train_sizes": args.train_sizes, "backbone": args.backbone,
            "scratch_backbone": args.scratch_backbone, "seed": args.seed,
            **({"columns": data.columns.as_dict()} if data.columns is not None else {}),
            "wall_s": round(time.perf_counter() - started, 1), "interrupted": interrupted,
            "arguments": vars(args)}
    if data.task == "regression" and len(data.target_names) > 1:
        meta["metrics_over_outputs"] = "each metric is computed per output, then averaged over the outputs"
    if not results:
        print("no fit finished; nothing written.", file=sys.stderr)
        return 130 if interrupted else 1
    plot_path = write_outputs(results, meta, args.output)
    print(format_table(results, data.task))
    if data.columns is not None:
        print(f"\n{data.columns.describe()}")
    print(f"\nwall time {meta['wall_s']:.0f} s; wrote {args.output}/results.json, results.csv and the plot {plot_path}")
    if interrupted:
        return 130
    if not any(r.get("status") == "ok" for r in results):
        print("every fit failed or was skipped; see the status column (and the tracebacks in results.json).",
              file=sys.stderr)
        return 1
    if args.save_best:
        save_best(comparison, results, evaluation, data, args, threshold)
    return 0


def check_backbone(name, kind, option, *, pretrained):
    """A ``UsageError`` unless ``name`` is a registered backbone for ``kind`` data."""
    from ..registry import get_backbone

    try:
        spec = get_backbone(name)
    except ValueError as exc:
        raise UsageError(f"{option}: {exc}") from None
    if spec.input_kind != kind:
        hint = "minilm" if kind == "text" else "exported:FOLDER or hf-vision:FOLDER"
        raise UsageError(f"{option} {name!r} takes {spec.input_kind} input, but DATA is {kind}; try {hint} "
                         "(see 'skadapt backbones').")
    if pretrained and not spec.has_pretrained:
        raise UsageError(f"{option} {name!r} has no pretrained weights; transfer and finetune need a pretrained "
                         "backbone (see 'skadapt backbones').")


def check_static(backbone):
    """A ``UsageError`` unless the static way's backbone (the plugin skadapt-static) is installed."""
    from ..auto._engine import static_backbone
    from ..registry import list_backbones

    if "static" not in {row["name"] for row in list_backbones()}:
        raise UsageError("--strategies: static needs the plugin skadapt-static (pip install ./plugins/skadapt-static, "
                         "which brings model2vec).")
    check_backbone(static_backbone(backbone), "text", "--strategies static", pretrained=True)


def check_save_target(path, pickle):
    """Fail before the long job if ``--save-best`` could not be written, or would replace something else."""
    from .._files.manifest import MANIFEST
    from .report import check_writable

    target = Path(path).absolute()
    if pickle:
        if target.is_dir():
            raise UsageError(f"--save-best {path!r} is a folder; with --pickle give a file path such as model.joblib.")
        problem = check_writable(target.parent, "--save-best")
    else:
        if target.is_file():
            raise UsageError(f"--save-best {path!r} is a file; give a folder (or add --pickle to write a pickle file).")
        if target.is_dir() and any(target.iterdir()) and not (target / MANIFEST).is_file():
            raise UsageError(f"--save-best {path!r} is a folder that holds other files; give a new or empty folder.")
        problem = check_writable(target, "--save-best")
    if problem:
        raise UsageError(problem)


def save_best(comparison, results, evaluation, data, args, threshold=0.5):
    from .compare import best_rows, make_estimator, take

    best = best_rows(results, data.task)
    if not best:
        print("no strategy finished, so none was saved.", file=sys.stderr)
        return
    largest = max(best, key=lambda size: float("inf") if size == "all" else size)
    winner = best[largest]["strategy"]
    model = comparison.models.get(winner) if largest == "all" else None
    if model is None:  # refit on every training row
        train = sorted(set().union(*(set(t) for t, _ in evaluation.folds))) if args.cv else evaluation.folds[0][0]
        print(f"refitting {winner} on all {len(train)} training rows ...", file=sys.stderr)
        model = make_estimator(winner, backbone=args.backbone, max_epochs=args.max_epochs, seed=args.seed,
                               verbose=int(args.verbose), scratch_backbone=args.scratch_backbone, task=data.task,
                               n_rows=len(train), long_texts=args.long_texts, columns=data.columns,
                               n_outputs=evaluation.y.shape[1] if evaluation.y.ndim == 2 else 1)
        model.fit(take(evaluation.X, train), evaluation.y[train])
    # predict needs to know which columns to write: the task and the names of outputs or labels
    # (and, for a table, which columns to read)
    about = {"task": data.task, "target_names": data.target_names,
             "label_sep": args.label_sep or DEFAULT_LABEL_SEP, "threshold": threshold,
             **({"columns": data.columns.as_dict()} if data.columns is not None else {})}
    if args.pickle:
        import joblib

        joblib.dump({"model": model, **about}, args.save_best)
    else:
        from ..persistence import save

        save(model, args.save_best, overwrite=True, metadata={**about, "strategy": winner})
    print(f"saved {winner} (best at {largest} training rows) to {args.save_best}")


def run_predict(args):
    from ..images import IMAGE_SUFFIXES
    from .data import column, input_rows, read_table, text_values

    if not Path(args.model).exists():
        raise UsageError(f"model {args.model!r} does not exist; write one with 'skadapt compare --save-best FOLDER'.")
    if Path(args.model).is_file() and not args.trust_pickle:
        raise UsageError(f"model {args.model!r} is a file, not a model folder: a pickle, which runs any code it "
                         "contains when loaded; pass --trust-pickle if you trust its source, or re-save the model "
                         "with 'skadapt compare --save-best FOLDER'.")
    if Path(args.model).is_dir():  # a wrong folder is said before the data is read
        from .._files.manifest import read_manifest

        try:
            read_manifest(args.model, verify=False)
        except ValueError as exc:
            raise UsageError(f"model: {exc}") from None
    if Path(args.file).is_dir():  # images: every image file below the folder
        rows = sorted(str(f) for f in Path(args.file).rglob("*") if f.suffix.lower() in IMAGE_SUFFIXES)
        if not rows:
            raise UsageError(f"folder {args.file!r} holds no image files ({', '.join(sorted(IMAGE_SUFFIXES))}).")
        name = "path"
        saved = load_saved(args.model, args.runtime)
    else:
        frame = read_table(args.file)
        saved = load_saved(args.model, args.runtime)
        table = table_columns(saved)
        if table is not None:  # a model fitted on a table reads the columns it was fitted on, by name
            missing = [c for c in table.names if c not in frame.columns]
            if missing:
                raise UsageError(f"{args.file!r} lacks the column(s) {', '.join(map(repr, missing))} of the table "
                                 f"the model was fitted on ({', '.join(map(repr, table.names))}); give every one.")
            rows, name = input_rows(frame, table), None
        else:
            column(frame, args.text_column, "--text-column", repr(args.file))
            rows, name = text_values(frame[args.text_column]), args.text_column
    out = predictions(saved, rows, name)
    if args.output:
        out.to_csv(args.output, index=False)
        print(f"wrote {len(out)} predictions to {args.output}", file=sys.stderr)
    else:
        out.to_csv(sys.stdout, index=False)
    return 0


def table_columns(saved):
    """The table columns a saved model reads (compare's metadata, or a table estimator's own), or None."""
    from .data import Columns

    if saved.get("columns"):
        return Columns(saved["columns"]["text"], saved["columns"]["other"])
    model = saved["model"]
    first = model.steps[0][1] if hasattr(model, "steps") else model
    layout = getattr(first, "table_", None)
    if layout is None:
        return None
    return Columns(layout["text_columns"], {c: k for c, k in layout["kinds"].items() if k != "text"})


def load_saved(path, runtime=None):
    """``{"model": ..., "task": ..., ...}`` from a model folder, or from a trusted pickle file;
    ``runtime``: what runs an ONNX folder."""
    if Path(path).is_file():
        if runtime is not None:
            raise UsageError(f"--runtime is for folders written by export-onnx; {path!r} is a pickle.")
        import joblib

        try:
            saved = joblib.load(path)
        except Exception as exc:
            raise UsageError(f"could not load {path!r} as a saved model: {type(exc).__name__}: {exc}") from None
        if not isinstance(saved, dict):  # a bare classifier, as saved before tasks
            saved = {"model": saved, "task": "classification"}
        return saved
    from ..persistence import load, read_metadata

    try:
        model = load(path, runtime=runtime)
        about = read_metadata(path)
    except (ValueError, ImportError) as exc:
        raise UsageError(f"model: {exc}") from None
    if "task" not in about:  # saved by skadapt.save, not by compare: the model says what it does
        about["task"] = model_task(model)
        last = model.steps[-1][1] if hasattr(model, "steps") else model
        about["threshold"] = getattr(last, "threshold", 0.5)
    return {"model": model, **about}


def model_task(model):
    """The task a model was fitted for, from what it learned."""
    last = model.steps[-1][1] if hasattr(model, "steps") else model
    if getattr(last, "multilabel_", False) or getattr(model, "multilabel_", False):
        return "multilabel"
    return "classification" if hasattr(model, "classes_") else "regression"


def run_cache(args):
    import datetime

    from ..cache.embeddings import clear_disk, disk_limit, disk_usage

    root = Path(args.folder) / "skadapt-embeddings"
    if not root.is_dir():
        raise UsageError(f"{str(args.folder)!r} holds no embedding cache ({root.name}/); give the folder that was "
                         "passed as cache=FOLDER.")
    if args.action == "clear":
        freed = clear_disk(args.folder)
        print(f"removed {root} ({freed / 1e6:.1f} MB)")
        return 0
    usage = disk_usage(args.folder)
    total = sum(u["bytes"] for u in usage)
    print(f"{root}: {len(usage)} backbone(s), {sum(u['rows'] for u in usage)} rows, {total / 1e6:.1f} MB "
          f"of {disk_limit() / 1e6:.0f} MB allowed (SKADAPT_CACHE_MAX_BYTES)")
    for u in usage:
        used = datetime.datetime.fromtimestamp(u["last_used"]).strftime("%Y-%m-%d %H:%M") if u["shards"] else "-"
        print(f"  {u['identity']}  {u['rows']:>9} rows  {u['shards']:>3} shards  {u['bytes'] / 1e6:>9.1f} MB  "
              f"last used {used}")
    return 0


def run_export_onnx(args):
    from ..persistence import load, read_metadata

    if not Path(args.model).is_dir():
        raise UsageError(f"model {args.model!r} is not a model folder; write one with 'skadapt compare --save-best "
                         "FOLDER' or skadapt.save.")
    calibration = None
    if args.calibration is not None:
        from .data import column, read_table, text_values

        if args.quantize != "int8":
            raise UsageError("--calibration applies to --quantize int8 only.")
        if not Path(args.calibration).is_file():
            raise UsageError(f"--calibration {args.calibration!r} is not a file; give a CSV or TSV of texts.")
        frame = read_table(args.calibration)
        column(frame, args.text_column, "--text-column", repr(args.calibration))
        calibration = text_values(frame[args.text_column])
    try:
        model = load(args.model)
        about = read_metadata(args.model)
        from ..serving import export_onnx

        export_onnx(model, args.output, quantize=None if args.quantize == "none" else args.quantize,
                    calibration=calibration, overwrite=args.overwrite, metadata=about)
    except (ValueError, ImportError) as exc:
        raise UsageError(str(exc)) from None
    print(f"wrote an ONNX model ({args.quantize if args.quantize != 'none' else 'fp32'}) to {args.output}",
          file=sys.stderr)
    return 0


def predictions(saved, rows, name):
    """The predictions of a saved model as a DataFrame, with the columns of its task:
    ``prediction`` and ``proba_<class>`` (classification), ``prediction_<output>``
    (regression; ``prediction`` for a single output), ``labels``, ``label_<name>``
    and ``proba_<name>`` (multi-label)."""
    import numpy as np
    import pandas as pd

    model, task = saved["model"], saved["task"]
    out = rows.copy() if hasattr(rows, "iloc") else pd.DataFrame({name: rows})  # a table keeps its columns
    if task == "multilabel":  # every kind of model cut at the threshold it was compared at
        proba = np.asarray(model.predict_proba(rows))
        names = saved.get("target_names") or [str(j) for j in range(proba.shape[1])]
        sep = saved.get("label_sep") or DEFAULT_LABEL_SEP
        predicted = proba >= saved.get("threshold", 0.5)
        out["labels"] = [sep.join(n for n, on in zip(names, row) if on) for row in predicted]
        for j, label in enumerate(names):
            out[f"label_{label}"] = predicted[:, j].astype(int)
        for j, label in enumerate(names):
            out[f"proba_{label}"] = proba[:, j].round(6)
        return out
    predicted = np.asarray(model.predict(rows))
    if task == "regression":
        if predicted.ndim == 1:
            out["prediction"] = predicted
        else:
            for j, output in enumerate(saved.get("target_names") or range(predicted.shape[1])):
                out[f"prediction_{output}"] = predicted[:, j]
        return out
    out["prediction"] = predicted
    if hasattr(model, "predict_proba"):
        proba = model.predict_proba(rows)
        for j, label in enumerate(model.classes_):
            out[f"proba_{label}"] = proba[:, j].round(6)
    return out
