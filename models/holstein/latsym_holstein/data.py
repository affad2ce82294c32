"""Training data: exact forces on random configurations and on ED-driven Langevin quench snapshots.

A data set is one HDF5 file. Its rows are configurations of an ``L1 × L2`` square lattice, or of an
``L1 × L2 × L3`` simple cubic one (the lattice dimension is the length of
:attr:`GenerationOptions.shape`; below, ``(L1, …)`` stands for that shape):

================  ====================  ==========================================================
dataset           shape, dtype          meaning
================  ====================  ==========================================================
``q``             (n, L1, …) float64    lattice distortions ``Q_i``
``forces``        (n, L1, …) float64    exact forces ``F_i`` (ED)
``density``       (n, L1, …) float64    electron densities ``⟨n_i⟩`` (ED)
``free_energy``   (n,) float64          total free energy of the configuration
``source``        (n,) int64            -1 for a random configuration, else the quench index
``step``          (n,) int64            Langevin step of a quench snapshot (0 for random ones)
================  ====================  ==========================================================

Attributes: ``format``, ``params`` and ``options`` (JSON), ``latsym_version``, ``created``, and the
progress counters ``n_random_done`` and ``n_quenches_done``. Generation is resumable: running it
again with the same options continues where it stopped; every random configuration and every quench
draws from its own seed derived from ``(seed, kind, index)``, so the result does not depend on where
a run was interrupted. An unfinished quench resumes from the checkpoint of its own trajectory file in
``<out>.work/``.
"""

from __future__ import annotations

import dataclasses
import datetime
import json
import math
import os
import shutil
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import h5py
import numpy as np
import torch
from tqdm.auto import tqdm

import latsym
from latsym.dynamics import LangevinVV, run
from latsym_holstein.ed import check_stable, ed_solve
from latsym_holstein.params import HolsteinParams

FORMAT = "latsym-holstein-dataset/1"

#: Standard deviation of the high-temperature initial distortions, sqrt(5/0.18) (physics.md reads
#: "Q_i ~ N(0, 5/0.18)"; we take 5/0.18 as the variance).
INITIAL_Q_STD = math.sqrt(5.0 / 0.18)

_KIND_RANDOM, _KIND_QUENCH = 0, 1


class DatasetError(ValueError):
    """A file is not a latsym-holstein data set, is corrupt, or was made with other options."""


@dataclasses.dataclass(frozen=True)
class GenerationOptions:
    """What a data set holds and how it is made.

    Attributes:
        shape: lattice ``(L1, L2)`` (square) or ``(L1, L2, L3)`` (simple cubic): one side per lattice
            dimension, each even (the checkerboard CDW needs them).
        n_random: configurations with independent ``Q_i ~ N(0, random_std²)``.
        n_quenches: ED-driven Langevin quenches from such a random start (``v_i ~ N(0, 1)``).
        snapshots_per_quench: snapshots kept from each quench (the start excluded).
        snapshot_every: Langevin steps between kept snapshots.
        random_std: standard deviation of the random and initial distortions.
        seed: master seed; every configuration and quench derives its own from it.

    >>> GenerationOptions.preset("paper").n_random
    200
    >>> GenerationOptions(shape=(4, 4, 4)).dim
    3
    """

    shape: tuple[int, ...] = (16, 16)
    n_random: int = 20
    n_quenches: int = 2
    snapshots_per_quench: int = 10
    snapshot_every: int = 25
    random_std: float = INITIAL_Q_STD
    seed: int = 0

    def __post_init__(self) -> None:
        shape = tuple(self.shape) if isinstance(self.shape, tuple | list | np.ndarray) else ()
        if len(shape) not in (2, 3) or not all(
            isinstance(s, int | np.integer) and not isinstance(s, bool) for s in shape
        ):
            raise ValueError(
                f"shape must be one integer side per lattice dimension, (L1, L2) (square) or "
                f"(L1, L2, L3) (simple cubic), got {self.shape!r}"
            )
        if min(shape) < 2 or any(s % 2 for s in shape):
            raise ValueError(
                f"lattice sides must be even and at least 2 (the checkerboard CDW is frustrated on odd "
                f"sides), got {' x '.join(str(s) for s in shape)}"
            )
        object.__setattr__(self, "shape", tuple(int(s) for s in shape))
        for name in ("n_random", "n_quenches", "snapshots_per_quench", "snapshot_every", "seed"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 0:
                raise ValueError(f"{name} must be a non-negative integer, got {value!r}")
            object.__setattr__(self, name, int(value))  # numpy integers are not JSON-serialisable
        if self.snapshot_every < 1:
            raise ValueError(f"snapshot_every must be at least 1, got {self.snapshot_every}")
        if self.n_quenches and self.snapshots_per_quench < 1:
            raise ValueError("snapshots_per_quench must be at least 1 when n_quenches > 0")
        std = self.random_std
        real = isinstance(std, int | float | np.integer | np.floating) and not isinstance(std, bool)
        if not (real and math.isfinite(std) and std > 0):
            raise ValueError(f"random_std must be positive and finite, got {std!r}")
        object.__setattr__(self, "random_std", float(std))

    @classmethod
    def preset(cls, name: str, **overrides: Any) -> GenerationOptions:
        """``"small"`` (the default: 16 × 16, minutes on 2 cores) or ``"paper"`` (40 × 40, 200
        random configurations and 4 quenches × 100 snapshots every 50 steps, as Fan & Chern 2026)."""
        presets = {
            "small": {},
            "paper": {
                "shape": (40, 40),
                "n_random": 200,
                "n_quenches": 4,
                "snapshots_per_quench": 100,
                "snapshot_every": 50,
            },
        }
        if name not in presets:
            raise ValueError(f"unknown preset {name!r}; available: {sorted(presets)}")
        return cls(**{**presets[name], **overrides})

    @property
    def dim(self) -> int:
        """The lattice dimension: 2 (square) or 3 (simple cubic), the number of sides of ``shape``."""
        return len(self.shape)

    @property
    def n_configurations(self) -> int:
        """Rows of the finished data set."""
        return self.n_random + self.n_quenches * self.snapshots_per_quench

    def to_dict(self) -> dict[str, Any]:
        d = dataclasses.asdict(self)
        d["shape"] = list(self.shape)
        return d


def _rng(seed: int, kind: int, index: int) -> np.random.Generator:
    return np.random.default_rng([seed, kind, index])


def random_configuration(options: GenerationOptions, index: int) -> np.ndarray:
    """Random configuration ``index`` of a data set: ``Q_i ~ N(0, random_std²)``, shape
    ``options.shape``."""
    return options.random_std * _rng(options.seed, _KIND_RANDOM, index).standard_normal(options.shape)


def quench_initial_state(options: GenerationOptions, index: int) -> tuple[np.ndarray, np.ndarray, int]:
    """Initial ``(Q, v, noise_seed)`` of quench ``index``: ``Q_i ~ N(0, random_std²)``,
    ``v_i ~ N(0, 1)``, and the seed of its thermostat noise."""
    rng = _rng(options.seed, _KIND_QUENCH, index)
    q = options.random_std * rng.standard_normal(options.shape)
    v = rng.standard_normal(options.shape)
    return q, v, int(rng.integers(2**62))


def generate(
    out: str | os.PathLike,
    options: GenerationOptions | None = None,
    params: HolsteinParams | None = None,
    *,
    overwrite: bool = False,
    progress: bool = True,
    batch_size: int = 8,
) -> Path:
    """Generate (or continue generating) a training data set; returns its path.

    Args:
        out: the HDF5 file to write.
        options: what to generate (default :class:`GenerationOptions()`).
        params: model parameters of the ED forces and of the quench dynamics (``mass``,
            ``temperature``, ``dt``, ``gamma``).
        overwrite: start afresh even if ``out`` holds a data set made with other options.
        progress: show progress bars.
        batch_size: random configurations diagonalised per ED call.

    Raises:
        DatasetError: ``out`` exists but is not a data set of these options and parameters (pass
            ``overwrite=True`` or another path), or is corrupt.
        ValueError: the elastic energy of ``params`` is unbounded below in ``options.dim`` dimensions
            (:func:`~latsym_holstein.ed.check_stable`).
    """
    options = options or GenerationOptions()
    params = params or HolsteinParams()
    check_stable(params, options.dim)
    out = Path(out)
    work = out.with_name(out.name + ".work")
    if overwrite:
        out.unlink(missing_ok=True)
        shutil.rmtree(work, ignore_errors=True)
    if out.exists():
        file = _open_for_resume(out, options, params)
    else:
        shutil.rmtree(work, ignore_errors=True)  # quench files left over from a deleted data set
        out.parent.mkdir(parents=True, exist_ok=True)
        file = _create(out, options, params)
    with file:
        _generate_random(file, options, params, progress, batch_size)
        _generate_quenches(file, options, params, progress, work)
    shutil.rmtree(work, ignore_errors=True)
    return out


def _create(out: Path, options: GenerationOptions, params: HolsteinParams) -> h5py.File:
    file = h5py.File(out, "w")
    shape = options.shape
    for name in ("q", "forces", "density"):
        file.create_dataset(name, shape=(0, *shape), maxshape=(None, *shape), dtype="f8", chunks=(1, *shape))
    file.create_dataset("free_energy", shape=(0,), maxshape=(None,), dtype="f8", chunks=(256,))
    for name in ("source", "step"):
        file.create_dataset(name, shape=(0,), maxshape=(None,), dtype="i8", chunks=(256,))
    file.attrs.update(
        format=FORMAT,
        params=json.dumps(params.to_dict(), sort_keys=True),
        options=json.dumps(options.to_dict(), sort_keys=True),
        latsym_version=latsym.__version__,
        created=datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        n_random_done=0,
        n_quenches_done=0,
    )
    file.flush()
    return file


def _open_for_resume(out: Path, options: GenerationOptions, params: HolsteinParams) -> h5py.File:
    file = _open_dataset_file(out, "r+")
    try:
        same = (
            json.loads(file.attrs["options"]) == options.to_dict()
            and json.loads(file.attrs["params"]) == params.to_dict()
        )
    except BaseException:
        file.close()
        raise
    if not same:
        file.close()
        raise DatasetError(
            f"{out} holds a data set made with other options or parameters; pass overwrite=True "
            "(--overwrite) to replace it, or choose another output path"
        )
    # rows past the recorded progress belong to an interrupted batch: drop them
    n_rows = (
        int(file.attrs["n_random_done"]) + int(file.attrs["n_quenches_done"]) * options.snapshots_per_quench
    )
    n_held = file["q"].shape[0]
    if n_held < n_rows:
        file.close()
        raise DatasetError(
            f"{out} is corrupt: its progress counters record {n_rows} configurations but it holds "
            f"{n_held}; pass overwrite=True (--overwrite) to regenerate it"
        )
    _resize(file, n_rows)
    return file


def _open_dataset_file(path: Path, mode: str) -> h5py.File:
    try:
        file = h5py.File(path, mode)
    except OSError as exc:
        raise DatasetError(
            f"{path} is not a readable HDF5 file ({exc}); is it corrupt or truncated?"
        ) from exc
    found = file.attrs.get("format")
    if found != FORMAT:
        file.close()
        raise DatasetError(
            f"{path} is not a latsym-holstein data set (format attribute {found!r}, "
            f"expected {FORMAT!r}); make one with `latsym holstein generate`"
        )
    return file


def _resize(file: h5py.File, n: int) -> None:
    for name in ("q", "forces", "density", "free_energy", "source", "step"):
        file[name].resize(n, axis=0)


def _append(file: h5py.File, q: np.ndarray, source: np.ndarray, step: np.ndarray, params: HolsteinParams):
    result = ed_solve(q, params, dim=q.ndim - 1)
    n0 = file["q"].shape[0]
    _resize(file, n0 + len(q))
    file["q"][n0:] = q
    file["forces"][n0:] = result.forces
    file["density"][n0:] = result.density
    file["free_energy"][n0:] = result.free_energy
    file["source"][n0:] = source
    file["step"][n0:] = step


def _generate_random(file, options, params, progress, batch_size) -> None:
    done = int(file.attrs["n_random_done"])
    with tqdm(
        total=options.n_random, initial=done, desc="random configurations", disable=not progress
    ) as bar:
        while done < options.n_random:
            idx = range(done, min(done + batch_size, options.n_random))
            q = np.stack([random_configuration(options, i) for i in idx])
            _append(file, q, np.full(len(q), -1), np.zeros(len(q), dtype=np.int64), params)
            done = idx[-1] + 1
            file.attrs["n_random_done"] = done
            file.flush()
            bar.update(len(q))


def _generate_quenches(file, options, params, progress, work: Path) -> None:
    done = int(file.attrs["n_quenches_done"])
    n_steps = options.snapshots_per_quench * options.snapshot_every
    integrator = LangevinVV(
        mass=params.mass, gamma=params.gamma, temperature=params.temperature, dt=params.dt
    )

    def force(q: torch.Tensor) -> torch.Tensor:
        return ed_solve(q, params, dim=options.dim).forces

    for index in range(done, options.n_quenches):
        q0, v0, noise_seed = quench_initial_state(options, index)
        trajectory = work / f"quench_{index:04d}.h5"
        result = run(
            integrator,
            force,
            torch.from_numpy(q0),
            n_steps,
            v0=torch.from_numpy(v0),
            seed=noise_seed,
            out=trajectory,
            snapshot_every=options.snapshot_every,
            checkpoint_every=options.snapshot_every,
            metadata={"params": params.to_dict(), "quench": index},
            progress=progress,
        )
        with h5py.File(result.path, "r") as traj:
            rows = slice(1, None)  # the random start is not a quench snapshot
            q, steps = traj["q"][rows], traj["step"][rows]
        _append(file, q, np.full(len(q), index), steps, params)
        file.attrs["n_quenches_done"] = index + 1
        file.flush()


@dataclasses.dataclass(frozen=True)
class Dataset:
    """A loaded data set (arrays as in the module docstring) with its parameters and options."""

    q: np.ndarray
    forces: np.ndarray
    density: np.ndarray
    free_energy: np.ndarray
    source: np.ndarray
    step: np.ndarray
    params: HolsteinParams
    options: GenerationOptions

    def __len__(self) -> int:
        return len(self.q)

    def split(self, holdout_every: int = 3) -> tuple[np.ndarray, np.ndarray]:
        """Indices ``(train, held_out)``: every ``holdout_every``-th configuration is held out
        (counting from the third, as in Fan & Chern 2026)."""
        if isinstance(holdout_every, bool) or not isinstance(holdout_every, int) or holdout_every < 2:
            raise ValueError(f"holdout_every must be an integer >= 2, got {holdout_every!r}")
        idx = np.arange(len(self))
        held = idx % holdout_every == holdout_every - 1
        return idx[~held], idx[held]


def load_dataset(path: str | os.PathLike) -> Dataset:
    """Read a data set written by :func:`generate`.

    Raises:
        DatasetError: not an HDF5 file, not a latsym-holstein data set, or unfinished.
    """
    path = Path(path)
    if not path.exists():
        raise DatasetError(f"no data set at {path}; make one with `latsym holstein generate --out {path}`")
    with _open_dataset_file(path, "r") as file:
        options = GenerationOptions(**_options_from_json(file.attrs["options"]))
        params = HolsteinParams.from_dict(json.loads(file.attrs["params"]))
        n = file["q"].shape[0]
        if n != options.n_configurations:
            raise DatasetError(
                f"{path} is unfinished ({n} of {options.n_configurations} configurations); run the same "
                "`latsym holstein generate` command again to complete it"
            )
        arrays = {
            name: file[name][()] for name in ("q", "forces", "density", "free_energy", "source", "step")
        }
    return Dataset(**arrays, params=params, options=options)


def _options_from_json(text: str) -> Mapping[str, Any]:
    d = json.loads(text)
    d["shape"] = tuple(d["shape"])
    return d
