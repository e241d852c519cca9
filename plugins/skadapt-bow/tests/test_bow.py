import os

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402

from skadapt_bow._backbone import PAD, UNK, BagOfWordsBackbone  # noqa: E402

TEXTS = ["a wonderful , moving film", "great acting", "dull and far too long", "a tedious mess"] * 15
LABELS = ["pos", "pos", "neg", "neg"] * 15


def test_fit_build_prepare_collate_shapes():
    backbone = BagOfWordsBackbone(embedding_dim=8, max_length=3).fit(TEXTS)
    assert backbone.vocabulary_["wonderful"] >= 2  # 0 and 1 are padding and unknown
    module = backbone.build(pretrained=False)
    assert backbone.out_features == 8
    assert module.embedding.num_embeddings == len(backbone.vocabulary_) + 2

    items = backbone.prepare(["great acting", "an unseen word", "a wonderful , moving film", ""])
    assert items[1].tolist() == [UNK, UNK, UNK]
    assert len(items[2]) == 3  # truncated to max_length
    batch = backbone.collate(list(items))
    assert set(batch) == {"input_ids"}
    assert batch["input_ids"].shape == (4, 3) and batch["input_ids"].dtype == torch.long
    assert batch["input_ids"][0, 2] == PAD

    features = module(**batch)
    assert features.shape == (4, 8)
    assert torch.all(features[3] == 0)  # an empty text: nothing to average
    # The mean leaves padding out: "great acting" padded or not gives the same features.
    alone = module(**backbone.collate([items[0]]))
    torch.testing.assert_close(features[0], alone[0])
    assert backbone.layer_groups(module) == [("embedding", ["embedding."])]


def test_options_are_checked_and_no_pretrained_weights():
    with pytest.raises(ValueError, match="embedding_dim"):
        BagOfWordsBackbone(embedding_dim=0)
    with pytest.raises(ValueError, match="min_df"):
        BagOfWordsBackbone(min_df=1.5)
    backbone = BagOfWordsBackbone(min_df=100).fit(TEXTS)  # no word frequent enough
    assert backbone.vocabulary_ == {}
    with pytest.raises(ValueError, match="no pretrained weights"):
        backbone.build(pretrained=True)


def test_trains_with_scratch_classifier():
    from skadapt import ScratchClassifier

    clf = ScratchClassifier(
        backbone="bow", backbone_kwargs={"embedding_dim": 16}, lr=5e-2, max_epochs=15,
        device="cpu", random_state=0,
    ).fit(TEXTS, LABELS)
    assert isinstance(clf.backbone_, BagOfWordsBackbone)
    assert list(clf.classes_) == ["neg", "pos"]
    pred = clf.predict(TEXTS[:4])
    assert set(pred) <= set(clf.classes_)
    assert np.mean(clf.predict(TEXTS) == np.asarray(LABELS)) >= 0.9
