"""skadapt plugin: ``bow``, a bag-of-embeddings text encoder."""

from skadapt import hookimpl


@hookimpl
def register_backbones(register):
    register(
        "bow",
        "skadapt_bow._backbone:BagOfWordsBackbone",
        input_kind="text",
        pretrained=False,
        description="Bag of embeddings: the mean of learned word embeddings, a fast text baseline.",
    )
