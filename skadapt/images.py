"""Images as input: every accepted form becomes a list of float arrays.

The estimators call :func:`load_images` for backbones whose ``input_kind`` is
``"image"``, so that a backbone's ``prepare`` always receives the same thing:
a list of ``float32`` arrays of shape ``(height, width, channels)`` with
values in ``[0, 1]`` and 1 (grey) or 3 (colour) channels. Images may differ
in size; each backbone decides whether it resizes them.
"""

import os

import numpy as np

# What a folder of images holds (skadapt compare, skadapt predict) and what
# reads as an image path rather than a text.
IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".bmp", ".gif", ".tif", ".tiff", ".webp", ".ppm", ".pgm"}
# ITU-R 601-2 luma, the weights of Pillow's convert("L").
LUMA = np.array([0.299, 0.587, 0.114], dtype=np.float32)


def load_images(X, backbone="this backbone"):
    """Return the images in ``X`` as a list of ``(H, W, C)`` float32 arrays in ``[0, 1]``.

    Parameters
    ----------
    X : array or list
        One of: an array of shape ``(n, height, width, channels)`` or
        ``(n, height, width)`` (grey), ``uint8`` in ``[0, 255]`` or float in
        ``[0, 1]``; a list of PIL images; a list of image file paths; a list
        of per-image arrays (sizes may differ).
    backbone : str
        Named in error messages.

    Returns
    -------
    list of numpy.ndarray
        ``C`` is 1 for grey images and 3 for colour ones (an alpha channel
        is dropped, palette images become colour).

    Examples
    --------
    >>> import numpy as np
    >>> from skadapt.images import load_images
    >>> images = load_images(np.zeros((2, 8, 8), dtype=np.uint8))
    >>> len(images), images[0].shape, images[0].dtype
    (2, (8, 8, 1), dtype('float32'))
    """
    if isinstance(X, (str, bytes, os.PathLike)):
        raise ValueError("X must be a list of images, got a single path; wrap one image in a list: [path].")
    if isinstance(X, np.ndarray) and X.dtype != object:
        if X.ndim not in (3, 4):
            raise ValueError(
                f"backbone {backbone!r} expects images: an array of shape (n, height, width[, channels]), "
                f"a list of PIL images or a list of file paths; got an array of shape {X.shape}."
            )
        if len(X) == 0:
            raise ValueError("X is empty; at least one image is needed.")
        if X.ndim == 4 and X.shape[-1] not in (1, 3, 4):
            raise ValueError(
                f"X has shape {X.shape}; images must be channels last, (n, height, width, channels) "
                "with 1, 3 or 4 channels."
            )
        return _stack_to_list(X)
    if hasattr(X, "iloc") and getattr(X, "ndim", 1) == 2:  # a one-column DataFrame of paths
        if X.shape[1] != 1:
            raise ValueError(
                f"X must be a list of images or file paths, got a DataFrame with {X.shape[1]} columns; "
                "select the column of paths, e.g. X['path']."
            )
        X = X.iloc[:, 0]
    try:
        items = list(X)
    except TypeError:
        raise ValueError(
            f"backbone {backbone!r} expects images (an array, PIL images or file paths), got {type(X).__name__}."
        ) from None
    if not items:
        raise ValueError("X is empty; at least one image is needed.")
    return [_load_one(item, i, backbone) for i, item in enumerate(items)]


def _stack_to_list(X):
    """A whole ``(n, H, W[, C])`` array: checked and scaled once, then split."""
    if X.ndim == 3:
        X = X[..., None]
    return list(_scaled(X, "X"))


def _load_one(item, i, backbone):
    from PIL import Image

    if isinstance(item, (str, os.PathLike)):
        try:
            with Image.open(item) as image:
                image.load()
                return _from_pil(image)
        except (OSError, ValueError, Image.DecompressionBombError) as exc:
            raise ValueError(f"X[{i}] ({os.fspath(item)!r}) cannot be read as an image: {exc}") from None
    if isinstance(item, Image.Image):
        return _from_pil(item)
    if isinstance(item, np.ndarray) and item.dtype != object:
        return _from_array(item, f"X[{i}]")
    if item is None or (isinstance(item, float) and item != item):
        raise ValueError(f"X[{i}] is missing ({item!r}); drop the rows without an image first.")
    raise ValueError(
        f"X[{i}] is a {type(item).__name__}, but backbone {backbone!r} expects images: "
        "PIL images, file paths or arrays of shape (height, width[, channels])."
    )


def _from_pil(image):
    if image.mode in ("1", "L", "I", "I;16", "F"):
        if image.mode in ("I", "I;16", "F"):  # 16/32-bit grey: scale by its own range
            array = np.asarray(image, dtype=np.float32)
            top = array.max() if array.max() > 0 else 1.0
            return (array / top)[..., None]
        return (np.asarray(image.convert("L"), dtype=np.float32) / 255.0)[..., None]
    if image.mode == "LA":
        return (np.asarray(image.convert("L"), dtype=np.float32) / 255.0)[..., None]
    return np.asarray(image.convert("RGB"), dtype=np.float32) / 255.0


def _from_array(image, name):
    if image.ndim == 2:
        image = image[..., None]
    if image.ndim != 3 or image.shape[-1] not in (1, 3, 4):
        raise ValueError(
            f"{name} has shape {image.shape}; an image must be (height, width) or (height, width, channels) "
            "with 1, 3 or 4 channels (channels last)."
        )
    return _scaled(image[None], name)[0]


def _scaled(array, name):
    """uint8 -> /255; floats must already lie in [0, 1]; alpha dropped."""
    if array.shape[-1] == 4:
        array = array[..., :3]
    if array.dtype == np.uint8:
        return array.astype(np.float32) / 255.0
    if array.dtype.kind == "b":
        return array.astype(np.float32)
    if array.dtype.kind != "f":
        raise ValueError(
            f"{name} has pixel type {array.dtype}; give uint8 values in [0, 255] or floats in [0, 1]."
        )
    array = array.astype(np.float32, copy=False)
    if not np.isfinite(array).all():
        raise ValueError(f"{name} contains NaN or infinite pixel values.")
    low, high = float(array.min()), float(array.max())
    if low < 0 or high > 1:
        raise ValueError(
            f"{name} has float pixel values in [{low:g}, {high:g}]; float images must lie in [0, 1] "
            f"(divide by the maximum, e.g. X / {high:g}) or be uint8 in [0, 255]."
        )
    return array


def convert_channels(image, channels):
    """``image`` (H, W, C) with ``channels`` channels: grey is repeated into
    colour, colour becomes grey by luma (as Pillow's ``convert`` does)."""
    have = image.shape[-1]
    if have == channels:
        return image
    if have == 1 and channels == 3:
        return np.repeat(image, 3, axis=-1)
    if have == 3 and channels == 1:
        return (image @ LUMA)[..., None]
    raise ValueError(f"cannot convert an image with {have} channels to {channels} channels.")


def common_size(images, backbone, hint="resize them to one size first"):
    """The one ``(height, width)`` of ``images``; a clear error if they differ
    (``hint`` says what the user can do)."""
    sizes = {image.shape[:2] for image in images}
    if len(sizes) > 1:
        a, b = sorted(sizes)[:2]
        raise ValueError(
            f"X holds images of different sizes ({a[0]}x{a[1]} and {b[0]}x{b[1]}) and backbone {backbone!r} "
            f"does not resize; {hint}."
        )
    return next(iter(sizes))
