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


def test_save_best_then_predict_round_trips(data_csv, tmp_path, capsys):
    model = tmp_path / "best.joblib"
    code, _ = compare(data_csv, tmp_path, "--strategies", "tfidf", "--train-sizes", "all", "--save-best", str(model))
    assert code == 0 and model.exists()
    new = tmp_path / "new.jsonl"
    pd.DataFrame({"question": ["Who wrote Hamlet ?", "Where is Paris ?"]}).to_json(new, orient="records", lines=True)
    capsys.readouterr()
    assert main(["predict", str(model), str(new), "--text-column", "question", "--output", str(tmp_path / "p.csv")]) == 0
    predictions = pd.read_csv(tmp_path / "p.csv")
    import joblib

    expected = joblib.load(model).predict(["Who wrote Hamlet ?", "Where is Paris ?"])
    assert predictions["prediction"].tolist() == list(expected)
    assert np.allclose(predictions.filter(like="proba_").sum(axis=1), 1.0, atol=1e-5)


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
        (["compare", str(data_csv), *base, "--save-best", str(a_folder)], "is a folder"),
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

    def interrupted_after_one(self, strategy, size, bar):
        calls.append(strategy)
        if len(calls) > 1:
            raise KeyboardInterrupt
        return real(self, strategy, size, bar)

    monkeypatch.setattr(Comparison, "_fit_folds", interrupted_after_one)
    code, out = compare(data_csv, tmp_path, "--strategies", "tfidf,scratch", "--train-sizes", "all")
    assert code == 130
    saved = json.loads((out / "results.json").read_text())
    assert saved["meta"]["interrupted"] is True
    assert [r["strategy"] for r in saved["results"]] == ["tfidf"]


def test_a_failing_fit_is_reported_and_the_others_kept(data_csv, tmp_path, monkeypatch, capsys):
    real = Comparison._fit_folds

    def scratch_breaks(self, strategy, size, bar):
        if strategy == "scratch":
            raise RuntimeError("out of memory\nsecond line")
        return real(self, strategy, size, bar)

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
                 "--max-epochs", "1", "--output", str(out), "--save-best", str(tmp_path / "best.joblib")])
    assert code == 0
    results = json.loads((out / "results.json").read_text())["results"]
    assert [(r["strategy"], str(r["train_size"])) for r in results] == [
        ("scratch", "15"), ("transfer", "15"), ("finetune", "15"),
        ("scratch", "all"), ("transfer", "all"), ("finetune", "all")]
    assert all(r["status"] == "ok" for r in results), results
    assert results[0]["model"] == "ScratchClassifier(cnn)"
    capsys.readouterr()
    assert main(["predict", str(tmp_path / "best.joblib"), str(image_folder / "digit1")]) == 0
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
