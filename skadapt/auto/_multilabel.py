"""Multi-label cuts chosen on validation rows by the Auto search (the head that keeps one for sklearn's ways:
``skadapt.estimators.ThresholdedOneVsRest``)."""

import numpy as np

# The cuts tried: steps of 0.05 are finer than the validation noise of a micro-F1 on a few hundred rows.
THRESHOLD_GRID = np.round(np.arange(0.05, 0.951, 0.05), 2)


def choose_threshold(y_true, proba, score):
    """The cut of ``THRESHOLD_GRID`` with the best ``score(y_true, indicator)``; ties go to the cut nearest 0.5
    (the estimators' default), so a model that does not need another keeps it."""
    proba = np.asarray(proba)
    best, best_score = 0.5, None
    for cut in sorted(THRESHOLD_GRID, key=lambda c: abs(c - 0.5)):
        value = score(y_true, (proba >= cut).astype(int))
        if best_score is None or value > best_score:
            best, best_score = float(cut), value
    return best


def set_threshold(model, threshold):
    """Gives ``model`` (a skadapt classifier, or a Pipeline ending in a ``ThresholdedOneVsRest``) the cut; a
    model without one (``None`` returned) keeps its own."""
    last = model.steps[-1][1] if hasattr(model, "steps") else model
    if "threshold" not in last.get_params(deep=False):
        return None
    last.set_params(threshold=threshold)
    return threshold
