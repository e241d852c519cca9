"""Where a static model comes from: a model2vec folder, or one distilled and cached on disk.

``static:ARGUMENT`` names a model2vec folder (loaded as it is), a
sentence-transformers or Hugging Face model folder, or a registered
sentence-transformers backbone such as ``minilm`` (both distilled with
``model2vec.distill`` once, then read from the cache). The cache folder is
``SKADAPT_STATIC_CACHE``, else ``$XDG_CACHE_HOME/skadapt/static`` (by default
``~/.cache/skadapt/static``); each distilled model sits in a subfolder named
by a digest of the source model's files, the distillation settings and the
model2vec version, so a changed model or setting is distilled again and never
served stale.
"""

import hashlib
import json
import logging
import os
import re
import shutil
import tempfile
import threading

CACHE_ENV = "SKADAPT_STATIC_CACHE"
_TOKENIZER_FILES = ("tokenizer.json", "tokenizer_config.json", "vocab.txt")

_digests = {}  # (folder, files signature) -> content digest: a model is hashed once per process
_lock = threading.Lock()

logger = logging.getLogger(__name__)


def cache_folder():
    """The folder distilled models are cached in (created when first written)."""
    if os.environ.get(CACHE_ENV):
        return os.path.abspath(os.path.expanduser(os.environ[CACHE_ENV]))
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "skadapt", "static")


def _read_json(path):
    try:
        with open(path, encoding="utf-8") as file:
            return json.load(file)
    except (OSError, ValueError):
        return None


def _static_module(modules):
    """Whether a sentence-transformers ``modules.json`` holds a ``StaticEmbedding`` first module."""
    return isinstance(modules, list) and any(
        isinstance(m, dict) and str(m.get("type", "")).endswith("StaticEmbedding") for m in modules
    )


def _transformer_folder(folder, modules):
    """The folder of a sentence-transformers model's ``Transformer`` module (``None`` if there is none)."""
    if not isinstance(modules, list):
        return None
    for m in modules:
        if isinstance(m, dict) and str(m.get("type", "")).endswith("Transformer"):
            return os.path.normpath(os.path.join(folder, m.get("path") or ""))
    return None


def folder_kind(folder, argument):
    """``("model2vec", folder)`` or ``("distil", model_folder)`` for a local folder, or a ``ValueError``."""
    config = _read_json(os.path.join(folder, "config.json"))
    modules = _read_json(os.path.join(folder, "modules.json"))
    is_model2vec = (isinstance(config, dict) and config.get("model_type") == "model2vec") or _static_module(modules)
    if is_model2vec:
        from pathlib import Path

        from model2vec.persistence.persistence import _has_valid_layout  # the layouts model2vec itself reads

        if _has_valid_layout(Path(folder)):
            return "model2vec", folder
        raise ValueError(
            f"backbone 'static:{argument}': {folder} says it is a model2vec model but lacks its files "
            "(model.safetensors, tokenizer.json and config.json)."
        )
    model_folder = _transformer_folder(folder, modules) or folder
    model_config = _read_json(os.path.join(model_folder, "config.json"))
    has_tokenizer = any(os.path.exists(os.path.join(model_folder, name)) for name in _TOKENIZER_FILES)
    if isinstance(model_config, dict) and "model_type" in model_config and has_tokenizer:
        return "distil", model_folder
    raise ValueError(
        f"backbone 'static:{argument}': {folder} is neither a model2vec folder (a config.json with "
        "model_type 'model2vec') nor a sentence-transformers model to distil (a modules.json, or a "
        "Hugging Face config.json, with its tokenizer)."
    )


def resolve(argument):
    """What ``static:ARGUMENT`` reads: ``(kind, folder)`` as :func:`folder_kind`, or a ``ValueError``.

    A folder is used as it is; any other argument must name a registered
    backbone whose recipe reads a local sentence-transformers folder
    (``minilm``, ``sbert:/path``).
    """
    if not isinstance(argument, str) or not argument:
        raise ValueError(
            f"backbone 'static:{argument}': give a model after the colon, e.g. 'static:minilm' or "
            "'static:/path/to/model'."
        )
    path = os.path.abspath(os.path.expanduser(argument))
    if os.path.isdir(path):
        return folder_kind(path, argument)
    from skadapt.registry import UnknownBackboneError, get_backbone, list_backbones

    registered = argument.split(":", 1)[0] in {row["name"] for row in list_backbones()}  # "minilm", "sbert:/path"
    if not registered and (os.path.exists(path) or os.sep in argument or argument.startswith((".", "~"))):
        raise ValueError(
            f"backbone 'static:{argument}': {path} is not a folder; give a model2vec folder, a "
            "sentence-transformers model folder, or a registered backbone such as 'minilm'."
        )
    try:
        recipe = get_backbone(argument).create()
    except (UnknownBackboneError, ValueError, ImportError) as exc:
        raise ValueError(
            f"backbone 'static:{argument}': {argument!r} is neither a folder nor a usable sentence-transformers "
            f"backbone ({exc})."
        ) from None
    source = getattr(recipe, "model_name_or_path", None)
    if not (isinstance(source, str) and os.path.isdir(source)):
        raise ValueError(
            f"backbone 'static:{argument}': backbone {argument!r} does not read a local sentence-transformers "
            "folder, so there is nothing to distil; give a folder, or a backbone such as 'minilm'."
        )
    return folder_kind(os.path.abspath(source), argument)


def _files(folder):
    for root, dirs, names in os.walk(folder):
        dirs.sort()
        for name in sorted(names):
            full = os.path.join(root, name)
            yield os.path.relpath(full, folder), full


def content_digest(folder):
    """A digest of every file in ``folder`` (names and bytes), remembered per files' sizes and times."""
    signature = tuple((name, os.stat(full).st_size, os.stat(full).st_mtime_ns) for name, full in _files(folder))
    key = (folder, signature)
    with _lock:
        if key in _digests:
            return _digests[key]
    digest = hashlib.blake2b(digest_size=16)
    for name, full in _files(folder):
        digest.update(name.encode() + b"\0")
        with open(full, "rb") as file:
            for block in iter(lambda: file.read(1 << 20), b""):
                digest.update(block)
    with _lock:
        _digests[key] = digest.hexdigest()
    return _digests[key]


def distilled_folder(model_folder, argument, settings):
    """A model2vec folder distilled from ``model_folder`` with ``settings``: from the cache, or made now.

    ``settings`` are ``model2vec.distill.distill``'s keyword arguments
    (``pca_dims``, ``sif_coefficient``); they are part of the cache key, with
    the source's content digest and model2vec's version.
    """
    import model2vec

    key = json.dumps(
        {"source": content_digest(model_folder), "settings": settings, "model2vec": model2vec.__version__},
        sort_keys=True,
    )
    # Named for people listing the cache: the backbone ("minilm") or the source folder's name, then the digest.
    label = os.path.basename(model_folder.rstrip(os.sep)) if os.sep in argument else argument
    label = re.sub(r"[^A-Za-z0-9_.-]+", "-", label).strip("-.") or "model"
    name = f"{label}-{hashlib.blake2b(key.encode(), digest_size=8).hexdigest()}"
    root = cache_folder()
    target = os.path.join(root, name)
    if os.path.exists(os.path.join(target, "config.json")):
        return target
    logger.warning("skadapt-static: distilling %s into a static model once (cached in %s).", argument, target)
    try:
        from model2vec.distill import distill

        model = distill(model_folder, device="cpu", **settings)
    except Exception as exc:  # anything model2vec or transformers raise: one sentence, not their traceback
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        raise ValueError(
            f"backbone 'static:{argument}': could not distil a static model from {model_folder} "
            f"({type(exc).__name__}: {first}); it must be a sentence-transformers (BERT-like) model with a "
            "fast tokenizer."
        ) from None
    os.makedirs(root, exist_ok=True)
    # Written beside the target, then renamed: another process reading the
    # cache never sees half a model, and two distilling at once both succeed.
    staging = tempfile.mkdtemp(prefix=f".{name}-", dir=root)
    try:
        model.save_pretrained(staging)
        with open(os.path.join(staging, "skadapt-static-source.json"), "w", encoding="utf-8") as file:
            json.dump({"argument": argument, "source": model_folder, "key": json.loads(key)}, file, indent=2)
        try:
            os.rename(staging, target)
        except OSError:  # another process got there first: its copy is the same model
            if not os.path.exists(os.path.join(target, "config.json")):
                raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return target
