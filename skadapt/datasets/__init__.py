"""Small text datasets bundled with skadapt.

In the manner of :func:`sklearn.datasets.load_iris`, each loader returns a
:class:`~sklearn.utils.Bunch` (or ``(data, target)`` with ``return_X_y=True``)
read from files shipped inside the package, so nothing is downloaded.

===================  ==============================  ==================  ================
name                 task                            target              splits
===================  ==============================  ==================  ================
``sst2``             movie-review sentiment (SST-2)  negative, positive  train, dev, test
``trec``             question type (TREC, coarse)    6 answer types      train, test
``cr``               product-review sentiment (CR)   negative, positive  train, test
``review_polarity``  whole movie reviews (PL04)      negative, positive  train, test
``emobank``          sentence emotion (EmoBank)      V, A, D in [1, 5]   train, dev, test
``goemotions``       comment emotions (GoEmotions)   1-5 of 28 labels    train, dev, test
``womens_clothing``  clothing reviews, a table       rating 1-5, or 0/1  train, test
===================  ==============================  ==================  ================

The ``task`` of each Bunch says what ``target`` holds: one class per text
(``"classification"``: sst2, trec, cr, review_polarity), three numbers per
text, its valence, arousal and dominance (``"regression"``: emobank), or a 0/1
indicator matrix of 27 emotions and neutral (``"multilabel"``: goemotions).

``review_polarity`` holds whole movie reviews of about 750 words each, far
longer than the single sentences or comments of the other sets: most of them
exceed the 256 or 512 tokens that a sentence encoder reads.

``womens_clothing`` is a table, not a list of texts: its ``data`` is always a
pandas DataFrame of two text columns (``Title``, ``Review Text``), a number
(``Age``) and three categories (division, department, class of the product).
Its target is the star rating (``"regression"``, the default) or whether the
reviewer recommends the product (``"classification"``, 0/1), chosen with
``load_womens_clothing(target=...)``; the other target is never among the
columns.
"""

from ._base import (
    DATASET_SPLITS,
    list_datasets,
    load_cr,
    load_dataset,
    load_emobank,
    load_goemotions,
    load_review_polarity,
    load_sst2,
    load_trec,
    load_womens_clothing,
)

__all__ = [
    "DATASET_SPLITS",
    "list_datasets",
    "load_cr",
    "load_dataset",
    "load_emobank",
    "load_goemotions",
    "load_review_polarity",
    "load_sst2",
    "load_trec",
    "load_womens_clothing",
]
