"""Model plugins: the base class a lattice model subclasses, and the registry of installed ones.

Plugins are discovered through the entry-point group ``latsym.models``: a distribution declares

.. code-block:: toml

    [project.entry-points."latsym.models"]
    mymodel = "my_package.plugin:MyModelPlugin"

and ``latsym models`` lists it. latsym never imports a plugin by name. A subclass of
:class:`ModelPlugin` gets ``latsym <name> info | generate | train | simulate | analyze`` from it and
overrides only what differs.
"""

from latsym.plugin._plugin import (
    ENTRY_POINT_GROUP,
    CLICommand,
    ModelPlugin,
    PluginError,
    load_plugin,
    plugin_entry_points,
)

__all__ = [
    "ENTRY_POINT_GROUP",
    "CLICommand",
    "ModelPlugin",
    "PluginError",
    "load_plugin",
    "plugin_entry_points",
]
