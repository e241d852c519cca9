"""The plugin manager: built-in backbones and third-party entry points.

Loading is lazy (the first registry lookup triggers it) so that
``import skadapt`` stays cheap. Set ``SKADAPT_DISABLE_PLUGINS=1`` to skip the
third-party entry points and use only the built-in backbones, or
``SKADAPT_PLUGINS=name,...`` to load only the plugins named (their entry-point
or distribution names), as ``llm``'s ``LLM_LOAD_PLUGINS`` does.
"""

import importlib
import os
import warnings

import pluggy

from . import hookspecs

ENTRY_POINT_GROUP = "skadapt"
DISABLE_ENV = "SKADAPT_DISABLE_PLUGINS"
ALLOW_ENV = "SKADAPT_PLUGINS"

# Built-in backbones are plugins too, registered exactly like third-party ones.
DEFAULT_PLUGINS = (
    "skadapt.backbones.mlp",
    "skadapt.backbones.textcnn",
    "skadapt.backbones.sbert",
    "skadapt.backbones.cnn",
    "skadapt.backbones.exported",
)


class PluginWarning(UserWarning):
    """A plugin failed to load or to register its backbones; it was skipped."""


def _third_party_disabled():
    return os.environ.get(DISABLE_ENV, "").strip().lower() not in ("", "0", "false", "no")


def _allowed_plugins():
    """The plugin names ``SKADAPT_PLUGINS`` lists, or None when it is not set (every plugin loads)."""
    value = os.environ.get(ALLOW_ENV)
    if value is None:
        return None
    return {name.strip() for name in value.split(",") if name.strip()}


def make_plugin_manager():
    """Return ``(pm, distributions)``: a plugin manager with the built-ins and
    the entry points loaded, and the distribution name of each plugin.

    A plugin that cannot be imported is skipped with a :class:`PluginWarning`
    naming it; every other plugin is still loaded.
    """
    distributions = {}
    pm = pluggy.PluginManager("skadapt")
    pm.add_hookspecs(hookspecs)
    for module_name in DEFAULT_PLUGINS:
        pm.register(importlib.import_module(module_name), name=module_name)
    if _third_party_disabled():
        return pm, distributions
    from importlib.metadata import entry_points

    allowed, seen = _allowed_plugins(), set()
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        names = {ep.name} | ({ep.dist.name} if ep.dist is not None else set())
        seen |= names
        if allowed is not None and not names & allowed:
            continue
        if pm.has_plugin(ep.name):
            # Two distributions using one entry-point name: pluggy keeps one
            # plugin per name, so say which one was dropped instead of hiding it.
            this = ep.dist.name if ep.dist is not None else "?"
            warnings.warn(
                f"skadapt plugin {ep.name!r} of distribution {this!r} was skipped: the name is "
                f"already used by distribution {distributions.get(ep.name, 'skadapt')!r}.",
                PluginWarning,
                stacklevel=2,
            )
            continue
        try:
            plugin = ep.load()
            pm.register(plugin, name=ep.name)
            distributions[ep.name] = ep.dist.name if ep.dist is not None else ep.name
        except Exception as exc:  # any failure of third-party code must not break the rest
            dist = f" (distribution {ep.dist.name!r})" if ep.dist is not None else ""
            warnings.warn(
                f"skadapt plugin {ep.name!r}{dist} failed to load and was skipped: "
                f"{type(exc).__name__}: {exc}",
                PluginWarning,
                stacklevel=2,
            )
    unknown = sorted((allowed or set()) - seen)
    if unknown:
        warnings.warn(
            f"{ALLOW_ENV} names {', '.join(map(repr, unknown))}, which no installed skadapt plugin is called "
            f"(installed: {', '.join(sorted(seen)) or 'none'}).",
            PluginWarning,
            stacklevel=2,
        )
    return pm, distributions
