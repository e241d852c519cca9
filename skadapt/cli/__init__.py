"""The ``skadapt`` command: ``compare``, ``backbones`` and ``predict``."""

from .main import main

__all__ = ["main"]
