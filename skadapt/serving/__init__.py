"""Serving: ONNX export, and prediction with ONNX Runtime.

Importing this package imports neither torch nor scikit-learn:
``export_onnx`` imports them when it is called, and ``OnnxModel`` never does.
"""

from ._export import export_onnx
from ._runtime import OnnxModel

__all__ = ["OnnxModel", "export_onnx"]
