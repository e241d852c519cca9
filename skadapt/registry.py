"""The backbone registry, filled by the ``register_backbones`` hook of every plugin.

Lookups build the registry once per process (see :func:`reset_registry` for
tests). A backbone name may carry an argument after a colon, e.g.
``"sbert:/models/my-model"``: the part after the colon is passed to the
registered factory as its first positional argument.
"""

import difflib
import importlib
import inspect
import threading
import warnings
from dataclasses import dataclass, field, replace

from .plugins import PluginWarning, make_plugin_manager

INPUT_KINDS = ("text", "array", "image")


class UnknownBackboneError(KeyError, ValueError):
    """No backbone is registered under the requested name.

    Subclasses ``ValueError`` as well, so that estimators raise the usual
    sklearn error type for a bad parameter value.
    """

    def __str__(self):  # KeyError would repr() the message
        return str(self.args[0])


class DuplicateBackboneError(RuntimeError):
    """Two plugins registered the same backbone name or alias."""


@dataclass(frozen=True)
class BackboneSpec:
    """A registered backbone recipe, as returned by :func:`get_backbone`.

    Attributes
    ----------
    name : str
        The registered name.
    factory : callable or str
        Called with the backbone options, returns a
        :class:`skadapt.backbones.Backbone`. A ``"module:attribute"`` string
        is imported on first use, so that registering stays cheap.
    input_kind : {"text", "array", "image", "auto"}
        What ``X`` the backbone accepts. ``"auto"`` (only in listings of
        ``"name:argument"`` backbones) means it depends on the argument: the
        factory's ``input_kind_for(argument)`` says, and :func:`get_backbone`
        returns the resolved kind.
    has_pretrained : bool
        Whether pretrained weights exist (``PretrainedFeaturizer`` and
        ``FineTunedClassifier`` need them).
    description : str
        One line for listings.
    plugin : str
        The plugin (module or entry-point name) that registered it.
    distribution : str
        The installed distribution that provided the plugin.
    aliases : tuple of str
        Other names that resolve to this backbone.
    takes_argument : bool
        Whether the name is written ``"name:argument"`` (e.g. ``"sbert:/path"``).
    argument : str or None
        The part after ``:`` in ``"name:argument"`` lookups.
    """

    name: str
    factory: object
    input_kind: str
    has_pretrained: bool
    description: str
    plugin: str
    distribution: str = "skadapt"
    aliases: tuple = ()
    takes_argument: bool = False
    argument: str | None = field(default=None, compare=False)

    def load_factory(self):
        factory = self.factory
        if isinstance(factory, str):
            module_name, _, attr = factory.partition(":")
            factory = getattr(importlib.import_module(module_name), attr)
        return factory

    def create(self, **options):
        """Return a new, unbuilt :class:`~skadapt.backbones.Backbone` with ``options``.

        Unknown options raise one ``ValueError`` that lists the valid ones.
        """
        factory = self.load_factory()
        args = () if self.argument is None else (self.argument,)
        try:
            bound = inspect.signature(factory).bind(*args, **options)
        except TypeError as exc:
            params = [
                p.name
                for p in inspect.signature(factory).parameters.values()
                if p.kind in (p.KEYWORD_ONLY, p.POSITIONAL_OR_KEYWORD)
            ]
            raise ValueError(
                f"backbone_kwargs={options!r} does not fit backbone {self.name!r} "
                f"({exc}); its options are {', '.join(params) or 'none'}."
            ) from None
        return factory(*bound.args, **bound.kwargs)

    def as_row(self):
        """The listing row: name, input kind, pretrained, plugin, description."""
        return {
            "name": self.name,
            "input_kind": self.input_kind,
            "pretrained": self.has_pretrained,
            "plugin": self.distribution if self.distribution != "skadapt" else self.plugin,
            "aliases": ", ".join(self.aliases),
            "description": self.description,
        }


class _Registry:
    def __init__(self):
        self.specs = {}  # canonical name -> BackboneSpec
        self.names = {}  # name or alias -> canonical name

    def add(self, spec):
        for key in (spec.name, *spec.aliases):
            if key in self.names:
                other = self.specs[self.names[key]]
                raise DuplicateBackboneError(
                    f"backbone name {key!r} is registered by both plugin "
                    f"{other.plugin!r} and plugin {spec.plugin!r}; uninstall one of them "
                    f"or block one with SKADAPT_DISABLE_PLUGINS=1."
                )
        self.specs[spec.name] = spec
        for key in (spec.name, *spec.aliases):
            self.names[key] = spec.name


def _make_register(registry, plugin_name, distribution, pending):
    def register(name, factory, *, input_kind=None, pretrained=None, description=None, aliases=(),
                 takes_argument=False):
        """Register one backbone; see ``skadapt.hookspecs.register_backbones``."""
        if not isinstance(name, str) or not name or ":" in name:
            raise ValueError(f"backbone name must be a non-empty string without ':', got {name!r}.")
        if input_kind is None:
            input_kind = getattr(factory, "input_kind", None)
        if input_kind == "auto" and not takes_argument:
            raise ValueError(
                f"backbone {name!r}: input_kind='auto' needs takes_argument=True and a factory with an "
                "input_kind_for(argument) function."
            )
        if input_kind not in (*INPUT_KINDS, "auto"):
            raise ValueError(
                f"backbone {name!r}: input_kind must be one of {INPUT_KINDS} (or 'auto'), got {input_kind!r}."
            )
        if pretrained is None:
            pretrained = bool(getattr(factory, "has_pretrained", False))
        if description is None:
            doc = inspect.getdoc(factory) if not isinstance(factory, str) else None
            description = (doc or "").strip().splitlines()[0] if doc else ""
        pending.append(
            BackboneSpec(
                name=name,
                factory=factory,
                input_kind=input_kind,
                has_pretrained=bool(pretrained),
                description=description,
                plugin=plugin_name,
                distribution=distribution,
                aliases=tuple(aliases),
                takes_argument=bool(takes_argument),
            )
        )

    return register


def _build_registry():
    pm, distributions = make_plugin_manager()
    registry = _Registry()
    for plugin_name, plugin in pm.list_name_plugin():  # registration order: stable messages (none is blocked)
        others = [p for p in pm.get_plugins() if p is not plugin]
        call_one = pm.subset_hook_caller("register_backbones", remove_plugins=others)
        pending = []
        register = _make_register(registry, plugin_name, distributions.get(plugin_name, "skadapt"), pending)
        try:
            call_one(register=register)
        except Exception as exc:  # a broken plugin must not take the others down
            warnings.warn(
                f"skadapt plugin {plugin_name!r} failed to register its backbones and was "
                f"skipped: {type(exc).__name__}: {exc}",
                PluginWarning,
                stacklevel=3,
            )
            continue
        for spec in pending:  # DuplicateBackboneError propagates: it names both plugins
            registry.add(spec)
    return registry


_lock = threading.Lock()
_registry = None


def _get_registry():
    global _registry
    with _lock:
        if _registry is None:
            _registry = _build_registry()
        return _registry


def reset_registry():
    """Forget the registry so the next lookup rebuilds it (after installing a plugin)."""
    global _registry
    with _lock:
        _registry = None


def get_backbone(name):
    """Return the :class:`BackboneSpec` registered under ``name``.

    ``name`` may be ``"registered_name:argument"``; the argument goes to the
    backbone's factory as its first positional argument (for example
    ``"sbert:/path/to/model"``).

    Raises
    ------
    UnknownBackboneError
        With the available names and the closest match.

    Examples
    --------
    >>> from skadapt import get_backbone
    >>> get_backbone("textcnn").input_kind
    'text'
    """
    if not isinstance(name, str) or not name:
        raise UnknownBackboneError(
            f"backbone must be the name of a registered backbone (a string), got {name!r}."
        )
    registry = _get_registry()
    base, sep, argument = name.partition(":")
    if base in registry.names:
        spec = registry.specs[registry.names[base]]
        if spec.takes_argument and not argument:
            raise UnknownBackboneError(
                f"backbone={name!r}: {spec.name!r} needs an argument after a colon, e.g. '{spec.name}:/path/to/model'."
            )
        if sep and not spec.takes_argument:
            raise UnknownBackboneError(
                f"backbone={name!r}: {spec.name!r} takes no ':argument'; use backbone={spec.name!r} "
                "and pass options in backbone_kwargs."
            )
        if not sep:
            return spec
        if spec.input_kind == "auto":  # e.g. an exported backbone: its folder says what it takes
            return replace(spec, argument=argument, input_kind=spec.load_factory().input_kind_for(argument))
        return replace(spec, argument=argument)
    available = sorted(registry.names)
    close = difflib.get_close_matches(base, available, n=1, cutoff=0.5)
    hint = f" Did you mean {close[0]!r}?" if close else ""
    raise UnknownBackboneError(
        f"backbone={name!r} is not registered; available backbones: "
        f"{', '.join(available)}.{hint}"
    )


def list_backbones(filter=None):
    """List the registered backbones, one dict per backbone.

    Parameters
    ----------
    filter : str, optional
        An ``fnmatch`` pattern on the name, e.g. ``"text*"``.

    Returns
    -------
    list of dict
        Keys ``name``, ``input_kind``, ``pretrained``, ``plugin``,
        ``aliases`` and ``description``, sorted by name.

    Examples
    --------
    >>> from skadapt import list_backbones
    >>> [row["name"] for row in list_backbones("m*")]
    ['minilm', 'mlp']
    """
    import fnmatch

    specs = sorted(_get_registry().specs.values(), key=lambda s: s.name)
    if filter is not None:
        specs = [s for s in specs if fnmatch.fnmatch(s.name, filter)]
    return [s.as_row() for s in specs]
