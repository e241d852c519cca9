"""skadapt on a Dask cluster (docs/dask.md).

One ``LocalCluster`` per module: 2 worker processes with 1 thread each, as on
a 2-core CI machine. The estimators go through ``joblib.parallel_backend("dask")``
unchanged; what Dask adds has to hold: estimators ship without weights, each
worker loads a backbone once, the disk cache is shared by all processes, a
worker killed mid-search costs a rerun and nothing else, and a fitted
featurizer maps over dask dataframes and bags.
"""

import contextlib
import logging
import os
import pickle
import signal
import threading
import time
import uuid

import joblib
import numpy as np
import pytest
from sklearn.base import clone
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV, StratifiedKFold, cross_val_score
from sklearn.pipeline import make_pipeline
from skorch.callbacks import Callback

from skadapt import FineTunedClassifier, PretrainedFeaturizer, ScratchClassifier
from skadapt.cache import clear_caches

pytest.importorskip("distributed")
pytest.importorskip("dask.dataframe")

# What conftest.py sets for this process, and the workers must see too.
ENVIRONMENT = ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE", "SCIPY_ARRAY_API")
TEXTCNN = {"embedding_dim": 16, "num_filters": 8, "filter_sizes": (2, 3)}


@pytest.fixture(scope="module")
def client(tmp_path_factory):
    """2 worker processes (each under a nanny that restarts it), 1 thread each."""
    from distributed import Client, LocalCluster

    # Each nanny writes its workers' thread limits into this process's
    # os.environ before spawning them; later tests must not inherit them.
    environ = dict(os.environ)
    # One torch thread per worker (torch follows MKL_NUM_THREADS too), even
    # where the machine's environment asks for more: 2 workers, 2 cores.
    os.environ.update(OMP_NUM_THREADS="1", MKL_NUM_THREADS="1")
    try:
        with LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0",
            local_directory=str(tmp_path_factory.mktemp("dask-workers")), silence_logs=logging.ERROR,
        ) as cluster, Client(cluster) as client:
            yield client
    finally:
        os.environ.clear()
        os.environ.update(environ)


@pytest.fixture(autouse=True)
def fresh_caches():
    clear_caches()
    yield
    clear_caches()


@contextlib.contextmanager
def one_torch_thread():
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(threads)


def sst2(n):
    from skadapt.datasets import load_sst2

    X, y = load_sst2(return_X_y=True)
    return list(X[:n]), np.asarray(y[:n])


# -- run inside the workers (client.run / client.submit) -----------------------
def _process_info():
    import torch

    return {"pid": os.getpid(), "env": {k: os.environ.get(k) for k in ENVIRONMENT},
            "torch_threads": torch.get_num_threads()}


def _start_counting(dask_worker):
    """Forget this worker's loaded models and cached rows, then count from zero:
    pretrained loads, fits of pretrained estimators, texts encoded.

    The counts live on the Worker object, which lasts as long as the process.
    """
    from skadapt.backbones._sbert import SentenceTransformerBackbone
    from skadapt.estimators import _network

    clear_caches()
    counts = dask_worker.skadapt_counts = {"loads": 0, "fits": 0, "encoded": 0}

    def counting(owner, name, count):
        real = getattr(owner, name)
        real = getattr(real, "_real", real)  # counted once, however often this runs

        def wrapper(*args, **kwargs):
            count(args, kwargs)
            return real(*args, **kwargs)

        wrapper._real = real
        setattr(owner, name, wrapper)

    def load(args, kwargs):
        counts["loads"] += bool(kwargs.get("pretrained"))

    def fit(args, kwargs):
        counts["fits"] += 1

    def encode(args, kwargs):
        counts["encoded"] += len(args[2])

    counting(SentenceTransformerBackbone, "build", load)
    counting(FineTunedClassifier, "fit", fit)
    counting(PretrainedFeaturizer, "fit", fit)
    counting(_network, "encode", encode)


def _counts(dask_worker):
    return dict(dask_worker.skadapt_counts)


def _featurize(model, texts, cache):
    return PretrainedFeaturizer(model, device="cpu", cache=cache).fit(texts).transform(texts)


class _StallFirstFit(Callback):
    """Holds the first fit of a search, in whichever worker runs it, until the
    test has killed that worker: a worker lost mid-fit, at a known moment.

    The marker file, created atomically, makes it the first fit only: every
    other fit, and the rerun of the killed one, trains normally.
    """

    def __init__(self, marker=None, event=None):
        self.marker = marker
        self.event = event

    def on_epoch_begin(self, net, **kwargs):
        if self.marker is None:
            return
        try:
            handle = os.open(self.marker, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
        except FileExistsError:
            return
        with os.fdopen(handle, "w") as file:
            file.write(str(os.getpid()))
        from distributed import Event

        Event(self.event).set()
        Event(f"{self.event}-never").wait(timeout=60)
        raise RuntimeError("the test was to kill this worker, and did not")


# A search of this module takes seconds; a lost task can leave one waiting for
# ever, and a hung test would hold CI for its whole limit instead of failing.
SEARCH_SECONDS = 300


def within(seconds, function, *args, client):
    """``function(*args)``, or a failure naming what the cluster was doing
    after ``seconds``."""
    done, outcome = threading.Event(), {}

    def run():
        try:
            outcome["result"] = function(*args)
        except BaseException as error:  # noqa: BLE001 - raised again in the test's thread
            outcome["error"] = error
        done.set()

    threading.Thread(target=run, daemon=True).start()
    if not done.wait(seconds):
        pytest.fail(f"the search did not end in {seconds} s; workers: {sorted(client.nthreads())}, "
                    f"tasks processing: {client.processing()}")
    if "error" in outcome:
        raise outcome["error"]
    return outcome["result"]


# -- tests -----------------------------------------------------------------------
def test_workers_are_two_processes_with_this_environment(client):
    info = client.run(_process_info)
    assert len(info) == 2
    assert len({i["pid"] for i in info.values()} | {os.getpid()}) == 3
    for worker in info.values():
        # offline and the array-API switch reach the workers: nothing downloads there either
        assert worker["env"] == {k: os.environ[k] for k in ENVIRONMENT}
        assert worker["torch_threads"] == 1  # one fit per core, not two fits fighting over both


def test_unfitted_estimators_ship_without_weights(tiny_sbert, texts):
    X, y = texts
    unfitted = {
        "finetune": FineTunedClassifier(tiny_sbert, max_epochs=1, batch_size=8, device="cpu", random_state=0),
        "scratch": ScratchClassifier("textcnn", backbone_kwargs=TEXTCNN, max_epochs=1, device="cpu", random_state=0),
        "transfer": make_pipeline(PretrainedFeaturizer(tiny_sbert, device="cpu"), LogisticRegression()),
    }
    for name, est in unfitted.items():
        size = len(pickle.dumps(est))
        assert size < 4096, f"{name}: an unfitted estimator pickles to {size} bytes"
        fitted = clone(est).fit(X, y)
        # what a task would carry if the weights were loaded before fit: the
        # check above would see them
        assert len(pickle.dumps(fitted)) > 10 * size
        # GridSearchCV ships clones, which are unfitted even from a fitted estimator
        assert len(pickle.dumps(clone(fitted))) == size


def test_grid_search_on_dask_equals_the_local_one_and_loads_once_per_worker(client, tiny_sbert, texts):
    X, y = texts
    searches = {
        "finetune": (FineTunedClassifier(tiny_sbert, max_epochs=1, batch_size=8, device="cpu", random_state=0),
                     {"lr": [1e-4, 1e-3]}),
        "transfer": (make_pipeline(PretrainedFeaturizer(tiny_sbert, device="cpu"), LogisticRegression()),
                     {"logisticregression__C": [0.1, 10.0]}),
        "scratch": (ScratchClassifier("textcnn", backbone_kwargs=TEXTCNN, max_epochs=2, batch_size=8,
                                      device="cpu", random_state=0), {"lr": [1e-3, 1e-2]}),
    }
    client.run(_start_counting)
    for name, (est, grid) in searches.items():
        # log-loss rather than accuracy: equal probabilities, not just equal labels;
        # one torch thread here as in the workers, or sums run in another order
        # and the training steps carry the rounding past rtol
        with one_torch_thread():
            local = GridSearchCV(est, grid, cv=3, scoring="neg_log_loss", refit=False).fit(X, y)
        with joblib.parallel_backend("dask"):
            remote = GridSearchCV(est, grid, cv=3, scoring="neg_log_loss", refit=False).fit(X, y)
        for split in range(3):
            key = f"split{split}_test_score"
            np.testing.assert_allclose(remote.cv_results_[key], local.cv_results_[key], rtol=1e-5, err_msg=name)

    counts = client.run(_counts)
    # 2 candidates x 3 folds for each of the two searches on the tiny BERT
    assert sum(c["fits"] for c in counts.values()) == 12
    for worker, c in counts.items():
        # many fits in a worker, one read of the weights
        assert c["loads"] == (1 if c["fits"] else 0), (worker, c)

    Xn = np.random.RandomState(0).normal(size=(60, 4)).astype(np.float32)
    yn = (Xn[:, 0] + Xn[:, 1] > 0).astype(int)
    mlp = ScratchClassifier("mlp", backbone_kwargs={"hidden_layer_sizes": (8,)}, lr=1e-2, max_epochs=5,
                            batch_size=16, device="cpu", random_state=0)
    with one_torch_thread():
        local = cross_val_score(mlp, Xn, yn, cv=3, scoring="neg_log_loss")
    with joblib.parallel_backend("dask"):
        remote = cross_val_score(mlp, Xn, yn, cv=3, scoring="neg_log_loss")
    np.testing.assert_allclose(remote, local, rtol=1e-5)


def test_disk_cache_is_shared_by_workers_and_later_searches(client, tiny_sbert, texts, tmp_path, encoded):
    X, y = texts
    cache = str(tmp_path / "cache")
    client.run(_start_counting)
    first, second = sorted(client.scheduler_info()["workers"])

    # shards written by one worker are read by the other
    part = sorted(set(X))[:6]
    written = client.submit(_featurize, tiny_sbert, part, cache, workers=[first], pure=False).result()
    read = client.submit(_featurize, tiny_sbert, part, cache, workers=[second], pure=False).result()
    counts = client.run(_counts)
    assert (counts[first]["encoded"], counts[second]["encoded"]) == (6, 0)
    np.testing.assert_array_equal(read, written)

    pipe = make_pipeline(PretrainedFeaturizer(tiny_sbert, device="cpu", cache=cache), LogisticRegression())
    grid = {"logisticregression__C": [0.1, 1.0, 10.0]}
    with joblib.parallel_backend("dask"):
        search = GridSearchCV(pipe, grid, cv=3).fit(X, y)  # the refit runs here, in this process
    on_workers = sum(c["encoded"] for c in client.run(_counts).values())
    assert on_workers >= len(set(X))  # the other texts were encoded on the workers
    assert encoded == []  # the refit, in this process, found every text in the workers' shards

    # a second search over the same texts, by workers that remember nothing
    client.run(_start_counting)
    with joblib.parallel_backend("dask"):
        again = GridSearchCV(pipe, grid, cv=3).fit(X, y)
    assert sum(c["encoded"] for c in client.run(_counts).values()) == 0
    assert encoded == []
    np.testing.assert_array_equal(again.cv_results_["mean_test_score"], search.cv_results_["mean_test_score"])
    shards = list((tmp_path / "cache" / "skadapt-embeddings").glob("*/*"))
    assert shards and {p.suffix for p in shards} == {".npz"}  # no half-written file left behind


def _featurize_twice(model, texts, cache):
    """The texts in memory first (cache=True), then asked of the disk cache."""
    _featurize(model, texts, True)
    return _featurize(model, texts, cache)


def test_rows_a_worker_held_in_memory_reach_the_disk_cache(client, tiny_sbert, texts, tmp_path):
    # A worker that found texts in its memory (from an earlier featurizer, or
    # a fine-tune's linear probe) writes them to the folder all the same, so
    # that the other workers and later runs do not encode them again.
    cache = str(tmp_path / "cache")
    part = sorted(set(texts[0]))[:6]
    client.run(_start_counting)
    first, second = sorted(client.scheduler_info()["workers"])
    written = client.submit(_featurize_twice, tiny_sbert, part, cache, workers=[first], pure=False).result()
    read = client.submit(_featurize, tiny_sbert, part, cache, workers=[second], pure=False).result()
    counts = client.run(_counts)
    assert (counts[first]["encoded"], counts[second]["encoded"]) == (6, 0)
    np.testing.assert_array_equal(read, written)


@pytest.mark.parametrize("given_as", ["lists", "numpy"])
def test_a_worker_killed_mid_search_is_survived(client, tmp_path, given_as):
    """SIGKILL one worker while it fits: Dask reruns its task, the nanny
    restarts the process, and the search ends with the scores of a search
    that lost nothing (seeded: rerunning a fit gives the same model)."""
    from distributed import Event

    from skadapt.dask import resilient_search

    X, y = sst2(240)
    # joblib sends array arguments over 1 kB (y, each fold's 160 training
    # indices) to one worker only, and a search that still needs them after
    # that worker died fails. Two recipes (docs/dask.md): lists, which travel
    # inside each task, or skadapt.dask.resilient_search, which broadcasts the
    # arrays and the folds to every worker.
    if given_as == "lists":
        y = y.tolist()
        folds = [(train.tolist(), test.tolist()) for train, test in StratifiedKFold(3).split(X, y)]
    else:
        X = np.asarray(X, dtype=object)

    def search(callback):
        est = ScratchClassifier("textcnn", backbone_kwargs=TEXTCNN, max_epochs=2, batch_size=16,
                                device="cpu", random_state=0, callbacks=[callback])
        if given_as == "lists":
            with joblib.parallel_backend("dask"):
                return GridSearchCV(est, {"lr": [1e-3, 1e-2]}, cv=folds, scoring="neg_log_loss",
                                    refit=False).fit(X, y)
        with resilient_search(X, y, cv=3) as numpy_folds:
            return GridSearchCV(est, {"lr": [1e-3, 1e-2]}, cv=numpy_folds, scoring="neg_log_loss",
                                refit=False).fit(X, y)

    reference = within(SEARCH_SECONDS, search, _StallFirstFit(), client=client)

    before = client.run(os.getpid)
    marker, event = tmp_path / "stalled", f"stalled-{uuid.uuid4().hex}"
    killed = []

    def kill_the_stalled_worker():
        if Event(event, client=client).wait(timeout=120):
            # Later than the active memory manager's first rounds (every 2 s), which drop
            # "extra" copies of data: a kill at once would miss that way of losing it.
            time.sleep(5)
            pid = int(marker.read_text())
            os.kill(pid, signal.SIGKILL)
            killed.append(pid)

    killer = threading.Thread(target=kill_the_stalled_worker, daemon=True)
    killer.start()
    result = within(SEARCH_SECONDS, search, _StallFirstFit(str(marker), event), client=client)
    killer.join(timeout=10)

    assert killed and killed[0] in before.values()
    for key in ("split0_test_score", "split1_test_score", "split2_test_score", "mean_test_score"):
        np.testing.assert_array_equal(result.cv_results_[key], reference.cv_results_[key])

    # the nanny starts a new process in its place: seconds alone, a minute or
    # more where the 2 cores are busy with other work
    client.wait_for_workers(2, timeout=240)
    after = client.run(_process_info)
    assert killed[0] not in {i["pid"] for i in after.values()}
    for worker in after.values():
        assert worker["env"] == {k: os.environ[k] for k in ENVIRONMENT}


def _frame_features(texts, featurizer):
    import pandas as pd

    return pd.DataFrame(featurizer.transform(list(texts)), index=texts.index,
                        columns=featurizer.get_feature_names_out())


def _bag_features(texts, featurizer):
    return list(featurizer.transform(list(texts)))


def test_fitted_featurizer_maps_over_a_dask_dataframe_and_bag(client, tiny_sbert, texts):
    import dask.bag as db
    import dask.dataframe as dd
    import pandas as pd

    X = texts[0]
    featurizer = PretrainedFeaturizer(tiny_sbert, device="cpu").fit(X[:1])
    expected = featurizer.transform(X)
    names = featurizer.get_feature_names_out()
    # to every worker once, rather than inside the graph (MiniLM: 92 MB pickled)
    shipped = client.scatter(featurizer, broadcast=True)

    client.run(_start_counting)

    frame = dd.from_pandas(pd.DataFrame({"text": X}), npartitions=3)
    meta = pd.DataFrame(np.empty((0, len(names)), dtype=np.float32), columns=names)
    features = frame["text"].map_partitions(_frame_features, shipped, meta=meta)
    assert list(features.columns) == list(names)
    assert set(features.dtypes) == {np.dtype(np.float32)}
    computed = features.compute()  # on the cluster: the client is the default scheduler
    assert list(computed.columns) == list(names) and set(computed.dtypes) == {np.dtype(np.float32)}
    assert computed.index.equals(pd.RangeIndex(len(X)))
    np.testing.assert_allclose(computed.to_numpy(), expected, rtol=1e-5, atol=1e-6)

    bag = db.from_sequence(X, npartitions=3)
    rows = bag.map_partitions(_bag_features, shipped).compute()
    np.testing.assert_allclose(np.stack(rows), expected, rtol=1e-5, atol=1e-6)

    counts = client.run(_counts)
    assert sum(c["encoded"] for c in counts.values()) >= len(set(X))  # the encoding ran there...
    for worker, c in counts.items():
        # ... with the featurizer as fitted here: no fit, no weights read
        assert c["fits"] == c["loads"] == 0, (worker, c)
