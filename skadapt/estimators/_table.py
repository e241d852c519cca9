"""The estimators' ``text_columns`` parameter and fitted table state (the table logic is in ``skadapt.tables``)."""

import numpy as np

from .. import tables

TABLE_ATTRIBUTES = ("table_", "table_preprocessor_", "feature_names_in_")


def fit(estimator, X, input_kind):
    """Fitted table state ``{attribute: value}`` for ``X``: a layout and preprocessing for a table,
    ``table_=None`` for anything else (which takes the plain path)."""
    if not tables.is_table(X, input_kind):
        return {"table_": None, "table_preprocessor_": None}
    layout = tables.fit_layout(X, estimator.text_columns)
    return {"table_": layout, "table_preprocessor_": tables.fit_preprocessor(X, layout),
            "feature_names_in_": np.asarray(layout["columns"], dtype=object),
            "n_features_in_": len(layout["columns"])}


def set_state(estimator, state):
    """Set the fitted table attributes, dropping those of an earlier fit on another kind of ``X``."""
    for name in TABLE_ATTRIBUTES:
        estimator.__dict__.pop(name, None)
    vars(estimator).update(state)


def read(X, state, where="X"):
    """``(texts joined per row, other columns preprocessed)`` of a table, for the trained estimators."""
    layout, preprocessor = state["table_"], state["table_preprocessor_"]
    return tables.joined_texts(X, layout), tables.table_features(X, layout, preprocessor, where)


def fitted(estimator):
    """Whether ``estimator`` was fitted on a table (models fitted before tables were not)."""
    return getattr(estimator, "table_", None) is not None


def state_of(estimator):
    return {"table_": estimator.table_, "table_preprocessor_": estimator.table_preprocessor_}


def n_features(state):
    """Width of the preprocessed other columns."""
    preprocessor = state["table_preprocessor_"]
    return 0 if preprocessor is None else len(tables.table_feature_names(preprocessor))
