"""Built-in plugin: ``textcnn``, Kim (2014) convolutional sentence encoder."""

from ..hookspecs import hookimpl


@hookimpl
def register_backbones(register):
    register(
        "textcnn",
        "skadapt.backbones._textcnn:TextCNNBackbone",
        input_kind="text",
        pretrained=False,
        description="Kim (2014) CNN over word embeddings with its own vocabulary, for learning from scratch.",
        aliases=("kim-cnn",),
    )
