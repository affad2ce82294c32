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
- :func:`receptive_field`: how many cells a local network sees (its halo), from its stencil layers;
  :func:`tiled_forces` evaluates a local network on a large lattice tile by tile with halos;
  :func:`simulate_decomposed` splits a simulation over processes (:class:`ProcessGrid`, halo
  exchange by :class:`DecomposedForce`, ``torch.distributed``);
- :func:`train`: fit a plugin's network to one of its data sets, with exact resume, early stopping,
  a report and plots; :func:`force_metrics`, :func:`predict` and :func:`evaluate` measure a network;
- :func:`configure_train_parser` / :func:`run_train`: the command ``latsym <model> train``, and the
  option types the commands share (:func:`device_arg`, :func:`positive_int`).

Model-agnostic: it knows nothing of any model; plugins (``latsym.plugin.ModelPlugin``) plug their
physics into it.
"""

from latsym.forcefield._analysis import TrajectoryError, analyze, load_trajectory
from latsym.forcefield._cli import (
    DEVICE_HELP,
    INTERRUPTED,
    THREADS_HELP,
    configure_train_parser,
    device_arg,
    positive_int,
    run_train,
)
from latsym.forcefield._data import (
    Dataset,
    DatasetError,
    GenerationOptions,
    generate,
    load_dataset,
    quench_initial_state,
    random_configuration,
)
from latsym.forcefield._decomposition import DecomposedForce, ProcessGrid, exchange_halos
from latsym.forcefield._distributed import simulate_decomposed
from latsym.forcefield._layout import FieldLayout
from latsym.forcefield._locality import GlobalOperationError, branches, chain, receptive_field
from latsym.forcefield._metrics import evaluate, force_metrics, predict
from latsym.forcefield._network import FORMAT, ForceField, NetworkFileError, NetworkRegistry
from latsym.forcefield._simulate import initial_fields, network_force, simulate
from latsym.forcefield._tiled import periodic_window, tile_shape, tiled_forces, tiled_network_force
from latsym.forcefield._train import SCHEDULES, TrainingError, TrainReport, train

__all__ = [
    "DEVICE_HELP",
    "FORMAT",
    "INTERRUPTED",
    "SCHEDULES",
    "THREADS_HELP",
    "Dataset",
    "DatasetError",
    "DecomposedForce",
    "FieldLayout",
    "ForceField",
    "GenerationOptions",
    "GlobalOperationError",
    "NetworkFileError",
    "NetworkRegistry",
    "ProcessGrid",
    "TrainReport",
    "TrainingError",
    "TrajectoryError",
    "analyze",
    "branches",
    "chain",
    "configure_train_parser",
    "device_arg",
    "evaluate",
    "exchange_halos",
    "force_metrics",
    "generate",
    "initial_fields",
    "load_dataset",
    "load_trajectory",
    "network_force",
    "periodic_window",
    "positive_int",
    "predict",
    "quench_initial_state",
    "random_configuration",
    "receptive_field",
    "run_train",
    "simulate",
    "simulate_decomposed",
    "tile_shape",
    "tiled_forces",
    "tiled_network_force",
    "train",
]
