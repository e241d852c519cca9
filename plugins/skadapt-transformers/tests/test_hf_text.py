"""``hf-text:PATH`` on a tiny local BERT: recipe contract, featurizing, fine-tuning, scratch, export."""

import json
import os
import pickle
import shutil

import numpy as np
import pytest
import torch

from skadapt import FineTunedClassifier, PretrainedFeaturizer, ScratchClassifier, export_backbone, get_backbone


def reference_features(folder, texts, pooling="mean", max_length=64):
    """What transformers itself computes: the model's last states, pooled by hand."""
    from transformers import AutoModel, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(folder)
    model = AutoModel.from_pretrained(folder).eval()
    batch = tokenizer(texts, padding=True, truncation=True, max_length=max_length, return_tensors="pt")
    with torch.no_grad():
        hidden = model(**batch).last_hidden_state
    if pooling == "cls":
        return hidden[:, 0].numpy()
    mask = batch["attention_mask"].unsqueeze(-1).float()
    return ((hidden * mask).sum(1) / mask.sum(1)).numpy()


def test_recipe_tokenises_once_pads_per_batch_and_pools(tiny_bert):
    recipe = get_backbone(f"hf-text:{tiny_bert}").create(max_length=6)
    module = recipe.build(pretrained=True).eval()
    assert recipe.out_features == 32 and recipe.max_length_ == 6
    tokenizer = recipe.tokenizer_

    texts = ["great acting", "a wonderful , moving film and a clever story", "unseen words here"]
    items = recipe.prepare(texts)
    assert all(item.dtype == np.int64 for item in items)
    assert [len(item) for item in items] == [4, 6, 5]  # [CLS] ... [SEP], the long one truncated to 6
    assert items[0][0] == tokenizer.cls_token_id and items[0][-1] == tokenizer.sep_token_id
    assert tokenizer.unk_token_id in items[2]
    batch = recipe.collate(list(items))
    assert set(batch) == {"input_ids", "attention_mask"}
    assert batch["input_ids"].shape == (3, 6) and batch["input_ids"].dtype == torch.long
    assert batch["attention_mask"][0].tolist() == [1, 1, 1, 1, 0, 0]

    with torch.no_grad():
        features = module(**batch).numpy()
        alone = module(**recipe.collate([items[0]])).numpy()
    assert features.shape == (3, 32)
    np.testing.assert_allclose(features, reference_features(tiny_bert, texts, max_length=6), atol=1e-5)
    np.testing.assert_allclose(alone[0], features[0], atol=1e-5)  # padding never reaches the mean
    assert recipe.layer_groups(module) == [
        ("embeddings", ["model.embeddings."]),
        ("layer0", ["model.encoder.layer.0."]),
        ("layer1", ["model.encoder.layer.1."]),
    ]  # BERT's pooler is unused (the features pool the tokens), so it is in no group


def test_pooling_normalize_and_max_length_options(tiny_bert, texts):
    X, _ = texts
    spec = get_backbone(f"hf-text:{tiny_bert}")
    default = spec.create()
    default.build(pretrained=True)
    assert default.max_length_ == 64  # the tokenizer sets no limit: the model's 64 positions
    too_long = spec.create(max_length=1000)
    with pytest.warns(UserWarning, match="max_length=1000 exceeds what the model can take \\(64 tokens\\)"):
        too_long.build(pretrained=True)
    assert too_long.max_length_ == 64

    cls = PretrainedFeaturizer(f"hf-text:{tiny_bert}", pooling="cls", device="cpu").fit(X).transform(X[:6])
    np.testing.assert_allclose(cls, reference_features(tiny_bert, X[:6], pooling="cls"), atol=1e-5)
    unit = PretrainedFeaturizer(f"hf-text:{tiny_bert}", normalize=True, device="cpu").fit(X).transform(X[:6])
    np.testing.assert_allclose(np.linalg.norm(unit, axis=1), 1.0, atol=1e-5)


def test_featurizer_gives_the_models_mean_pooled_states(tiny_bert, texts):
    X, _ = texts
    featurizer = PretrainedFeaturizer(f"hf-text:{tiny_bert}", device="cpu").fit(X)
    features = featurizer.transform(X)
    assert features.shape == (len(X), 32) and features.dtype == np.float32
    np.testing.assert_allclose(features, reference_features(tiny_bert, X), atol=1e-5)
    assert featurizer.get_feature_names_out()[0] == "hf_text_0"


def test_fine_tuned_model_exports_as_a_model_folder_with_identical_features(
    tmp_path, tiny_bert, texts, trained_features, plain_model_folder
):
    X, y = texts
    options = {"pooling": "cls", "normalize": True, "max_length": 16}
    tuned = FineTunedClassifier(
        f"hf-text:{tiny_bert}", backbone_kwargs=options, lr=1e-3, max_epochs=2, batch_size=8,
        device="cpu", random_state=0,
    ).fit(X, y)
    assert set(tuned.predict(X)) <= {"pos", "neg"}

    name = export_backbone(tuned, tmp_path / "tuned")
    folder = tmp_path / "tuned"
    assert {"config.json", "model.safetensors", "tokenizer.json", "skadapt-backbone.json"} <= set(os.listdir(folder))
    plain_model_folder(folder)
    saved = json.loads((folder / "skadapt-backbone.json").read_text())
    assert saved["backbone"] == "hf-text" and saved["argument"] == "."
    assert saved["options"] == options  # neither the original path nor trust_remote_code

    expected = trained_features(tuned, X[:8])
    for backbone in (name, f"hf-text:{folder}"):  # also a plain transformers folder (given the same options)
        kwargs = {} if backbone == name else options
        got = PretrainedFeaturizer(backbone, backbone_kwargs=kwargs, device="cpu").fit(X).transform(X[:8])
        np.testing.assert_allclose(got, expected, atol=1e-6)
    before = PretrainedFeaturizer(f"hf-text:{tiny_bert}", backbone_kwargs=options, device="cpu").fit(X)
    assert not np.allclose(before.transform(X[:8]), expected, atol=1e-4)  # fine-tuning changed the weights

    # The export is a backbone like any other: fine-tuned again, exported again.
    again = FineTunedClassifier(name, lr=1e-3, max_epochs=1, device="cpu", random_state=0).fit(X, y)
    second = export_backbone(again, tmp_path / "again")
    np.testing.assert_allclose(PretrainedFeaturizer(second, device="cpu").fit(X).transform(X[:8]),
                               trained_features(again, X[:8]), atol=1e-6)


def test_scratch_starts_from_random_weights_and_needs_no_weights_file(tmp_path, tiny_bert, texts):
    X, y = texts
    recipe = get_backbone(f"hf-text:{tiny_bert}").create()
    pretrained = recipe.build(pretrained=True).model.embeddings.word_embeddings.weight
    scratch = recipe.build(pretrained=False).model.embeddings.word_embeddings.weight
    assert pretrained.shape == scratch.shape and not torch.allclose(pretrained, scratch)

    # A folder with a config and a tokenizer but no weights: scratch training only.
    bare = tmp_path / "bare"
    shutil.copytree(tiny_bert, bare, ignore=shutil.ignore_patterns("*.safetensors"))
    clf = ScratchClassifier(f"hf-text:{bare}", lr=1e-3, max_epochs=2, batch_size=8, device="cpu",
                            random_state=0).fit(X, y)
    proba = clf.predict_proba(X)
    assert proba.shape == (len(X), 2)
    restored = pickle.loads(pickle.dumps(clf))
    np.testing.assert_allclose(restored.predict_proba(X), proba, atol=1e-6)
    with pytest.raises(ValueError, match=r"hf-text:.*cannot load weights .*from scratch with ScratchClassifier"):
        PretrainedFeaturizer(f"hf-text:{bare}", device="cpu").fit(X)


def test_fine_tuned_hf_text_model_saves_and_serves_through_onnx(tmp_path, tiny_bert, texts):
    import skadapt

    X, y = texts
    clf = FineTunedClassifier(f"hf-text:{tiny_bert}", max_epochs=1, random_state=0).fit(X, y)
    loaded = skadapt.load(skadapt.save(clf, tmp_path / "saved"))
    np.testing.assert_array_equal(loaded.predict_proba(X), clf.predict_proba(X))
    served = skadapt.load(skadapt.export_onnx(clf, tmp_path / "onnx"))
    assert np.abs(served.predict_proba(X) - clf.predict_proba(X)).max() < 1e-4
    np.testing.assert_array_equal(served.predict(X), clf.predict(X))
