"""What saving and serving ask of a fitted skadapt estimator, answered by the estimator.

Every skadapt estimator, and any subclass a user writes, is a
:class:`SkadaptEstimator`: it writes what ``fit`` learned as files and reads
it back, and describes its network and its outputs for ONNX export. So
``skadapt.save``/``load`` only walk models (pipelines, sklearn steps, the
manifest) and ``export_onnx`` only traces and converts; neither reads an
estimator's private attributes.
"""

import json
import os

from .._files.typed_json import from_json, to_json

# Fitted attributes written as files of their own, not as JSON.
HELD_APART = ("backbone_", "net_", "history_", "module_", "table_preprocessor_")


def is_skadapt_estimator(obj):
    """Whether ``obj`` is a skadapt estimator (one of the five, or a subclass of one)."""
    return isinstance(obj, SkadaptEstimator)


def chosen_model(model):
    """The model to save or serve for ``model``: an estimator that chose one (``AutoClassifier``) stands for it."""
    chosen = getattr(model, "_skadapt_saved_model", None)
    return chosen() if callable(chosen) else model


def _path(folder, relative):
    return os.path.join(folder, *str(relative).split("/"))


class SkadaptEstimator:
    """Mixin of every skadapt estimator: its fitted state as files, its network and outputs for serving.

    Written files go under ``folder/path``; the entries returned name them
    relative to ``folder``, as the manifest does.
    """

    def _trained_backbone(self):
        """The backbone's module as ``fit`` left it."""
        raise NotImplementedError

    def _network_parts(self, chunked):
        """``(backbone module, head or None, chunk pooling or None)``: CPU, float32, eval-mode copies."""
        raise NotImplementedError

    def _serving_outputs(self):
        """``(kind, outputs)``: what ONNX serving needs to turn network outputs into predictions."""
        raise NotImplementedError

    def _write_network(self, directory, path):
        """Write the weights beyond the backbone; return their manifest entries."""
        return {}

    def _read_network(self, recipe, entries, fitted, folder):
        """Rebuild the module(s) from the saved backbone ``recipe`` and ``_write_network``'s files."""
        raise NotImplementedError

    def _write_state(self, folder, path, params):
        """Write the fitted state; return ``(manifest entries, {name: sklearn object})``.

        The sklearn objects (a table's preprocessing) are for the caller to
        save its own way (skops); ``_read_state`` gets them back by name.
        """
        from ..backbones._exported import write_backbone

        fitted = {k: value for k, value in vars(self).items() if k not in params and k not in HELD_APART}
        try:
            fitted = to_json(fitted)
        except TypeError as exc:
            raise ValueError(f"a fitted attribute of {type(self).__name__} cannot be saved as JSON ({exc}).") from None
        directory = _path(folder, path)
        os.makedirs(os.path.join(directory, "backbone"))
        write_backbone(self.backbone_, self._trained_backbone(), os.path.join(directory, "backbone"), self.backbone,
                       {"estimator": type(self).__name__, "backbone": self.backbone})
        entries = {"fitted": fitted, "backbone": f"{path}/backbone", **self._write_network(directory, path)}
        table = getattr(self, "table_preprocessor_", None)
        return entries, ({} if table is None else {"table_preprocessor": table})

    def _read_state(self, entries, folder, parts):
        """Become the fitted estimator that ``_write_state`` wrote (``self`` has the saved parameters)."""
        from ..backbones._exported import load_exported

        recipe = load_exported(_path(folder, entries["backbone"]))
        fitted = from_json(entries.get("fitted", {}))
        if "precision" in self.get_params() and "precision_" not in fitted:
            # saved before precision="auto" existed: the saved precision was always an explicit one
            fitted["precision_"] = self.precision if self.precision != "auto" else "fp32"
        if "table_" in fitted:
            fitted["table_preprocessor_"] = parts.get("table_preprocessor")
        self._read_network(recipe, entries, fitted, folder)
        vars(self).update(fitted)

    # -- ONNX export ----------------------------------------------------------
    def _chunked(self):
        splitter = getattr(self, "text_splitter_", None)
        return splitter is not None and splitter["policy"] == "chunk"

    def _onnx_inputs(self, X):
        """The network's collated inputs for the rows ``X`` (with the chunk inputs when texts are chunked)."""
        from . import _long as long
        from ._network import collate_rows

        splitter = getattr(self, "text_splitter_", None)
        items = long.prepare(self.backbone_, splitter, X, self.backbone, "X", warn=False)[0]
        return collate_rows(self.backbone_, items, always_chunked=self._chunked())

    def _onnx_network(self, names):
        """Backbone (chunk pooling, head) as one module taking the collated inputs positionally, as ONNX wants."""
        from torch import nn

        from ._network import pooled_features

        backbone, head, pool = self._network_parts(self._chunked())

        class Network(nn.Module):
            def __init__(self):
                super().__init__()
                self.backbone = backbone
                self.pool = pool
                self.head = head

            def forward(self, *inputs):
                features = pooled_features(self.backbone, self.pool, dict(zip(names, inputs)))
                return features if self.head is None else self.head(features)

        return Network().eval()


def _serving_copy(module):
    import copy

    return copy.deepcopy(module).cpu().float().eval()


class FrozenModuleState(SkadaptEstimator):
    """The featurizer's state: the pretrained backbone, unchanged, is the whole model (``module_``)."""

    def _trained_backbone(self):
        return self.module_

    def _read_network(self, recipe, entries, fitted, folder):
        from ..cache import build_module

        self.backbone_ = recipe
        self.module_ = build_module(recipe, pretrained=True, trainable=False)

    def _network_parts(self, chunked):
        from ._network import ChunkPooling

        pool = ChunkPooling(self.text_splitter_["pooling"], int(self.n_features_out_)) if chunked else None
        return _serving_copy(self.module_), None, pool

    def _serving_outputs(self):
        return "featurizer", {"n_features_out": int(self.n_features_out_)}


class TrainedNetState(SkadaptEstimator):
    """A trained estimator's state: the backbone and the head (and chunk pooling) of the skorch net ``net_``."""

    def _trained_backbone(self):
        return self.net_.module_.backbone

    def _network_parts(self, chunked):
        module = _serving_copy(self.net_.module_)
        return module.backbone, module.head, module.pool if chunked else None

    def _write_network(self, directory, path):
        from safetensors.torch import save_file

        module = self.net_.module_
        head = {f"head.{k}": t.detach().cpu().contiguous() for k, t in module.head.state_dict().items()}
        if module.pool is not None:  # attention pooling of chunked long texts has weights of its own
            head.update({f"pool.{k}": t.detach().cpu().contiguous() for k, t in module.pool.state_dict().items()})
        save_file(head, os.path.join(directory, "head.safetensors"))
        with open(os.path.join(directory, "history.json"), "w", encoding="utf-8") as file:
            json.dump(to_json(self.history_.to_list()), file)
        # The loss's class weights (plain lists), so that a loaded model trains on as the saved one did.
        criterion = {name: b.detach().cpu().tolist() for name, b in self.net_.criterion_.named_buffers()}
        return {"head": f"{path}/head.safetensors", "history": f"{path}/history.json",
                "n_outputs": int(module.head[-1].out_features), "n_table": int(module.n_table),
                "criterion": criterion}

    def _read_network(self, recipe, entries, fitted, folder):
        """The skorch net as ``fit`` left it: the saved backbone under the saved head."""
        import numpy as np
        from safetensors.torch import load_file
        from skorch.history import History

        from . import _execution as x
        from ._base import _drop_training_state
        from ._targets import Targets

        criterion = entries.get("criterion") or {}
        class_weight = None
        if "weight" in criterion:
            class_weight = np.asarray(criterion["weight"])
        elif "negative" in criterion:
            class_weight = np.asarray([criterion["negative"], criterion["positive"]])
        targets = Targets(np.empty(0), int(entries["n_outputs"]), fitted, class_weight=class_weight)
        device = x.resolve_device(self.device)
        net = self._make_net(recipe, targets, 1, device, 0, x.check_precision(self.precision, device),
                             n_table=int(entries.get("n_table", 0)))
        net.set_params(module__pretrained=True)  # the recipe is the saved backbone: its weights, not a fresh draw
        net.initialize()
        tensors = load_file(_path(folder, entries["head"]))
        head = {k.removeprefix("head."): t for k, t in tensors.items() if k.startswith("head.")}
        net.module_.head.load_state_dict(head, strict=True)  # into the module skorch already put on the device
        if net.module_.pool is not None:
            pool = {k.removeprefix("pool."): t for k, t in tensors.items() if k.startswith("pool.")}
            net.module_.pool.load_state_dict(pool, strict=True)
        with open(_path(folder, entries["history"]), encoding="utf-8") as file:
            net.history_ = History(from_json(json.load(file)))
        _drop_training_state(net)
        self.backbone_ = recipe
        self.net_ = net
        self.history_ = net.history
