"""Reading the user's table (CSV, TSV, JSON lines, Parquet) or a bundled dataset, and telling its task."""

import difflib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

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
TASKS = ("auto", "classification", "regression", "multilabel")
# One numeric label column is a regression target when some values are not
# whole and at least this many differ (see _looks_continuous).
MIN_DISTINCT_FOR_REGRESSION = 10


def read_table(path):
    """Read ``path`` into a DataFrame; one ``UsageError`` per problem."""
    import pandas as pd

    path = Path(path)
    kind = READERS.get(path.suffix.lower())
    if not path.exists():
        from ..datasets import list_datasets

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


def texts_and_label_columns(frame, text_column, label_columns, source):
    """``(texts, [label Series, ...])``; the labels are checked later, by task."""
    texts = column(frame, text_column, "--text-column", source)
    labels = [column(frame, name, "--label-column", source) for name in label_columns]
    return text_values(texts), labels


def parse_names(values, option):
    """Column names given once or more, each a name or comma-separated names; None when not given."""
    if values is None:
        return None
    names = [n.strip() for value in ([values] if isinstance(values, str) else values) for n in value.split(",")
             if n.strip()]
    if not names:
        raise UsageError(f"{option}: give a column name, or several as a,b or as repeated {option}.")
    return list(dict.fromkeys(names))


@dataclass
class Columns:
    """The columns ``compare`` reads: ``text`` through the backbone, ``other`` (name: kind) beside
    them, and ``dropped`` (``--feature-columns auto`` left out as row identifiers)."""

    text: list
    other: dict = field(default_factory=dict)
    dropped: list = field(default_factory=list)

    @property
    def table(self):
        """Several columns: the estimators read a DataFrame; one text column stays a list of texts."""
        return bool(self.other) or len(self.text) > 1

    @property
    def names(self):
        return list(self.text) + list(self.other)

    def describe(self):
        line = f"text columns: {', '.join(self.text)}"
        if self.other:
            line += "; other columns: " + ", ".join(f"{name} ({kind})" for name, kind in self.other.items())
        if self.dropped:
            line += f"; dropped as row identifiers: {', '.join(self.dropped)}"
        return line

    def as_dict(self):
        return {"text": list(self.text), "other": dict(self.other), "dropped": list(self.dropped)}


def _looks_like_id(values, kind):
    """A row identifier: whole numbers or single-word strings, every row's different (an order
    number, a ticket ID); a column of texts is never one."""
    import pandas as pd

    if kind not in ("number", "category") or len(values) < 2 or values.isna().any():
        return False
    if kind == "number" and not pd.api.types.is_integer_dtype(values.dtype):
        return False
    return values.nunique() == len(values)


def _kinds(frame, text_columns, source):
    from ..tables import detect_kinds

    try:
        return detect_kinds(frame, text_columns, where=source)
    except ValueError as exc:
        raise UsageError(str(exc)) from None


def choose_columns(frame, text_columns, feature_columns, label_columns, source):
    """The :class:`Columns` of ``frame`` for ``--text-column`` (None: not given) and ``--feature-columns``
    (None, ``"auto"`` or names): with ``auto``, every column but the labels and row identifiers, and the
    text columns detected by :func:`skadapt.tables.detect_kinds`'s rule unless ``--text-column`` names them."""
    if feature_columns is None:
        texts = text_columns or ["text"]
        for name in texts:
            column(frame, name, "--text-column", source)
        return Columns(texts)
    for name in text_columns or []:
        column(frame, name, "--text-column", source)
    taken = set(label_columns) | set(text_columns or [])
    if feature_columns == "auto":
        candidates = [str(c) for c in frame.columns if str(c) not in taken]
    else:
        candidates = parse_names(feature_columns, "--feature-columns")
        for name in candidates:
            column(frame, name, "--feature-columns", source)
            if name in label_columns:
                raise UsageError(f"--feature-columns names {name!r}, the label column; a label cannot be an input.")
    wanted = [c for c in frame.columns if str(c) in set(candidates) | set(text_columns or [])]
    kinds = _kinds(frame[wanted], text_columns, source)
    dropped = []
    if feature_columns == "auto":
        dropped = [name for name, kind in kinds.items() if kind != "text" and _looks_like_id(frame[name], kind)]
    texts = [name for name, kind in kinds.items() if kind == "text"]
    if not texts:
        raise UsageError(f"{source} has no text column among {', '.join(map(repr, kinds))}: none holds strings of "
                         "several words; name it with --text-column.")
    other = {name: kind for name, kind in kinds.items() if kind != "text" and name not in dropped}
    return Columns(texts, other, dropped)


def input_rows(frame, columns):
    """What the estimators read: a list of texts for one text column, else a DataFrame of the
    columns used, its text cells ``str`` (a missing one "", as the estimators read it)."""
    if not columns.table:
        return text_values(frame[columns.text[0]])
    rows = frame[columns.names].reset_index(drop=True)
    for name in columns.text:
        rows[name] = text_values(rows[name])
    return rows


def rows_and_label_columns(frame, columns, label_columns, source):
    """``(rows, [label Series, ...])`` of a table whose columns were chosen on the training data."""
    for name in columns.names:
        column(frame, name, "--text-column" if name in columns.text else "--feature-columns", source)
    labels = [column(frame, name, "--label-column", source) for name in label_columns]
    return input_rows(frame, columns), labels


def text_values(texts):
    """A text column as a list of str, missing cells as "" (a column of only numbers or blanks is
    read as floats: cast to object before filling, as pandas asks)."""
    return texts.astype(object).where(texts.notna(), "").astype(str).tolist()


def parse_label_columns(values):
    """``--label-column`` given once or more, each a name or comma-separated names."""
    names = [n.strip() for value in (values or ["label"]) for n in value.split(",") if n.strip()]
    if not names:
        raise UsageError("--label-column: give a column name, or several as V,A,D or as repeated --label-column.")
    return list(dict.fromkeys(names))


def _first_row(mask):
    return int(np.asarray(mask).nonzero()[0][0]) + 1


def _as_numbers(labels):
    """The column as floats (missing values NaN) and the rows that hold something but not a number."""
    import pandas as pd

    if pd.api.types.is_bool_dtype(labels):
        return labels.astype(float), np.zeros(len(labels), bool)
    numbers = pd.to_numeric(labels, errors="coerce").astype(float)
    return numbers, numbers.isna().to_numpy() & labels.notna().to_numpy()


def _is_indicator(labels):
    numbers, not_numbers = _as_numbers(labels)
    return not not_numbers.any() and numbers.notna().all() and numbers.isin([0, 1]).all()


def _looks_continuous(labels):
    """The auto rule for one column: numbers, some of them not whole, and at
    least ``MIN_DISTINCT_FOR_REGRESSION`` distinct values. Star ratings 1-5
    and 0/1 columns stay classes; so does any column of whole numbers, which
    ``--task regression`` turns into a target."""
    numbers, not_numbers = _as_numbers(labels)
    values = numbers.dropna()
    return (not not_numbers.any() and len(values) > 0 and not (values == values.round()).all()
            and values.nunique() >= MIN_DISTINCT_FOR_REGRESSION)


def detect_task(task, labels, label_sep, source):
    """The task the user's label columns hold: ``task`` when it fits them,
    else a ``UsageError`` saying why it does not."""
    names = ", ".join(repr(c.name) for c in labels)
    if label_sep is not None:
        if label_sep == "":
            raise UsageError("--label-sep must not be empty; give the character between labels, e.g. ';'.")
        if task in ("classification", "regression"):
            raise UsageError(f"--label-sep splits labels for multi-label data; it contradicts --task {task}.")
        if len(labels) > 1:
            raise UsageError(f"--label-sep splits one label column, but {len(labels)} were given ({names}).")
        return "multilabel"
    if task == "classification" and len(labels) > 1:
        raise UsageError(f"--task classification takes one label column, but {len(labels)} were given ({names}).")
    if task == "multilabel" and len(labels) == 1:
        raise UsageError(f"--task multilabel needs --label-sep SEP to split column {labels[0].name!r} into labels "
                         "(or several 0/1 label columns).")
    if task != "auto":
        return task
    if len(labels) > 1:
        # the rule for bundled data too: a matrix of 0/1 is labels, any other numbers are targets
        return "multilabel" if all(_is_indicator(c) for c in labels) else "regression"
    return "regression" if _looks_continuous(labels[0]) else "classification"


def classification_target(labels, source):
    """One class per row; an empty cell is a mistake, not a class."""
    missing = labels.isna()
    if missing.any():
        raise UsageError(
            f"{source}: column {labels.name!r} has {int(missing.sum())} empty labels "
            f"(first at row {_first_row(missing)}); drop or fill them."
        )
    return labels.to_numpy()


def regression_target(labels, source):
    """Floats, ``(n,)`` for one column and ``(n, k)`` for several."""
    columns = []
    for labels_j in labels:
        numbers, not_numbers = _as_numbers(labels_j)
        if not_numbers.any():
            row = _first_row(not_numbers)
            raise UsageError(f"{source}: column {labels_j.name!r} is not numeric ({labels_j.tolist()[row - 1]!r} at "
                             f"row {row}); a regression target must be numbers.")
        if numbers.isna().any():
            raise UsageError(f"{source}: column {labels_j.name!r} has {int(numbers.isna().sum())} empty values "
                             f"(first at row {_first_row(numbers.isna())}); a regression target needs a number "
                             "in every row; drop or fill them.")
        columns.append(numbers.to_numpy())
    return columns[0] if len(columns) == 1 else np.column_stack(columns)


def _cell_labels(cell, label_sep):
    import pandas as pd

    if pd.isna(cell):
        return ()
    if isinstance(cell, float) and cell.is_integer():
        cell = int(cell)  # a column of numbers with gaps reads as floats: 3.0 is label "3"
    return tuple(dict.fromkeys(p.strip() for p in str(cell).split(label_sep) if p.strip()))


def multilabel_sets(labels, label_sep):
    """One tuple of label names per row; an empty cell is a row with no label."""
    return [_cell_labels(cell, label_sep) for cell in labels[0].tolist()]


def indicator_target(labels, source):
    """Several 0/1 columns, one per label."""
    for labels_j in labels:
        if not _is_indicator(labels_j):
            numbers, _ = _as_numbers(labels_j)
            row = _first_row(~numbers.isin([0, 1]).to_numpy())
            raise UsageError(f"{source}: column {labels_j.name!r} holds {labels_j.tolist()[row - 1]!r} at row {row}; "
                             "several multi-label columns must hold only 0 and 1 (or give one column and "
                             "--label-sep).")
    return np.column_stack([_as_numbers(c)[0].to_numpy().astype(int) for c in labels])


def table_target(task, labels, label_sep, source):
    """``(y, target_names)`` of a table's label columns for ``task``
    (multi-label with ``label_sep``: one tuple of names per row, binarized later)."""
    if task == "classification":
        return classification_target(labels[0], source), None
    if task == "regression":
        return regression_target(labels, source), [str(c.name) for c in labels]
    if label_sep is not None:
        return multilabel_sets(labels, label_sep), None
    return indicator_target(labels, source), [str(c.name) for c in labels]


def binarize(train_sets, test_sets):
    """The indicator matrices of training and test rows, over the labels of both, sorted."""
    from sklearn.preprocessing import MultiLabelBinarizer

    binarizer = MultiLabelBinarizer().fit(list(train_sets) + list(test_sets or []))
    return (binarizer.transform(train_sets), binarizer.transform(test_sets) if test_sets is not None else None,
            [str(c) for c in binarizer.classes_])


def check_target(task, y, target_names, name):
    """What no comparison can learn from: a constant regression output, or fewer than two labels."""
    if task == "regression":
        columns = y.reshape(len(y), -1)
        for j, output in enumerate(target_names):
            if np.all(columns[:, j] == columns[0, j]):
                raise UsageError(f"{name}: target {output!r} has the same value ({columns[0, j]:g}) in every "
                                 "training row; a regressor needs it to vary.")
    if task == "multilabel":
        if len(target_names) < 2:
            raise UsageError(f"{name}: only {len(target_names)} label ({', '.join(target_names) or 'none'}) appears; "
                             "multi-label needs two or more (one label is plain classification).")
        if not y.any():
            raise UsageError(f"{name}: no training row has a label; multi-label needs some.")


def read_image_folder(path, option="DATA"):
    """``(paths, labels)`` from a folder with one subfolder of images per class
    (the layout of torchvision's ``ImageFolder``)."""
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


@dataclass
class Data:
    """What ``compare`` learns from: ``X`` a list of texts or image paths, or a DataFrame
    of a table's ``columns``; ``test`` is ``(X, y)`` of a bundled test split or
    ``--test-file``, or None; ``target_names`` names the regression outputs or
    the labels of multi-label data (None for classification)."""

    name: str
    X: object
    y: np.ndarray
    test: tuple
    task: str
    target_names: list
    columns: Columns = None


def bundled_task(y):
    """A bundled target's task: 2-D 0/1 integers are multi-label, other 2-D
    numbers regression, a 1-D column by the rule for a table's column."""
    import pandas as pd

    y = np.asarray(y)
    if y.ndim == 2:
        multilabel = np.issubdtype(y.dtype, np.integer) and np.isin(y, (0, 1)).all()
        return "multilabel" if multilabel else "regression"
    return "regression" if _looks_continuous(pd.Series(y)) else "classification"


def _bundled_rows(bunch):
    """A bundled set's rows: a list of texts, or (a table) the DataFrame and its columns."""
    if hasattr(bunch.data, "iloc"):
        columns = Columns(list(bunch.text_columns),
                          {str(c): k for c, k in _kinds(bunch.data, list(bunch.text_columns), "data").items()
                           if c not in bunch.text_columns})
        return input_rows(bunch.data, columns), columns
    return list(bunch.data), None


def load_bundled(data, task, label_sep):
    from ..datasets import DATASET_SPLITS, load_dataset

    bunch = load_dataset(data, split="train")
    (X, columns), y = _bundled_rows(bunch), np.asarray(bunch.target)
    found = getattr(bunch, "task", None) or bundled_task(y)  # a table's loader says its target's task
    if task not in ("auto", found):
        raise UsageError(f"--task {task}: {data} is a {found} dataset; leave --task out or use --task {found}.")
    if label_sep is not None and found != "multilabel":
        raise UsageError(f"--label-sep: {data} is a {found} dataset, not multi-label; leave --label-sep out.")
    test = None
    if "test" in DATASET_SPLITS[data]:
        test_bunch = load_dataset(data, split="test")
        test = (_bundled_rows(test_bunch)[0], np.asarray(test_bunch.target))
    names = None
    if found != "classification":
        names = getattr(bunch, "target_names", None)
        names = [str(n) for n in names] if names is not None else [f"y{j}" for j in range(y.shape[1])]
    return Data(data, X, y, test, found, names, columns)


def read_test_file(test_file, text_column, label_columns, loaded, label_sep):
    """A user's test rows for a bundled dataset: its label columns must hold the dataset's kind of target."""
    if loaded.task == "multilabel":
        raise UsageError(f"--test-file: {loaded.name} is multi-label, and its labels cannot be matched with a "
                         "file's; use its own test split, --test-size or --cv.")
    source = repr(test_file)
    frame = read_table(test_file)
    if loaded.columns is not None:
        X_test, labels = rows_and_label_columns(frame, loaded.columns, label_columns, source)
    else:
        X_test, labels = texts_and_label_columns(frame, text_column, label_columns, source)
    detect_task(loaded.task, labels, label_sep, source)
    y_test, _ = table_target(loaded.task, labels, label_sep, source)
    outputs = len(loaded.target_names or [None])
    if y_test.reshape(len(y_test), -1).shape[1] != outputs:
        raise UsageError(f"--test-file: {loaded.name} has {outputs} targets ({', '.join(loaded.target_names)}), so "
                         f"give {outputs} --label-column names.")
    return X_test, y_test


def load_data(data, text_column, label_columns, *, task="auto", label_sep=None, test_file=None,
              feature_columns=None):
    """The training rows, their task, and the test rows of a bundled split or ``test_file``.

    A folder is read as images, one subfolder per class; ``X`` is then a
    list of image paths. ``text_column`` is one name or a list (None: not
    given); several text columns or ``feature_columns`` (``"auto"`` or
    names) make ``X`` a table (a DataFrame; see :func:`choose_columns`).
    """
    if isinstance(label_columns, str):
        label_columns = [label_columns]
    text_columns = [text_column] if isinstance(text_column, str) else text_column
    from ..datasets import DATASET_SPLITS  # here, not at the top: `skadapt predict` never needs sklearn

    if data in DATASET_SPLITS and not Path(data).exists():
        loaded = load_bundled(data, task, label_sep)
        if test_file:
            loaded.test = read_test_file(test_file, (text_columns or ["text"])[0], label_columns, loaded, label_sep)
        return loaded
    if is_image_folder(data):
        if label_sep is not None:
            raise UsageError("--label-sep: a folder of images holds one class per subfolder, so it is not multi-label.")
        if task not in ("auto", "classification"):
            raise UsageError(f"--task {task}: a folder of images holds one class per subfolder, so it is classified; "
                             "leave --task out.")
        X, y = read_image_folder(data)
        test = None
        if test_file:
            if not Path(test_file).is_dir():
                raise UsageError(f"--test-file {test_file!r}: DATA is a folder of images, so the test set must be "
                                 "one too.")
            test = read_image_folder(test_file, "--test-file")
        return Data(Path(data).name, X, y, test, "classification", None)
    source = repr(str(data))
    frame = read_table(data)
    columns = choose_columns(frame, text_columns, feature_columns, label_columns, source)
    X, labels = rows_and_label_columns(frame, columns, label_columns, source)
    task = detect_task(task, labels, label_sep, source)
    y, names = table_target(task, labels, label_sep, source)
    test = None
    if test_file:
        X_test, test_labels = rows_and_label_columns(read_table(test_file), columns, label_columns, repr(test_file))
        test = (X_test, table_target(task, test_labels, label_sep, repr(test_file))[0])
    if task == "multilabel" and label_sep is not None:
        y, y_test, names = binarize(y, test[1] if test else None)
        test = (test[0], y_test) if test else None
    return Data(Path(data).name, X, y, test, task, names, columns if columns.table else None)
