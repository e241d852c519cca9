"""``OtherColumns``: a table's columns other than its text, preprocessed as the estimators do, for any sklearn model."""

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import check_is_fitted

from ._layout import check_table, fit_layout, fit_preprocessor, table_feature_names, table_features


class OtherColumns(TransformerMixin, BaseEstimator):
    """The numbers, booleans, dates and categories of a table with text, as float features; its text columns dropped.

    The same fitted preprocessing that the estimators put beside the text
    (median imputation with missing-value indicators and scaling for
    numbers, booleans and dates; one-hot columns for the most frequent
    categories, one column for the rest and for categories first seen at
    predict time), as a transformer: the "other columns alone" baseline
    under any sklearn model, or one branch of a ``ColumnTransformer``.

    Parameters
    ----------
    text_columns : list of str, default=None
        The columns to drop as text; ``None`` detects them by
        :func:`~skadapt.tables.detect_kinds`'s rule.

    Attributes
    ----------
    table_ : dict
        The columns seen in ``fit``, their kinds and the text columns.
    table_preprocessor_ : sklearn.compose.ColumnTransformer or None
        The fitted preprocessing of the other columns.
    feature_names_in_ : ndarray of str
        The columns seen in ``fit``; ``transform`` checks them.

    Examples
    --------
    >>> import pandas as pd
    >>> from sklearn.ensemble import HistGradientBoostingClassifier
    >>> from sklearn.pipeline import make_pipeline
    >>> from skadapt.tables import OtherColumns
    >>> X = pd.DataFrame({"review": ["fits well and looks great", "too small, sent it back"] * 4,
    ...                   "age": [34, 51, 28, 45, 39, 62, 23, 57], "size": ["M", "S"] * 4})
    >>> OtherColumns().fit(X).get_feature_names_out().tolist()
    ['age', 'size_M', 'size_S']
    >>> model = make_pipeline(OtherColumns(), HistGradientBoostingClassifier()).fit(X, [1, 0] * 4)
    """

    def __init__(self, text_columns=None):
        self.text_columns = text_columns

    def fit(self, X, y=None):
        if not (hasattr(X, "iloc") and getattr(X, "ndim", 1) == 2):
            raise ValueError(f"X must be a pandas DataFrame (a table with text), got {type(X).__name__}.")
        self.table_ = fit_layout(X, self.text_columns)
        self.table_preprocessor_ = fit_preprocessor(X, self.table_)
        if self.table_preprocessor_ is None:
            raise ValueError(
                f"X has only text columns ({', '.join(map(repr, self.table_['text_columns']))}), so OtherColumns "
                "has nothing to give; add numeric or categorical columns, or name fewer text_columns."
            )
        self.feature_names_in_ = np.asarray(self.table_["columns"], dtype=object)
        self.n_features_in_ = len(self.feature_names_in_)
        return self

    def transform(self, X):
        check_is_fitted(self, "table_")
        X = check_table(self, X)
        return table_features(X, self.table_, self.table_preprocessor_)

    def get_feature_names_out(self, input_features=None):
        check_is_fitted(self, "table_")
        return np.asarray(table_feature_names(self.table_preprocessor_), dtype=object)
