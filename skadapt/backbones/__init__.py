"""Backbone recipes: the base class plugins subclass, and the built-in backbones.

The built-in modules (``mlp``, ``textcnn``, ``sbert``) only register their
backbones; the torch code lives in the private ``_*.py`` modules and is
imported when a backbone is first built.
"""

from .base import Backbone, max_tokens, pad_batch, tokenize, tokenizer_preprocessing

__all__ = ["Backbone", "max_tokens", "pad_batch", "tokenize", "tokenizer_preprocessing"]
