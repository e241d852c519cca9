"""Which columns of a table are text, what the others are, and their fitted preprocessing.

The layout of a table is plain data (saved as JSON); its preprocessing is
a scikit-learn ``ColumnTransformer`` of scikit-learn steps only (saved with
skops as a trusted type, and convertible by skl2onnx). skrub's
``TableVectorizer`` does much the same for the other columns, but its
steps are not scikit-learn's (skops would ask the user to trust them and
skl2onnx cannot convert them), and it would be a run-time dependency for
what four scikit-learn steps do.
"""

import numbers

import numpy as np

TEXT, NUMBER, BOOL, CATEGORY, DATETIME = "text", "number", "bool", "category", "datetime"
# One-hot columns per categorical column: the most frequent values, the rest
# (and values first seen at predict time) share one "infrequent" column.
MAX_CATEGORIES = 32
# The detection rule for text columns (see detect_kinds).
TEXT_MIN_WORDS = 3.0
TEXT_MIN_WORDS_IF_DISTINCT = 2.0


def is_table(X, input_kind):
    """Whether ``X`` is a table for a backbone of ``input_kind``: a DataFrame of several columns and a text backbone.

    A one-column DataFrame is a column of texts (today's path), and numeric
    backbones (``mlp``) read a DataFrame as a numeric matrix, as before.
    """
    return input_kind == "text" and hasattr(X, "iloc") and getattr(X, "ndim", 1) == 2 and X.shape[1] > 1


class TableItem:
    """A table row as the fusion network reads it: its text's item and its other columns, preprocessed.

    ``len()`` is the text item's (tokens), so rows sort by length as texts do.
    """

    __slots__ = ("text", "values")

    def __init__(self, text, values):
        self.text = text
        self.values = values

    def __len__(self):
        return len(self.text)


def attach(items, values):
    """Each text item with its row of preprocessed other columns (``values``: ``(n, t)`` float32),
    as an object array (what skorch indexes rows of, as it does the text items)."""
    out = np.empty(len(values), dtype=object)
    out[:] = [TableItem(item, row) for item, row in zip(items, values)]
    return out


def _missing(value):
    if value is None or (isinstance(value, float) and value != value):
        return True
    import pandas as pd

    return value is pd.NA or value is pd.NaT


def _looks_like_text(values):
    """The rule: non-empty strings averaging 3 words or more, or 2 or more when over half of them are distinct."""
    strings = [v for v in values if isinstance(v, str) and v.strip()]
    if not strings:
        return False
    words = np.mean([len(v.split()) for v in strings])
    distinct = len(set(strings)) / len(strings)
    return words >= TEXT_MIN_WORDS or (words >= TEXT_MIN_WORDS_IF_DISTINCT and distinct > 0.5)


def _check_names(X, where):
    names = list(X.columns)
    for name in names:
        if not isinstance(name, str):
            raise ValueError(
                f"{where} is a table whose column names must be strings, got {name!r} ({type(name).__name__}); "
                f"name the columns, e.g. {where}.columns = [...]."
            )
    seen = set()
    for name in names:
        if name in seen:
            raise ValueError(f"{where} has two columns named {name!r}; give every column its own name.")
        seen.add(name)
    return names


def _wanted_text_columns(text_columns, names, where):
    if text_columns is None:
        return None
    wanted = [text_columns] if isinstance(text_columns, str) else text_columns
    if not isinstance(wanted, (list, tuple)) or not wanted or not all(isinstance(c, str) for c in wanted):
        raise ValueError(
            f"text_columns must be None (detected), a column name or a non-empty list of column names, got "
            f"{text_columns!r}."
        )
    for name in wanted:
        if name not in names:
            raise ValueError(
                f"text_columns names {name!r}, which is not a column of {where} (its columns: "
                f"{', '.join(map(repr, names))})."
            )
    return list(wanted)


def detect_kinds(X, text_columns=None, where="X"):
    """``{column: kind}`` for a table, kind one of ``"text"``, ``"number"``, ``"bool"``, ``"datetime"``, ``"category"``.

    Numbers, booleans and dates by their dtype. A column of strings (object,
    string or categorical dtype) is text when ``text_columns`` names it; with
    ``text_columns=None`` when its non-empty values average at least 3
    words, or at least 2 words with more than half of them distinct (a
    title, a description, a review: not a label such as ``"General
    Petite"`` repeated over rows). Every other column of strings is a
    category, a column mixing numbers and words included (each value read
    as its text).
    """
    import pandas as pd

    names = _check_names(X, where)
    wanted = _wanted_text_columns(text_columns, names, where)
    kinds = {}
    for name in names:
        column = X[name]
        dtype = column.dtype
        if pd.api.types.is_bool_dtype(dtype):
            kind = BOOL
        elif pd.api.types.is_datetime64_any_dtype(dtype):
            kind = DATETIME
        elif pd.api.types.is_timedelta64_dtype(dtype):
            raise ValueError(
                f"column {name!r} of {where} holds durations (timedelta64); convert it to numbers first, "
                f"e.g. {where}[{name!r}].dt.total_seconds()."
            )
        elif pd.api.types.is_complex_dtype(dtype):
            raise ValueError(f"column {name!r} of {where} holds complex numbers; give real numbers instead.")
        elif pd.api.types.is_numeric_dtype(dtype):
            kind = NUMBER
        else:
            values = column.tolist()
            for i, value in enumerate(values):
                if not (_missing(value) or isinstance(value, (str, numbers.Number))):
                    raise ValueError(
                        f"column {name!r} of {where} holds a {type(value).__name__} in row {i} ({str(value)[:40]!r}); "
                        "a table's cells must be texts, numbers, booleans, dates or categories."
                    )
            if wanted is not None:
                kind = TEXT if name in wanted else CATEGORY
            else:
                kind = TEXT if _looks_like_text(values) else CATEGORY
        if wanted is not None and name in wanted and kind != TEXT:
            raise ValueError(
                f"text_columns names {name!r}, but that column holds {kind}s ({dtype}), not text."
            )
        kinds[name] = kind
    return kinds


def fit_layout(X, text_columns=None, where="X"):
    """The layout of a table, as plain data: its columns, their kinds and the text columns, in order."""
    kinds = detect_kinds(X, text_columns, where)
    texts = [name for name, kind in kinds.items() if kind == TEXT]
    if not texts:
        raise ValueError(
            f"{where} is a table with no text column: none of {', '.join(map(repr, kinds))} holds strings of "
            "several words; name the text columns with text_columns=[...], or use backbone='mlp' for numbers only."
        )
    if all(not text for name in texts for text in column_texts(X, name)):
        raise ValueError(
            f"every text column of {where} ({', '.join(map(repr, texts))}) is empty in every row, so the backbone "
            "would read nothing; fill them or name other columns with text_columns=[...]."
        )
    return {"columns": list(kinds), "kinds": kinds, "text_columns": texts}


def check_table(estimator, X, where="X"):
    """``X`` checked against the table ``estimator`` was fitted on: the same columns, each convertible to its kind."""
    layout = estimator.table_
    columns = layout["columns"]
    if not (hasattr(X, "iloc") and getattr(X, "ndim", 1) == 2):
        raise ValueError(
            f"{type(estimator).__name__} was fitted on a table with columns {', '.join(map(repr, columns))}; "
            f"{where} must be a DataFrame with those columns, got {type(X).__name__}."
        )
    names = _check_names(X, where)
    missing = [c for c in columns if c not in names]
    if missing:
        raise ValueError(
            f"{where} lacks the column(s) {', '.join(map(repr, missing))} that {type(estimator).__name__} was "
            "fitted on; give every column seen in fit (a missing value in a cell is fine)."
        )
    unseen = [c for c in names if c not in columns]
    if unseen:
        raise ValueError(
            f"{where} has the column(s) {', '.join(map(repr, unseen))} that {type(estimator).__name__} did not see in "
            f"fit; drop them (fit saw: {', '.join(map(repr, columns))})."
        )
    return X[columns]


def column_texts(X, name):
    """A text column as a list of ``str``: a missing cell is an empty text, a number its digits."""
    return ["" if _missing(v) else str(v) for v in X[name].tolist()]


def joined_texts(X, layout):
    """Each row's text columns as one text: the value alone for one text column, else
    ``"<column>: <value>"`` lines for its non-empty cells, so the network knows which is which."""
    columns = layout["text_columns"]
    if len(columns) == 1:
        return column_texts(X, columns[0])
    values = [column_texts(X, name) for name in columns]
    return ["\n".join(f"{name}: {text}" for name, text in zip(columns, row) if text.strip())
            for row in zip(*values)]


def _other_columns(X, layout, where):
    """The table's non-text columns as a DataFrame of floats (numbers, booleans, dates in days) and strings (categories)."""
    import pandas as pd

    out = {}
    for name, kind in layout["kinds"].items():
        if kind == TEXT:
            continue
        column = X[name]
        if kind == CATEGORY:
            out[name] = pd.Series([np.nan if _missing(v) else str(v) for v in column.tolist()],
                                  index=column.index, dtype=object)
            continue
        if kind == DATETIME:
            converted = pd.to_datetime(column, errors="coerce", utc=True)
            values = ((converted - pd.Timestamp(0, tz="UTC")) / pd.Timedelta(days=1)).astype(float)
        elif kind == BOOL and (pd.api.types.is_bool_dtype(column.dtype)):
            values = column.astype("float64")
        else:
            values = pd.to_numeric(column, errors="coerce").astype("float64")
        bad = values.isna().to_numpy() & ~column.isna().to_numpy()
        if bad.any():
            row = int(np.flatnonzero(bad)[0])
            raise ValueError(
                f"column {name!r} of {where} held {kind}s in fit, but row {row} holds {column.iloc[row]!r}; "
                "give a value of that kind or leave the cell missing."
            )
        out[name] = values
    return pd.DataFrame(out, index=X.index)


def fit_preprocessor(X, layout, where="X"):
    """The fitted ``ColumnTransformer`` of the other columns, or ``None`` when the table has text only.

    Numbers, booleans and dates: median imputation (with an indicator
    column where fit saw missing cells) then standard scaling. Categories:
    a missing cell is the category ``"missing"``; one-hot columns for the
    ``MAX_CATEGORIES - 1`` most frequent values, and one for the rest
    and for values first seen at predict time.
    """
    from sklearn.compose import ColumnTransformer
    from sklearn.impute import SimpleImputer
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    kinds = layout["kinds"]
    numeric = [n for n, k in kinds.items() if k in (NUMBER, BOOL, DATETIME)]
    categories = [n for n, k in kinds.items() if k == CATEGORY]
    if not numeric and not categories:
        return None
    transformers = []
    if numeric:
        transformers.append(("numbers", make_pipeline(
            SimpleImputer(strategy="median", add_indicator=True, keep_empty_features=True), StandardScaler()),
            numeric))
    if categories:
        transformers.append(("categories", make_pipeline(
            SimpleImputer(strategy="constant", fill_value="missing"),
            OneHotEncoder(handle_unknown="infrequent_if_exist", max_categories=MAX_CATEGORIES, sparse_output=False,
                          dtype=np.float32)),
            categories))
    preprocessor = ColumnTransformer(transformers, sparse_threshold=0, verbose_feature_names_out=False)
    return preprocessor.fit(_other_columns(X, layout, where))


def table_features(X, layout, preprocessor, where="X"):
    """The other columns of ``X`` preprocessed: float32 ``(n, t)``, ``t = 0`` without a preprocessor."""
    if preprocessor is None:
        return np.zeros((len(X), 0), dtype=np.float32)
    return np.ascontiguousarray(preprocessor.transform(_other_columns(X, layout, where)), dtype=np.float32)


def table_feature_names(preprocessor):
    """Names of the preprocessed other columns (``Age``, ``Department Name_Tops``, ...)."""
    if preprocessor is None:
        return []
    return [str(n) for n in preprocessor.get_feature_names_out()]
