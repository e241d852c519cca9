"""Writing a model folder all at once or not at all."""

import contextlib
import os
import shutil
import tempfile


def check_target_folder(folder, overwrite, what="folder"):
    """``folder`` as an absolute path, or a ``ValueError`` if it cannot receive a new model."""
    if not isinstance(folder, (str, os.PathLike)):
        raise ValueError(f"{what} must be a path, got {type(folder).__name__}.")
    folder = os.path.abspath(os.fspath(folder))
    if os.path.exists(folder):
        if not os.path.isdir(folder):
            raise ValueError(f"{what} {folder!r} is a file; give a new folder to write into.")
        if os.listdir(folder) and not overwrite:
            raise ValueError(f"{what} {folder!r} exists and is not empty; pass overwrite=True or give a new folder.")
    return folder


@contextlib.contextmanager
def staged(folder):
    """Yield a sibling staging folder that replaces ``folder`` when the block succeeds.

    Whatever goes wrong inside the block (an unsupported step, a full disk,
    Ctrl-C), the staging folder is removed and ``folder`` is left as it was:
    no half-written model is ever found under the final name. A model
    already in ``folder`` is moved aside, not deleted, until the new one is
    in place: if that last rename fails, the old model goes back whole.
    """
    parent = os.path.dirname(folder)
    os.makedirs(parent, exist_ok=True)
    staging = tempfile.mkdtemp(prefix=".skadapt-staging-", dir=parent)
    try:
        yield staging
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    aside = None
    try:
        if os.path.exists(folder):
            aside = tempfile.mkdtemp(prefix=".skadapt-replaced-", dir=parent)
            os.replace(folder, os.path.join(aside, "model"))
        os.replace(staging, folder)
    except BaseException:
        if aside is not None and os.path.exists(os.path.join(aside, "model")):
            os.replace(os.path.join(aside, "model"), folder)
        shutil.rmtree(staging, ignore_errors=True)
        raise
    finally:
        if aside is not None:
            shutil.rmtree(aside, ignore_errors=True)
