"""What every machine-learned force field needs and no model plugin should rewrite.

- :class:`FieldLayout`: how a model's configurations are laid out in arrays (channels,
  sublattices, lattice dimension, the centre of the symmetry);
- :class:`ForceField`: the base class of force-field networks for any field layout;
- :class:`NetworkRegistry`: one plugin's network presets, filled without import-order effects, and
  the versioned network file (:meth:`NetworkRegistry.save` / :meth:`NetworkRegistry.load`);
- :func:`generate` / :func:`load_dataset`: training data sets from a plugin's reference solver
  (random configurations and snapshots of reference-driven quenches) in HDF5;
- :func:`simulate`: the plugin's dynamics driven by its reference forces or a network
  (:func:`network_force`), with replicas, checkpoints, exact resume and HDF5 trajectories;
- :func:`analyze` / :func:`load_trajectory`: a trajectory's observables and the plugin's own
  analysis, as JSON and PNG.

Model-agnostic: it knows nothing of any model; plugins (``latsym.plugin.ModelPlugin``) plug their
physics into it.
"""

from latsym.forcefield._analysis import TrajectoryError, analyze, load_trajectory
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
from latsym.forcefield._simulate import initial_fields, network_force, simulate

__all__ = [
    "FORMAT",
    "Dataset",
    "DatasetError",
    "FieldLayout",
    "ForceField",
    "GenerationOptions",
    "NetworkFileError",
    "NetworkRegistry",
    "TrajectoryError",
    "analyze",
    "generate",
    "initial_fields",
    "load_dataset",
    "load_trajectory",
    "network_force",
    "quench_initial_state",
    "random_configuration",
    "simulate",
]
