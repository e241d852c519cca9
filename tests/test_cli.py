"""The ``skadapt`` command, run for real on slices of the bundled data."""

import json
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from skadapt.cli import main
from skadapt.cli.compare import Comparison
from skadapt.datasets import load_trec


@pytest.fixture
def data_csv(tmp_path):
    """120 TREC questions of three classes, as a user's CSV with its own column names."""
    frame = load_trec(as_frame=True).frame
    frame = pd.concat([frame[frame.label == c].head(40) for c in ("DESC", "HUM", "LOC")])
    path = tmp_path / "questions.csv"
    frame.rename(columns={"text": "question", "label": "kind"}).to_csv(path, index=False)
    return path


def compare(data_csv, tmp_path, *extra):
    out = tmp_path / "out"
    args = ["compare", str(data_csv), "--text-column", "question", "--label-column", "kind",
            "--output", str(out), "--max-epochs", "1", *extra]
    return main(args), out


def test_compare_writes_consistent_table_json_csv_and_plot(data_csv, tmp_path, capsys):
    code, out = compare(data_csv, tmp_path, "--strategies", "tfidf,scratch", "--train-sizes", "30,all",
                        "--test-size", "0.25")
    assert code == 0
    printed = capsys.readouterr().out
    results = json.loads((out / "results.json").read_text())["results"]
    table = pd.read_csv(out / "results.csv")
    assert (out / "learning_curve.png").stat().st_size > 10_000
    assert [(r["strategy"], str(r["train_size"])) for r in results] == [
        ("tfidf", "30"), ("scratch", "30"), ("tfidf", "all"), ("scratch", "all")]
    assert table["accuracy"].tolist() == [r["accuracy"] for r in results]
    assert table["fit_s"].tolist() == [r["fit_s"] for r in results]
    for r in results:
        assert f"{r['accuracy']:.3f}" in printed and f"{r['macro_f1']:.3f}" in printed
    assert "learning_curve.png" in printed
    best_line = [line for line in printed.splitlines() if line.startswith("*") and "(all)" in line]
    assert len(best_line) == 1


def test_compare_transfer_and_finetune_with_cv(data_csv, tmp_path, tiny_sbert):
    code, out = compare(data_csv, tmp_path, "--strategies", "transfer,finetune", "--train-sizes", "all",
                        "--cv", "2", "--backbone", tiny_sbert)
    assert code == 0
    results = json.loads((out / "results.json").read_text())["results"]
    assert [r["strategy"] for r in results] == ["transfer", "finetune"]
    assert all(r["status"] == "ok" and "accuracy_std" in r and 0 <= r["accuracy"] <= 1 for r in results)


def test_time_budget_marks_skipped_fits(data_csv, tmp_path, capsys):
    code, out = compare(data_csv, tmp_path, "--strategies", "tfidf,finetune", "--train-sizes", "all",
                        "--time-budget", "0.5")
    assert code == 0
    results = json.loads((out / "results.json").read_text())["results"]
    assert results[0]["status"] == "ok"
    assert results[1]["status"].startswith("skipped: estimated")
    assert "skipped: estimated" in capsys.readouterr().out


def _saved(folder):
    """What ``--save-best FOLDER`` wrote: the model and compare's metadata."""
    from skadapt.persistence import load, read_metadata

    return {"model": load(folder), **read_metadata(folder)}


def test_save_best_then_predict_round_trips(data_csv, tmp_path, capsys):
    model = tmp_path / "best"
    code, _ = compare(data_csv, tmp_path, "--strategies", "tfidf", "--train-sizes", "all", "--save-best", str(model))
    assert code == 0 and (model / "skadapt-model.json").is_file()
    new = tmp_path / "new.jsonl"
    pd.DataFrame({"question": ["Who wrote Hamlet ?", "Where is Paris ?"]}).to_json(new, orient="records", lines=True)
    capsys.readouterr()
    assert main(["predict", str(model), str(new), "--text-column", "question", "--output", str(tmp_path / "p.csv")]) == 0
    predictions = pd.read_csv(tmp_path / "p.csv")
    saved = _saved(model)
    assert (saved["task"], saved["strategy"]) == ("classification", "tfidf")
    expected = saved["model"].predict(["Who wrote Hamlet ?", "Where is Paris ?"])
    assert predictions["prediction"].tolist() == list(expected)
    assert np.allclose(predictions.filter(like="proba_").sum(axis=1), 1.0, atol=1e-5)


def test_a_compare_whose_every_fit_failed_exits_1_and_keeps_the_tracebacks(data_csv, tmp_path, monkeypatch, capsys):
    from skadapt.auto import _engine as compare_module  # the engine compare runs

    def buggy_estimator(*args, **kwargs):
        return None  # a bug: fit is then called on None

    monkeypatch.setattr(compare_module, "make_estimator", buggy_estimator)
    code, out = compare(data_csv, tmp_path, "--strategies", "tfidf,scratch", "--train-sizes", "all")
    assert code == 1
    err = capsys.readouterr().err
    assert "every fit failed or was skipped" in err and "--verbose prints it" in err
    results = json.loads((out / "results.json").read_text())["results"]
    assert [r["status"] for r in results] == ["failed: AttributeError: 'NoneType' object has no attribute 'fit'"] * 2
    assert all("Traceback (most recent call last)" in r["traceback"] and "_fit_folds" in r["traceback"]
               for r in results)
    assert "traceback" not in pd.read_csv(out / "results.csv").columns
    code, _ = compare(data_csv, tmp_path, "--strategies", "tfidf", "--train-sizes", "all", "--verbose")
    assert code == 1 and "Traceback (most recent call last)" in capsys.readouterr().err


def test_the_command_leaves_the_hub_setting_to_the_user(monkeypatch, capsys):
    import os

    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.delenv("TRANSFORMERS_OFFLINE", raising=False)
    assert main(["backbones"]) == 0
    assert "HF_HUB_OFFLINE" not in os.environ and "TRANSFORMERS_OFFLINE" not in os.environ  # hub ids may download


def test_save_best_writes_a_pickle_only_when_asked(data_csv, tmp_path, capsys):
    model = tmp_path / "best.joblib"
    code, _ = compare(data_csv, tmp_path, "--strategies", "tfidf", "--train-sizes", "all", "--save-best", str(model),
                      "--pickle")
    assert code == 0 and model.is_file()
    capsys.readouterr()
    assert main(["predict", str(model), str(data_csv), "--text-column", "question"]) == 2
    assert "--trust-pickle" in capsys.readouterr().err
    assert main(["predict", str(model), str(data_csv), "--text-column", "question", "--trust-pickle"]) == 0


@pytest.mark.parametrize("suffix", [".tsv", ".jsonl", ".parquet"])
def test_other_formats(data_csv, tmp_path, suffix):
    frame = pd.read_csv(data_csv)
    path = tmp_path / f"data{suffix}"
    {".tsv": lambda: frame.to_csv(path, sep="\t", index=False),
     ".jsonl": lambda: frame.to_json(path, orient="records", lines=True),
     ".parquet": lambda: frame.to_parquet(path)}[suffix]()
    code, out = compare(path, tmp_path, "--strategies", "tfidf", "--train-sizes", "all")
    assert code == 0 and (out / "results.csv").exists()


def _bad_inputs(tmp_path, data_csv):
    one_class = tmp_path / "one.csv"
    pd.DataFrame({"question": ["a", "b", "c"], "kind": ["x", "x", "x"]}).to_csv(one_class, index=False)
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    broken = tmp_path / "broken.parquet"
    broken.write_text("not parquet at all")
    odd = tmp_path / "data.xlsx"
    odd.write_text("x")
    tiny = tmp_path / "tiny.csv"
    pd.DataFrame({"question": list("abcdef"), "kind": list("xyxyxy")}).to_csv(tiny, index=False)
    a_file = tmp_path / "a_file"
    a_file.write_text("x")
    rare = tmp_path / "rare.csv"  # class z: one row for training, one for testing
    pd.DataFrame({"question": [f"q{i}" for i in range(42)], "kind": ["x", "y"] * 20 + ["z", "z"]}).to_csv(rare, index=False)
    a_folder = tmp_path / "a_folder"
    a_folder.mkdir()
    base = ["--text-column", "question", "--label-column", "kind", "--strategies", "tfidf"]
    return [
        (["compare", str(tmp_path / "missing.csv"), *base], "does not exist"),
        (["compare", str(odd), *base], "cannot tell the format"),
        (["compare", str(broken), *base], "could not read"),
        (["compare", str(empty), *base], "is empty"),
        (["compare", str(data_csv), "--text-column", "questoin", "--label-column", "kind"], "did you mean 'question'"),
        (["compare", str(data_csv), "--text-column", "question", "--label-column", "knd"], "did you mean 'kind'"),
        (["compare", str(one_class), *base], "only one class"),
        (["compare", str(tiny), *base, "--train-sizes", "64,all"], "smallest size, 64, is more than"),
        (["compare", str(tiny), *base, "--cv", "5"], "fewer than the 5 folds"),
        (["compare", str(data_csv), *base[:4], "--strategies", "tfidf,magic"], "unknown strategy 'magic'"),
        (["compare", str(data_csv), *base[:4], "--strategies", "transfer", "--backbone", "minilmm"], "Did you mean 'minilm'"),
        (["compare", str(data_csv), *base, "--output", str(a_file)], "is a file"),
        (["compare", str(data_csv), *base, "--train-sizes", "ten"], "not a whole number"),
        (["compare", str(rare), *base, "--test-size", "0.5", "--train-sizes", "10,all"], "cannot draw a stratified subset of 10 rows"),
        (["compare", str(data_csv), *base, "--save-best", str(a_file)], "is a file"),
        (["compare", str(data_csv), *base, "--save-best", str(a_file.parent)], "holds other files"),
        (["compare", str(data_csv), *base, "--save-best", str(a_folder), "--pickle"], "is a folder"),
        (["compare", str(data_csv), *base, "--pickle"], "--pickle goes with --save-best"),
        (["predict", str(a_file), str(data_csv)], "--trust-pickle"),
        (["predict", str(a_folder), str(data_csv)], "has no skadapt-model.json"),
        (["export-onnx", str(a_file), str(tmp_path / "onnx")], "not a model folder"),
        (["compare", str(data_csv), *base, "--output", str(a_file / "sub")], "is a file"),
        (["predict", str(tmp_path / "none.joblib"), str(data_csv)], "does not exist"),
    ]


def test_every_bad_input_exits_2_with_one_line(tmp_path, data_csv, capsys):
    for argv, message in _bad_inputs(tmp_path, data_csv):
        out = tmp_path / "never"
        if "--output" not in argv and argv[0] == "compare":
            argv = [*argv, "--output", str(out)]
        assert main(argv) == 2, argv
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and message in err[0], (argv, err)
        assert not out.exists()


def test_unwritable_output(tmp_path, data_csv, capsys):
    # /proc refuses new folders even to root, so this holds wherever the tests run
    code = main(["compare", str(data_csv), "--text-column", "question", "--label-column", "kind",
                 "--strategies", "tfidf", "--output", "/proc/skadapt-out"])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1 and "cannot be written" in err[0]


def test_ctrl_c_keeps_finished_results(data_csv, tmp_path, monkeypatch):
    real = Comparison._fit_folds
    calls = []

    def interrupted_after_one(self, strategy, size, bar, epochs=None):
        calls.append(strategy)
        if len(calls) > 1:
            raise KeyboardInterrupt
        return real(self, strategy, size, bar, epochs)

    monkeypatch.setattr(Comparison, "_fit_folds", interrupted_after_one)
    code, out = compare(data_csv, tmp_path, "--strategies", "tfidf,scratch", "--train-sizes", "all")
    assert code == 130
    saved = json.loads((out / "results.json").read_text())
    assert saved["meta"]["interrupted"] is True
    assert [r["strategy"] for r in saved["results"]] == ["tfidf"]


def test_a_failing_fit_is_reported_and_the_others_kept(data_csv, tmp_path, monkeypatch, capsys):
    real = Comparison._fit_folds

    def scratch_breaks(self, strategy, size, bar, epochs=None):
        if strategy == "scratch":
            raise RuntimeError("out of memory\nsecond line")
        return real(self, strategy, size, bar, epochs)

    monkeypatch.setattr(Comparison, "_fit_folds", scratch_breaks)
    code, out = compare(data_csv, tmp_path, "--strategies", "scratch,tfidf", "--train-sizes", "all")
    assert code == 0
    rows = json.loads((out / "results.json").read_text())["results"]
    assert [r["status"] for r in rows] == ["failed: RuntimeError: out of memory", "ok"]
    assert "failed: RuntimeError: out of memory" in capsys.readouterr().out


def test_backbones_subcommand_as_module():
    listing = subprocess.run([sys.executable, "-m", "skadapt", "backbones"], capture_output=True, text=True, check=True)
    assert "minilm" in listing.stdout and "textcnn" in listing.stdout and "pretrained" in listing.stdout


@pytest.fixture
def image_folder(tmp_path):
    """Digits 0-2 of sklearn's bundled 8x8 digits as PNG files, one subfolder per class."""
    from PIL import Image
    from sklearn.datasets import load_digits

    digits = load_digits()
    root = tmp_path / "digits"
    for label in (0, 1, 2):
        (root / f"digit{label}").mkdir(parents=True)
        for i, image in enumerate(digits.images[digits.target == label][:16]):
            Image.fromarray((image * 255 / 16).astype(np.uint8)).save(root / f"digit{label}" / f"{i}.png")
    return root


def test_compare_on_an_image_folder_with_an_exported_backbone(image_folder, tmp_path, capsys):
    from skadapt import ScratchClassifier, export_backbone
    from skadapt.images import load_images

    paths = sorted(str(p) for p in image_folder.rglob("*.png"))
    labels = [p.split("/")[-2] for p in paths]
    pretrained = ScratchClassifier(backbone="cnn", backbone_kwargs={"channels": (8,)}, max_epochs=1,
                                   random_state=0, device="cpu").fit(load_images(paths), labels)
    backbone = export_backbone(pretrained, tmp_path / "cnn")
    out = tmp_path / "out"
    code = main(["compare", str(image_folder), "--backbone", backbone, "--train-sizes", "15,all",
                 "--max-epochs", "1", "--output", str(out), "--save-best", str(tmp_path / "best")])
    assert code == 0
    results = json.loads((out / "results.json").read_text())["results"]
    assert [(r["strategy"], str(r["train_size"])) for r in results] == [
        ("scratch", "15"), ("transfer", "15"), ("finetune", "15"),
        ("scratch", "all"), ("transfer", "all"), ("finetune", "all")]
    assert all(r["status"] == "ok" for r in results), results
    assert results[0]["model"] == "ScratchClassifier(cnn)"
    capsys.readouterr()
    assert main(["predict", str(tmp_path / "best"), str(image_folder / "digit1")]) == 0
    predictions = pd.read_csv(__import__("io").StringIO(capsys.readouterr().out))
    assert predictions["path"].tolist() == sorted(str(p) for p in (image_folder / "digit1").glob("*.png"))
    assert set(predictions["prediction"]) <= {"digit0", "digit1", "digit2"}


@pytest.mark.parametrize(
    "extra, message",
    [
        ([], "transfer and finetune on images need a pretrained image backbone"),
        (["--strategies", "tfidf"], "tfidf works on text only"),
        (["--backbone", "minilm"], "--backbone 'minilm' takes text input, but DATA is image"),
        (["--strategies", "scratch", "--scratch-backbone", "textcnn"], "takes text input, but DATA is image"),
        (["--strategies", "scratch", "--task", "regression"], "--task regression: a folder of images holds one class"),
        (["--strategies", "scratch", "--label-sep", ";"], "--label-sep: a folder of images holds one class"),
    ],
)
def test_compare_on_images_rejects_text_only_choices(image_folder, tmp_path, capsys, extra, message):
    assert main(["compare", str(image_folder), "--output", str(tmp_path / "out"), *extra]) == 2
    assert message in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


def test_compare_on_a_folder_without_class_subfolders(tmp_path, capsys):
    (tmp_path / "flat").mkdir()
    assert main(["compare", str(tmp_path / "flat"), "--strategies", "scratch", "--output", str(tmp_path / "o")]) == 2
    assert "one subfolder of images per class" in capsys.readouterr().err


# --- tasks: regression and multi-label -------------------------------------------------------------


@pytest.fixture
def scores_csv(tmp_path):
    """120 EmoBank sentences with their valence, arousal and dominance, as a user's CSV."""
    from skadapt.datasets import load_emobank

    frame = load_emobank(as_frame=True).frame.head(120)
    path = tmp_path / "scores.csv"
    frame.rename(columns={"text": "sentence"}).to_csv(path, index=False)
    return path


TAGS = ("admiration", "amusement", "gratitude", "neutral")


@pytest.fixture
def tags_csv(tmp_path):
    """120 GoEmotions comments with four of their labels joined by '|' (rows with none of them: an empty cell)."""
    from skadapt.datasets import load_goemotions

    frame = load_goemotions(as_frame=True).frame.head(120)
    tags = ["|".join(t for t in TAGS if row[t]) for _, row in frame.iterrows()]
    path = tmp_path / "tags.csv"
    pd.DataFrame({"comment": frame["text"], "tags": tags}).to_csv(path, index=False)
    assert "" in tags and any("|" in t for t in tags)
    return path


def run_task(data, tmp_path, *extra):
    out = tmp_path / "out"
    code = main(["compare", str(data), "--output", str(out), "--max-epochs", "1", *extra])
    assert code == 0
    return json.loads((out / "results.json").read_text()), pd.read_csv(out / "results.csv"), out


def test_regression_reports_mean_per_output_metrics(scores_csv, tmp_path, capsys, tiny_sbert):
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import RidgeCV
    from sklearn.pipeline import make_pipeline

    saved, table, out = run_task(scores_csv, tmp_path, "--text-column", "sentence", "--label-column", "V,A",
                                 "--label-column", "D", "--strategies", "tfidf,scratch,transfer",
                                 "--backbone", tiny_sbert, "--train-sizes", "30,all", "--test-size", "0.25")
    meta, results = saved["meta"], saved["results"]
    assert (meta["task"], meta["primary_metric"], meta["target_names"]) == ("regression", "rmse", ["V", "A", "D"])
    assert "averaged over the outputs" in meta["metrics_over_outputs"]
    assert all(r["status"] == "ok" for r in results), results
    assert [r["model"] for r in results[:3]] == [
        "TfidfVectorizer + RidgeCV (alpha by leave-one-out; 5-fold above 2000 rows)", "ScratchRegressor(textcnn)",
        "PretrainedFeaturizer + RidgeCV (alpha by leave-one-out)"]
    assert list(table.columns[:10]) == ["strategy", "train_size", "train_rows", "rmse", "mae", "r2", "spearman",
                                        "fit_s", "predict_s_per_1k", "status"]
    assert table["rmse"].tolist() == [r["rmse"] for r in results]
    assert "accuracy" not in table
    # the tfidf row on every training row, recomputed: RMSE of each output, then their mean
    frame = pd.read_csv(scores_csv)
    y = frame[["V", "A", "D"]].to_numpy()
    from skadapt.cli.compare import make_evaluation

    train, test = make_evaluation(frame["sentence"].tolist(), y, test_size=0.25, task="regression").folds[0]
    model = make_pipeline(TfidfVectorizer(), RidgeCV(alphas=np.logspace(-3, 3, 7)))
    model.fit(frame["sentence"].iloc[train].tolist(), y[train])
    errors = model.predict(frame["sentence"].iloc[test].tolist()) - y[test]
    tfidf_all = next(r for r in results if r["strategy"] == "tfidf" and r["train_size"] == "all")
    assert tfidf_all["rmse"] == pytest.approx(np.sqrt((errors ** 2).mean(axis=0)).mean(), abs=1e-4)
    assert tfidf_all["mae"] == pytest.approx(np.abs(errors).mean(), abs=1e-4)
    printed = capsys.readouterr().out
    assert "RMSE" in printed and "Spearman" in printed and "best RMSE (lower is better)" in printed
    for r in results:
        assert f"{r['rmse']:.3f}" in printed and f"{r['r2']:.3f}" in printed
    assert (out / "learning_curve.png").stat().st_size > 10_000


def test_multilabel_reports_f1_and_jaccard_with_plain_cv(tags_csv, tmp_path, capsys, tiny_sbert):
    saved, table, _ = run_task(tags_csv, tmp_path, "--text-column", "comment", "--label-column", "tags",
                               "--label-sep", "|", "--strategies", "tfidf,scratch,transfer", "--backbone", tiny_sbert,
                               "--train-sizes", "all", "--cv", "2")
    meta, results = saved["meta"], saved["results"]
    assert (meta["task"], meta["primary_metric"], meta["target_names"]) == ("multilabel", "micro_f1", list(TAGS))
    assert meta["evaluation"] == "2-fold cross-validation"
    assert all(r["status"] == "ok" for r in results), results
    assert results[2]["model"] == "PretrainedFeaturizer + one-vs-rest LogisticRegression (C=1)"
    for r in results:
        assert all(0 <= r[m] <= 1 for m in ("micro_f1", "macro_f1", "samples_jaccard")) and "micro_f1_std" in r
    assert list(table.columns[3:6]) == ["micro_f1", "macro_f1", "samples_jaccard"]
    assert "best micro-F1 at that train size" in capsys.readouterr().out


def _write(tmp_path, name, **columns):
    path = tmp_path / name
    pd.DataFrame(columns).to_csv(path, index=False)
    return path


@pytest.mark.parametrize(
    "labels, extra, task",
    [
        ({"score": np.linspace(0.05, 4.95, 40)}, ["--label-column", "score"], "regression"),
        ({"V": np.linspace(1, 5, 40), "A": np.linspace(5, 1, 40)}, ["--label-column", "V,A"], "regression"),
        ({"tags": ["a;b", "a", "", "b ; c"] * 10}, ["--label-column", "tags", "--label-sep", ";"], "multilabel"),
        ({"stars": [1, 2, 3, 4, 5] * 8}, ["--label-column", "stars"], "classification"),
        ({"x": [0, 1] * 20, "y": [1, 1, 0, 0] * 10}, ["--label-column", "x", "--label-column", "y"], "multilabel"),
    ],
    ids=["float-column", "two-columns", "label-sep", "integer-stars", "zero-one-columns"],
)
def test_task_auto_detection(tmp_path, labels, extra, task):
    path = _write(tmp_path, "d.csv", text=[f"row {i} of words" for i in range(40)], **labels)
    saved, _, _ = run_task(path, tmp_path, *extra, "--strategies", "tfidf", "--train-sizes", "all")
    assert saved["meta"]["task"] == task
    assert saved["results"][0]["status"] == "ok"


def test_regression_rule_needs_ten_distinct_non_integer_values():
    from skadapt.cli.data import detect_task

    def task(values):
        return detect_task("auto", [pd.Series(values, name="y")], None, "data")

    assert task([0.5 * i for i in range(20)]) == "regression"
    assert task([0.5 * (i % 9) for i in range(20)]) == "classification"  # 9 distinct values: classes
    assert task([0.5 * (i % 10) for i in range(20)]) == "regression"
    assert task([float(i) for i in range(20)]) == "classification"  # whole numbers stay classes
    assert task([str(0.5 * i) for i in range(19)] + ["n/a"]) == "classification"


def test_best_rows_follows_the_direction_of_the_primary_metric():
    from skadapt.cli.compare import best_rows
    from skadapt.cli.report import format_table

    rows = [{"strategy": s, "train_size": "all", "train_rows": 9, "status": "ok", "fit_s": 1.0, "predict_s_per_1k": 1.0,
             "rmse": rmse, "mae": 0.1, "r2": 0.5, "spearman": None, "micro_f1": f1, "macro_f1": f1,
             "samples_jaccard": f1, "accuracy": f1}
            for s, rmse, f1 in [("tfidf", 0.30, 0.9), ("transfer", 0.20, 0.4), ("scratch", 0.25, 0.5)]]
    assert best_rows(rows, "regression")["all"]["strategy"] == "transfer"
    assert best_rows(rows, "multilabel")["all"]["strategy"] == "tfidf"
    assert best_rows(rows, "classification")["all"]["strategy"] == "tfidf"
    marked = [line for line in format_table(rows, "regression").splitlines() if line.startswith("*")]
    assert len(marked) == 2  # the row, and the footnote
    assert marked[0].split() == ["*", "transfer", "9", "(all)", "0.200", "0.100", "0.500", "-", "1.0", "1.00"]


def _predict(model, data, tmp_path, text_column):
    out = tmp_path / "predictions.csv"
    assert main(["predict", str(model), str(data), "--text-column", text_column, "--output", str(out)]) == 0
    return pd.read_csv(out, keep_default_na=False)


def test_predict_writes_one_column_per_regression_output(scores_csv, tmp_path):
    model = tmp_path / "best"
    run_task(scores_csv, tmp_path, "--text-column", "sentence", "--label-column", "V,A,D", "--strategies", "tfidf",
             "--train-sizes", "all", "--save-best", str(model))
    saved = _saved(model)
    assert (saved["task"], saved["target_names"]) == ("regression", ["V", "A", "D"])
    predicted = _predict(model, scores_csv, tmp_path, "sentence")
    assert list(predicted.columns) == ["sentence", "prediction_V", "prediction_A", "prediction_D"]
    expected = saved["model"].predict(predicted["sentence"].tolist())
    assert np.allclose(predicted[["prediction_V", "prediction_A", "prediction_D"]].to_numpy(), expected)

    run_task(scores_csv, tmp_path, "--text-column", "sentence", "--label-column", "A", "--strategies", "tfidf",
             "--train-sizes", "all", "--save-best", str(model))
    assert list(_predict(model, scores_csv, tmp_path, "sentence").columns) == ["sentence", "prediction"]


def test_predict_writes_labels_indicators_and_probabilities(tags_csv, tmp_path):
    model = tmp_path / "best"
    run_task(tags_csv, tmp_path, "--text-column", "comment", "--label-column", "tags", "--label-sep", "|",
             "--strategies", "tfidf", "--train-sizes", "all", "--save-best", str(model))
    saved = _saved(model)
    assert (saved["task"], saved["target_names"], saved["label_sep"]) == ("multilabel", list(TAGS), "|")
    predicted = _predict(model, tags_csv, tmp_path, "comment")
    assert list(predicted.columns) == ["comment", "labels", *(f"label_{t}" for t in TAGS),
                                       *(f"proba_{t}" for t in TAGS)]
    indicator = predicted[[f"label_{t}" for t in TAGS]].to_numpy()
    assert (indicator == saved["model"].predict(predicted["comment"].tolist())).all()
    assert predicted["labels"].tolist() == ["|".join(t for t, on in zip(TAGS, row) if on) for row in indicator]
    assert indicator.sum() > 0
    proba = predicted[[f"proba_{t}" for t in TAGS]].to_numpy()
    assert ((proba >= 0.5) == indicator.astype(bool)).all()


def test_threshold_cuts_every_strategy_and_travels_with_the_saved_model(tags_csv, tmp_path):
    model = tmp_path / "best"
    common = ["--text-column", "comment", "--label-column", "tags", "--label-sep", "|", "--strategies", "tfidf",
              "--train-sizes", "all"]
    at_half, _, _ = run_task(tags_csv, tmp_path, *common)
    low, _, _ = run_task(tags_csv, tmp_path / "low", *common, "--threshold", "0.1", "--save-best", str(model))
    assert low["meta"]["threshold"] == 0.1 and at_half["meta"]["threshold"] == 0.5
    # tf-idf + one-vs-rest predicts few labels at 0.5 on 96 rows; a lower cut predicts more, so scores change
    assert low["results"][0]["micro_f1"] != at_half["results"][0]["micro_f1"]
    assert _saved(model)["threshold"] == 0.1
    predicted = _predict(model, tags_csv, tmp_path, "comment")
    proba = predicted[[f"proba_{t}" for t in TAGS]].to_numpy()
    np.testing.assert_array_equal(predicted[[f"label_{t}" for t in TAGS]].to_numpy(), (proba >= 0.1).astype(int))


def test_predicted_labels_are_joined_with_the_training_separator():
    from skadapt.cli.main import predictions

    class Fixed:
        def predict(self, rows):
            return np.array([[1, 0, 1], [0, 0, 0]])

        def predict_proba(self, rows):
            return np.array([[0.9, 0.1, 0.8], [0.2, 0.3, 0.4]])

    saved = {"model": Fixed(), "task": "multilabel", "target_names": ["joy", "fear", "love"], "label_sep": " / "}
    out = predictions(saved, ["a", "b"], "text")
    assert out["labels"].tolist() == ["joy / love", ""]
    assert out["label_love"].tolist() == [1, 0] and out["proba_fear"].tolist() == [0.1, 0.3]


def test_predict_reads_a_pickle_only_when_trusted(data_csv, tmp_path, capsys):
    import joblib
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline

    frame = pd.read_csv(data_csv)
    model = make_pipeline(TfidfVectorizer(), LogisticRegression()).fit(frame["question"], frame["kind"])
    joblib.dump(model, tmp_path / "old.joblib")
    assert main(["predict", str(tmp_path / "old.joblib"), str(data_csv), "--text-column", "question"]) == 2
    assert "runs any code" in capsys.readouterr().err
    out = tmp_path / "predictions.csv"
    assert main(["predict", str(tmp_path / "old.joblib"), str(data_csv), "--text-column", "question",
                 "--trust-pickle", "--output", str(out)]) == 0
    predicted = pd.read_csv(out)
    assert list(predicted.columns) == ["question", "prediction", "proba_DESC", "proba_HUM", "proba_LOC"]
    assert predicted["prediction"].tolist() == model.predict(frame["question"]).tolist()


def _bad_task_inputs(tmp_path, data_csv, scores_csv, tags_csv):
    texts = [f"t{i}" for i in range(20)]
    gap = _write(tmp_path, "gap.csv", text=texts, V=[0.5 + i for i in range(19)] + [None])
    flat = _write(tmp_path, "flat.csv", text=texts, V=[2.5] * 20)
    mixed = _write(tmp_path, "mixed.csv", text=texts, V=np.linspace(1, 3, 20), kind=["a", "b"] * 10)
    one_tag = _write(tmp_path, "one_tag.csv", text=texts, tags=["x", ""] * 10)
    not_01 = _write(tmp_path, "not01.csv", text=texts, x=[0, 1] * 10, y=[0, 2] * 10)
    q = ["--text-column", "question", "--label-column", "kind", "--strategies", "tfidf"]
    s = ["--text-column", "sentence", "--strategies", "tfidf"]
    return [
        (["compare", str(data_csv), *q, "--task", "regression"], "column 'kind' is not numeric ('DESC' at row 1)"),
        (["compare", str(data_csv), *q, "--task", "multilabel"], "--task multilabel needs --label-sep"),
        (["compare", str(scores_csv), *s, "--label-column", "V,A", "--task", "classification"],
         "--task classification takes one label column, but 2 were given"),
        (["compare", str(scores_csv), *s, "--label-column", "V,A", "--label-sep", ";"], "--label-sep splits one label column"),
        (["compare", str(tags_csv), "--text-column", "comment", "--label-column", "tags", "--label-sep", "|",
          "--task", "regression"], "it contradicts --task regression"),
        (["compare", str(gap), "--label-column", "V", "--strategies", "tfidf"],
         "column 'V' has 1 empty values (first at row 20)"),
        (["compare", str(flat), "--label-column", "V", "--task", "regression"], "target 'V' has the same value"),
        (["compare", str(mixed), "--label-column", "V,kind"], "column 'kind' is not numeric ('a' at row 1)"),
        (["compare", str(one_tag), "--label-column", "tags", "--label-sep", ";"], "only 1 label (x) appears"),
        (["compare", str(not_01), "--label-column", "x,y", "--task", "multilabel"], "column 'y' holds 2 at row 2"),
        (["compare", "emobank", "--task", "classification"], "emobank is a regression dataset"),
        (["compare", "goemotions", "--task", "regression"], "goemotions is a multilabel dataset"),
        (["compare", "sst2", "--label-sep", ";"], "sst2 is a classification dataset, not multi-label"),
        (["compare", str(scores_csv), *s, "--label-column", "V", "--cv", "200"], "fewer than the 200 folds"),
        (["compare", str(tags_csv), "--text-column", "comment", "--label-column", "tags", "--label-sep", ""],
         "--label-sep must not be empty"),
        (["compare", str(scores_csv), *s, "--label-column", "V", "--threshold", "0.3"],
         "--threshold applies to multi-label data only; this data is regression"),
        (["compare", str(tags_csv), "--text-column", "comment", "--label-column", "tags", "--label-sep", "|",
          "--threshold", "1.5"], "--threshold must be between 0 and 1, got 1.5"),
    ]


def test_every_bad_task_input_exits_2_with_one_line(tmp_path, data_csv, scores_csv, tags_csv, capsys):
    for argv, message in _bad_task_inputs(tmp_path, data_csv, scores_csv, tags_csv):
        out = tmp_path / "never"
        assert main([*argv, "--output", str(out)]) == 2, argv
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and message in err[0], (argv, err)
        assert not out.exists()
