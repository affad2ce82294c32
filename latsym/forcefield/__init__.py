"""What every machine-learned force field needs and no model plugin should rewrite.

- :class:`FieldLayout`: how a model's configurations are laid out in arrays (channels,
  sublattices, lattice dimension, the centre of the symmetry);
- :class:`ForceField`: the base class of force-field networks for any field layout;
- :class:`NetworkRegistry`: one plugin's network presets, filled without import-order effects, and
  the versioned network file (:meth:`NetworkRegistry.save` / :meth:`NetworkRegistry.load`);
- :func:`generate` / :func:`load_dataset`: training data sets from a plugin's reference solver
  (random configurations and snapshots of reference-driven quenches) in HDF5.

Model-agnostic: it knows nothing of any model; plugins (``latsym.plugin.ModelPlugin``) plug their
physics into it.
"""

from latsym.forcefield._data import (
    Dataset,
    DatasetError,
    GenerationOptions,
    generate,
    load_dataset,
    quench_initial_state,
    random_configuration,
)
from latsym.forcefield._layout import FieldLayout
from latsym.forcefield._network import FORMAT, ForceField, NetworkFileError, NetworkRegistry

__all__ = [
    "FORMAT",
    "Dataset",
    "DatasetError",
    "FieldLayout",
    "ForceField",
    "GenerationOptions",
    "NetworkFileError",
    "NetworkRegistry",
    "generate",
    "load_dataset",
    "quench_initial_state",
    "random_configuration",
]
