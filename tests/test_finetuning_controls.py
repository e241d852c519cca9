"""Freezing, layer-wise learning rates, the LP-FT head, early stopping, schedules, callbacks."""

import numpy as np
import pytest
import torch
from skorch.callbacks import Callback
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline

from skadapt import FineTunedClassifier, PretrainedFeaturizer, ScratchClassifier
from skadapt.estimators._network import WarmupLinearDecay


@pytest.fixture
def make(tiny_sbert):
    def make(**kw):
        params = dict(max_epochs=1, batch_size=8, lr=1e-3, device="cpu", random_state=0)
        params.update(kw)
        return FineTunedClassifier(tiny_sbert, **params)

    return make


def _weights(est):
    return {n: p.detach().clone() for n, p in est.net_.module_.named_parameters()}


def _pretrained(tiny_sbert):
    module = PretrainedFeaturizer(tiny_sbert, device="cpu").fit(["x"]).module_
    return {f"backbone.{n}": p for n, p in module.named_parameters()}


def _changed(before, after, prefix):
    return [n for n in after if n.startswith(prefix) and not torch.equal(before[n], after[n])]


def test_frozen_all_trains_the_head_only(make, texts, tiny_sbert):
    est = make(frozen_groups="all").fit(*texts)
    start, end = _pretrained(tiny_sbert), _weights(est)
    assert not _changed(start, end, "backbone.")
    assert est.net_.module_.head[-1].weight.requires_grad


def test_frozen_bottom_groups_stay_unchanged(make, texts, tiny_sbert):
    est = make(frozen_groups=2, head_init="random").fit(*texts)  # embeddings and layer 0
    start, end = _pretrained(tiny_sbert), _weights(est)
    assert not _changed(start, end, "backbone.st.0.model.embeddings.")
    assert not _changed(start, end, "backbone.st.0.model.encoder.layer.0.")
    assert _changed(start, end, "backbone.st.0.model.encoder.layer.1.")


def test_layerwise_lr_decay(make, texts):
    est = make(lr_decay=0.5).fit(*texts)
    lrs = sorted({round(g["initial_lr"], 12) for g in est.net_.optimizer_.param_groups})
    # groups: embeddings, layer0, layer1 -> depths 3..1, head at lr (the
    # unused BERT pooler is no group)
    assert [name for name, _ in est.net_.module_.layer_groups] == ["embeddings", "layer0", "layer1"]
    assert lrs == sorted(round(1e-3 * 0.5**d, 12) for d in range(4))


def test_the_users_param_groups_win_where_they_match_and_the_decay_takes_the_rest(make, texts):
    est = make(lr_decay=0.5, optimizer__param_groups=[("backbone.*embeddings*", {"lr": 0.0})]).fit(*texts)
    groups = est.net_.optimizer_.param_groups
    names = {id(p): n for n, p in est.net_.module_.named_parameters()}
    embeddings = [g for g in groups if all("embeddings" in names[id(p)] for p in g["params"])]
    assert embeddings and all(g["initial_lr"] == 0.0 for g in embeddings)
    assert sorted({round(g["initial_lr"], 12) for g in groups} - {0.0}) == [round(1e-3 * 0.5**d, 12) for d in (2, 1, 0)]
    assert est.get_params()["optimizer__param_groups"] == [("backbone.*embeddings*", {"lr": 0.0})]  # left as given


@pytest.mark.parametrize("switched_off", ["lr_schedule", "early_stopping"])
def test_any_built_in_callback_can_be_switched_off_by_name(make, texts, switched_off):
    est = make(early_stopping=True, **{f"callbacks__{switched_off}": None}).fit(*texts)
    assert switched_off not in dict(est.net_.callbacks_) or dict(est.net_.callbacks_)[switched_off] is None
    assert len(est.predict(texts[0])) == len(texts[0])


def test_linear_probe_head_matches_logistic_regression(make, texts, tiny_sbert):
    X, y = texts
    est = make(lr=1e-12, weight_decay=0.0, contrastive_steps=0).fit(X, y)
    pipe = make_pipeline(PretrainedFeaturizer(tiny_sbert, device="cpu"), LogisticRegression(max_iter=1000)).fit(X, y)
    np.testing.assert_allclose(est.predict_proba(X), pipe.predict_proba(X), atol=1e-4)


def test_linear_probe_never_sees_the_early_stopping_validation_rows(make, texts, tiny_sbert):
    X, y = np.asarray(texts[0], dtype=object), np.asarray(texts[1])
    est = make(lr=1e-12, weight_decay=0.0, max_epochs=1, early_stopping=True, validation_fraction=0.25,
               contrastive_steps=0).fit(X, y)
    train, _ = est.net_.get_split_datasets(est.backbone_.prepare(X), (y == "pos").astype(np.int64))
    rows = np.asarray(train.indices)
    assert len(rows) == 27  # 36 rows less a stratified quarter
    pipe = make_pipeline(PretrainedFeaturizer(tiny_sbert, device="cpu"), LogisticRegression(max_iter=1000))
    pipe.fit(X[rows], y[rows])
    np.testing.assert_allclose(est.predict_proba(X), pipe.predict_proba(X), atol=1e-4)


def test_early_stopping_stops_and_records_validation_loss(make, texts):
    X, y = texts
    est = make(lr=1e-12, max_epochs=20, early_stopping=True, n_iter_no_change=1, validation_fraction=0.25).fit(X, y)
    assert len(est.history_) < 20
    assert "valid_loss" in est.history_[-1]


def test_warmup_then_linear_decay():
    schedule = WarmupLinearDecay(total_steps=10, warmup_steps=2)
    values = [schedule(step) for step in range(11)]
    assert values[0] < values[1] < values[2] == 1.0
    assert values[2] > values[6] > values[9] > values[10] == 0.0


def test_user_callbacks_run_and_verbose_prints_epochs(make, texts, capsys):
    class CountEpochs(Callback):
        def initialize(self):
            self.epochs = 0
            return self

        def on_epoch_end(self, net, **kwargs):
            self.epochs += 1

    counter = CountEpochs()
    make(max_epochs=2, callbacks=[counter], verbose=1).fit(*texts)
    assert counter.epochs == 2
    assert "train_loss" in capsys.readouterr().out


@pytest.mark.filterwarnings("ignore:Detected call of `lr_scheduler.step")  # skorch's per-epoch stepping
def test_skorch_options_reach_the_net_and_are_parameters(texts):
    from sklearn.base import clone
    from sklearn.model_selection import GridSearchCV

    X, y = texts
    est = ScratchClassifier(max_epochs=1, random_state=0, optimizer__betas=(0.8, 0.95),
                            iterator_train__drop_last=True, callbacks__lr_schedule__step_every="epoch")
    params = est.get_params()
    assert params["optimizer__betas"] == (0.8, 0.95) and params["iterator_train__drop_last"] is True
    assert clone(est).get_params() == params
    assert "optimizer__betas=(0.8, 0.95)" in repr(est)
    est.fit(X, y)
    assert est.net_.optimizer_.param_groups[0]["betas"] == (0.8, 0.95)
    assert dict(est.net_.callbacks_)["lr_schedule"].step_every == "epoch"
    assert len(est.history_[-1, "batches"]) == len(X) // est.batch_size  # the last, short batch dropped
    est.set_params(optimizer__betas=(0.5, 0.5), lr=1e-2)
    assert est.optimizer__betas == (0.5, 0.5) and est.lr == 1e-2
    search = GridSearchCV(ScratchClassifier(max_epochs=1, random_state=0),
                          {"optimizer__weight_decay": [0.0, 0.5]}, cv=2).fit(X, y)
    assert search.best_estimator_.net_.optimizer_.param_groups[0]["weight_decay"] in (0.0, 0.5)
    typo = clone(ScratchClassifier(optimiser__lr=1.0))  # kept as given, as sklearn wants, and refused at fit
    with pytest.raises(ValueError, match="unknown parameter 'optimiser__lr'; skorch's own options take a prefix"):
        typo.fit(X, y)
