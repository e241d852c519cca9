"""The model folder: a manifest (``skadapt-model.json``) beside the files it lists.

The manifest says what the folder holds (a tree of nodes: pipelines,
skadapt estimators, sklearn steps in skops files, or an ONNX model), which
library versions wrote it, the caller's metadata, and the SHA-256 of every
file, so that a tampered or truncated folder is refused before anything in
it is read.
"""

import hashlib
import json
import os
import warnings
from importlib import metadata as _metadata

MANIFEST = "skadapt-model.json"
FORMAT = "skadapt-model"
FORMAT_VERSION = 1
# Versions recorded at save time; a difference at load time is worth a warning.
PACKAGES = ("skadapt", "torch", "scikit-learn", "skorch", "transformers", "sentence-transformers", "skops",
            "onnxruntime", "tokenizers")


def installed_versions(packages=PACKAGES):
    """``{package: version}`` of the installed ``packages`` (read from metadata, nothing imported)."""
    versions = {}
    for name in packages:
        try:
            versions[name] = _metadata.version(name)
        except _metadata.PackageNotFoundError:
            continue
    return versions


def sha256(path):
    digest = hashlib.sha256()
    with open(path, "rb") as file:
        for block in iter(lambda: file.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def write_manifest(folder, model, *, runtime, metadata, packages=PACKAGES):
    """Digest every file under ``folder`` and write the manifest last."""
    files = {}
    for root, _, names in os.walk(folder):
        for name in sorted(names):
            path = os.path.join(root, name)
            files[os.path.relpath(path, folder).replace(os.sep, "/")] = sha256(path)
    manifest = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "runtime": runtime,
        "versions": installed_versions(packages),
        "model": model,
        "metadata": metadata,
        "files": dict(sorted(files.items())),
    }
    with open(os.path.join(folder, MANIFEST), "w", encoding="utf-8") as file:
        json.dump(manifest, file, indent=1)


def read_manifest(folder, *, verify=True):
    """The manifest of a model folder, after checking every file against its digest.

    Raises ``ValueError`` with one sentence on what is wrong: not a folder,
    no manifest, a manifest that is not this format, a missing file or one
    whose content changed since it was saved.
    """
    if not isinstance(folder, (str, os.PathLike)):
        raise ValueError(f"folder must be a path, got {type(folder).__name__}.")
    folder = os.fspath(folder)
    if not os.path.isdir(folder):
        hint = " (a pickle? see skadapt predict --trust-pickle)" if os.path.isfile(folder) else ""
        raise ValueError(f"{folder!r} is not a folder{hint}; give a folder written by skadapt.save or skadapt.export_onnx.")
    path = os.path.join(folder, MANIFEST)
    try:
        with open(path, encoding="utf-8") as file:
            manifest = json.load(file)
    except FileNotFoundError:
        raise ValueError(f"{folder!r} has no {MANIFEST}; give a folder written by skadapt.save or skadapt.export_onnx.") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ValueError(f"{MANIFEST} in {folder!r} is not valid JSON ({exc}); the folder is damaged.") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise ValueError(f"{MANIFEST} in {folder!r} does not describe a skadapt model; the folder is damaged.")
    if manifest.get("format_version") != FORMAT_VERSION:
        raise ValueError(
            f"{folder!r} was written in model format {manifest.get('format_version')!r}; this skadapt reads "
            f"format {FORMAT_VERSION}: install the skadapt version that saved it."
        )
    files = manifest.get("files")
    if not isinstance(files, dict) or not isinstance(manifest.get("model"), dict):
        raise ValueError(f"{MANIFEST} in {folder!r} lacks its file list or model; the folder is damaged.")
    if verify:
        for name, digest in files.items():
            file_path = os.path.join(folder, *name.split("/"))
            if os.path.isabs(name) or ".." in name.split("/"):
                raise ValueError(f"{MANIFEST} in {folder!r} names a file outside the folder ({name!r}); refused.")
            if not os.path.isfile(file_path):
                raise ValueError(f"{folder!r} is incomplete: {name} is missing.")
            if sha256(file_path) != digest:
                raise ValueError(
                    f"{name} in {folder!r} does not match the digest recorded when the model was saved: the "
                    "file was modified or truncated; refused."
                )
    return manifest


def warn_on_versions(manifest, folder, packages):
    """A warning when ``packages`` were saved at other versions than the installed ones."""
    saved = manifest.get("versions") or {}
    now = installed_versions(packages)
    differ = [f"{name} {saved[name]} (now {now[name]})" for name in packages
              if name in saved and name in now and saved[name] != now[name]]
    if differ:
        warnings.warn(
            f"the model in {folder!r} was saved with {', '.join(differ)}; predictions may differ, re-save it with "
            "the installed versions once checked.",
            UserWarning,
            stacklevel=3,
        )
