"""A short demo: the three ways, and TF-IDF, on the bundled SST-2.

Trains each on the first ``--train-rows`` rows of the SST-2 train split and
prints its accuracy on the whole test split. Run ``python -m skadapt.demo``.
"""

import argparse
import os
import time

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--train-rows", type=int, default=1000, help="SST-2 training rows to use (default 1000)")
    args = parser.parse_args(argv)
    if args.train_rows < 2:
        parser.error(f"--train-rows must be at least 2, got {args.train_rows}")

    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline

    from skadapt import FineTunedClassifier, PretrainedFeaturizer, ScratchClassifier
    from skadapt.datasets import load_sst2

    X, y = load_sst2(return_X_y=True)
    X, y = X[: args.train_rows], y[: args.train_rows]
    X_test, y_test = load_sst2(split="test", return_X_y=True)
    ways = [
        ("learning from scratch", "ScratchClassifier(textcnn)", ScratchClassifier(random_state=0, verbose=1)),
        ("transfer learning", "PretrainedFeaturizer(minilm) + LogisticRegression",
         make_pipeline(PretrainedFeaturizer(verbose=1), LogisticRegression(max_iter=1000))),
        ("fine-tuning", "FineTunedClassifier(minilm), 1 epoch", FineTunedClassifier(max_epochs=1, random_state=0, verbose=1)),
        ("baseline", "TfidfVectorizer + LogisticRegression", make_pipeline(TfidfVectorizer(), LogisticRegression(max_iter=1000))),
    ]
    print(f"SST-2: training on {len(X)} rows, testing on {len(X_test)} rows\n")
    rows = []
    for way, model_name, model in ways:
        print(f"== {way}: {model_name}", flush=True)
        start = time.perf_counter()
        accuracy = model.fit(X, y).score(X_test, y_test)
        rows.append((way, model_name, accuracy, time.perf_counter() - start))
    print(f"\n{'way':<22} {'model':<52} {'accuracy':>8} {'seconds':>8}")
    for way, model_name, accuracy, seconds in rows:
        print(f"{way:<22} {model_name:<52} {accuracy:>8.3f} {seconds:>8.1f}")


if __name__ == "__main__":
    main()
