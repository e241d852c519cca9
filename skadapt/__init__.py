"""skadapt: learning from scratch, transfer learning and fine-tuning as scikit-learn estimators."""

from .backbones._exported import export_backbone
from .estimators import FineTunedClassifier, FineTunedRegressor, PretrainedFeaturizer, ScratchClassifier, ScratchRegressor
from .hookspecs import hookimpl
from .registry import (
    BackboneSpec,
    DuplicateBackboneError,
    UnknownBackboneError,
    get_backbone,
    list_backbones,
    reset_registry,
)

__version__ = "0.1.0"

__all__ = [
    "BackboneSpec",
    "DuplicateBackboneError",
    "FineTunedClassifier",
    "FineTunedRegressor",
    "PretrainedFeaturizer",
    "ScratchClassifier",
    "ScratchRegressor",
    "UnknownBackboneError",
    "export_backbone",
    "get_backbone",
    "hookimpl",
    "list_backbones",
    "reset_registry",
]
