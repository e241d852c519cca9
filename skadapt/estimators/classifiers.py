"""The public classifiers: :class:`FineTunedClassifier` and :class:`ScratchClassifier`."""

from ._base import FINE_TUNING_CONSTRAINTS, SCRATCH_CONSTRAINTS
from ._classifier import _BackboneClassifier
from ._docstrings import CONTRASTIVE_PARAMS, CLASSIFIER_ATTRIBUTES, CLASSIFIER_PARAMS, LONG_TEXT_PARAMS, TRAINING_PARAMS


class FineTunedClassifier(_BackboneClassifier):
    __doc__ = """Fine-tuning: a pretrained backbone plus a new head, trained further.

    ``y`` is a vector of labels (one per row), or a 0/1 indicator matrix
    ``(n_samples, n_labels)`` for multi-label data (what
    ``sklearn.preprocessing.MultiLabelBinarizer`` gives): then each label
    gets its own sigmoid output, trained with binary cross-entropy, and
    ``predict`` returns the indicator matrix (see ``threshold``).

    Training follows the LP-FT recipe: the head is first fitted as a logistic
    regression on the frozen backbone's features (exactly what
    ``PretrainedFeaturizer`` + ``LogisticRegression`` would learn), then the
    backbone and head are trained together. Starting from a good head keeps
    the pretrained features from being damaged early on, so that with few
    rows fine-tuning does not fall below the frozen features.

    Parameters
    ----------
    backbone : str, default="minilm"
        A registered backbone with pretrained weights (``skadapt.list_backbones()``).
    head_init : {"linear_probe", "random"}, default="linear_probe"
        ``"linear_probe"`` starts the head from a logistic regression (C=1)
        on the frozen features (one per label for multi-label ``y``);
        ``"random"`` starts it at random.
""" + CONTRASTIVE_PARAMS + CLASSIFIER_PARAMS + TRAINING_PARAMS + LONG_TEXT_PARAMS + CLASSIFIER_ATTRIBUTES + """
    Examples
    --------
    >>> from skadapt import FineTunedClassifier
    >>> from skadapt.datasets import load_sst2
    >>> X, y = load_sst2(return_X_y=True)
    >>> clf = FineTunedClassifier(max_epochs=1, random_state=0)
    >>> clf.fit(X[:64], y[:64]).predict(["a gripping, beautiful film"])  # doctest: +SKIP
    array(['positive'], dtype=object)

    Several labels per text, weighted so that rare ones are predicted too:

    >>> from skadapt.datasets import load_goemotions
    >>> X, Y = load_goemotions(return_X_y=True)
    >>> clf = FineTunedClassifier(class_weight="balanced", threshold=0.8, max_epochs=1)
    >>> clf.fit(X[:256], Y[:256]).predict(["thank you so much!"]).shape  # doctest: +SKIP
    (1, 28)
    """

    _pretrained = True
    _parameter_constraints: dict = {**_BackboneClassifier._parameter_constraints, **FINE_TUNING_CONSTRAINTS}

    def __init__(
        self,
        backbone="minilm",
        *,
        head_init="linear_probe",
        contrastive_steps="auto",
        contrastive_lr="auto",
        class_weight=None,
        threshold=0.5,
        lr=5e-5,
        max_epochs=3,
        batch_size=32,
        weight_decay=0.01,
        warmup=0.1,
        frozen_groups=0,
        lr_decay=1.0,
        head_dropout=0.1,
        early_stopping=False,
        validation_fraction=0.1,
        n_iter_no_change=2,
        backbone_kwargs=None,
        text_columns=None,
        long_texts="chunk",
        chunk_overlap=0,
        max_chunks=32,
        chunk_pooling="mean",
        warm_start=False,
        callbacks=None,
        device="auto",
        precision="fp32",
        random_state=None,
        verbose=0,
        **skorch_params,
    ):
        self.backbone = backbone
        self.head_init = head_init
        self.contrastive_steps = contrastive_steps
        self.contrastive_lr = contrastive_lr
        self.class_weight = class_weight
        self.threshold = threshold
        self.lr = lr
        self.max_epochs = max_epochs
        self.batch_size = batch_size
        self.weight_decay = weight_decay
        self.warmup = warmup
        self.frozen_groups = frozen_groups
        self.lr_decay = lr_decay
        self.head_dropout = head_dropout
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.n_iter_no_change = n_iter_no_change
        self.backbone_kwargs = backbone_kwargs
        self.text_columns = text_columns
        self.long_texts = long_texts
        self.chunk_overlap = chunk_overlap
        self.max_chunks = max_chunks
        self.chunk_pooling = chunk_pooling
        self.warm_start = warm_start
        self.callbacks = callbacks
        self.device = device
        self.precision = precision
        self.random_state = random_state
        self.verbose = verbose
        self._set_skorch_params(skorch_params)


class ScratchClassifier(_BackboneClassifier):
    __doc__ = """Learning from scratch: a backbone with random initial weights, trained on your data alone.

    The same contract as :class:`FineTunedClassifier` (a label vector, or a
    0/1 indicator matrix for multi-label data); ``backbone="minilm"``
    trains the MiniLM architecture from random weights, ``"textcnn"`` (the
    default) is Kim's (2014) CNN, ``"mlp"`` works on numeric matrices.

    Parameters
    ----------
    backbone : str, default="textcnn"
        Any registered backbone (``skadapt.list_backbones()``).
""" + CLASSIFIER_PARAMS + TRAINING_PARAMS + LONG_TEXT_PARAMS + CLASSIFIER_ATTRIBUTES + """
    Examples
    --------
    >>> from skadapt import ScratchClassifier
    >>> from sklearn.datasets import load_iris
    >>> X, y = load_iris(return_X_y=True)
    >>> clf = ScratchClassifier(backbone="mlp", lr=1e-2, max_epochs=30, random_state=0).fit(X, y)
    >>> bool(clf.score(X, y) > 0.9)
    True
    """

    _pretrained = False
    _parameter_constraints: dict = {**_BackboneClassifier._parameter_constraints, **SCRATCH_CONSTRAINTS}

    def __init__(
        self,
        backbone="textcnn",
        *,
        class_weight=None,
        threshold=0.5,
        lr="auto",
        max_epochs=10,
        batch_size=50,
        weight_decay=0.0,
        warmup=0.0,
        frozen_groups=0,
        lr_decay=1.0,
        head_dropout=0.5,
        early_stopping=False,
        validation_fraction=0.1,
        n_iter_no_change=2,
        backbone_kwargs=None,
        text_columns=None,
        long_texts="chunk",
        chunk_overlap=0,
        max_chunks=32,
        chunk_pooling="mean",
        warm_start=False,
        callbacks=None,
        device="auto",
        precision="fp32",
        random_state=None,
        verbose=0,
        **skorch_params,
    ):
        self.backbone = backbone
        self.class_weight = class_weight
        self.threshold = threshold
        self.lr = lr
        self.max_epochs = max_epochs
        self.batch_size = batch_size
        self.weight_decay = weight_decay
        self.warmup = warmup
        self.frozen_groups = frozen_groups
        self.lr_decay = lr_decay
        self.head_dropout = head_dropout
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.n_iter_no_change = n_iter_no_change
        self.backbone_kwargs = backbone_kwargs
        self.text_columns = text_columns
        self.long_texts = long_texts
        self.chunk_overlap = chunk_overlap
        self.max_chunks = max_chunks
        self.chunk_pooling = chunk_pooling
        self.warm_start = warm_start
        self.callbacks = callbacks
        self.device = device
        self.precision = precision
        self.random_state = random_state
        self.verbose = verbose
        self._set_skorch_params(skorch_params)
