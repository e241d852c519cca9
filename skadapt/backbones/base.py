"""The contract every backbone recipe fulfils."""


class Backbone:
    """A backbone recipe: preprocessing, an ``nn.Module`` and its layer groups.

    The estimators use a backbone in this order, once per ``fit``::

        backbone = spec.create(**backbone_kwargs)   # options only, nothing loaded
        backbone.fit(X)                      # learn preprocessing (vocabulary, width)
        module = backbone.build(pretrained=True)   # weights loaded or random
        items = backbone.prepare(X)          # tokenise once, per row
        batch = backbone.collate(items[:32]) # pad per batch -> dict of tensors
        features = module(**batch)           # (batch, backbone.out_features)

    Subclasses set the class attributes and implement :meth:`build`,
    :meth:`prepare` and :meth:`collate`; :meth:`fit` and
    :meth:`layer_groups` have defaults. Backbone objects are pickled with a
    fitted estimator, so keep them free of open files and live modules.

    Attributes
    ----------
    input_kind : {"text", "array", "image"}
        What ``X`` the backbone accepts.
    has_pretrained : bool
        Whether ``build(pretrained=True)`` is possible.
    out_features : int
        Width of the features the module outputs; set by :meth:`build`.
    """

    input_kind = "text"
    has_pretrained = False
    out_features = None

    def fit(self, X):
        """Learn preprocessing state from the training inputs; returns self."""
        return self

    def build(self, *, pretrained):
        """Return the ``nn.Module``; ``forward(**batch)`` returns ``(n, out_features)``."""
        raise NotImplementedError

    def prepare(self, X):
        """Turn validated ``X`` into a sequence of per-row items (tokenise once)."""
        raise NotImplementedError

    def collate(self, items):
        """Turn a list of items from :meth:`prepare` into a dict of tensors."""
        raise NotImplementedError

    def layer_groups(self, module):
        """Parameter-name prefixes of ``module``, grouped from input to output.

        Returns a list of ``(group_name, [prefix, ...])``. Freezing the bottom
        groups and layer-wise learning rates work on these groups. The default
        is one group per top-level child that has parameters.
        """
        return [
            (name, [name + "."])
            for name, child in module.named_children()
            if any(True for _ in child.parameters())
        ]

    def __repr__(self):
        return f"{type(self).__name__}()"


def pad_batch(sequences, pad_value=0, min_length=1):
    """Pad a list of 1-D integer arrays to the longest one (at least ``min_length``).

    Returns ``(ids, mask)`` as ``int64`` tensors of shape ``(n, length)``;
    ``mask`` is 1 on real tokens. Padding per batch rather than to a global
    maximum keeps short batches cheap.
    """
    import torch

    length = max([min_length, *(len(s) for s in sequences)])
    ids = torch.full((len(sequences), length), pad_value, dtype=torch.long)
    mask = torch.zeros((len(sequences), length), dtype=torch.long)
    for row, seq in enumerate(sequences):
        ids[row, : len(seq)] = torch.as_tensor(seq, dtype=torch.long)
        mask[row, : len(seq)] = 1
    return ids, mask
