"""Tables with text: a DataFrame's text columns read by the backbone, its other columns preprocessed beside them.

An estimator given a pandas DataFrame of several columns (with a text
backbone) reads it as a table:

* **text columns** (``text_columns``, or detected by :func:`detect_kinds`'s
  rule) go through the backbone: :class:`~skadapt.PretrainedFeaturizer`
  encodes each one apart; the trained estimators read them joined into one
  text (``"<column>: <value>"`` lines), so a row is one sequence and long
  texts, batching and the embedding cache work as for a list of texts;
* **other columns** (numbers, booleans, dates, categories) go through a
  fitted scikit-learn ``ColumnTransformer`` (:func:`fit_preprocessor`) and
  are concatenated with the text features, under the head;
  :class:`OtherColumns` gives them alone, as an sklearn transformer.

A list of texts and a one-column DataFrame never come here: they keep the
plain text path exactly.
"""

from ._columns import OtherColumns
from ._layout import (
    TableItem,
    attach,
    check_table,
    column_texts,
    detect_kinds,
    fit_layout,
    fit_preprocessor,
    is_table,
    joined_texts,
    table_features,
    table_feature_names,
)

__all__ = [
    "OtherColumns",
    "TableItem",
    "attach",
    "check_table",
    "column_texts",
    "detect_kinds",
    "fit_layout",
    "fit_preprocessor",
    "is_table",
    "joined_texts",
    "table_features",
    "table_feature_names",
]
