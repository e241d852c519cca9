"""Built-in plugin: ``exported:FOLDER``, a backbone saved by :func:`skadapt.export_backbone`."""

from ..hookspecs import hookimpl


@hookimpl
def register_backbones(register):
    register(
        "exported",
        "skadapt.backbones._exported:load_exported",
        input_kind="auto",  # read from the folder: an exported backbone may take text, arrays or images
        pretrained=True,
        description="A trained backbone saved with skadapt.export_backbone (safetensors + JSON); 'exported:FOLDER'.",
        takes_argument=True,
    )
