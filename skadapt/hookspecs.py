"""Hook specifications: the contract between skadapt and backbone plugins.

A plugin is a module (or object) with a ``register_backbones`` function
decorated with :data:`hookimpl`, found through the ``skadapt`` entry-point
group. The built-in backbones are plugins of exactly the same kind (see
``skadapt.plugins.DEFAULT_PLUGINS``).
"""

import pluggy

hookspec = pluggy.HookspecMarker("skadapt")
hookimpl = pluggy.HookimplMarker("skadapt")


@hookspec
def register_backbones(register):
    """Register backbone recipes.

    Call ``register`` once per backbone::

        @hookimpl
        def register_backbones(register):
            register(
                "bow",
                BagOfWordsBackbone,          # a skadapt.backbones.Backbone subclass
                description="Bag-of-embeddings text encoder.",
                aliases=("bag-of-words",),
            )

    ``register(name, factory, *, input_kind=None, pretrained=None,
    description=None, aliases=(), takes_argument=False)``: ``factory`` (a
    callable, or a ``"module:attribute"`` string imported on first use) is
    called with the user's backbone options as keyword arguments and must
    return a :class:`skadapt.backbones.Backbone`. ``input_kind`` and
    ``pretrained`` default to the class attributes ``input_kind`` and
    ``has_pretrained`` of a ``Backbone`` subclass; ``description`` to the first
    line of its docstring. With ``takes_argument=True`` the backbone is named
    ``"name:argument"`` and ``argument`` is the factory's first positional
    argument (a path or hub id, say); such a backbone may register
    ``input_kind="auto"`` when the argument decides what it takes, if its
    factory has an ``input_kind_for(argument)`` attribute returning the kind.
    Registering a name that another plugin already
    registered raises :class:`skadapt.registry.DuplicateBackboneError`.
    """
