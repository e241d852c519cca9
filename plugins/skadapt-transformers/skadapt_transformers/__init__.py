"""skadapt plugin: any Hugging Face ``AutoModel`` as a backbone.

``hf-text:PATH`` (text encoders with their tokenizer) and ``hf-vision:PATH``
(vision encoders with their image processor), where ``PATH`` is a local
model folder or, where a network exists, a hub id. Registering imports
neither torch nor transformers: the recipes live in ``_text.py`` and
``_vision.py`` and are imported when a backbone is first used.
"""

from skadapt import hookimpl

__version__ = "0.1.0"


@hookimpl
def register_backbones(register):
    register(
        "hf-text",
        "skadapt_transformers._text:HFTextBackbone",
        input_kind="text",
        pretrained=True,
        description="Any Hugging Face text encoder (AutoModel + AutoTokenizer): 'hf-text:/folder' or 'hf-text:hub-id'.",
        takes_argument=True,
    )
    register(
        "hf-vision",
        "skadapt_transformers._vision:HFVisionBackbone",
        input_kind="image",
        pretrained=True,
        description=(
            "Any Hugging Face vision encoder (AutoModel + AutoImageProcessor): "
            "'hf-vision:/folder' or 'hf-vision:hub-id'."
        ),
        takes_argument=True,
    )
