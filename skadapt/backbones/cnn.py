"""Built-in plugin: ``cnn``, a small convolutional network for images."""

from ..hookspecs import hookimpl


@hookimpl
def register_backbones(register):
    register(
        "cnn",
        "skadapt.backbones._cnn:ConvNetBackbone",
        input_kind="image",
        pretrained=False,
        description="Small convolutional network (conv-BN-ReLU blocks, global pooling) for images, from scratch.",
    )
