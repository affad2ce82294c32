"""Training data of the Holstein model: latsym's generic data sets (:mod:`latsym.forcefield`) bound
to :class:`~latsym_holstein.plugin.HolsteinPlugin`.

A data set is one HDF5 file (layout: :func:`latsym.forcefield.generate`) of exact ED forces on random
distortions ``Q_i ~ N(0, random_scale²)`` (default :data:`INITIAL_Q_STD`) and on the snapshots of
ED-driven Langevin quenches from such a start with ``v_i ~ N(0, 1)``. Besides ``q`` and ``forces``
it keeps the ED ``density`` ``(n, L1, …)`` and ``free_energy`` ``(n,)`` of every configuration.

Data sets of the earlier format ``latsym-holstein-dataset/1`` are not read: make them again with
``latsym holstein generate`` (the same options give the same configurations and forces).
"""

from __future__ import annotations

import math
import os
from pathlib import Path

from latsym.forcefield import Dataset, DatasetError, GenerationOptions
from latsym.forcefield import generate as _generate
from latsym.forcefield import load_dataset as _load_dataset
from latsym_holstein.params import HolsteinParams

# Re-exported for the code written against this module before latsym.forcefield held them:
# Dataset, DatasetError, GenerationOptions.
__all__ = ["INITIAL_Q_STD", "PRESETS", "generate",
           "load_dataset", "preset"]

#: Standard deviation of the high-temperature initial distortions, sqrt(5/0.18) (physics.md reads
#: "Q_i ~ N(0, 5/0.18)"; we take 5/0.18 as the variance).
INITIAL_Q_STD = math.sqrt(5.0 / 0.18)

#: The ``generate --preset`` choices: ``"small"`` (16 × 16, minutes on 2 cores) and ``"paper"``
#: (40 × 40, 200 random configurations and 4 quenches × 100 snapshots every 50 steps, as Fan & Chern
#: 2026), as overrides of :class:`GenerationOptions`.
PRESETS = {
    "small": {"shape": (16, 16)},
    "paper": {"shape": (40, 40), "n_random": 200, "n_quenches": 4, "snapshots_per_quench": 100,
              "snapshot_every": 50},
}


def preset(name: str, **overrides) -> GenerationOptions:
    """The :class:`GenerationOptions` of preset ``name`` of :data:`PRESETS`, with ``overrides``.

    >>> preset("paper").n_configurations * 40 * 40  # site forces
    960000
    """
    if name not in PRESETS:
        raise ValueError(f"unknown preset {name!r}; available: {sorted(PRESETS)}")
    return GenerationOptions(**{**PRESETS[name], **overrides})


def generate(out: str | os.PathLike, options: GenerationOptions | None = None,
             params: HolsteinParams | None = None, **kwargs) -> Path:
    """Generate (or continue) a data set of the Holstein model on the square lattice with ``params``
    (default :class:`HolsteinParams()`): :func:`latsym.forcefield.generate` with a
    :class:`~latsym_holstein.plugin.HolsteinPlugin`; ``kwargs`` go to it (``overwrite``,
    ``progress``, ``batch_size``). For another lattice, pass that plugin to
    :func:`latsym.forcefield.generate` (e.g. the simple cubic one of ``examples/custom_plugin.py``).

    Raises:
        DatasetError: see :func:`latsym.forcefield.generate`.
        ValueError: odd or too small sides, or parameters whose elastic energy is unbounded below.
    """
    from latsym_holstein.plugin import HolsteinPlugin

    return _generate(HolsteinPlugin(params), out, options, **kwargs)


def load_dataset(path: str | os.PathLike) -> Dataset:
    """Read a finished Holstein data set (:func:`latsym.forcefield.load_dataset`); its ``params`` are a
    :class:`HolsteinParams`.

    Raises:
        DatasetError: missing, not HDF5, not a Holstein data set, or unfinished.
    """
    import dataclasses

    data = _load_dataset(path)
    if not data.plugin.startswith("holstein"):
        raise DatasetError(f"{path} is a data set of the {data.plugin!r} model, not of a Holstein model")
    return dataclasses.replace(data, params=HolsteinParams.from_dict(data.params))
