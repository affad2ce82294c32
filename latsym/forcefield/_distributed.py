"""The decomposed simulation driver: one lattice over several processes with ``torch.distributed``.

:func:`simulate_decomposed` runs what :func:`~latsym.forcefield.simulate` runs with a network, the
lattice split over a :class:`~latsym.forcefield.ProcessGrid`: every rank integrates its tile, exchanging
halos before each force evaluation (:class:`~latsym.forcefield.DecomposedForce`); the thermostat noise
is :class:`~latsym.dynamics.SiteNoise` (a function of the seed, the step and the global site, so the
trajectory does not depend on the decomposition); the divergence guard is a collective reduction;
snapshots and checkpoints are gathered to rank 0, which writes the usual trajectory and verified
checkpoint (``analyze`` reads it as any other). The checkpoint holds the whole lattice, so a run
resumes on any number of processes.
"""

from __future__ import annotations

import contextlib
import datetime
import hashlib
import itertools
import json
import math
import os
import pickle
import socket
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.distributed as dist
from tqdm.auto import tqdm

from latsym.dynamics import NonFiniteError, RunResult, SiteNoise, State
from latsym.dynamics._recorder import Recorder
from latsym.dynamics._runner import _check_run_args, _identity
from latsym.forcefield._decomposition import DecomposedForce, ProcessGrid, gather_field, scatter_field
from latsym.forcefield._locality import receptive_field
from latsym.forcefield._simulate import initial_fields, network_force
from latsym.forcefield._tiled import _tiles, tiled_network_force
from latsym.io import FileLock

#: What the trajectory metadata records of a decomposed run's noise (so that a run with the
#: generator's noise never resumes one with this, nor the reverse).
NOISE = "SiteNoise/1"


def simulate_decomposed(
    plugin: Any,
    out: str | os.PathLike | None,
    shape: tuple[int, ...],
    n_steps: int,
    *,
    network: torch.nn.Module,
    nprocs: int | None = None,
    grid: tuple[int, ...] | None = None,
    seed: int = 0,
    snapshot_every: int = 50,
    checkpoint_every: int | None = 500,
    dynamics: str | None = None,
    device: str | torch.device = "cpu",
    threads: int = 1,
    tile: int | tuple[int, ...] | None = None,
    metadata: Mapping[str, Any] | None = None,
    overwrite: bool = False,
    progress: bool = True,
) -> RunResult | None:
    """Run (or resume) ``plugin``'s dynamics driven by a local ``network``, the lattice split over
    processes.

    Where it runs:

    - inside an initialised ``torch.distributed`` group: on this rank (every rank calls it alike);
    - under ``torchrun`` (``RANK``, ``WORLD_SIZE``, ``MASTER_ADDR``, ``MASTER_PORT`` set): it joins the
      group from that environment (gloo on the CPU, NCCL with ``device="cuda"``, each rank on the GPU
      ``LOCAL_RANK``) and leaves it at the end;
    - otherwise it starts ``nprocs`` local worker processes (``torch.multiprocessing``, gloo on
      localhost; ``nprocs=1`` runs in this process) and returns when they are done.

    The trajectory is the one :func:`~latsym.forcefield.simulate` writes (same datasets, attributes
    and observables, computed on rank 0 from the gathered state), with ``metadata["noise"]`` recording
    the counter-based noise; it does not depend on the number of processes or the grid beyond float
    round-off, and a run resumes on any number of processes (the checkpoint holds the whole
    lattice). Ctrl-C leaves the last snapshot's state checkpointed.

    Args:
        plugin: the model.
        out: trajectory file, or ``None`` (nothing written; the final state is gathered to rank 0).
        shape: cells per side ``(L1, …, Ld)``.
        n_steps: total dynamics steps.
        network: a local force-field network (:func:`~latsym.forcefield.receptive_field`); the fields
            take its dtype. The plugin's exact reference forces are global (a whole-lattice solve)
            and cannot be decomposed.
        nprocs: local worker processes to start (default 1; under ``torchrun`` its world size).
        grid: processes per lattice axis (default: the valid grid with the least halo traffic).
        seed, snapshot_every, checkpoint_every, dynamics, metadata, overwrite, progress: as
            :func:`~latsym.forcefield.simulate`.
        device: ``"cpu"`` or ``"cuda"`` (one GPU per rank).
        threads: torch threads per worker process.
        tile: evaluate each process's padded tile in sub-tiles of this many cells per side
            (:func:`~latsym.forcefield.tiled_network_force`; default: in one piece).

    Returns:
        On rank 0 (and from a launch by ``nprocs``): the :class:`~latsym.dynamics.RunResult` with the
        whole final state; ``None`` on the other ranks. The state's generator is unused (the noise is
        :class:`~latsym.dynamics.SiteNoise`).

    Raises:
        GlobalOperationError: the network is not local.
        ValueError: bad arguments, a grid that does not fit the lattice or the halo, ``nprocs``
            against ``torchrun``'s world size.
    """
    options = dict(plugin=plugin, out=None if out is None else str(out), shape=shape, n_steps=n_steps,
                   network=network, grid=grid, seed=seed, snapshot_every=snapshot_every,
                   checkpoint_every=checkpoint_every, dynamics=dynamics, device=str(device), tile=tile,
                   metadata=metadata, overwrite=overwrite, progress=progress)
    if nprocs is not None and (isinstance(nprocs, bool) or not isinstance(nprocs, int) or nprocs < 1):
        raise ValueError(f"nprocs must be a positive int, got {nprocs!r}")
    if isinstance(threads, bool) or not isinstance(threads, int) or threads < 1:
        raise ValueError(f"threads must be a positive int, got {threads!r}")
    if dist.is_available() and dist.is_initialized():
        _check_world(nprocs, dist.get_world_size(), "the torch.distributed group")
        return _run_rank(**options)
    if "RANK" in os.environ and "WORLD_SIZE" in os.environ:  # torchrun
        world = int(os.environ["WORLD_SIZE"])
        _check_world(nprocs, world, "torchrun's WORLD_SIZE")
        _prepare(world, **options)  # bad input: an error before any collective
        torch.set_num_threads(threads)
        backend = _backend(options["device"])
        if backend == "nccl":
            torch.cuda.set_device(int(os.environ.get("LOCAL_RANK", 0)))
            options["device"] = f"cuda:{torch.cuda.current_device()}"
        dist.init_process_group(backend, init_method="env://")
        try:
            return _run_rank(**options)
        finally:
            dist.destroy_process_group()
    nprocs = 1 if nprocs is None else nprocs
    _prepare(nprocs, **options)
    if nprocs == 1:
        with torch_threads(threads):
            dist.init_process_group("gloo", store=dist.HashStore(), rank=0, world_size=1)
            try:
                return _run_rank(**options)
            finally:
                dist.destroy_process_group()
    return _spawn(nprocs, threads, options)


@contextlib.contextmanager
def torch_threads(n: int):
    """Run the block with ``n`` torch threads, then restore the previous number."""
    before = torch.get_num_threads()
    torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def _check_world(nprocs, world: int, what: str) -> None:
    if nprocs is not None and nprocs != world:
        raise ValueError(f"nprocs={nprocs} but {what} has {world} processes; drop nprocs or make them agree")


def _backend(device: str) -> str:
    return "nccl" if torch.device(device).type == "cuda" else "gloo"


def _prepare(n_procs: int, *, plugin, out, shape, n_steps, network, grid, seed, snapshot_every,
             checkpoint_every, dynamics, tile, **_) -> ProcessGrid:
    """Every check that needs no process group: the same answer on every rank, before any collective."""
    plugin.integrator(dynamics)
    if not _is_int(seed) or seed < 0:
        raise ValueError(f"seed must be a non-negative int, got {seed!r}")
    _check_run_args(n_steps, snapshot_every, checkpoint_every if out is not None else None,
                    plugin.observables() if out is not None else {}, out)
    if not isinstance(shape, tuple | list) or not all(_is_int(s) and s >= 1 for s in shape):
        raise ValueError(f"shape must be a tuple of positive ints, one per lattice dimension, got {shape!r}")
    shape = tuple(int(s) for s in shape)
    plugin.check_cells(shape)
    if not isinstance(network, torch.nn.Module):
        raise TypeError(
            f"a decomposed run needs a network (a torch.nn.Module with a local receptive field), got "
            f"{type(network).__name__}; the plugin's exact reference forces solve the whole lattice at once "
            "and cannot be split over processes"
        )
    halo = receptive_field(network, len(shape))
    if tile is not None:
        _tiles(shape, halo, tile, None)
    if grid is None:
        return ProcessGrid.choose(shape, n_procs, halo)
    grid = tuple(grid)
    if not all(_is_int(p) for p in grid) or math.prod(grid) != n_procs:
        raise ValueError(f"the process grid {grid} must be ints whose product is the number of processes, "
                         f"{n_procs}")
    return ProcessGrid(shape, tuple(int(p) for p in grid), halo)


def _run_rank(plugin, out, shape, n_steps, network, grid, seed, snapshot_every, checkpoint_every, dynamics,
              device, tile, metadata, overwrite, progress) -> RunResult | None:
    rank, world = dist.get_rank(), dist.get_world_size()
    pgrid = _prepare(world, plugin=plugin, out=out, shape=shape, n_steps=n_steps, network=network, grid=grid,
                     seed=seed, snapshot_every=snapshot_every, checkpoint_every=checkpoint_every,
                     dynamics=dynamics, tile=tile)
    shape = pgrid.shape
    integrator = plugin.integrator(dynamics)
    tensors = itertools.chain(network.buffers(), network.parameters())
    dtype = next((t.dtype for t in tensors if t.is_floating_point()), torch.get_default_dtype())
    network = network.to(device)
    q0, v0 = _initial_tiles(plugin, integrator, pgrid, rank, int(seed), dtype)
    local = network_force(network) if tile is None else tiled_network_force(network, tile=tile)
    force = DecomposedForce(local, pgrid, rank)
    global_shape = (*plugin.field_layout().site_shape, *shape)
    noise = SiteNoise(int(seed), global_shape, start=pgrid.start(rank))
    state = integrator.init_state(q0["tile"].to(device), force, seed=int(seed),
                                  v0=None if v0 is None else v0["tile"].to(device))
    _guard(state)
    meta = _metadata(plugin, shape, force, metadata)
    with contextlib.ExitStack() as stack:
        recorder = None
        if out is not None:
            full = _gather_state(state, pgrid, rank)
            recorder, resumed = _broadcast_outcome(rank, lambda: _open(
                stack, out, integrator, full, q0["whole"], None if v0 is None else v0["whole"], seed,
                snapshot_every, checkpoint_every, plugin, meta, n_steps, overwrite)) or (None, None)
        try:
            if out is not None:
                state = _scatter_state(resumed, pgrid, rank, state)
            start_step = state.step
            bar = stack.enter_context(tqdm(total=n_steps, initial=start_step, unit="step", desc="dynamics",
                                           disable=not progress or rank != 0))
            while state.step < n_steps:
                state = integrator.step(state, force, noise=noise)
                _guard(state)
                if out is not None and _due(state.step, snapshot_every, checkpoint_every):
                    gathered = _gather_state(state, pgrid, rank)  # None except on rank 0
                    _broadcast_outcome(rank, lambda s=gathered: recorder.on_step(s))
                bar.update(1)
            full = _gather_state(state, pgrid, rank)
        except BaseException as exc:
            if recorder is not None:
                recorder.fail(exc)  # checkpoints the last gathered state, closes the trajectory
            raise
        if out is not None:
            _broadcast_outcome(rank, lambda: recorder.finish(full))
    if rank != 0:
        return None
    n_snapshots = 0 if recorder is None else recorder.traj.n_snapshots
    return RunResult(state=full, path=None if out is None else Path(out), n_snapshots=n_snapshots,
                     start_step=start_step)


def _initial_tiles(plugin, integrator, grid: ProcessGrid, rank: int, seed: int, dtype: torch.dtype):
    """The initial fields and velocities as ``{"tile": this rank's tile, "whole": the lattice on rank 0,
    else None}`` (velocities ``None`` if the run has none): rank 0 draws them (the plugin's
    ``initial_state`` is a whole-lattice function) and sends every rank its tile."""
    def draw():
        q, v = initial_fields(plugin, grid.shape, seed)
        v = None if v is None or not integrator.has_velocities else torch.as_tensor(v, dtype=dtype)
        return torch.as_tensor(q, dtype=dtype), v

    q0, v0 = _broadcast_outcome(rank, draw) or (None, None)
    has_v = [v0 is not None]
    dist.broadcast_object_list(has_v, src=0)
    like = torch.empty((*plugin.field_layout().site_shape, *grid.tile), dtype=dtype)
    q = {"tile": scatter_field(q0, grid, rank, like), "whole": q0}
    v = {"tile": scatter_field(v0, grid, rank, like), "whole": v0} if has_v[0] else None
    return q, v


def _metadata(plugin, shape, force, metadata) -> dict:
    layout = plugin.field_layout()
    meta = {"model": plugin.name, "params": plugin.params_dict(), "shape": list(shape),
            "layout": {"dim": layout.dim, "channels": layout.channels, "sublattices": layout.sublattices},
            "force": force.name, "noise": NOISE}
    meta.update(metadata or {})
    return meta


def _open(stack, out, integrator, full, q0, v0, seed, snapshot_every, checkpoint_every, plugin, meta, n_steps,
          overwrite):
    """On rank 0: lock ``out`` (until ``stack`` closes), open or create the trajectory; returns the
    recorder and the whole state to continue from."""
    out = Path(out)
    if out.is_dir():
        raise ValueError(f"out={str(out)!r} is a directory; pass a file path, e.g. {out / 'run.h5'}")
    initial = State(q=q0, v=v0, f=full.f, step=0, time=0.0, generator=full.generator)
    observables = plugin.observables()
    identity = _identity(integrator, initial, seed, snapshot_every, observables, meta)
    recorder = Recorder(out, identity=identity,
                        fingerprint=hashlib.sha256(json.dumps(identity, sort_keys=True).encode()).hexdigest(),
                        snapshot_every=snapshot_every, checkpoint_every=checkpoint_every,
                        observables=observables)
    stack.enter_context(FileLock(out))
    return recorder, recorder.start(full, n_steps, overwrite=overwrite)


def _due(step: int, snapshot_every: int, checkpoint_every: int | None) -> bool:
    return step % snapshot_every == 0 or (checkpoint_every is not None and step % checkpoint_every == 0)


def _broadcast_outcome(rank: int, action):
    """Run ``action`` on rank 0 and tell every rank whether it failed (then all raise): rank 0's
    failures must not leave the others waiting in a collective."""
    result, error = None, None
    if rank == 0:
        try:
            result = action()
        except BaseException as exc:
            error = exc
    message = [None if error is None else f"{type(error).__name__}: {error}"]
    dist.broadcast_object_list(message, src=0)
    if error is not None:
        raise error
    if message[0] is not None:
        raise RuntimeError(f"rank 0 failed: {message[0]}")
    return result


def _guard(state: State) -> None:
    """Raise :class:`NonFiniteError` on every rank if any rank's fields, forces or velocities are not
    finite: one collective reduction per step."""
    names = [n for n in ("q", "f", "v") if getattr(state, n) is not None]
    flags = _cpu(torch.stack([(~torch.isfinite(getattr(state, n))).any() for n in names]).to(torch.float32))
    dist.all_reduce(flags, op=dist.ReduceOp.MAX)
    for name, flag in zip(names, flags.tolist(), strict=True):
        if flag:
            raise NonFiniteError(state.step, name)


def _gather_state(state: State, grid: ProcessGrid, rank: int) -> State | None:
    parts = {n: None if getattr(state, n) is None else gather_field(_cpu(getattr(state, n)), grid, rank)
             for n in ("q", "v", "f")}
    if rank != 0:
        return None
    return State(q=parts["q"], v=parts["v"], f=parts["f"], step=state.step, time=state.time,
                 generator=state.generator)


def _scatter_state(full: State | None, grid: ProcessGrid, rank: int, like: State) -> State:
    """Every rank's tile of rank 0's ``full`` state (step and time broadcast)."""
    header = [None if full is None else (full.step, full.time)]
    dist.broadcast_object_list(header, src=0)
    step, time = header[0]
    device = like.q.device

    def tile(name):
        mine = getattr(like, name)
        if mine is None:
            return None
        x = scatter_field(None if full is None else _cpu(getattr(full, name)), grid, rank, _cpu(mine))
        return x.to(device)

    return State(q=tile("q"), v=tile("v"), f=tile("f"), step=step, time=time, generator=like.generator)


def _cpu(x: torch.Tensor) -> torch.Tensor:
    """``x`` where the backend communicates it: on the CPU for gloo, on its GPU for NCCL."""
    return x.detach().cpu() if dist.get_backend() == "gloo" else x


def _spawn(nprocs: int, threads: int, options: dict) -> RunResult:
    """Run on ``nprocs`` local worker processes (gloo over localhost); rank 0's result or error comes back."""
    import multiprocessing

    import torch.multiprocessing as mp

    # a fork server imports latsym and the model once, then forks every worker from it: far quicker than
    # each worker importing torch afresh (spawn), without fork's inheritance of this process's threads
    method = "forkserver" if "forkserver" in multiprocessing.get_all_start_methods() else "spawn"
    context = mp.get_context(method)
    if method == "forkserver":
        context.set_forkserver_preload([__name__, type(options["plugin"]).__module__,
                                        type(options["network"]).__module__])
    queue = context.SimpleQueue()
    workers = mp.start_processes(_worker, args=(nprocs, _free_port(), threads, queue, options), nprocs=nprocs,
                                 start_method=method, join=False)
    outcomes = []
    done = False
    while not done:  # drain the queue while they run: a large final state would fill the pipe
        done = workers.join(timeout=0.2)
        while not queue.empty():
            outcomes.append(queue.get())
    errors = sorted((rank, exc) for kind, rank, exc in outcomes if kind == "error")
    if errors:
        raise errors[0][1]
    (_, _, summary), = [o for o in outcomes if o[0] == "ok"]
    generator = torch.Generator().manual_seed(int(options["seed"]))
    arrays = {name: None if summary[name] is None else torch.from_numpy(summary[name])
              for name in ("q", "v", "f")}
    state = State(**arrays, step=summary["step"], time=summary["time"], generator=generator)
    return RunResult(state=state, path=None if options["out"] is None else Path(options["out"]),
                     n_snapshots=summary["n_snapshots"], start_step=summary["start_step"])


def _worker(rank: int, nprocs: int, port: int, threads: int, queue, options: dict) -> None:
    torch.set_num_threads(threads)
    options = dict(options, progress=options["progress"] and rank == 0)
    try:
        dist.init_process_group("gloo", init_method=f"tcp://127.0.0.1:{port}", rank=rank, world_size=nprocs,
                                timeout=datetime.timedelta(minutes=10))
        try:
            result = _run_rank(**options)
        finally:
            dist.destroy_process_group()
    except BaseException as exc:  # the parent re-raises rank 0's (or the first) error
        queue.put(("error", rank, _picklable(exc)))
        return
    if rank == 0:  # numpy arrays travel by value (torch tensors would go through shared memory)
        s = result.state
        arrays = {name: None if getattr(s, name) is None else getattr(s, name).cpu().numpy()
                  for name in ("q", "v", "f")}
        queue.put(("ok", 0, {**arrays, "step": s.step, "time": s.time, "n_snapshots": result.n_snapshots,
                             "start_step": result.start_step}))


def _picklable(exc: BaseException) -> BaseException:
    """``exc`` if it survives a pickle round trip (exceptions with their own ``__init__`` may not), else a
    ``RuntimeError`` with its message."""
    try:
        pickle.loads(pickle.dumps(exc))
    except Exception:
        return RuntimeError(f"{type(exc).__name__}: {exc}")
    return exc


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _is_int(x: Any) -> bool:
    return isinstance(x, int | np.integer) and not isinstance(x, bool)
