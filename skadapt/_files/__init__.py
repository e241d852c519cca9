"""The floor under persistence, serving and backbone exports: how skadapt writes files.

Typed JSON (``typed_json``), the model folder's manifest with its digests
(``manifest``) and writing a folder beside its final place (``staging``).
These modules import nothing of skadapt, so every floor above may use them.
"""
