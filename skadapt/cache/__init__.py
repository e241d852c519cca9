"""Caches that make model selection cheap: encoded texts and loaded backbones."""

from .embeddings import cached_encode, clear_memory, stores_for
from .models import build_module, canonical, clear_shared_modules, pretrained_identity


def feature_identity(spec, backbone, options):
    """The embedding-cache key of a frozen pretrained backbone's features.

    Everything that changes the output is in it: the backbone's name and
    argument, the recipe class, every option, digests of the weights and of
    the model's small files (configs, tokeniser), and the versions of skadapt
    and of the libraries that compute the features (a disk cache may be
    shared between machines), as the backbone lists them
    (``Backbone.library_versions``). ``None`` when the features cannot be
    cached (preprocessing learned from data).
    """
    from .._version import __version__
    from .embeddings import backbone_identity

    model = pretrained_identity(backbone)
    if model is None:
        return None
    return backbone_identity(
        backbone=spec.name,
        argument=spec.argument,
        recipe=f"{type(backbone).__module__}.{type(backbone).__qualname__}",
        options=canonical(options),
        model=model,
        versions=[__version__, *backbone.library_versions()],
    )


def clear_caches():
    """Empty the in-process embedding cache and forget shared backbones (disk caches stay)."""
    clear_memory()
    clear_shared_modules()


__all__ = ["build_module", "cached_encode", "clear_caches", "feature_identity", "stores_for"]
