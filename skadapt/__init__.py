"""skadapt: learning from scratch, transfer learning and fine-tuning as scikit-learn estimators.

The names below are imported on first use (PEP 562), so that ``import
skadapt`` stays cheap and serving an ONNX model never imports torch or
scikit-learn.
"""

import importlib
from typing import TYPE_CHECKING

from ._version import __version__

if TYPE_CHECKING:  # the same names, for type checkers and the API docs (read statically)
    from .auto import AutoClassifier, AutoRegressor
    from .estimators.export import export_backbone
    from .estimators import (
        FineTunedClassifier,
        FineTunedRegressor,
        PretrainedFeaturizer,
        ScratchClassifier,
        ScratchRegressor,
    )
    from ._long_texts import LongTextWarning
    from .hookspecs import hookimpl
    from .persistence import load, save
    from .registry import (
        BackboneSpec,
        DuplicateBackboneError,
        UnknownBackboneError,
        get_backbone,
        list_backbones,
        reset_registry,
    )
    from .serving import export_onnx

_PUBLIC = {
    "AutoClassifier": "skadapt.auto",
    "AutoRegressor": "skadapt.auto",
    "BackboneSpec": "skadapt.registry",
    "DuplicateBackboneError": "skadapt.registry",
    "FineTunedClassifier": "skadapt.estimators",
    "FineTunedRegressor": "skadapt.estimators",
    "LongTextWarning": "skadapt._long_texts",
    "PretrainedFeaturizer": "skadapt.estimators",
    "ScratchClassifier": "skadapt.estimators",
    "ScratchRegressor": "skadapt.estimators",
    "UnknownBackboneError": "skadapt.registry",
    "export_backbone": "skadapt.estimators.export",
    "export_onnx": "skadapt.serving",
    "get_backbone": "skadapt.registry",
    "hookimpl": "skadapt.hookspecs",
    "list_backbones": "skadapt.registry",
    "load": "skadapt.persistence",
    "reset_registry": "skadapt.registry",
    "save": "skadapt.persistence",
}

__all__ = [
    "AutoClassifier",
    "AutoRegressor",
    "BackboneSpec",
    "DuplicateBackboneError",
    "FineTunedClassifier",
    "FineTunedRegressor",
    "LongTextWarning",
    "PretrainedFeaturizer",
    "ScratchClassifier",
    "ScratchRegressor",
    "UnknownBackboneError",
    "__version__",
    "export_backbone",
    "export_onnx",
    "get_backbone",
    "hookimpl",
    "list_backbones",
    "load",
    "reset_registry",
    "save",
]


def __getattr__(name):
    if name not in _PUBLIC:
        raise AttributeError(f"module 'skadapt' has no attribute {name!r}")
    value = getattr(importlib.import_module(_PUBLIC[name]), name)
    globals()[name] = value
    return value


def __dir__():
    return sorted([*globals(), *_PUBLIC])
