"""What the text and vision recipes share: loading a Hugging Face model folder.

Nothing here imports ``transformers`` at module level; the recipes import it
when a model is first built, so that registering the backbones stays cheap.
"""

import os

import torch
from torch import nn

from skadapt.backbones import Backbone


def check_path(name, model_name_or_path):
    """A local model folder or a hub id, as a string; a ``ValueError`` otherwise.

    A local path must be a folder holding ``config.json``. Anything that
    looks like a path (absolute, ``./``, ``~``, more than one ``/``) but does
    not exist is refused here, rather than being sent to the hub as an id.
    """
    if isinstance(model_name_or_path, os.PathLike):
        model_name_or_path = os.fspath(model_name_or_path)
    if not isinstance(model_name_or_path, str) or not model_name_or_path:
        raise ValueError(
            f"backbone {name!r} needs a model folder or hub id, got {model_name_or_path!r}; "
            f"write the backbone as '{name}:/path/to/model'."
        )
    path = os.path.expanduser(model_name_or_path)
    if os.path.exists(path):
        if not os.path.isfile(os.path.join(path, "config.json")):
            raise ValueError(
                f"backbone '{name}:{model_name_or_path}': {model_name_or_path!r} is not a Hugging Face model "
                "folder (it has no config.json); expected a folder written by save_pretrained, or a hub id."
            )
        return path
    looks_local = (
        os.path.isabs(path) or path.startswith((".", "~")) or path.count("/") > 1 or os.sep != "/" and os.sep in path
    )
    if looks_local:
        raise ValueError(
            f"backbone '{name}:{model_name_or_path}': no such folder; expected a Hugging Face model folder "
            "(written by save_pretrained, with config.json) or a hub id such as 'org/model'."
        )
    return model_name_or_path  # a hub id: loaded (where a network exists) at build


def check_bool(value, option):
    if not isinstance(value, bool):
        raise ValueError(f"{option} must be True or False, got {value!r}.")
    return value


def _first_line(exc):
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


class HuggingFaceBackbone(Backbone):
    """Base of ``hf-text`` and ``hf-vision``: a model folder loaded by ``AutoModel``."""

    has_pretrained = True
    registered_name = None  # "hf-text" or "hf-vision", set by the subclasses
    expected = None  # what the folder must hold, for error messages

    def library_versions(self):
        import transformers

        return [*super().library_versions(), transformers.__version__]

    # -- loading -------------------------------------------------------------
    @property
    def _label(self):
        return f"backbone '{self.registered_name}:{self.model_name_or_path}'"

    def _error(self, message):
        return ValueError(f"{self._label}: {message}")

    def _load_config(self):
        from transformers import AutoConfig

        try:
            return AutoConfig.from_pretrained(self.model_name_or_path, trust_remote_code=self.trust_remote_code)
        except (OSError, ValueError, KeyError, ImportError) as exc:
            hint = ""
            if "trust_remote_code" in str(exc) and not self.trust_remote_code:
                hint = (
                    " The model needs code from its folder to load; pass "
                    "backbone_kwargs={'trust_remote_code': True} only if you trust that code."
                )
            raise self._error(
                f"cannot read a Hugging Face model config from {self.model_name_or_path!r} "
                f"({type(exc).__name__}: {_first_line(exc)}); expected {self.expected}, as a folder written by "
                f"save_pretrained or a hub id (which needs a network).{hint}"
            ) from None

    def _check_config(self, config):
        """Refuse a config of the wrong modality with one clear error."""
        model_type = getattr(config, "model_type", None) or type(config).__name__
        if any(hasattr(config, sub) for sub in ("text_config", "vision_config")) and not hasattr(
            config, "num_channels"
        ):
            raise self._error(
                f"the folder holds a {model_type!r} model, which combines several inputs (text and images); "
                f"expected {self.expected}. Give the folder of one of its parts instead."
            )

    def _load_model(self, config, pretrained):
        """``(model, missing_keys)``: the weights of the folder, or random ones from its config."""
        from transformers import AutoModel

        try:
            if not pretrained:
                model = AutoModel.from_config(config, trust_remote_code=self.trust_remote_code, dtype=torch.float32)
                return model, set()
            # dtype: fp32 weights whatever the checkpoint's dtype, as the
            # estimators expect (mixed precision is their own option).
            model, info = AutoModel.from_pretrained(
                self.model_name_or_path,
                config=config,
                trust_remote_code=self.trust_remote_code,
                dtype=torch.float32,
                output_loading_info=True,
            )
        except (OSError, ValueError, KeyError, ImportError) as exc:
            what = "weights" if pretrained else "an architecture"
            hint = (
                " A folder with only a config (no weights) can still be trained from scratch with ScratchClassifier."
                if pretrained and isinstance(exc, OSError)
                else ""
            )
            raise self._error(
                f"cannot load {what} for the {getattr(config, 'model_type', '?')!r} model in "
                f"{self.model_name_or_path!r} with transformers.AutoModel ({type(exc).__name__}: "
                f"{_first_line(exc)}).{hint}"
            ) from None
        return model, set(info.get("missing_keys", ()))

    # -- export ----------------------------------------------------------------
    def export(self, module, folder):
        # A plain Hugging Face folder (safetensors weights, config and the
        # tokeniser or image processor): loadable as "<name>:FOLDER" and by
        # transformers itself, with no pickle in it.
        module.model.save_pretrained(folder)
        self._preprocessor().save_pretrained(folder)
        return {"backbone": self.registered_name, "argument": "."}

    def export_state(self):
        return {}  # the tokeniser or image processor is saved in the folder

    def _preprocessor(self):
        raise NotImplementedError

    # -- layer groups ---------------------------------------------------------
    def _layer_groups(self, module, block_name, unused=()):
        """Embeddings, each block (or stage), then the rest: found by structure.

        The blocks are the ``nn.ModuleList`` holding the most parameters (the
        outermost list of stages wins over the lists of blocks inside them);
        the embeddings are the model's top-level children named ``*embed*``.
        ``unused`` names top-level children whose output the features ignore
        (a pooler), left out of every group.
        """
        prefix = "model."
        model = module.model
        lists = [(n, m) for n, m in model.named_modules() if isinstance(m, nn.ModuleList) and len(m)]
        blocks_name, blocks = max(
            lists,
            key=lambda nm: (sum(p.numel() for p in nm[1].parameters()), -nm[0].count(".")),
            default=(None, []),
        )
        groups = []
        embeddings = [
            n for n, child in model.named_children() if "embed" in n and any(True for _ in child.parameters())
        ]
        if embeddings:
            groups.append(("embeddings", [f"{prefix}{n}." for n in embeddings]))
        if block_name is None:  # "stage0", ... for a list of stages (ResNet, ConvNeXt), else "block0", ...
            block_name = "stage" if blocks_name and "stage" in blocks_name.rsplit(".", 1)[-1] else "block"
        for i, block in enumerate(blocks):
            if any(True for _ in block.parameters()):
                groups.append((f"{block_name}{i}", [f"{prefix}{blocks_name}.{i}."]))
        covered = (*(p for _, ps in groups for p in ps), *(f"{prefix}{n}." for n in unused))
        rest = []
        for name, _ in module.named_parameters():
            if not name.startswith(covered):
                group = name.rsplit(".", 1)[0] + "."
                if group == prefix:  # a parameter of the model itself: its own name, or "model." takes all
                    group = name
                if group not in rest:
                    rest.append(group)
        if rest:
            groups.append(("top", rest))
        return groups

    def __repr__(self):
        name = os.path.basename(str(self.model_name_or_path).rstrip("/"))
        options = ", ".join(f"{k}={getattr(self, k)!r}" for k in self._repr_options)
        return f"{type(self).__name__}({name!r}, {options})"


def probe(module, batch):
    """Run ``module`` once on ``batch`` without gradients, in eval mode, and
    without drawing from the caller's random stream; restore its mode."""
    training = module.training
    try:
        with torch.random.fork_rng(devices=[]), torch.no_grad():
            return module.eval()(**batch)
    finally:
        module.train(training)
