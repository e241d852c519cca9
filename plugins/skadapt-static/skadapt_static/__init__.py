"""skadapt plugin: ``static``, static token embeddings (model2vec).

``static:minilm`` distils a model2vec ``StaticModel`` from the bundled
all-MiniLM-L6-v2 once and caches it on disk; ``static:FOLDER`` distils from a
sentence-transformers folder or loads a model2vec folder. Only the hook lives
here: model2vec and torch are imported when the backbone is first used.
"""

from skadapt import hookimpl


@hookimpl
def register_backbones(register):
    register(
        "static",
        "skadapt_static._backbone:StaticBackbone",
        input_kind="text",
        pretrained=True,
        takes_argument=True,
        description="Static token embeddings (model2vec), distilled from a sentence-transformers model: "
        "'static:minilm', 'static:FOLDER'.",
    )
