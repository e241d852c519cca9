"""The contrastive body stage: SetFit's idea, with every pair of a batch used and no pair list.

SetFit (Tunstall et al., 2022) trains the body on sentence pairs before the
head: the cosine of two embeddings is pulled towards 1 for rows of the same
label and towards 0 for different labels. It lists its pairs up front
(``20 x 2 x n`` of them) and encodes two sentences per pair. Here each step
draws a batch of rows and scores *all* pairs inside it against a target
similarity computed from ``y`` on the fly, so that

* memory holds only the row indices and one batch: O(n), never a pair list,
* one forward pass over ``B`` rows yields ``B (B - 1) / 2`` pairs, where
  SetFit's pass over ``B`` sentences yields ``B / 2``.

Written here rather than taken from sentence-transformers: its pair losses
(``CosineSimilarityLoss``, SetFit's) take explicit pairs, and its in-batch
losses either want anchor/positive columns (MultipleNegativesRanking) or
take single labels only and run a ``SentenceTransformer`` themselves (the
batch triplet losses), where any backbone's module and label sets or
regression targets must work here. The loop is skorch's.
"""

import math

import numpy as np
import torch
from torch import nn

# Batches of this many rows: 32 rows give 496 pairs per step; fewer rows than
# this train on all of them at every step.
BATCH_ROWS = 32
# Below this many training rows per label, contrastive_steps="auto" runs the
# stage: it is where the frozen features leave the most to gain (SetFit's
# 8 and 64 rows per class), and on full data it would only add time.
AUTO_MAX_ROWS_PER_CLASS = 100


def auto_steps(n_rows, batch_rows):
    """Steps of the stage for ``n_rows`` training rows: about ten passes over
    the rows, at least 16 steps and at most 120 (a minute or two on a CPU).

    Longer stages were measured and gained nothing for their time (test
    accuracy, mean of subset seeds 0-4, one core): 64 TREC rows per class,
    240 steps 0.932 against 0.931 for these 120, in twice the time; 8 SST-2
    rows per class, 24 and 32 steps 0.608 and 0.606 against 0.607 for 16.
    """
    return int(min(120, max(16, math.ceil(10 * n_rows / batch_rows))))


def auto_lr(steps):
    """The stage's peak learning rate when ``contrastive_lr="auto"``: 1e-4 for
    a short stage (up to 20 steps: a few dozen rows), 5e-5 for a longer one.

    Measured (test accuracy, mean over subsets): with 8 TREC rows per class
    (three subsets), 20 steps at 1e-4 reached 0.878 where 5e-5 reached 0.833;
    with 64 SST-2 rows per class (two), 40 steps at 5e-5 reached 0.768 where
    1e-4 gave 0.754; with 64 TREC rows per class (five), 120 steps at 5e-5
    reached 0.931 where 40 steps reached 0.925, and 120 steps at 1e-4 0.935
    (still short of SetFit's 0.939, and the opposite of SST-2's preference).
    """
    return 1e-4 if steps <= 20 else 5e-5


def target_similarity(y, kind):
    """The similarity each pair of the batch should have, ``(B, B)`` in [0, 1].

    ``kind`` "labels": 1 for the same label, else 0; "label_sets" (multi-label
    indicator rows): the Jaccard index of the two label sets (1 for two empty
    sets); "values" (standardised regression targets): ``exp(-d**2 / k)``
    for the Euclidean distance ``d`` over ``k`` targets, so equal targets give
    1 and two rows a typical distance apart (``d**2 = 2k``) about 0.14.
    """
    if kind == "labels":
        return (y[:, None] == y[None, :]).float()
    y = y.float().reshape(len(y), -1)
    if kind == "label_sets":
        shared = y @ y.T
        either = y.sum(1)[:, None] + y.sum(1)[None, :] - shared
        return torch.where(either > 0, shared / either.clamp(min=1), torch.ones_like(shared))
    return torch.exp(-torch.cdist(y, y).pow(2) / y.shape[1])


class PairSimilarityLoss(nn.Module):
    """Squared error between the cosine of every pair of embeddings in the batch
    and the pair's target similarity (SetFit's ``CosineSimilarityLoss``).

    For labels, pairs of the same label and pairs of different labels weigh
    half each, as SetFit's balanced pair sampling does; otherwise every pair
    weighs the same.
    """

    def __init__(self, kind):
        super().__init__()
        self.kind = kind

    def forward(self, embeddings, y):
        normalised = nn.functional.normalize(embeddings.float(), dim=1)
        cosine = normalised @ normalised.T
        target = target_similarity(y, self.kind)
        upper = torch.triu(torch.ones_like(cosine, dtype=torch.bool), diagonal=1)
        errors = (cosine - target)[upper].pow(2)
        if self.kind != "labels":
            return errors.mean()
        same = target[upper] > 0.5
        halves = [errors[mask].mean() for mask in (same, ~same) if mask.any()]
        return sum(halves) / len(halves)


class ContrastiveBatches(torch.utils.data.Sampler):
    """``steps`` batches of ``batch_rows`` distinct rows each.

    For labels each row is drawn with probability inversely proportional to
    its class's size, so that every batch holds pairs of the same and of
    different classes even when a class is rare; otherwise uniformly. Only
    the weights (one per row) and the current batch are held: O(n) memory.
    Draws from torch's global generator, which ``random_state`` seeds.
    """

    def __init__(self, weights, batch_rows, steps):
        self.weights = torch.as_tensor(weights, dtype=torch.float64)
        # rows of weight 0 (sample_weight) are never drawn, and a batch holds distinct rows
        self.batch_rows = min(int(batch_rows), int((self.weights > 0).sum()))
        self.steps = int(steps)

    def __len__(self):
        return self.steps

    def __iter__(self):
        for _ in range(self.steps):
            yield torch.multinomial(self.weights, self.batch_rows, replacement=False).tolist()


def row_weights(y, kind):
    """Sampling weight per row (see :class:`ContrastiveBatches`)."""
    if kind != "labels":
        return np.ones(len(y))
    _, inverse, counts = np.unique(y, return_inverse=True, return_counts=True)
    return 1.0 / counts[inverse]


def rows_per_batch(items):
    """Rows per step: ``BATCH_ROWS``, or fewer when long texts are read as several chunks,
    so that a step holds about ``BATCH_ROWS`` sequences on average (bounded memory)."""
    from .._long_texts import n_sequences

    mean = np.mean([n_sequences(item) for item in items]) if len(items) else 1.0
    return max(2, int(BATCH_ROWS // mean))


def train_body(module, items, y, kind, *, steps, lr, weight_decay, device, dtype, collate, progress,
               sample_weight=None):
    """Run the contrastive stage on ``module`` (the backbone, trained in place); rows are drawn
    in proportion to ``sample_weight`` (times the class balancing of :func:`row_weights`)."""
    from skorch.callbacks import LRScheduler, ProgressBar
    from skorch.dataset import Dataset

    from ._network import MixedPrecisionNet, WarmupLinearDecay, adamw_options

    weights = row_weights(y, kind) if sample_weight is None else row_weights(y, kind) * sample_weight
    sampler = ContrastiveBatches(weights, rows_per_batch(items), steps)
    callbacks = [("lr_schedule", LRScheduler(
        policy=torch.optim.lr_scheduler.LambdaLR,
        lr_lambda=WarmupLinearDecay(steps, round(0.1 * steps)),
        step_every="batch",
    ))]
    if progress:
        callbacks.append(("progress_bar", ProgressBar()))
    net = MixedPrecisionNet(
        module=module,  # the backbone alone: the stage trains the body, the head comes after
        criterion=PairSimilarityLoss,
        criterion__kind=kind,
        **adamw_options(weight_decay, device),
        lr=lr,
        max_epochs=1,  # one "epoch" is the sampler's ``steps`` batches
        batch_size=sampler.batch_rows,
        train_split=None,
        iterator_train=_contrastive_loader,
        iterator_train__sampler=sampler,
        iterator_train__collate_fn=collate,
        callbacks=callbacks,
        device=device,
        verbose=0,
    )
    net.precision_dtype = dtype
    net.fit(Dataset(items, y), None)
    # The stage's AdamW moments and last gradients (three copies of the
    # backbone's size) would otherwise live on beside the next stage's.
    net.optimizer_.state.clear()
    net.optimizer_.zero_grad(set_to_none=True)


def _contrastive_loader(dataset, sampler, batch_size=None, shuffle=None, **kwargs):
    """skorch ``iterator_train``: a ``DataLoader`` over the stage's batch sampler."""
    return torch.utils.data.DataLoader(dataset, batch_sampler=sampler, **kwargs)
