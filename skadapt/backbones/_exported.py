"""Loading a backbone that :func:`skadapt.export_backbone` saved.

The folder holds ``skadapt-backbone.json`` (which registered backbone, its
options, the preprocessing learned in ``fit``) and the weights as
safetensors, or a model folder of the recipe's own (sentence-transformers,
Hugging Face). Nothing in it is a pickle, and only code of installed,
registered backbones runs when it is loaded.
"""

import json
import os

from .._files.typed_json import from_json, to_json
from .base import Backbone

CONFIG_FILE = "skadapt-backbone.json"
FORMAT = 1


def read_config(folder):
    """The export description in ``folder``, or a ``ValueError`` saying what is wrong."""
    path = os.path.join(folder, CONFIG_FILE)
    if not os.path.isdir(folder):
        raise ValueError(f"backbone 'exported:{folder}': no such folder; give a folder written by skadapt.export_backbone.")
    try:
        with open(path, encoding="utf-8") as file:
            config = json.load(file)
    except FileNotFoundError:
        raise ValueError(
            f"backbone 'exported:{folder}': the folder has no {CONFIG_FILE}; give a folder written by "
            "skadapt.export_backbone."
        ) from None
    except json.JSONDecodeError as exc:
        raise ValueError(f"backbone 'exported:{folder}': {CONFIG_FILE} is not valid JSON ({exc}).") from None
    if not isinstance(config, dict) or config.get("format") != FORMAT:
        raise ValueError(
            f"backbone 'exported:{folder}': {CONFIG_FILE} has format {config.get('format') if isinstance(config, dict) else None!r}; "
            f"this skadapt reads format {FORMAT}."
        )
    return config


def load_exported(path, **overrides):
    """The recipe saved in ``path``; ``overrides`` replace saved options
    (those that change the architecture make the weights not fit)."""
    from ..registry import get_backbone

    folder = os.path.abspath(os.fspath(path))
    config = read_config(folder)
    options = {**from_json(config.get("options", {})), **overrides}
    if config.get("argument") == ".":  # the folder is the recipe's own model folder
        return get_backbone(f"{config['backbone']}:{folder}").create(**options)
    recipe = get_backbone(config["backbone"]).create(**options)
    recipe.restore_state(from_json(config.get("state", {})))
    return ExportedBackbone(folder, config["backbone"], recipe, config["weights"], config.get("out_features"))


def _input_kind_for(argument):
    return read_config(os.path.abspath(argument))["input_kind"]


load_exported.input_kind_for = _input_kind_for


class ExportedBackbone(Backbone):
    """A recipe re-created from an export, with its trained weights.

    ``fit`` keeps the exported preprocessing (vocabulary, image size and
    statistics); ``build(pretrained=True)`` loads the saved weights.
    """

    has_pretrained = True

    def __init__(self, path, name, recipe, weights, out_features=None):
        self.path = path
        self.name = name
        self.recipe = recipe
        self.weights = weights
        self.input_kind = recipe.input_kind
        self.out_features = out_features

    def fit(self, X):
        return self  # the preprocessing learned before export stays, so the weights keep their meaning

    def build(self, *, pretrained):
        module = self.recipe.build(pretrained=False)
        if pretrained:
            from safetensors.torch import load_model

            try:
                load_model(module, os.path.join(self.path, self.weights), strict=True)
            except RuntimeError as exc:
                first = str(exc).strip().splitlines()[0]
                raise ValueError(
                    f"the weights in {self.path!r} do not fit backbone {self.name!r} with options "
                    f"{self.recipe!r} ({first}); do not change options that set the architecture."
                ) from None
        self.out_features = self.recipe.out_features
        return module

    def prepare(self, X):
        return self.recipe.prepare(X)

    def prepare_whole(self, X):
        return self.recipe.prepare_whole(X)

    def sequence_limit(self):
        return self.recipe.sequence_limit()

    def collate(self, items):
        return self.recipe.collate(items)

    def layer_groups(self, module):
        return self.recipe.layer_groups(module)

    def export(self, module, folder):
        description = self.recipe.export(module, folder)
        description.setdefault("backbone", self.name)
        return description

    def serving_preprocessing(self, folder):
        return self.recipe.serving_preprocessing(folder)

    def library_versions(self):
        return self.recipe.library_versions()

    def input_width(self):
        return self.recipe.input_width()

    def export_options(self):
        return self.recipe.export_options()

    def export_state(self):
        return self.recipe.export_state()

    def __repr__(self):
        return f"ExportedBackbone({os.path.basename(self.path)!r}, {self.recipe!r})"


def write_backbone(recipe, module, folder, backbone, trained_by):
    """Write a backbone recipe and its module into the existing ``folder`` in the export format.

    ``backbone`` is the name the recipe was created from; ``trained_by`` says
    which estimator trained it (kept in the JSON for people reading it).
    """
    import torch

    from .._version import __version__
    from ..registry import get_backbone

    if next(module.parameters(), torch.empty(0)).device.type != "cpu":
        import copy

        module = copy.deepcopy(module).cpu()
    description = recipe.export(module, folder)
    config = {
        "format": FORMAT,
        "skadapt_version": __version__,
        "backbone": description.get("backbone", get_backbone(backbone).name),
        "argument": description.get("argument"),
        "weights": description.get("weights"),
        "input_kind": recipe.input_kind,
        "out_features": recipe.out_features,
        "options": _plain(recipe.export_options(), "options"),
        "state": _plain(recipe.export_state(), "state") if description.get("argument") is None else {},
        "trained_by": trained_by,
    }
    with open(os.path.join(folder, CONFIG_FILE), "w", encoding="utf-8") as file:
        json.dump(config, file, indent=2)


def _plain(values, what):
    try:
        return to_json(values)
    except TypeError as exc:
        raise TypeError(
            f"the backbone's {what} cannot be saved as JSON ({exc}); its recipe must override "
            f"export_{what}()."
        ) from None
