import numpy as np
import torch
from torch import nn

from ..images import common_size, convert_channels
from .base import Backbone


class ConvNetBackbone(Backbone):
    """Small convolutional network for images, learned from scratch.

    Each block is two 3x3 convolutions with batch normalisation and ReLU,
    then 2x2 max-pooling (skipped once the maps are 1 pixel wide); global
    average pooling gives ``channels[-1]`` features. ``fit`` learns the image
    size, the number of colour channels (colour if any training image is)
    and the per-channel mean and spread used to standardise pixels. Export a
    trained one with :func:`skadapt.export_backbone` to reuse it as a
    pretrained backbone.

    Parameters
    ----------
    channels : tuple of int, default=(32, 64)
        Feature maps of each block.
    image_size : tuple of (int, int) or None, default=None
        Resize every image to ``(height, width)``; ``None`` requires all
        images to have the size of the training images.
    dropout : float, default=0.0
        Dropout on the pooled features.
    """

    input_kind = "image"
    has_pretrained = False

    def __init__(self, channels=(32, 64), image_size=None, dropout=0.0):
        widths = tuple(np.atleast_1d(channels).tolist())
        if not widths or any(not isinstance(w, int) or w < 1 for w in widths):
            raise ValueError(f"channels must be one or more positive integers, got {channels!r}.")
        if image_size is not None:
            size = tuple(np.atleast_1d(image_size).tolist())
            if len(size) != 2 or any(not isinstance(s, int) or s < 1 for s in size):
                raise ValueError(f"image_size must be (height, width) in pixels or None, got {image_size!r}.")
            image_size = size
        if not 0.0 <= dropout < 1.0:
            raise ValueError(f"dropout must be in [0, 1), got {dropout!r}.")
        self.channels = widths
        self.image_size = image_size
        self.dropout = float(dropout)

    def fit(self, X):
        self.in_channels_ = 3 if any(image.shape[-1] == 3 for image in X) else 1
        self.image_size_ = list(self.image_size or common_size(X, "cnn", "resize them to one size first, or set backbone_kwargs={'image_size': (height, width)}"))
        pixels = self._pixels(X)
        self.mean_ = pixels.mean(axis=(0, 2, 3)).tolist()
        self.std_ = np.maximum(pixels.std(axis=(0, 2, 3)), 1e-3).tolist()
        return self

    def build(self, *, pretrained):
        if pretrained:
            raise ValueError(
                "backbone 'cnn' has no pretrained weights; train it with ScratchClassifier, "
                "then export it with skadapt.export_backbone."
            )
        self.out_features = self.channels[-1]
        return _ConvNet(self.in_channels_, self.channels, self.dropout)

    def _pixels(self, X):
        """``(n, C, H, W)`` float32 in [0, 1], in this backbone's size and channels."""
        height, width = self.image_size_
        out = np.empty((len(X), self.in_channels_, height, width), dtype=np.float32)
        for i, image in enumerate(X):
            image = convert_channels(image, self.in_channels_)
            if image.shape[:2] != (height, width):
                if self.image_size is None:
                    raise ValueError(
                        f"X[{i}] is {image.shape[0]}x{image.shape[1]} pixels, but backbone 'cnn' was fitted on "
                        f"{height}x{width} images and does not resize; resize the images or set "
                        f"backbone_kwargs={{'image_size': ({height}, {width})}}."
                    )
                image = _resize(image, (height, width))
            out[i] = image.transpose(2, 0, 1)
        return out

    def prepare(self, X):
        pixels = self._pixels(X)
        pixels -= np.asarray(self.mean_, dtype=np.float32)[:, None, None]
        pixels /= np.asarray(self.std_, dtype=np.float32)[:, None, None]
        return pixels

    def collate(self, items):
        return {"pixel_values": torch.from_numpy(np.stack(items))}

    def layer_groups(self, module):
        return [(f"block{i}", [f"blocks.{i}."]) for i in range(len(module.blocks))]

    def __repr__(self):
        return f"ConvNetBackbone(channels={self.channels}, image_size={self.image_size}, dropout={self.dropout})"


def _resize(image, size):
    tensor = torch.from_numpy(np.ascontiguousarray(image.transpose(2, 0, 1)))[None]
    resized = torch.nn.functional.interpolate(tensor, size=size, mode="bilinear", antialias=True, align_corners=False)
    return resized[0].numpy().transpose(1, 2, 0).clip(0, 1)


class _ConvNet(nn.Module):
    def __init__(self, in_channels, channels, dropout):
        super().__init__()
        blocks, width = [], in_channels
        for out in channels:
            blocks.append(nn.Sequential(
                nn.Conv2d(width, out, 3, padding=1, bias=False), nn.BatchNorm2d(out), nn.ReLU(),
                nn.Conv2d(out, out, 3, padding=1, bias=False), nn.BatchNorm2d(out), nn.ReLU(),
            ))
            width = out
        self.blocks = nn.ModuleList(blocks)
        self.dropout = nn.Dropout(dropout)

    def forward(self, pixel_values):
        x = pixel_values
        for block in self.blocks:
            x = block(x)
            if min(x.shape[-2:]) >= 2:
                x = nn.functional.max_pool2d(x, 2)
        return self.dropout(x.mean(dim=(2, 3)))
