"""Small text-classification datasets bundled with skadapt.

In the manner of :func:`sklearn.datasets.load_iris`, each loader returns a
:class:`~sklearn.utils.Bunch` (or ``(data, target)`` with ``return_X_y=True``)
read from files shipped inside the package, so nothing is downloaded.

========  =================================  ====================  ================
name      task                               classes               splits
========  =================================  ====================  ================
``sst2``  movie-review sentiment (SST-2)     negative, positive    train, dev, test
``trec``  question type (TREC, coarse)       6 answer types        train, test
``cr``    product-review sentiment (CR)      negative, positive    train, test
========  =================================  ====================  ================
"""

from ._base import (
    DATASET_SPLITS,
    list_datasets,
    load_cr,
    load_dataset,
    load_sst2,
    load_trec,
)

__all__ = [
    "DATASET_SPLITS",
    "list_datasets",
    "load_cr",
    "load_dataset",
    "load_sst2",
    "load_trec",
]
