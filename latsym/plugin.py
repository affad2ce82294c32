"""Model plugins: the base class a lattice model subclasses, and the registry of installed ones.

Plugins are discovered through the entry-point group ``latsym.models``: a distribution declares

.. code-block:: toml

    [project.entry-points."latsym.models"]
    mymodel = "my_package.plugin:MyModelPlugin"

and ``latsym models`` lists it. latsym never imports a plugin by name.
"""

from __future__ import annotations

from importlib.metadata import EntryPoint, entry_points

ENTRY_POINT_GROUP = "latsym.models"


class PluginError(RuntimeError):
    """An installed plugin cannot be found or loaded."""


def plugin_entry_points() -> dict[str, EntryPoint]:
    """Installed plugins by name, without importing them.

    >>> "holstein" in plugin_entry_points()
    True
    """
    return {ep.name: ep for ep in entry_points(group=ENTRY_POINT_GROUP)}


def load_plugin(name: str):
    """Import and return the plugin class registered under ``name``.

    Raises:
        PluginError: no plugin of that name is installed, or importing it failed.
    """
    eps = plugin_entry_points()
    if name not in eps:
        known = ", ".join(sorted(eps)) or "none"
        raise PluginError(
            f"no latsym plugin named {name!r} is installed (installed: {known}); install the "
            f"distribution that provides it, e.g. `pip install -e models/{name}`"
        )
    try:
        return eps[name].load()
    except Exception as exc:  # surface the plugin's own import error with context
        raise PluginError(f"plugin {name!r} ({eps[name].value}) failed to import: {exc}") from exc
