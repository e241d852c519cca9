"""Exporting a trained backbone: a fitted estimator's job; reading an export is the backbones' (``exported:``)."""

from sklearn.utils.validation import check_is_fitted


def export_backbone(estimator, folder, *, overwrite=False):
    """Save the trained backbone of a fitted classifier or regressor as a pretrained backbone.

    The backbone (without the classification head) is written to ``folder``
    as safetensors weights plus ``skadapt-backbone.json`` (the registered
    backbone, its options and the preprocessing it learned), never as a
    pickle. ``PretrainedFeaturizer``, ``FineTunedClassifier`` and
    ``ScratchClassifier`` then use it as ``backbone="exported:FOLDER"``.

    Parameters
    ----------
    estimator : ScratchClassifier, FineTunedClassifier, ScratchRegressor or FineTunedRegressor, or a Pipeline ending in one
        Fitted.
    folder : str or path
        Created; it must not exist yet or be empty, unless ``overwrite``.
    overwrite : bool, default=False
        Replace an existing export in ``folder``.

    Returns
    -------
    str
        The backbone name to use, ``"exported:<absolute folder>"``.

    Examples
    --------
    >>> import tempfile, numpy as np
    >>> from skadapt import ScratchClassifier, PretrainedFeaturizer, export_backbone
    >>> X = np.random.default_rng(0).random((40, 8, 8))
    >>> y = np.arange(40) % 2
    >>> clf = ScratchClassifier(backbone="cnn", max_epochs=1, random_state=0).fit(X, y)
    >>> name = export_backbone(clf, tempfile.mkdtemp() + "/digits-cnn")
    >>> PretrainedFeaturizer(name).fit(X).transform(X).shape
    (40, 64)
    """
    from ..backbones._exported import write_backbone
    from .._files.staging import check_target_folder, staged
    from ._base import _BackboneEstimator

    model = estimator[-1] if hasattr(estimator, "steps") else estimator
    if not isinstance(model, _BackboneEstimator):
        raise ValueError(
            f"estimator must be a fitted Scratch- or FineTuned- Classifier or Regressor (or a Pipeline ending in "
            f"one), got {type(model).__name__}."
        )
    check_is_fitted(model)
    folder = check_target_folder(folder, overwrite)
    trained_by = {
        "estimator": type(model).__name__,
        "backbone": model.backbone,
        **({"classes": [str(c) for c in model.classes_]} if hasattr(model, "classes_")
           else {"n_outputs": int(model.n_outputs_)}),
    }
    with staged(folder) as staging:
        write_backbone(model.backbone_, model._trained_backbone(), staging, model.backbone, trained_by)
    return f"exported:{folder}"
