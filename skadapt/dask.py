"""A model search on a Dask cluster that survives losing a worker, whatever the type of ``X`` and ``y``.

joblib's Dask backend sends every array argument over 1 kB (a numpy ``y``,
each fold's indices) to *one* worker and lets the others fetch it from
there; when that worker dies, the search fails ("already forgotten"), though
Dask reruns the lost fits themselves. Broadcasting those arrays to every
worker up front (joblib's ``scatter=``), with Dask's active memory manager
paused so that it does not reduce them to one copy again, leaves no single
copy to lose.
"""

import contextlib

import numpy as np


@contextlib.contextmanager
def resilient_search(X, y=None, cv=5, groups=None):
    """Run a search's fits on Dask with its data and folds on every worker.

    Inside the block, joblib's ``"dask"`` backend is active with ``X``, ``y``
    and every fold's indices broadcast to all workers, and the cluster's
    active memory manager is paused (it would drop those copies down to one);
    the block receives the folds to pass as ``cv=``. They are the folds ``GridSearchCV`` or
    ``cross_validate`` would make themselves (``StratifiedKFold`` for a label
    vector, ``KFold`` otherwise, for an integer ``cv``), so the scores are
    those of a search without Dask.

    Parameters
    ----------
    X, y : the search's data
    cv : int, cross-validation generator or iterable, default=5
    groups : array-like, default=None
        For group splitters.

    Yields
    ------
    list of (train, test) index arrays

    Examples
    --------
    >>> from sklearn.model_selection import GridSearchCV  # doctest: +SKIP
    >>> with resilient_search(X, y, cv=3) as folds:  # doctest: +SKIP
    ...     search = GridSearchCV(ScratchClassifier(), {"lr": [1e-3, 1e-2]}, cv=folds).fit(X, y)
    """
    import joblib
    from distributed import get_client
    from sklearn.model_selection import check_cv
    from sklearn.utils.multiclass import type_of_target

    labels = y is not None and type_of_target(y) in ("binary", "multiclass")
    folds = list(check_cv(cv, y, classifier=labels).split(X, y, groups))
    arrays = [a for a in (X, y) if a is not None and hasattr(a, "shape")]  # lists travel inside each task anyway
    scatter = [*arrays, *(np.asarray(part) for fold in folds for part in fold)]
    folds = [(scatter[len(arrays) + 2 * i], scatter[len(arrays) + 2 * i + 1]) for i in range(len(folds))]
    client = get_client()
    # The active memory manager reduces "extra" copies of data to one every two
    # seconds (a kill 5 s into a search then lost the only copy): paused for the search.
    pausing = client.amm.running()
    if pausing:
        client.amm.stop()
    try:
        with joblib.parallel_backend("dask", scatter=scatter):
            yield folds
    finally:
        if pausing:
            client.amm.start()
