"""``hf-vision:PATH``: a Hugging Face vision encoder (``AutoModel`` + ``AutoImageProcessor``)."""

import numpy as np
import torch
from torch import nn

from skadapt.images import convert_channels

from ._common import HuggingFaceBackbone, _first_line, check_bool, check_path, probe

POOLING_MODES = ("auto", "pooler", "cls", "mean")
PROCESS_CHUNK = 256  # images run through the image processor at once
DEFAULT_IMAGE_SIZE = 224


class HFVisionBackbone(HuggingFaceBackbone):
    """A Hugging Face vision encoder (ViT, DeiT, DINOv2, ResNet, ConvNeXt, Swin, ...) as a backbone.

    The model is loaded with ``transformers.AutoModel`` and its image
    processor with ``AutoImageProcessor``. ``prepare`` converts the images to
    the model's number of channels (grey is repeated into colour, as the
    processors do for grey PIL images) and runs the processor once, with
    ``do_rescale=False`` since skadapt's pixels already lie in [0, 1].

    Parameters
    ----------
    model_name_or_path : str
        A local folder written by ``save_pretrained`` (config, weights and the
        image processor's ``preprocessor_config.json``), or a hub id (needs a
        network). Given in the backbone name: ``"hf-vision:/path/to/model"``.
    pooling : {"auto", "pooler", "cls", "mean"}, default="auto"
        How the model's output becomes one vector per image. ``"pooler"``:
        the model's ``pooler_output``, flattened (ResNet and ConvNeXt: the
        global average; DINOv2: the normalised CLS token; ViT: a dense + tanh
        layer on the CLS token). ``"cls"``: the first token of
        ``last_hidden_state`` (models with token outputs). ``"mean"``: the
        mean of ``last_hidden_state`` over the tokens or the spatial
        positions. ``"auto"`` takes ``"pooler"`` when the model has a pooler
        whose weights are in the folder (or have none: an average), and
        otherwise ``"cls"`` for token outputs and ``"mean"`` for feature
        maps. A ViT checkpoint saved from an image classifier has no pooler
        weights (``ViTForImageClassification`` classifies the CLS token), so
        ``"auto"`` uses its CLS token rather than a random pooler.
    normalize : bool, default=False
        L2-normalise the features.
    trust_remote_code : bool, default=False
        Allow a model whose folder carries its own Python code to run it.
        Off unless you turn it on; turn it on only for code you trust.
    """

    input_kind = "image"
    registered_name = "hf-vision"
    expected = "a vision encoder (a transformers model config with num_channels, and an image processor)"
    _repr_options = ("pooling", "normalize")

    def __init__(self, model_name_or_path, pooling="auto", normalize=False, trust_remote_code=False):
        self.model_name_or_path = check_path(self.registered_name, model_name_or_path)
        if pooling not in POOLING_MODES:
            raise ValueError(f"pooling must be one of {POOLING_MODES}, got {pooling!r}.")
        self.pooling = pooling
        self.normalize = check_bool(normalize, "normalize")
        self.trust_remote_code = check_bool(trust_remote_code, "trust_remote_code")

    def _check_config(self, config):
        super()._check_config(config)
        if not isinstance(getattr(config, "num_channels", None), int):
            raise self._error(
                f"the folder holds a {config.model_type!r} model that does not take images (its config has no "
                f"num_channels); expected {self.expected}. Use 'hf-text:{self.model_name_or_path}' for a text model."
            )

    def _load_processor(self):
        from transformers import AutoImageProcessor

        try:
            return AutoImageProcessor.from_pretrained(self.model_name_or_path, trust_remote_code=self.trust_remote_code)
        except (OSError, ValueError, KeyError, ImportError, TypeError) as exc:
            raise self._error(
                f"cannot load an image processor from {self.model_name_or_path!r} ({type(exc).__name__}: "
                f"{_first_line(exc)}); expected {self.expected}. Save the processor into the model folder "
                "with image_processor.save_pretrained(folder)."
            ) from None

    def build(self, *, pretrained):
        config = self._load_config()
        self._check_config(config)
        processor = self._load_processor()
        model, missing = self._load_model(config, pretrained)
        self.processor_ = processor
        self.channels_ = int(config.num_channels)
        # One blank image tells what the model outputs: a pooler_output or
        # not, tokens (n, length, d) or feature maps (n, d, h, w).
        size = getattr(config, "image_size", None) or DEFAULT_IMAGE_SIZE
        height, width = (size, size) if isinstance(size, int) else tuple(size)[:2]
        blank = np.zeros((height, width, self.channels_), dtype=np.float32)
        try:
            output = probe(model, self.collate(self.prepare([blank])))
        except Exception as exc:
            raise self._error(
                f"the {config.model_type!r} model does not run as a vision encoder on pixel_values "
                f"({type(exc).__name__}: {_first_line(exc)}); expected {self.expected}."
            ) from None
        # A pooler is trusted when its weights were loaded (or it has none);
        # a freshly initialised one (missing from the checkpoint) is random.
        trusted_pooler = not any(key.split(".")[0] == "pooler" or ".pooler." in key for key in missing)
        self.pooling_ = self._resolve_pooling(output, trusted_pooler)
        module = VisionEncoder(model, self.pooling_, self.normalize)
        self.out_features = int(module.pool(output).shape[-1])
        return module

    def _resolve_pooling(self, output, trusted_pooler):
        pooled = getattr(output, "pooler_output", None)
        hidden = getattr(output, "last_hidden_state", None)
        mode = self.pooling
        if mode == "auto":
            if pooled is not None and trusted_pooler:
                return "pooler"
            mode = "cls" if hidden is not None and hidden.ndim == 3 else "mean"
        if mode == "pooler" and pooled is None:
            raise self._error("the model has no pooler_output; use pooling='cls' or 'mean'.")
        if mode in ("cls", "mean") and hidden is None:
            raise self._error("the model has no last_hidden_state; use pooling='pooler'.")
        if mode == "cls" and hidden.ndim != 3:
            raise self._error(
                f"the model outputs feature maps of shape {tuple(hidden.shape)}, not tokens, so it has no CLS "
                "token; use pooling='mean' or 'pooler'."
            )
        return mode

    def prepare(self, X):
        images = [convert_channels(image, self.channels_) for image in X]
        processor = self.processor_
        if not getattr(processor, "do_resize", False):
            sizes = sorted({image.shape[:2] for image in images})
            if len(sizes) > 1:
                (h1, w1), (h2, w2) = sizes[:2]
                raise self._error(
                    f"X holds images of different sizes ({h1}x{w1} and {h2}x{w2}) and the model's image "
                    "processor does not resize them (do_resize=False); resize the images to one size first."
                )
        pixels = None
        for start in range(0, len(images), PROCESS_CHUNK):
            chunk = images[start : start + PROCESS_CHUNK]
            try:
                values = processor(chunk, do_rescale=False, return_tensors="np")["pixel_values"]
                values = np.asarray(values, dtype=np.float32)
            except ValueError as exc:
                raise self._error(
                    f"its image processor cannot turn these images into one batch ({_first_line(exc)}); "
                    "resize the images to one size first."
                ) from None
            if pixels is None:
                pixels = np.empty((len(images), *values.shape[1:]), dtype=np.float32)
            elif values.shape[1:] != pixels.shape[1:]:
                raise self._error(
                    f"its image processor gives images of shape {values.shape[1:]} and {pixels.shape[1:]}; "
                    "resize the images to one size first."
                )
            pixels[start : start + len(chunk)] = values
        return pixels

    def collate(self, items):
        return {"pixel_values": torch.from_numpy(np.stack(items))}

    def _preprocessor(self):
        return self.processor_

    def export_options(self):
        # The pooling as resolved: an exported folder holds every weight, a
        # pooler that was random before included, so "auto" could choose otherwise.
        return {"pooling": self.pooling_, "normalize": self.normalize}

    def layer_groups(self, module):
        unused = () if self.pooling_ == "pooler" else ("pooler",)
        return self._layer_groups(module, None, unused=unused)


class VisionEncoder(nn.Module):
    """A Hugging Face vision model: pixel values in, pooled (and optionally normalised) features out."""

    def __init__(self, model, pooling, normalize=False):
        super().__init__()
        self.model = model
        self.pooling = pooling
        self.normalize = normalize

    def pool(self, output):
        if self.pooling == "pooler":
            features = output.pooler_output.flatten(1)
        elif self.pooling == "cls":
            features = output.last_hidden_state[:, 0]
        else:
            hidden = output.last_hidden_state
            features = hidden.mean(dim=1) if hidden.ndim == 3 else hidden.mean(dim=tuple(range(2, hidden.ndim)))
        if self.normalize:
            features = nn.functional.normalize(features, p=2, dim=1)
        return features

    def forward(self, pixel_values):
        return self.pool(self.model(pixel_values=pixel_values))
