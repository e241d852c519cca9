"""Saving and loading fitted models without pickle (safetensors, JSON, skops)."""

from ._load import SAFE_TYPES, load, read_metadata
from ._save import save

__all__ = ["SAFE_TYPES", "load", "read_metadata", "save"]
