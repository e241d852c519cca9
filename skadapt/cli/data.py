"""Reading the user's table (CSV, TSV, JSON lines, Parquet) or a bundled dataset."""

import difflib
from pathlib import Path

from ..datasets import DATASET_SPLITS, list_datasets, load_dataset
from ._errors import UsageError

READERS = {
    ".csv": "csv",
    ".tsv": "tsv",
    ".tab": "tsv",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".json": "jsonl",
    ".parquet": "parquet",
    ".pq": "parquet",
}
FORMATS = "a CSV, TSV, JSON-lines or Parquet file"


def read_table(path):
    """Read ``path`` into a DataFrame; one ``UsageError`` per problem."""
    import pandas as pd

    path = Path(path)
    kind = READERS.get(path.suffix.lower())
    if not path.exists():
        bundled = ", ".join(list_datasets())
        raise UsageError(f"DATA {str(path)!r} does not exist; give {FORMATS}, or a bundled dataset ({bundled}).")
    if path.is_dir():
        raise UsageError(f"{str(path)!r} is a folder; give {FORMATS}.")
    if kind is None:
        raise UsageError(
            f"cannot tell the format of {str(path)!r} from its extension {path.suffix!r}; "
            f"use {FORMATS} (.csv, .tsv, .jsonl, .parquet)."
        )
    try:
        if kind == "csv":
            frame = pd.read_csv(path, keep_default_na=False, na_values=[""])
        elif kind == "tsv":
            frame = pd.read_csv(path, sep="\t", keep_default_na=False, na_values=[""])
        elif kind == "jsonl":
            frame = pd.read_json(path, lines=True, dtype=False)
        else:
            frame = pd.read_parquet(path)
    except pd.errors.EmptyDataError:
        raise UsageError(f"{str(path)!r} is empty; it needs a header and at least one row.") from None
    except Exception as exc:  # the readers raise many types; all mean "not this format"
        first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise UsageError(f"could not read {str(path)!r} as {kind.upper()}: {first_line}") from None
    if len(frame) == 0:
        raise UsageError(f"{str(path)!r} has a header but no rows.")
    return frame


def column(frame, name, option, source):
    """``frame[name]``, or a ``UsageError`` that suggests the closest column."""
    if name in frame.columns:
        return frame[name]
    columns = [str(c) for c in frame.columns]
    close = difflib.get_close_matches(name, columns, n=1, cutoff=0.5)
    hint = f"; did you mean {close[0]!r}?" if close else f"; give the right one with {option}."
    raise UsageError(f"{source} has no column {name!r} (columns: {', '.join(columns)}){hint}")


def texts_and_labels(frame, text_column, label_column, source):
    """``(texts, labels)`` from two columns, rejecting missing values."""
    texts = column(frame, text_column, "--text-column", source)
    labels = column(frame, label_column, "--label-column", source)
    missing = labels.isna()
    if missing.any():
        raise UsageError(
            f"{source}: column {label_column!r} has {int(missing.sum())} empty labels "
            f"(first at row {int(missing.to_numpy().nonzero()[0][0]) + 1}); drop or fill them."
        )
    texts = texts.fillna("").astype(str)
    return texts.tolist(), labels.to_numpy()


def read_image_folder(path, option="DATA"):
    """``(paths, labels)`` from a folder with one subfolder of images per class
    (the layout of torchvision's ``ImageFolder``)."""
    import numpy as np

    from ..images import IMAGE_SUFFIXES

    path = Path(path)
    classes = sorted(p for p in path.iterdir() if p.is_dir() and not p.name.startswith("."))
    paths, labels = [], []
    for folder in classes:
        files = sorted(f for f in folder.rglob("*") if f.suffix.lower() in IMAGE_SUFFIXES and f.is_file())
        paths += [str(f) for f in files]
        labels += [folder.name] * len(files)
    found = sorted(set(labels))
    if len(found) < 2:
        raise UsageError(
            f"{option} {str(path)!r} is a folder, so it must hold one subfolder of images per class "
            f"(e.g. {path.name}/cat/1.png, {path.name}/dog/2.png); found images of {len(found)} class(es)."
        )
    return paths, np.asarray(labels)


def is_image_folder(data):
    return Path(data).is_dir()


def load_data(data, text_column, label_column):
    """``(name, X, y, test)``; ``test`` is ``(X, y)`` of a bundled test split or None.

    A folder is read as images, one subfolder per class; ``X`` is then a
    list of image paths.
    """
    if data in DATASET_SPLITS and not Path(data).exists():
        X, y = load_dataset(data, split="train", return_X_y=True)
        test = load_dataset(data, split="test", return_X_y=True) if "test" in DATASET_SPLITS[data] else None
        return data, list(X), y, test
    if is_image_folder(data):
        X, y = read_image_folder(data)
        return Path(data).name, X, y, None
    frame = read_table(data)
    X, y = texts_and_labels(frame, text_column, label_column, repr(str(data)))
    return Path(data).name, X, y, None
