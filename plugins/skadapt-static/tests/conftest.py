import os

# No network: every model is a tiny one written to a tmp folder here.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("SKADAPT_CPU_BF16", "0")  # precision="auto" is fp32 in tests on every CPU
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

import pytest  # noqa: E402

TEXTS = [
    "a wonderful , moving film", "great acting and a clever story", "i loved every minute",
    "dull and far too long", "a tedious mess", "i hated the ending",
] * 4
LABELS = (["pos"] * 3 + ["neg"] * 3) * 4
WORDS = sorted({w for text in TEXTS for w in text.split()} | {"unseen", "the", "of"})


@pytest.fixture
def texts():
    return list(TEXTS), list(LABELS)


@pytest.fixture(scope="session", autouse=True)
def static_cache(tmp_path_factory):
    """Distilled models go to a tmp cache, never the user's."""
    folder = tmp_path_factory.mktemp("static-cache")
    old = os.environ.get("SKADAPT_STATIC_CACHE")
    os.environ["SKADAPT_STATIC_CACHE"] = str(folder)
    yield str(folder)
    if old is None:
        os.environ.pop("SKADAPT_STATIC_CACHE", None)
    else:
        os.environ["SKADAPT_STATIC_CACHE"] = old


@pytest.fixture(scope="session")
def tiny_sbert(tmp_path_factory):
    """A real sentence-transformers folder: a 2-layer BERT of width 32 with random weights and a
    WordPiece vocabulary of the test words, so that distilling it takes a fraction of a second.

    As the root ``tiny_sbert``, but with a small vocabulary: MiniLM's 30,522 tokens take about
    10 s to distil even through this model. (Built with ``tokenizers``: ``BertTokenizerFast(vocab_file=...)``
    of transformers 5 keeps only the special tokens.)
    """
    from sentence_transformers import SentenceTransformer
    from tokenizers import Tokenizer, models, normalizers, pre_tokenizers, processors
    from transformers import BertConfig, BertModel, BertTokenizerFast

    specials = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
    vocab = {token: i for i, token in enumerate([*specials, *WORDS])}
    backend = Tokenizer(models.WordPiece(vocab, unk_token="[UNK]"))
    backend.normalizer = normalizers.BertNormalizer(lowercase=True)
    backend.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    backend.post_processor = processors.BertProcessing(("[SEP]", vocab["[SEP]"]), ("[CLS]", vocab["[CLS]"]))
    tokenizer = BertTokenizerFast(tokenizer_object=backend, unk_token="[UNK]", pad_token="[PAD]",
                                  cls_token="[CLS]", sep_token="[SEP]", mask_token="[MASK]")
    config = BertConfig(
        vocab_size=len(vocab), hidden_size=32, num_hidden_layers=2, num_attention_heads=2,
        intermediate_size=37, max_position_embeddings=64,
    )
    raw = tmp_path_factory.mktemp("tiny-bert")
    BertModel(config).save_pretrained(raw)
    tokenizer.save_pretrained(raw)
    folder = tmp_path_factory.mktemp("tiny-sbert")
    SentenceTransformer(str(raw), device="cpu").save(str(folder))
    return str(folder)


@pytest.fixture(scope="session")
def tiny_static(tiny_sbert):
    """``static:`` + the tiny sentence-transformers folder (distilled on first use, 16-wide)."""
    return f"static:{tiny_sbert}"
