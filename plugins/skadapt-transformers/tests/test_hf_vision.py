"""``hf-vision:PATH`` on tiny local ViT and ResNet models: inputs, pooling, fine-tuning, scratch, export."""

import json
import os

import numpy as np
import pytest
import torch
from PIL import Image

from skadapt import FineTunedClassifier, PretrainedFeaturizer, ScratchClassifier, export_backbone, get_backbone


def reference_outputs(folder, images):
    """transformers itself on PIL images: its processor (which rescales uint8), then the model."""
    from transformers import AutoImageProcessor, AutoModel

    processor = AutoImageProcessor.from_pretrained(folder)
    model = AutoModel.from_pretrained(folder).eval()
    pixels = processor([Image.fromarray(image) for image in images], return_tensors="pt")["pixel_values"]
    with torch.no_grad():
        return model(pixel_values=pixels)


def test_arrays_pil_images_and_png_files_give_the_models_pooled_output(tmp_path, tiny_vit, images):
    X, _ = images
    paths = []
    for i, image in enumerate(X[:6]):
        paths.append(str(tmp_path / f"{i}.png"))
        Image.fromarray(image).save(paths[-1])
    featurizer = PretrainedFeaturizer(f"hf-vision:{tiny_vit}", device="cpu").fit(X)
    from_arrays = featurizer.transform(X[:6])
    assert from_arrays.shape == (6, 32) and from_arrays.dtype == np.float32
    pil_images = [Image.fromarray(image) for image in X[:6]]
    np.testing.assert_allclose(featurizer.transform(pil_images), from_arrays, atol=1e-6)
    np.testing.assert_allclose(featurizer.transform(paths), from_arrays, atol=1e-6)
    # ViTModel saved with its pooler: "auto" pooling is the model's pooler_output.
    assert featurizer.backbone_.pooling_ == "pooler"
    np.testing.assert_allclose(from_arrays, reference_outputs(tiny_vit, X[:6]).pooler_output.numpy(), atol=1e-5)

    recipe = featurizer.backbone_
    assert recipe.prepare(list(X[:2].astype(np.float32) / 255)).shape == (2, 3, 16, 16)
    assert recipe.layer_groups(featurizer.module_) == [
        ("embeddings", ["model.embeddings."]),
        ("block0", ["model.layers.0."]),
        ("block1", ["model.layers.1."]),
        ("top", ["model.layernorm.", "model.pooler.dense."]),
    ]


def test_grey_images_work_on_a_colour_model(tiny_vit, images):
    X, _ = images
    grey = X[:6, :, :, 0]
    featurizer = PretrainedFeaturizer(f"hf-vision:{tiny_vit}", device="cpu").fit(grey)
    expected = featurizer.transform(np.repeat(grey[..., None], 3, axis=-1))  # grey repeated into colour
    np.testing.assert_allclose(featurizer.transform(grey), expected, atol=1e-6)
    np.testing.assert_allclose(featurizer.transform([Image.fromarray(g, mode="L") for g in grey]), expected, atol=1e-6)


def test_vit_without_pooler_weights_pools_its_cls_token(tiny_vit_classifier, images):
    X, _ = images
    reference = reference_outputs(tiny_vit_classifier, X[:4]).last_hidden_state
    auto = PretrainedFeaturizer(f"hf-vision:{tiny_vit_classifier}", device="cpu").fit(X)
    assert auto.backbone_.pooling_ == "cls"  # its pooler would be random: ViTForImageClassification has none
    np.testing.assert_allclose(auto.transform(X[:4]), reference[:, 0].numpy(), atol=1e-5)
    mean = PretrainedFeaturizer(f"hf-vision:{tiny_vit_classifier}", pooling="mean", normalize=True, device="cpu")
    expected = torch.nn.functional.normalize(reference.mean(dim=1), dim=1).numpy()
    np.testing.assert_allclose(mean.fit(X).transform(X[:4]), expected, atol=1e-5)


def test_resnet_feature_maps_and_a_processor_that_does_not_resize(tiny_resnet, images):
    X, _ = images
    featurizer = PretrainedFeaturizer(f"hf-vision:{tiny_resnet}", device="cpu").fit(X)
    assert featurizer.backbone_.pooling_ == "pooler"  # ResNet's pooler is a global average: nothing to train
    np.testing.assert_allclose(featurizer.transform(X[:4]),
                               reference_outputs(tiny_resnet, X[:4]).pooler_output.flatten(1).numpy(), atol=1e-5)
    assert featurizer.transform(np.zeros((2, 24, 24, 3), np.uint8)).shape == (2, 16)  # any one size
    assert featurizer.backbone_.layer_groups(featurizer.module_) == [
        ("embeddings", ["model.embedder."]),
        ("stage0", ["model.encoder.stages.0."]),
        ("stage1", ["model.encoder.stages.1."]),
    ]
    with pytest.raises(ValueError, match=r"hf-vision:.*different sizes \(16x16 and 24x24\).*does not resize"):
        featurizer.backbone_.prepare([X[0] / 255, np.zeros((24, 24, 3), np.float32)])
    with pytest.raises(ValueError, match="feature maps .* no CLS token; use pooling='mean'"):
        PretrainedFeaturizer(f"hf-vision:{tiny_resnet}", pooling="cls", device="cpu").fit(X)


@pytest.mark.parametrize("model", ["tiny_vit", "tiny_vit_classifier"])
def test_fine_tuned_model_exports_as_a_model_folder_with_identical_features(
    request, tmp_path, model, images, trained_features, plain_model_folder
):
    folder = request.getfixturevalue(model)
    X, y = images
    tuned = FineTunedClassifier(f"hf-vision:{folder}", lr=1e-3, max_epochs=2, batch_size=8, frozen_groups=1,
                                device="cpu", random_state=0).fit(X, y)
    assert set(tuned.predict(X)) <= {0, 1}
    name = export_backbone(tuned, tmp_path / "tuned")
    exported = tmp_path / "tuned"
    assert {"config.json", "model.safetensors", "preprocessor_config.json"} <= set(os.listdir(exported))
    plain_model_folder(exported)
    saved = json.loads((exported / "skadapt-backbone.json").read_text())
    assert saved["backbone"] == "hf-vision" and saved["input_kind"] == "image"
    # The pooling as resolved: the export holds a pooler for both, but only one was trained.
    pooling = "pooler" if model == "tiny_vit" else "cls"
    assert saved["options"] == {"pooling": pooling, "normalize": False}

    featurizer = PretrainedFeaturizer(name, device="cpu").fit(X)
    assert featurizer.backbone_.pooling_ == pooling
    np.testing.assert_allclose(featurizer.transform(X), trained_features(tuned, X), atol=1e-6)

    # frozen_groups=1 kept the embeddings as they were and trained the blocks.
    from transformers import AutoModel

    before = dict(AutoModel.from_pretrained(folder).named_parameters())
    after = dict(AutoModel.from_pretrained(exported).named_parameters())
    name = "embeddings.patch_embeddings.projection.weight"
    torch.testing.assert_close(after[name], before[name])
    trained = [k for k in after if k.startswith(("layers.", "encoder.")) and k.endswith("weight")]
    assert trained and all(not torch.equal(after[k], before[k]) for k in trained)


def test_scratch_trains_the_architecture_from_random_weights(tiny_vit, tiny_resnet, images):
    X, y = images
    for folder in (tiny_vit, tiny_resnet):
        recipe = get_backbone(f"hf-vision:{folder}").create()
        loaded = dict(recipe.build(pretrained=True).named_parameters())
        fresh = dict(recipe.build(pretrained=False).named_parameters())
        assert loaded.keys() == fresh.keys()
        assert not all(torch.equal(loaded[k], fresh[k]) for k in loaded if k.endswith("weight"))
    clf = ScratchClassifier(f"hf-vision:{tiny_vit}", lr=1e-3, max_epochs=2, batch_size=8, device="cpu",
                            random_state=0).fit(X[:, :, :, 0], y)  # grey images, a colour model
    assert clf.predict_proba(X[:4]).shape == (4, 2)
