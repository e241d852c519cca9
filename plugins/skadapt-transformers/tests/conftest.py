import os

# No network: every model is a tiny one written to a tmp folder here.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
# precision="auto" is fp32 in tests on every CPU, so that outputs compared at 1e-5 do not
# depend on the machine (tests/test_precision.py mocks the detection).
os.environ.setdefault("SKADAPT_CPU_BF16", "0")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

import numpy as np  # noqa: E402
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


@pytest.fixture
def images():
    """24 random colour images of 16x16 pixels (uint8) and two classes."""
    rng = np.random.default_rng(0)
    return rng.integers(0, 256, (24, 16, 16, 3), dtype=np.uint8), np.arange(24) % 2


@pytest.fixture(scope="session")
def tiny_bert(tmp_path_factory):
    """A real local BERT folder: 2 layers of width 32, random weights, a WordPiece vocabulary of the test words."""
    from transformers import BertConfig, BertModel, BertTokenizerFast

    folder = tmp_path_factory.mktemp("tiny-bert")
    vocab = tmp_path_factory.mktemp("vocab") / "vocab.txt"
    vocab.write_text("\n".join(["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", *WORDS]) + "\n")
    tokenizer = BertTokenizerFast(vocab_file=str(vocab))
    config = BertConfig(
        vocab_size=tokenizer.vocab_size, hidden_size=32, num_hidden_layers=2, num_attention_heads=2,
        intermediate_size=37, max_position_embeddings=64,
    )
    BertModel(config).save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return str(folder)


def _vit_config():
    from transformers import ViTConfig

    return ViTConfig(
        image_size=16, patch_size=4, hidden_size=32, num_hidden_layers=2, num_attention_heads=2,
        intermediate_size=37,
    )


@pytest.fixture(scope="session")
def tiny_vit(tmp_path_factory):
    """A local ViT folder saved from ``ViTModel``: its pooler's weights are in the checkpoint."""
    from transformers import ViTImageProcessor, ViTModel

    folder = tmp_path_factory.mktemp("tiny-vit")
    ViTModel(_vit_config()).save_pretrained(folder)
    ViTImageProcessor(size={"height": 16, "width": 16}).save_pretrained(folder)
    return str(folder)


@pytest.fixture(scope="session")
def tiny_vit_classifier(tmp_path_factory):
    """A ViT saved from ``ViTForImageClassification``: no pooler weights (as most ViT checkpoints)."""
    from transformers import ViTForImageClassification, ViTImageProcessor

    folder = tmp_path_factory.mktemp("tiny-vit-classifier")
    ViTForImageClassification(_vit_config()).save_pretrained(folder)
    ViTImageProcessor(size={"height": 16, "width": 16}).save_pretrained(folder)
    return str(folder)


@pytest.fixture(scope="session")
def tiny_resnet(tmp_path_factory):
    """A local ResNet whose image processor does not resize (do_resize=False)."""
    from transformers import ResNetConfig, ResNetModel, ViTImageProcessor

    folder = tmp_path_factory.mktemp("tiny-resnet")
    config = ResNetConfig(embedding_size=8, hidden_sizes=[8, 16], depths=[1, 1], layer_type="basic")
    ResNetModel(config).save_pretrained(folder)
    ViTImageProcessor(do_resize=False).save_pretrained(folder)
    return str(folder)


@pytest.fixture
def trained_features():
    """What a fitted classifier's own (fine-tuned) backbone computes for ``X``."""

    def features(clf, X):
        from skadapt.estimators import _validation as v
        from skadapt.estimators._network import encode

        items = clf.backbone_.prepare(v.check_input(clf, X, clf.backbone_.input_kind, reset=False))
        return encode(clf.backbone_, clf.net_.module_.backbone.eval(), items, batch_size=8, device="cpu")

    return features


def assert_plain_model_folder(folder):
    """safetensors and JSON/text files only: nothing that runs code on load."""
    for root, _, names in os.walk(folder):
        for name in names:
            assert not name.endswith((".bin", ".pkl", ".pt", ".pth", ".py")), name
            with open(os.path.join(root, name), "rb") as file:
                assert file.read(1) != b"\x80", f"{name} looks like a pickle"


@pytest.fixture
def plain_model_folder():
    return assert_plain_model_folder
