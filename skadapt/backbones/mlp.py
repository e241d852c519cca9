"""Built-in plugin: ``mlp``, a multi-layer perceptron for numeric matrices."""

from ..hookspecs import hookimpl


@hookimpl
def register_backbones(register):
    register(
        "mlp",
        "skadapt.backbones._mlp:MLPBackbone",
        input_kind="array",
        pretrained=False,
        description="Multi-layer perceptron (Linear + ReLU blocks) for numeric 2-D arrays.",
    )
