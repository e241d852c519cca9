"""Images as input: every accepted form gives the same pixels, bad input one clear error."""

import numpy as np
import pytest
from PIL import Image

from skadapt import PretrainedFeaturizer, ScratchClassifier, export_backbone
from skadapt.cache import clear_caches
from skadapt.images import load_images


def digit_like(n=40, size=8, seed=0):
    """Two classes of uint8 images: a bright square on the left or on the right."""
    rng = np.random.default_rng(seed)
    X = rng.integers(0, 40, size=(n, size, size), dtype=np.uint8)
    y = np.arange(n) % 2
    half = size // 2
    for image, label in zip(X, y):
        image[1:-1, half * label + 1 : half * label + half - 1] = 220
    return X, y


def save_pngs(images, folder):
    """Each image as a PNG file in ``folder``; returns the paths."""
    paths = [str(folder / f"{i}.png") for i in range(len(images))]
    for image, path in zip(images, paths):
        Image.fromarray(image).save(path)
    return paths


@pytest.fixture(scope="module")
def exported_cnn(tmp_path_factory):
    X, y = digit_like()
    clf = ScratchClassifier(backbone="cnn", backbone_kwargs={"channels": (8, 16)}, max_epochs=3,
                            random_state=0, device="cpu").fit(X, y)
    return export_backbone(clf, tmp_path_factory.mktemp("export") / "cnn")


def test_array_pil_and_file_inputs_give_the_same_pixels(tmp_path):
    X, _ = digit_like(n=3)
    paths = save_pngs(X, tmp_path)
    from_array = load_images(X)
    assert from_array[0].shape == (8, 8, 1) and from_array[0].dtype == np.float32
    for other in (load_images([Image.fromarray(a) for a in X]), load_images(paths),
                  load_images(list(X)), load_images(X.astype(np.float32) / 255)):
        for a, b in zip(from_array, other):
            np.testing.assert_allclose(a, b, atol=1e-6)


def test_colour_forms_and_alpha():
    rgba = np.random.default_rng(0).integers(0, 255, (2, 5, 6, 4), dtype=np.uint8)
    images = load_images(rgba)
    assert images[0].shape == (5, 6, 3)  # alpha dropped
    np.testing.assert_allclose(images[1], rgba[1, ..., :3] / 255, atol=1e-6)
    palette = Image.fromarray(rgba[0, ..., :3]).convert("P")
    assert load_images([palette])[0].shape == (5, 6, 3)


@pytest.mark.parametrize(
    "X, message",
    [
        (np.linspace(0, 16, 128).reshape(2, 8, 8), r"float pixel values in \[0, 16\]; float images must lie in \[0, 1\]"),
        (np.zeros((2, 8, 8, 2), dtype=np.uint8), "channels last"),
        (np.zeros((2, 8), dtype=np.uint8), r"shape \(2, 8\)"),
        (np.zeros((2, 8, 8), dtype=np.int64), "pixel type int64"),
        ("cat.png", "single path"),
        ([], "X is empty"),
        ([np.zeros((4, 4)), 3], r"X\[1\] is a int"),
        ([np.zeros((4, 4)), None], r"X\[1\] is missing"),
    ],
)
def test_bad_image_input_names_the_problem(X, message):
    with pytest.raises(ValueError, match=message):
        load_images(X)


def test_unreadable_file_is_named(tmp_path):
    bad = tmp_path / "broken.png"
    bad.write_bytes(b"not an image at all")
    good = tmp_path / "good.png"
    Image.fromarray(np.zeros((8, 8), dtype=np.uint8)).save(good)
    with pytest.raises(ValueError, match=r"X\[1\] \('.*broken.png'\) cannot be read as an image"):
        ScratchClassifier(backbone="cnn", device="cpu").fit([str(good), str(bad)], [0, 1])
    with pytest.raises(ValueError, match=r"X\[0\] \('.*missing.png'\) cannot be read"):
        load_images([str(tmp_path / "missing.png")])


def test_text_given_to_an_image_backbone():
    with pytest.raises(ValueError, match="expects images, got text"):
        ScratchClassifier(backbone="cnn", device="cpu").fit(["a good film", "a bad film"], [0, 1])


def test_mixed_sizes_are_an_error_unless_the_backbone_resizes():
    X = [np.zeros((8, 8), dtype=np.uint8), np.full((12, 10), 200, dtype=np.uint8)] * 4
    y = [0, 1] * 4
    with pytest.raises(ValueError, match=r"different sizes \(8x8 and 12x10\).*image_size"):
        ScratchClassifier(backbone="cnn", device="cpu").fit(X, y)
    clf = ScratchClassifier(backbone="cnn", backbone_kwargs={"image_size": (8, 8)}, max_epochs=1,
                            device="cpu", random_state=0).fit(X, y)
    assert clf.predict(X).shape == (8,)
    small, labels = digit_like(n=8)
    fixed = ScratchClassifier(backbone="cnn", max_epochs=1, device="cpu", random_state=0).fit(small, labels)
    with pytest.raises(ValueError, match=r"X\[0\] is 12x10 pixels, but backbone 'cnn' was fitted on 8x8"):
        fixed.predict([X[1]])


def test_scratch_learns_from_files_and_predicts_arrays(tmp_path):
    X, y = digit_like(n=60)
    paths = save_pngs(X, tmp_path)
    clf = ScratchClassifier(backbone="cnn", max_epochs=15, lr=3e-3, random_state=0, device="cpu").fit(paths, y)
    assert clf.score(X, y) >= 0.9  # the squares are easy: a model that learns gets them
    np.testing.assert_array_equal(clf.predict_proba(paths), clf.predict_proba(X))


def test_grey_and_colour_are_converted_like_pillow():
    X, y = digit_like()
    colour = np.repeat(X[..., None], 3, axis=-1)
    on_colour = ScratchClassifier(backbone="cnn", max_epochs=1, random_state=0, device="cpu").fit(colour, y)
    assert on_colour.backbone_.in_channels_ == 3
    # A grey image is the colour image whose channels are equal.
    np.testing.assert_allclose(on_colour.predict_proba(X), on_colour.predict_proba(colour), atol=1e-6)
    on_grey = ScratchClassifier(backbone="cnn", max_epochs=1, random_state=0, device="cpu").fit(X, y)
    pil_grey = [Image.fromarray(image).convert("L") for image in colour]  # Pillow's luma
    np.testing.assert_allclose(on_grey.predict_proba(colour), on_grey.predict_proba(pil_grey), atol=1e-2)


def test_image_features_are_cached(exported_cnn, encoded):
    clear_caches()
    X, _ = digit_like(n=10, seed=3)
    first = PretrainedFeaturizer(exported_cnn, device="cpu").fit(X).transform(X)
    again = PretrainedFeaturizer(exported_cnn, device="cpu").fit(X[:5]).transform(list(X[:5]) + [X[0]])
    np.testing.assert_array_equal(again[:5], first[:5])
    np.testing.assert_array_equal(again[5], first[0])
    assert encoded == [10]
    clear_caches()
