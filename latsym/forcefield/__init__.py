"""What every machine-learned force field needs and no model plugin should rewrite.

- :class:`FieldLayout`: how a model's configurations are laid out in arrays (channels,
  sublattices, lattice dimension, the centre of the symmetry);
- :class:`ForceField`: the base class of force-field networks for any field layout;
- :class:`NetworkRegistry`: one plugin's network presets, filled without import-order effects, and
  the versioned network file (:meth:`NetworkRegistry.save` / :meth:`NetworkRegistry.load`).

Model-agnostic: it knows nothing of any model; plugins (``latsym.plugin.ModelPlugin``) plug their
physics into it.
"""

from latsym.forcefield._layout import FieldLayout
from latsym.forcefield._network import FORMAT, ForceField, NetworkFileError, NetworkRegistry

__all__ = [
    "FORMAT",
    "FieldLayout",
    "ForceField",
    "NetworkFileError",
    "NetworkRegistry",
]
