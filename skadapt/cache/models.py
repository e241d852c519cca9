"""Pretrained backbone modules, loaded once per process and shared.

A ``GridSearchCV`` clones its estimator for every fold and candidate, and
every clone's ``fit`` would read the weights again (MiniLM: about a second).
Keyed by the recipe's class, its options and the files it reads, a
pretrained module is loaded once and kept on the CPU; frozen users
(``PretrainedFeaturizer`` on the CPU) share it, training users get a deep
copy, so that one fit never changes another's starting weights. Random
(scratch) modules and recipes with preprocessing learned in ``fit`` are
never shared: they depend on the seed or on the data.
"""

import copy
import hashlib
import os
import threading
from collections import OrderedDict

MAX_SHARED_MODULES = 4  # the least recently used module is dropped beyond this
_SMALL_FILE = 16 * 2**20  # files up to this size are hashed by content

_shared = OrderedDict()  # recipe key -> _Shared
_lock = threading.Lock()


class _Shared:
    def __init__(self, module, state, trainable, files_digest):
        self.module = module  # frozen, eval mode, on the CPU; never modified
        self.state = state  # what build() set on the recipe (tokeniser, width)
        self.trainable = trainable  # parameter name -> requires_grad as built
        self.files_digest = files_digest
        self.weights_digest = None


def canonical(value):
    """A stable text for an option value; arrays by content, not by repr
    (numpy abbreviates large arrays, so two different ones can print alike)."""
    import numpy as np

    if isinstance(value, np.ndarray):
        return f"ndarray({value.dtype},{value.shape},{hashlib.blake2b(value.tobytes(), digest_size=16).hexdigest()})"
    if isinstance(value, dict):
        return "{" + ",".join(f"{k!r}:{canonical(v)}" for k, v in sorted(value.items(), key=lambda kv: repr(kv[0]))) + "}"
    if isinstance(value, (list, tuple)):
        return type(value).__name__ + "(" + ",".join(canonical(v) for v in value) + ")"
    return repr(value)


def _options(backbone):
    # The recipe's public attributes; ``out_features`` is set by build.
    return {k: v for k, v in vars(backbone).items() if not k.endswith("_") and k != "out_features"}


def _paths(backbone):
    return [v for v in _options(backbone).values() if isinstance(v, (str, os.PathLike)) and os.path.exists(v)]


def _recipe_key(backbone):
    # A model folder rewritten in place must not be served from memory, so
    # local paths are keyed by their files' names, sizes and times as well.
    files = [_files_signature(p) for p in _paths(backbone)]
    return f"{type(backbone).__module__}.{type(backbone).__qualname__}{canonical(_options(backbone))}{files!r}"


def _walk(path):
    if os.path.isfile(path):
        yield os.path.basename(path), path
        return
    for root, _, names in os.walk(path):
        for name in sorted(names):
            full = os.path.join(root, name)
            yield os.path.relpath(full, path), full


def _files_signature(path):
    return sorted((name, os.stat(full).st_size, os.stat(full).st_mtime_ns) for name, full in _walk(path))


def _files_digest(backbone):
    """Content digest of the small files a recipe reads (configs, tokeniser,
    pooling), which change the output without changing any weight; large
    files (the weights themselves) are covered by the weights digest."""
    digest = hashlib.blake2b(digest_size=16)
    for path in _paths(backbone):
        for name, full in sorted(_walk(path)):
            if os.path.getsize(full) <= _SMALL_FILE:
                digest.update(name.encode())
                with open(full, "rb") as file:
                    digest.update(file.read())
    return digest.hexdigest()


def is_shareable(backbone):
    """Whether a recipe's pretrained module depends only on its options:
    no preprocessing state learned from data in ``fit``."""
    return not any(k.endswith("_") for k in vars(backbone))


def build_module(backbone, *, pretrained, trainable):
    """``backbone.build(pretrained=...)``, with pretrained weights read once per process.

    Parameters
    ----------
    backbone : skadapt.backbones.Backbone
        The recipe, before ``build``; it receives the state ``build`` sets.
    pretrained : bool
        Random modules are built afresh every time.
    trainable : bool
        ``True`` returns a private copy in training mode, with gradients as
        the recipe built them; ``False`` returns the shared module itself,
        frozen, in eval mode and on the CPU: do not modify it.
    """
    if not pretrained or not is_shareable(backbone):
        module = backbone.build(pretrained=pretrained)
        return module if trainable else module.eval().requires_grad_(False)
    entry = _load(backbone)
    vars(backbone).update(entry.state)
    if not trainable:
        return entry.module
    module = copy.deepcopy(entry.module, _shared_readonly(entry.module)).train()
    for name, param in module.named_parameters():
        param.requires_grad_(entry.trainable[name])
    return module


def _shared_readonly(module):
    """A deepcopy memo that keeps tokenisers shared: training never changes
    them, and copying one costs as much as copying MiniLM's weights."""
    try:
        from transformers import PreTrainedTokenizerBase
    except ImportError:
        return {}
    return {
        id(value): value
        for sub in module.modules()
        for value in vars(sub).values()
        if isinstance(value, PreTrainedTokenizerBase)
    }


def _load(backbone, key=None):
    import torch

    key = key or _recipe_key(backbone)
    with _lock:
        if key in _shared:
            _shared.move_to_end(key)
            return _shared[key]
        before = dict(vars(backbone))
        # Loading may draw random numbers (weights initialised, then
        # overwritten); the caller's seeded stream must not depend on
        # whether this load happened now or in an earlier fit.
        with torch.random.fork_rng(devices=[]):
            module = backbone.build(pretrained=True)
        trainable = {name: p.requires_grad for name, p in module.named_parameters()}
        module = module.cpu().eval().requires_grad_(False)
        state = {k: v for k, v in vars(backbone).items() if k not in before or before[k] is not v}
        entry = _Shared(module, state, trainable, _files_digest(backbone))
        _shared[key] = entry
        while len(_shared) > MAX_SHARED_MODULES:
            _shared.popitem(last=False)
        return entry


def pretrained_identity(backbone):
    """Digests of the recipe's pretrained weights and of the small files it
    reads: equal digests, equal model. Computed once per shared module
    (MiniLM: about 0.1 s) and remembered. ``None`` for recipes that are not
    shareable (their output depends on what ``fit`` learned)."""
    key = _recipe_key(backbone)
    with _lock:
        entry = _shared.get(key)
    fitted = {k for k in vars(backbone) if k.endswith("_")}
    if fitted - set(entry.state if entry is not None else ()):  # not set by build(): learned in fit
        return None
    entry = entry or _load(backbone, key)
    if entry.weights_digest is None:
        entry.weights_digest = weights_fingerprint(entry.module)
    return f"{entry.weights_digest}:{entry.files_digest}"


def weights_fingerprint(module):
    """A digest of every parameter and buffer of ``module``."""
    import torch

    digest = hashlib.blake2b(digest_size=16)
    for name, tensor in sorted(module.state_dict().items()):
        tensor = tensor.detach().cpu().contiguous()
        digest.update(f"{name}:{tensor.dtype}:{tuple(tensor.shape)}".encode())
        digest.update(tensor.reshape(-1).view(torch.uint8).numpy())
    return digest.hexdigest()


def clear_shared_modules():
    """Forget every shared module (their memory is freed once no estimator holds them)."""
    with _lock:
        _shared.clear()
