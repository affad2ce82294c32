"""Training data sets: reference forces of random configurations and of reference-driven quenches.

A data set is one HDF5 file; its rows are configurations of one model (a plugin) on ``shape`` unit
cells, laid out as the plugin's :class:`~latsym.forcefield.FieldLayout` says (below, ``(…)`` stands
for one configuration's shape ``(*site_shape, L1, …, Ld)``):

================  ====================  ==========================================================
dataset           shape, dtype          meaning
================  ====================  ==========================================================
``q``             (n, …) float64        configurations
``forces``        (n, …) float64        reference forces (the plugin's exact solver)
``source``        (n,) int64            -1 for a random configuration, else the quench index
``step``          (n,) int64            dynamics step of a quench snapshot (0 for random ones)
*extras*          (n, …) float64        what else the reference solver returns per configuration
                                        (e.g. densities, the free energy)
================  ====================  ==========================================================

Attributes: ``format``, ``plugin``, ``params``, ``options`` and ``layout`` (JSON),
``latsym_version``, ``created``, and the progress counters ``n_random_done`` and
``n_quenches_done``. Generation is resumable: running it again with the same plugin, parameters and
options continues where it stopped; every random configuration and every quench draws from its own
seed derived from ``(seed, kind, index)``, so the result does not depend on where a run was
interrupted. An unfinished quench resumes from the checkpoint of its own trajectory file in
``<out>.work/``.

The plugin supplies (see :class:`latsym.plugin.ModelPlugin`): ``name``, ``params_dict()``,
``field_layout()``, ``check_cells(shape)``, ``random_configuration(shape, rng, scale)``,
``initial_state(shape, rng, scale)``, ``reference_solution(q)``, ``reference_forces(q)`` and
``integrator()``.
"""

from __future__ import annotations

import dataclasses
import datetime
import json
import math
import os
import shutil
from pathlib import Path
from typing import Any

import h5py
import numpy as np
import torch
from tqdm.auto import tqdm

from latsym._errors import LatsymError
from latsym._version import __version__
from latsym.dynamics import run
from latsym.forcefield._layout import FieldLayout
from latsym.io import FileLock

FORMAT = "latsym-dataset/1"
_KIND_RANDOM, _KIND_QUENCH = 0, 1
_COUNTERS = ("n_random_done", "n_quenches_done")


class DatasetError(LatsymError, ValueError):
    """A file is not a data set of the expected model, is corrupt, or was made with other options."""


@dataclasses.dataclass(frozen=True)
class GenerationOptions:
    """What a data set holds and how it is made.

    Attributes:
        shape: unit cells per side ``(L1, …, Ld)``.
        n_random: random configurations (the plugin's ``random_configuration``).
        n_quenches: quenches driven by the reference forces from such a random start.
        snapshots_per_quench: snapshots kept from each quench (the start excluded).
        snapshot_every: dynamics steps between kept snapshots.
        random_scale: the scale of the random configurations (e.g. the standard deviation of a
            displacement), or ``None`` for the plugin's default.
        seed: master seed; every configuration and quench derives its own from it.

    >>> GenerationOptions(shape=(4, 4), n_random=3, n_quenches=1, snapshots_per_quench=2).n_configurations
    5
    """

    shape: tuple[int, ...] = (16, 16)
    n_random: int = 20
    n_quenches: int = 2
    snapshots_per_quench: int = 10
    snapshot_every: int = 25
    random_scale: float | None = None
    seed: int = 0

    def __post_init__(self) -> None:
        shape = tuple(self.shape) if isinstance(self.shape, tuple | list | np.ndarray) else ()
        if len(shape) not in (2, 3) or not all(_is_int(s) and s >= 1 for s in shape):
            raise ValueError(
                f"shape must be one positive integer number of cells per lattice dimension, (L1, L2) or "
                f"(L1, L2, L3), got {self.shape!r}"
            )
        object.__setattr__(self, "shape", tuple(int(s) for s in shape))
        for name in ("n_random", "n_quenches", "snapshots_per_quench", "snapshot_every", "seed"):
            value = getattr(self, name)
            if not _is_int(value) or value < 0:
                raise ValueError(f"{name} must be a non-negative integer, got {value!r}")
            object.__setattr__(self, name, int(value))  # numpy integers are not JSON-serialisable
        if self.snapshot_every < 1:
            raise ValueError(f"snapshot_every must be at least 1, got {self.snapshot_every}")
        if self.n_quenches and self.snapshots_per_quench < 1:
            raise ValueError("snapshots_per_quench must be at least 1 when n_quenches > 0")
        if self.n_configurations == 0:
            raise ValueError("a data set needs at least one configuration: n_random or n_quenches > 0")
        scale = self.random_scale
        if scale is not None:
            real = isinstance(scale, int | float | np.integer | np.floating) and not isinstance(scale, bool)
            if not (real and math.isfinite(scale) and scale > 0):
                raise ValueError(f"random_scale must be None or positive and finite, got {scale!r}")
            object.__setattr__(self, "random_scale", float(scale))

    @property
    def dim(self) -> int:
        """The lattice dimension, the number of sides of ``shape``."""
        return len(self.shape)

    @property
    def n_configurations(self) -> int:
        """Rows of the finished data set."""
        return self.n_random + self.n_quenches * self.snapshots_per_quench

    def to_dict(self) -> dict[str, Any]:
        d = dataclasses.asdict(self)
        d["shape"] = list(self.shape)
        return d

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> GenerationOptions:
        return cls(**{**values, "shape": tuple(values["shape"])})


@dataclasses.dataclass(frozen=True)
class Dataset:
    """A loaded data set: the arrays of the module docstring and what made them.

    Attributes:
        q, forces: configurations and reference forces, ``(n, *site_shape, L1, …, Ld)`` float64.
        source, step: ``(n,)`` int64 (see the module docstring).
        extras: the reference solver's other arrays by name, each ``(n, …)``; also readable as
            attributes (``dataset.density``).
        plugin: the model's name; params: its parameters (a plain dict, as JSON).
        options: the :class:`GenerationOptions`; layout: the :class:`FieldLayout`.
    """

    q: np.ndarray
    forces: np.ndarray
    source: np.ndarray
    step: np.ndarray
    extras: dict[str, np.ndarray]
    plugin: str
    params: dict[str, Any]
    options: GenerationOptions
    layout: FieldLayout

    def __getattr__(self, name: str) -> np.ndarray:
        extras = self.__dict__.get("extras", {})
        if name in extras:
            return extras[name]
        raise AttributeError(f"{type(self).__name__} has no attribute or extra array {name!r}")

    def __len__(self) -> int:
        return len(self.q)

    def split(self, holdout_every: int = 3) -> tuple[np.ndarray, np.ndarray]:
        """Indices ``(train, held_out)``: every ``holdout_every``-th configuration is held out
        (counting from the third, as in Fan & Chern 2026)."""
        if not _is_int(holdout_every) or holdout_every < 2:
            raise ValueError(f"holdout_every must be an integer >= 2, got {holdout_every!r}")
        idx = np.arange(len(self))
        held = idx % holdout_every == holdout_every - 1
        return idx[~held], idx[held]


def random_configuration(plugin: Any, options: GenerationOptions, index: int) -> np.ndarray:
    """Random configuration ``index`` of a data set, of the plugin's layout on ``options.shape``."""
    rng = np.random.default_rng([options.seed, _KIND_RANDOM, index])
    return np.asarray(plugin.random_configuration(options.shape, rng, options.random_scale), dtype=np.float64)


def quench_initial_state(plugin: Any, options: GenerationOptions, index: int):
    """Initial ``(q, v, noise_seed)`` of quench ``index`` (``v`` is ``None`` for an integrator without
    velocities): the plugin's ``initial_state``, then the seed of the quench's thermostat noise."""
    rng = np.random.default_rng([options.seed, _KIND_QUENCH, index])
    q, v = plugin.initial_state(options.shape, rng, options.random_scale)
    return np.asarray(q, dtype=np.float64), None if v is None else np.asarray(v, np.float64), int(
        rng.integers(2**62))


def generate(
    plugin: Any,
    out: str | os.PathLike,
    options: GenerationOptions | None = None,
    *,
    overwrite: bool = False,
    progress: bool = True,
    batch_size: int = 8,
) -> Path:
    """Generate (or continue generating) a training data set of ``plugin``'s model; returns its path.

    Args:
        plugin: the model (a :class:`latsym.plugin.ModelPlugin` with its parameters).
        out: the HDF5 file to write.
        options: what to generate (default :class:`GenerationOptions()`).
        overwrite: start afresh even if ``out`` holds a data set made with other options.
        progress: show progress bars.
        batch_size: random configurations given to the reference solver per call.

    Raises:
        DatasetError: ``out`` exists but is not a data set of this model, options and parameters (pass
            ``overwrite=True`` or another path), or is corrupt.
        latsym.io.FileLockedError: another process is generating ``out`` (the message names it).
        ValueError: the plugin refuses the lattice size (``check_cells``).
        latsym.dynamics.DivergenceError: a quench left the plugin's ``divergence_bound`` (a time step
            too large); its trajectory keeps the last state within it, and the data set the
            configurations done before.
    """
    options = options or GenerationOptions()
    plugin.check_cells(options.shape)
    out = Path(out)
    if out.is_dir():
        raise DatasetError(f"{out} is a directory; give the data set a file name, e.g. {out / 'data.h5'}")
    work = out.with_name(out.name + ".work")
    with FileLock(out):  # a second process on the same data set, overwrite too, is refused
        if overwrite:
            out.unlink(missing_ok=True)
            shutil.rmtree(work, ignore_errors=True)
        identity = _identity(plugin, options)
        if out.exists():
            file = _open_for_resume(out, identity, options, plugin.name)
        else:
            shutil.rmtree(work, ignore_errors=True)  # quench files left over from a deleted data set
            file = _create(out, identity)
        with file:
            _generate_random(file, plugin, options, progress, batch_size)
            _generate_quenches(file, plugin, options, progress, work)
        shutil.rmtree(work, ignore_errors=True)
    return out


def load_dataset(path: str | os.PathLike, plugin: str | None = None) -> Dataset:
    """Read a finished data set written by :func:`generate`.

    Args:
        path: the HDF5 file.
        plugin: the model it must belong to (``None``: any).

    Raises:
        DatasetError: missing, not HDF5, not a latsym data set (of ``plugin``), or unfinished.
    """
    path = Path(path)
    command = f"latsym {plugin or '<model>'} generate --out {path}"
    if not path.is_file():
        raise DatasetError(f"no data set at {path}; make one with `{command}`")
    with _open_dataset_file(path, "r", plugin) as file:
        options = GenerationOptions.from_dict(json.loads(file.attrs["options"]))
        n = file["q"].shape[0]
        if n != options.n_configurations:
            raise DatasetError(
                f"{path} is unfinished ({n} of {options.n_configurations} configurations); run the same "
                "generate command again to complete it"
            )
        arrays = {name: file[name][()] for name in file}
        layout = FieldLayout(**json.loads(file.attrs["layout"]))
        return Dataset(
            q=arrays.pop("q"), forces=arrays.pop("forces"), source=arrays.pop("source"),
            step=arrays.pop("step"), extras=arrays, plugin=str(file.attrs["plugin"]),
            params=json.loads(file.attrs["params"]), options=options, layout=layout,
        )


# -- the file ---------------------------------------------------------------------------------------


def _identity(plugin: Any, options: GenerationOptions) -> dict[str, str]:
    layout = dataclasses.asdict(plugin.field_layout())
    return {
        "plugin": plugin.name,
        "params": json.dumps(plugin.params_dict(), sort_keys=True),
        "options": json.dumps(options.to_dict(), sort_keys=True),
        "layout": json.dumps(layout, sort_keys=True),
    }


def _create(out: Path, identity: dict[str, str]) -> h5py.File:
    file = h5py.File(out, "w")
    file.attrs.update(
        format=FORMAT,
        **identity,
        latsym_version=__version__,
        created=datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        n_random_done=0,
        n_quenches_done=0,
    )
    file.flush()
    return file


def _open_for_resume(out: Path, identity: dict[str, str], options: GenerationOptions,
                     plugin: str) -> h5py.File:
    file = _open_dataset_file(out, "r+", plugin)
    try:
        if any(json.loads(str(file.attrs[k])) != json.loads(v) for k, v in identity.items() if k != "plugin"):
            raise DatasetError(
                f"{out} holds a data set made with other options or parameters; pass overwrite=True "
                "(--overwrite) to replace it, or choose another output path"
            )
        # rows past the recorded progress belong to an interrupted batch: drop them
        n_quench_rows = int(file.attrs["n_quenches_done"]) * options.snapshots_per_quench
        n_rows = int(file.attrs["n_random_done"]) + n_quench_rows
        n_held = file["q"].shape[0] if "q" in file else 0
        if n_held < n_rows:
            raise DatasetError(
                f"{out} is corrupt: its progress counters record {n_rows} configurations but it holds "
                f"{n_held}; pass overwrite=True (--overwrite) to regenerate it"
            )
        _resize(file, n_rows)
    except BaseException:
        file.close()
        raise
    return file


def _open_dataset_file(path: Path, mode: str, plugin: str | None) -> h5py.File:
    try:
        file = h5py.File(path, mode)
    except OSError as exc:
        raise DatasetError(
            f"{path} is not a readable HDF5 file ({exc}); is it corrupt or truncated?"
        ) from exc
    found, owner = file.attrs.get("format"), file.attrs.get("plugin")
    command = f"`latsym {plugin or '<model>'} generate`"
    if found != FORMAT:
        file.close()
        raise DatasetError(
            f"{path} is not a latsym{'-' + plugin if plugin else ''} data set (format attribute {found!r}, "
            f"expected {FORMAT!r}); make one with {command}"
        )
    if plugin is not None and owner != plugin:
        file.close()
        raise DatasetError(
            f"{path} is a data set of the {owner!r} model, not of {plugin!r}; make one with {command}"
        )
    return file


def _resize(file: h5py.File, n: int) -> None:
    for name in file:
        file[name].resize(n, axis=0)


def _append(file: h5py.File, plugin: Any, q: np.ndarray, source: np.ndarray, step: np.ndarray) -> None:
    solution = dict(plugin.reference_solution(q))
    columns = {"q": q, **solution, "source": source, "step": step}
    if "q" not in file:
        for name, values in columns.items():
            values = np.asarray(values)
            dtype = "i8" if name in ("source", "step") else "f8"
            row = values.shape[1:]
            chunks = (1, *row) if row else (256,)
            file.create_dataset(name, shape=(0, *row), maxshape=(None, *row), dtype=dtype, chunks=chunks)
    n0 = file["q"].shape[0]
    _resize(file, n0 + len(q))
    for name, values in columns.items():
        if name not in file:
            raise DatasetError(f"the reference solver returned {name!r}, which {file.filename} does not hold")
        file[name][n0:] = values


def _generate_random(file: h5py.File, plugin: Any, options: GenerationOptions, progress: bool,
                     batch_size: int) -> None:
    done = int(file.attrs["n_random_done"])
    bar = tqdm(total=options.n_random, initial=done, desc="random configurations", disable=not progress)
    with bar:
        while done < options.n_random:
            idx = range(done, min(done + batch_size, options.n_random))
            q = np.stack([random_configuration(plugin, options, i) for i in idx])
            _append(file, plugin, q, np.full(len(q), -1), np.zeros(len(q), dtype=np.int64))
            done = idx[-1] + 1
            file.attrs["n_random_done"] = done
            file.flush()
            bar.update(len(q))


def _generate_quenches(file: h5py.File, plugin: Any, options: GenerationOptions, progress: bool,
                       work: Path) -> None:
    done = int(file.attrs["n_quenches_done"])
    n_steps = options.snapshots_per_quench * options.snapshot_every
    integrator = plugin.integrator()
    for index in range(done, options.n_quenches):
        q0, v0, noise_seed = quench_initial_state(plugin, options, index)
        result = run(
            integrator,
            plugin.reference_forces,
            torch.from_numpy(q0),
            n_steps,
            v0=None if v0 is None else torch.from_numpy(v0),
            seed=noise_seed,
            out=work / f"quench_{index:04d}.h5",
            snapshot_every=options.snapshot_every,
            checkpoint_every=options.snapshot_every,
            metadata={"params": plugin.params_dict(), "quench": index},
            progress=progress,
            bound=plugin.divergence_bound(options.random_scale),
            environment=plugin.reference_environment(),
        )
        with h5py.File(result.path, "r") as traj:
            rows = slice(1, None)  # the random start is not a quench snapshot
            q, steps = traj["q"][rows], traj["step"][rows]
        _append(file, plugin, q, np.full(len(q), index), steps)
        file.attrs["n_quenches_done"] = index + 1
        file.flush()


def _is_int(x: Any) -> bool:
    return isinstance(x, int | np.integer) and not isinstance(x, bool)
