"""AutoClassifier and AutoRegressor: the way chosen inside fit, within a time budget, by compare's engine."""

import json
import time

import numpy as np
import pandas as pd
import pytest
from sklearn.base import BaseEstimator, ClassifierMixin, clone
from sklearn.model_selection import GridSearchCV

import skadapt
from skadapt import AutoClassifier, AutoRegressor
from skadapt.auto import _engine, parse_budget
from skadapt.auto._estimators import rung_sizes
from skadapt.cli import main
from skadapt.datasets import load_sst2


def sst2(n):
    X, y = load_sst2(return_X_y=True)
    return list(X[:n]), np.asarray(y[:n])


class SlowTfidf(ClassifierMixin, BaseEstimator):
    """TF-IDF + logistic regression that sleeps ``seconds_per_row`` per training row: a costly way."""

    def __init__(self, seconds_per_row=0.01):
        self.seconds_per_row = seconds_per_row

    def fit(self, X, y):
        time.sleep(self.seconds_per_row * len(X))
        self.model_ = _engine.make_estimator("tfidf", backbone=None, max_epochs=None, seed=0, verbose=0).fit(X, y)
        self.classes_ = self.model_.classes_
        return self

    def predict(self, X):
        return self.model_.predict(X)


class Broken(SlowTfidf):
    def fit(self, X, y):
        raise RuntimeError("this way breaks")


def replacing(monkeypatch, way, estimator):
    real = _engine.make_estimator

    def make(strategy, **kwargs):
        return clone(estimator) if strategy == way else real(strategy, **kwargs)

    monkeypatch.setattr(_engine, "make_estimator", make)


def test_the_winner_is_the_best_finished_candidate_and_answers_for_the_estimator(tiny_sbert, texts):
    X, y = texts
    clf = AutoClassifier(time_budget=120, ways=["tfidf", "finetune"], backbone=tiny_sbert).fit(X, y)
    board = clf.leaderboard_
    assert list(board.columns) == ["way", "model", "train_rows", "epochs", "accuracy", "fit_s", "predict_s_per_1k",
                                   "status"]
    finished = board[board.status == "ok"]
    chosen = finished[finished.way == clf.best_params_["way"]]
    assert clf.best_score_ == chosen.accuracy.iloc[-1]
    assert clf.refitted_ and clf.classes_.tolist() == ["neg", "pos"]
    np.testing.assert_array_equal(clf.predict(X), clf.best_estimator_.predict(X))
    assert clf.predict_proba(X).shape == (len(X), 2)
    assert 0 <= clf.score(X, y) <= 1


def test_the_same_random_state_gives_the_same_search_and_winner(texts):
    X, y = texts
    first = AutoClassifier(time_budget=60, ways=["tfidf", "scratch"], random_state=3).fit(X, y)
    second = AutoClassifier(time_budget=60, ways=["tfidf", "scratch"], random_state=3).fit(X, y)
    assert first.best_params_ == second.best_params_
    assert first.leaderboard_.accuracy.tolist() == second.leaderboard_.accuracy.tolist()


def test_the_budget_is_kept_when_a_way_proves_slow(monkeypatch):
    X, y = sst2(400)  # 320 rows to train on: rungs of 80 and 320
    replacing(monkeypatch, "scratch", SlowTfidf(seconds_per_row=0.03))
    budget = 8
    started = time.perf_counter()
    clf = AutoClassifier(time_budget=budget, ways=["tfidf", "scratch"]).fit(X, y)
    assert time.perf_counter() - started <= budget * 1.1
    board = clf.leaderboard_
    slow = board[board.way == "scratch"]
    assert slow.status.iloc[0] == "ok"  # 2.4 s on 80 rows, measured: 9.6 s on 320 do not fit in what is left
    assert slow.status.iloc[1].startswith("skipped: estimated")
    assert clf.best_params_["way"] == "tfidf"


def test_a_way_goes_on_while_its_learning_curve_may_reach_the_best():
    folds = [(np.arange(1000), np.arange(1000, 1250))]
    comparison = _engine.Comparison(_engine.Evaluation(None, np.arange(1250) % 2, folds, "holdout"),
                                    ["tfidf", "transfer", "scratch", "finetune"], [62, 250, None], halving=True)
    finished = ["tfidf", "transfer", "scratch", "finetune"]
    first = {"tfidf": [(62, 0.70)], "transfer": [(62, 0.72)], "scratch": [(62, 0.55)], "finetune": [(62, 0.60)]}
    assert comparison._going_on(finished, first, 1000) == finished  # one point each: none is judged yet
    curves = {"tfidf": [(62, 0.70), (250, 0.74)],  # 0.78 at 1,000 rows: below the best so far
              "transfer": [(62, 0.72), (250, 0.80)],  # the best so far
              "scratch": [(62, 0.55), (250, 0.72)],  # behind, but steep: 0.89 at 1,000
              "finetune": [(62, 0.60), (250, 0.61)]}  # flat: 0.62
    assert comparison._going_on(finished, curves, 1000) == ["scratch", "transfer"]
    regression = _engine.Comparison(_engine.Evaluation(None, np.zeros(1250), folds, "holdout", "regression"),
                                    ["tfidf", "transfer", "scratch"], [62, 250, None], halving=True)
    rmse = {"tfidf": [(62, 0.30), (250, 0.29)], "transfer": [(62, 0.26), (250, 0.25)],
            "scratch": [(62, 0.40), (250, 0.27)]}  # lower is better: scratch falls fastest
    assert regression._going_on(["tfidf", "transfer", "scratch"], rmse, 1000) == ["scratch", "transfer"]


def test_successive_halving_drops_the_worse_half_before_more_rows(monkeypatch):
    X, y = sst2(400)
    replacing(monkeypatch, "transfer", Broken())
    clf = AutoClassifier(time_budget=300, ways=["tfidf", "scratch", "transfer"]).fit(X, y)
    board = clf.leaderboard_
    assert board.train_rows.tolist() == [80, 80, 80, 320, 320, 320]
    assert board.status.iloc[2].startswith("failed: RuntimeError: this way breaks")
    assert board.status.iloc[5] == "stopped: failed on fewer rows"
    assert set(board.status.iloc[3:5]) == {"ok"}


def test_a_budget_too_small_names_the_smallest_that_would_do(texts):
    X, y = texts
    with pytest.raises(ValueError, match=r"too small to fit any way on these 36 rows: the cheapest, tfidf, needs about"):
        AutoClassifier(time_budget=0.001).fit(X, y)


@pytest.mark.parametrize("params, message", [
    ({"time_budget": -1}, "time_budget must be a positive number"),
    ({"time_budget": "ten minutes"}, "time_budget must be a positive number"),
    ({"ways": ["tfidf", "magic"]}, "unknown way 'magic'"),
    ({"ways": ["other"]}, "X has none"),
    ({"validation": 1.5}, "validation must be a fraction"),
    ({"scoring": "rmse"}, "scoring must be None or one of accuracy, macro_f1"),
])
def test_bad_settings_get_one_sentence(texts, params, message):
    X, y = texts
    with pytest.raises(ValueError, match=message):
        AutoClassifier(**params).fit(X, y)


def test_one_class_is_refused(texts):
    X, _ = texts
    with pytest.raises(ValueError, match="only one class"):
        AutoClassifier(time_budget=10).fit(X, ["pos"] * len(X))


def test_budget_strings():
    assert [parse_budget(v) for v in (90, "90s", "10min", "1.5h", "2m")] == [90, 90, 600, 5400, 120]
    assert rung_sizes(6920, 2) == [432, 1730, None] and rung_sizes(100, 2) == [None]


def test_clone_and_grid_search_over_an_auto_parameter(texts):
    X, y = texts
    search = GridSearchCV(AutoClassifier(time_budget=30, ways=["tfidf"]), {"validation": [0.25, 0.5]}, cv=2)
    search.fit(X, y)
    assert search.best_params_["validation"] in (0.25, 0.5)
    assert clone(search.best_estimator_).get_params()["ways"] == ["tfidf"]


def test_regression_multilabel_and_tables():
    X, y = sst2(200)
    y = (y == "positive").astype(int)
    reg = AutoRegressor(time_budget=60, ways=["tfidf"]).fit(X, y + np.array([len(text) for text in X]) / 100)
    assert reg.scoring_ == "rmse" and reg.predict(X[:3]).shape == (3,)
    labels = np.c_[y, 1 - y, np.arange(200) % 2]
    multi = AutoClassifier(time_budget=60, ways=["tfidf"]).fit(X, labels)
    assert multi.task_ == "multilabel" and multi.predict(X[:3]).shape == (3, 3)
    table = pd.DataFrame({"review": X, "stars": np.where(y == 1, 4.0, 2.0), "shop": ["a", "b"] * 100})
    tab = AutoClassifier(time_budget=60, ways=["other", "tfidf"]).fit(table, y)
    assert tab.best_score_ == 1.0  # the stars give the label away


def rare_labels(n):
    """SST-2 texts and five labels each on 2-11 % of them (a word present): too rare for a cut at 0.5."""
    X, _ = sst2(n)
    words = ["film", "movie", "story", "best", "funny"]
    return X, np.array([[int(word in text.lower().split()) for word in words] for text in X])


def test_multilabel_ways_are_cut_where_validation_scores_best_and_the_winner_keeps_its_cut(tmp_path):
    X, Y = rare_labels(300)
    clf = AutoClassifier(time_budget=60, ways=["tfidf", "scratch"]).fit(X, Y)
    board = clf.leaderboard_
    assert list(board.columns) == ["way", "model", "train_rows", "epochs", "threshold", "micro_f1", "fit_s",
                                   "predict_s_per_1k", "status"]
    threshold = clf.best_params_["threshold"]
    assert threshold < 0.5 and board.threshold.notna().all()
    assert clf.best_score_ == board[board.way == clf.best_params_["way"]].micro_f1.iloc[-1] > 0.3
    proba = clf.predict_proba(X)
    predicted = clf.predict(X)
    np.testing.assert_array_equal(predicted, proba >= threshold)
    assert predicted.sum() > (proba >= 0.5).sum()  # the cut of 0.5 would predict fewer labels
    loaded = skadapt.load(skadapt.save(clf, tmp_path / "model"))
    np.testing.assert_array_equal(loaded.predict(X), predicted)


def test_a_multilabel_transfer_winner_exports_its_cut_to_onnx(tmp_path, tiny_sbert):
    X, Y = rare_labels(160)
    clf = AutoClassifier(time_budget=120, ways=["transfer"], backbone=tiny_sbert).fit(X, Y)
    threshold = clf.best_params_["threshold"]
    assert clf.best_estimator_[-1].threshold == threshold
    served = skadapt.load(skadapt.export_onnx(clf, tmp_path / "onnx"))
    assert served.threshold == threshold
    assert (served.predict(X) == clf.predict(X)).mean() >= 0.99


def test_the_cut_with_the_best_score_wins_and_ties_keep_the_one_nearest_half():
    from sklearn.metrics import f1_score

    from skadapt.auto._multilabel import choose_threshold
    from skadapt.estimators import ThresholdedOneVsRest

    def micro(y, indicator):
        return f1_score(y, indicator, average="micro", zero_division=0)

    y = np.array([[1, 0], [0, 1], [0, 0], [1, 1]])
    assert choose_threshold(y, np.where(y == 1, 0.3, 0.1), micro) == 0.3  # 0.15-0.3 tie: 0.3 is nearest 0.5
    assert choose_threshold(y, np.where(y == 1, 0.9, 0.1), micro) == 0.5
    from sklearn.linear_model import LogisticRegression

    with pytest.raises(ValueError, match="'threshold' parameter of ThresholdedOneVsRest must be a float in the range"):
        ThresholdedOneVsRest(LogisticRegression(), threshold=1.5).fit(np.eye(4), y)
    head = ThresholdedOneVsRest(LogisticRegression()).fit(np.eye(4), y).set_params(threshold=0)
    with pytest.raises(ValueError, match="threshold must be between 0 and 1"):
        head.predict(np.eye(4))


def test_the_search_encodes_each_text_once_for_transfer(monkeypatch, tiny_sbert):
    from skadapt.cache.embeddings import clear_memory
    from skadapt.estimators import featurizer

    encoded = []
    real = featurizer.cached_encode

    def counting(texts, identity, stores, encode):
        return real(texts, identity, stores, lambda batch: (encoded.extend(batch), encode(batch))[1])

    monkeypatch.setattr(featurizer, "cached_encode", counting)
    clear_memory()
    X, y = sst2(400)  # 320 rows to train on: rungs of 80 and 320; 80 to validate
    clf = AutoClassifier(time_budget=120, ways=["transfer", "tfidf"], backbone=tiny_sbert).fit(X, y)
    assert clf.leaderboard_.status.tolist() == ["ok"] * 4
    assert sorted(encoded) == sorted(set(X))


def test_save_load_and_export_write_the_chosen_model(tmp_path, texts):
    X, y = texts
    clf = AutoClassifier(time_budget=60, ways=["scratch"]).fit(X, y)
    loaded = skadapt.load(skadapt.save(clf, tmp_path / "model"))
    np.testing.assert_array_equal(loaded.predict(X), clf.predict(X))
    served = skadapt.load(skadapt.export_onnx(clf, tmp_path / "onnx"))
    assert (served.predict(X) == clf.predict(X)).mean() >= 0.99


def test_compare_with_a_time_budget_runs_the_same_search(tmp_path, texts):
    X, y = texts
    path = tmp_path / "reviews.csv"
    pd.DataFrame({"text": X, "label": y}).to_csv(path, index=False)
    out = tmp_path / "out"
    code = main(["compare", str(path), "--strategies", "tfidf,scratch", "--train-sizes", "all", "--test-size", "0.2",
                 "--time-budget", "60", "--output", str(out)])
    assert code == 0
    rows = json.loads((out / "results.json").read_text())["results"]
    clf = AutoClassifier(time_budget=60, ways=["tfidf", "scratch"], validation=0.2).fit(X, y)
    assert [(r["strategy"], r["accuracy"]) for r in rows] == list(zip(clf.leaderboard_.way, clf.leaderboard_.accuracy))


class Interrupted(SlowTfidf):
    def fit(self, X, y):
        raise KeyboardInterrupt


def test_ctrl_c_keeps_the_best_model_so_far_with_a_warning(monkeypatch, texts):
    X, y = texts
    replacing(monkeypatch, "scratch", Interrupted())
    with pytest.warns(UserWarning, match="interrupted: keeping the best model found so far"):
        clf = AutoClassifier(time_budget=60, ways=["tfidf", "scratch"]).fit(X, y)
    assert clf.best_params_["way"] == "tfidf" and not clf.refitted_
    assert clf.predict(X).shape == (len(X),)


def test_the_best_score_wins_unless_a_preferred_way_is_within_one_standard_error():
    from skadapt.auto._engine import Evaluation
    from skadapt.auto._estimators import _within_noise

    holdout = Evaluation([], np.zeros(100), [(np.arange(100), np.arange(100))], "held out", "classification")
    rows = [{"strategy": "tfidf", "train_rows": 800, "status": "ok", "accuracy": 0.90},
            {"strategy": "finetune", "train_rows": 800, "status": "ok", "accuracy": 0.88}]
    assert _within_noise(rows, "accuracy", holdout)["strategy"] == "finetune"  # error 0.03 on 100 rows
    rows[1]["train_rows"] = 200  # within the error on fewer rows: the model on more rows is the safer bet
    assert _within_noise(rows, "accuracy", holdout)["strategy"] == "tfidf"
    rows[1]["accuracy"] = 0.95  # above the error: the better score wins, on however many rows
    assert _within_noise(rows, "accuracy", holdout)["strategy"] == "finetune"
    rows[1].update(accuracy=0.80, train_rows=800)
    assert _within_noise(rows, "accuracy", holdout)["strategy"] == "tfidf"
    regression = [{"strategy": "tfidf", "train_rows": 800, "status": "ok", "rmse": 0.20},
                  {"strategy": "finetune", "train_rows": 800, "status": "ok", "rmse": 0.21}]
    assert _within_noise(regression, "rmse", holdout)["strategy"] == "tfidf"  # no error known


class SlowNaiveBayes(SlowTfidf):
    """TF-IDF + naive Bayes, which learns from a few hundred rows, and sleeps as SlowTfidf does."""

    def fit(self, X, y):
        from sklearn.feature_extraction.text import TfidfVectorizer
        from sklearn.naive_bayes import MultinomialNB
        from sklearn.pipeline import make_pipeline

        time.sleep(self.seconds_per_row * len(X))
        self.model_ = make_pipeline(TfidfVectorizer(), MultinomialNB()).fit(X, y)
        self.classes_ = self.model_.classes_
        return self


def test_a_way_the_budget_stopped_on_fewer_rows_can_win(monkeypatch):
    from sklearn.dummy import DummyClassifier
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.pipeline import make_pipeline

    X, y = sst2(1000)  # 800 rows to train on: rungs of 200 and 800
    minority = min(set(y), key=list(y).count)  # fast, and wrong on most rows
    replacing(monkeypatch, "tfidf", make_pipeline(TfidfVectorizer(), DummyClassifier(strategy="constant",
                                                                                      constant=minority)))
    replacing(monkeypatch, "scratch", SlowNaiveBayes(seconds_per_row=0.01))  # learns, but 800 rows take 8 s
    clf = AutoClassifier(time_budget=8, ways=["tfidf", "scratch"]).fit(X, y)
    board = clf.leaderboard_
    assert board.status.tolist()[:3] == ["ok", "ok", "ok"] and board.status.iloc[3].startswith("skipped: estimated")
    assert clf.best_params_ == {"way": "scratch"}  # its 200 rows beat the dummy's 800
    assert clf.best_score_ == board.accuracy.iloc[1] and not clf.refitted_
    assert clf.best_estimator_.model_.steps[0][1].vocabulary_ is not None and clf.score(X, y) > 0.6


def test_fine_tuning_probes_with_one_epoch_and_takes_the_epochs_that_fit():
    folds = [(np.arange(4000), np.arange(4000, 5000))]
    evaluation = _engine.Evaluation(None, np.arange(5000) % 2, folds, "holdout")
    search = _engine.Comparison(evaluation, ["tfidf", "scratch", "finetune"], [1000, None], time_budget=600,
                                halving=True)
    # priors: 0.02 s per row and epoch, 4 s to predict the 1,000 validation rows
    assert search.budget_epochs("finetune", 1000, last=False, left=600) == 1  # before the last rung: one epoch
    assert search.budget_epochs("finetune", 4000, last=True, left=600) == 3  # the default, 244 s
    assert search.budget_epochs("finetune", 4000, last=True, left=200) == 2  # 164 s
    assert search.budget_epochs("finetune", 4000, last=True, left=50) == 1  # 84 s: the fit is then skipped
    assert search.estimate("finetune", 4000, 2) == pytest.approx(0.02 * 2 * 4000 + 4)
    # a rung is fine-tuning's last when its next, even for one epoch, would not fit after it: 24 s + 84 s here
    assert not search._last_for("finetune", 1000, [1000, None], left=600)
    assert search._last_for("finetune", 1000, [1000, None], left=100)
    assert search.budget_epochs("finetune", 1000, last=True, left=100) == 3  # so it gets the epochs that fit: 64 s
    assert search.budget_epochs("scratch", 4000, last=True, left=10) is None  # from random weights: its own epochs
    # 75 rows per class would run the contrastive stage, but the final fit on 2,000 per class will not: nor do its
    # probes, which train one epoch as on any rung
    assert search.budget_epochs("finetune", 150, last=False, left=600) == 1
    few = _engine.Evaluation(None, np.arange(250) % 2, [(np.arange(200), np.arange(200, 250))], "holdout")
    small = _engine.Comparison(few, ["finetune"], [64, None], time_budget=600, halving=True)
    assert small.budget_epochs("finetune", 200, last=True, left=600) is None  # 100 per class: the stage's own plan
    for unbudgeted in (dict(time_budget=None), dict(max_epochs=2)):
        other = _engine.Comparison(evaluation, ["finetune"], [1000, None], halving=True,
                                   **{"time_budget": 600, **unbudgeted})
        assert other.budget_epochs("finetune", 4000, last=True, left=100) is None
        assert other.budget_rows("finetune", 1000, left=100) == 1000


def test_on_its_last_rung_fine_tuning_learns_from_the_rows_one_epoch_over_fits():
    folds = [(np.arange(4000), np.arange(4000, 5000))]
    evaluation = _engine.Evaluation(None, np.arange(5000) % 2, folds, "holdout")
    search = _engine.Comparison(evaluation, ["tfidf", "finetune"], [1000, None], time_budget=600, halving=True)
    # priors: 0.02 s per row and epoch, 4 s to predict the 1,000 validation rows
    assert search.budget_rows("finetune", 1000, left=80) == 3400  # 68 s of one epoch: 0.9 of 80 s, less 4 predicting
    assert search.budget_epochs("finetune", 3400, last=True, left=80) == 1
    assert search.budget_rows("finetune", 1000, left=400) == 4000  # all the rows, then the epochs that fit
    assert search.budget_epochs("finetune", 4000, last=True, left=400) == 3
    assert search.budget_rows("finetune", 1000, left=10) == 1000  # never fewer than its rung
    assert search.budget_rows("tfidf", 1000, left=64) == 1000  # the ways without epochs keep their rungs
    # a rung that no longer fits (other ways took longer than planned): the rows that do, if twice its last fit's
    assert search.fewer_rows("finetune", 4000, left=50, had=1000) == 2050  # 41 s of one epoch
    assert search.fewer_rows("finetune", 4000, left=50, had=1100) is None  # 2,050 < 2,200: skipped
    assert search.fewer_rows("scratch", 4000, left=50, had=100) is None
    few = _engine.Evaluation(None, np.arange(250) % 2, [(np.arange(200), np.arange(200, 250))], "holdout")
    small = _engine.Comparison(few, ["finetune"], [64, None], time_budget=600, halving=True)
    assert small.budget_rows("finetune", 64, left=600) == 64  # the contrastive stage's cost follows no rows


def test_the_search_fills_its_budget_with_fine_tuning_rows_on_its_last_rung(monkeypatch):
    rows = []
    real = _engine.make_estimator

    def make(strategy, **kwargs):
        if strategy != "finetune":
            return real(strategy, **kwargs)
        rows.append(kwargs["n_rows"])
        return SlowTfidf(seconds_per_row=0.01)

    monkeypatch.setattr(_engine, "make_estimator", make)
    monkeypatch.setitem(_engine.PRIOR_SECONDS_PER_ROW, "finetune", 0.01)
    X, y = sst2(3000)  # 2,400 rows to train on: rungs of 150, 600 and 2,400
    clf = AutoClassifier(time_budget=20, ways=["tfidf", "finetune"]).fit(X, y)
    board = clf.leaderboard_[clf.leaderboard_.way == "finetune"]
    # 150 rows, then a last rung (600 + 2,400 rows would not fit) that takes the rows one epoch fits in what is left
    assert rows[0] == 150 and 600 < rows[1] < 2400 and board.train_rows.tolist()[:2] == rows[:2]
    assert board.epochs.iloc[1] == 1 and len(board) == 3  # its row on all the rows: skipped or not fitted twice
    assert clf.fit_seconds_ <= 22


def test_the_search_passes_its_epochs_to_fine_tuning_and_to_the_refit(monkeypatch):
    epochs, stage = [], []
    real = _engine.make_estimator

    def make(strategy, **kwargs):
        if strategy != "finetune":
            return real(strategy, **kwargs)
        epochs.append(kwargs["max_epochs"])
        stage.append(kwargs.get("contrastive_steps", "auto"))
        return SlowTfidf(seconds_per_row=0)  # as good as tfidf: the preference picks fine-tuning

    monkeypatch.setattr(_engine, "make_estimator", make)
    X, y = sst2(1500)  # 1,200 rows to train on: rungs of 75, 300 and 1,200
    clf = AutoClassifier(time_budget=120, ways=["tfidf", "finetune"]).fit(X, y)
    # one epoch before the last rung, the default on it, the same for the refit; no contrastive stage on the
    # 75 rows of the first rung, as none will run on all the rows
    assert epochs == [1, 1, 3, 3] and stage[:3] == [0, 0, 0]
    assert clf.best_params_ == {"way": "finetune", "max_epochs": 3} and clf.refitted_
    assert clf.leaderboard_.epochs.tolist()[1::2] == [1, 1, 3]
