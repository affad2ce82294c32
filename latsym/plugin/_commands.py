"""The commands every plugin gets: ``latsym <plugin> info | generate | train | simulate | analyze``
(``train`` is :func:`latsym.forcefield.run_train`).

Each command is a pair ``configure(cls, parser)`` / ``run(cls, args) -> exit status`` over the
plugin class ``cls``; :meth:`ModelPlugin.cli_commands` binds them. Bad input and storage failures
end in a one-line message on stderr and exit status 2; Ctrl-C in 130 with the progress saved.
"""

from __future__ import annotations

import argparse
import dataclasses
import functools
import sys
from pathlib import Path
from typing import Any

from latsym._errors import LatsymError
from latsym.forcefield import DEVICE_HELP, INTERRUPTED, THREADS_HELP, device_arg, positive_int
from latsym.plugin._options import lattice_size, process_grid, read_config, size_text


def add_common_options(cls: type, p: argparse.ArgumentParser) -> None:
    """``--config`` (model parameters) and ``--no-progress``."""
    keys = ", ".join(f.name for f in dataclasses.fields(cls.Params))
    p.add_argument("--config", type=Path, metavar="JSON",
                   help=f"JSON file of model parameters overriding the defaults (keys: {keys}); unknown keys "
                   "are an error")
    p.add_argument("--no-progress", action="store_true", help="hide the progress bars")


def plugin_from_args(cls: type, args: argparse.Namespace):
    """The plugin with the parameters of ``--config`` (its defaults without one).

    Raises:
        ValueError: the file is unreadable or holds unknown or invalid parameters.
    """
    values = read_config(args.config)
    try:
        return cls.from_config(values)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"config file {args.config}: {exc}" if args.config else str(exc)) from exc


def _fail(prog: str, message: Any) -> int:
    print(f"{prog}: {message}", file=sys.stderr)
    return 2


def _storage_message(exc: OSError) -> str:
    where = f" {exc.filename}" if exc.filename else ""
    return f"cannot write{where}: {exc.strerror or exc}"


def _guarded(prog: str, action):
    """``(action(), None)``, or ``(None, exit status)`` after a one-line message: 2 for bad input and
    latsym's errors (resume, divergence, lock, data set), 2 for a storage failure, 130 after Ctrl-C
    (the long-run machinery has saved the progress)."""
    try:
        return action(), None
    except (ValueError, LatsymError) as exc:
        return None, _fail(prog, exc)
    except OSError as exc:
        return None, _fail(prog, _storage_message(exc))
    except KeyboardInterrupt:
        print(f"{prog}: {INTERRUPTED}", file=sys.stderr)
        return None, 130


# -- info -------------------------------------------------------------------------------------------


def configure_info(cls: type, p: argparse.ArgumentParser) -> None:
    p.add_argument("--config", type=Path, metavar="JSON", help="JSON file of model parameters to show")


def run_info(cls: type, args: argparse.Namespace) -> int:
    """The model, its lattice and symmetry, its fields, parameters, dynamics and network presets."""
    try:
        plugin = plugin_from_args(cls, args)
    except ValueError as exc:
        return _fail(f"latsym {cls.name} info", exc)
    print(f"{cls.name}: {cls.description}")
    try:
        lattice, group, layout = plugin.lattice(), plugin.symmetry_group(), plugin.field_layout()
        centre = "every site" if layout.centre is None else f"the point {list(layout.centre)}"
        print(f"lattice: {lattice.name} ({lattice.dim}D, {lattice.n_basis} site(s) per cell)")
        size = f"order {group.order}" if group.is_finite else "compact, with Lie factors"
        print(f"symmetry: translations x {group.name} ({size}), acting about {centre}")
        print(f"configuration arrays: {layout.describe()}")
    except Exception as exc:  # a plugin still being written: show what it has
        print(f"lattice and symmetry: not described ({type(exc).__name__}: {exc})")
    print(f"input field: {cls.input_irreps}    force field: {cls.force_irreps}")
    print("parameters:")
    for key, value in plugin.params_dict().items():
        print(f"  {key} = {value!r}")
    print(f"dynamics: {', '.join(plugin.integrators()) or 'none'}")
    print(f"network presets: {', '.join(plugin.networks()) or 'none'}")
    return 0


# -- generate ---------------------------------------------------------------------------------------


def configure_generate(cls: type, p: argparse.ArgumentParser) -> None:
    from latsym.forcefield import GenerationOptions

    presets = []
    for name, overrides in cls.generation_presets.items():
        o = GenerationOptions(**{"shape": cls.default_size, **overrides})
        presets.append(f"{name}: {size_text(o.shape)}, {o.n_random} random + {o.n_quenches} quenches x "
                       f"{o.snapshots_per_quench} snapshots every {o.snapshot_every} steps")
    p.add_argument("--out", type=Path, required=True, help="HDF5 data set to write (re-running resumes it)")
    names = list(cls.generation_presets)
    p.add_argument("--preset", choices=names, default=names[0],
                   help="; ".join(presets) + ". Options below override it")
    sides = "x".join(f"L{a + 1}" for a in range(len(cls.default_size)))
    p.add_argument("--size", type=functools.partial(lattice_size, dim=len(cls.default_size)),
                   help=f"lattice L or {sides} (unit cells per side)")
    p.add_argument("--n-random", type=int, help="random configurations")
    p.add_argument("--n-quenches", type=int, help="quenches driven by the reference forces")
    p.add_argument("--snapshots-per-quench", type=int, help="snapshots kept per quench")
    p.add_argument("--snapshot-every", type=int, help="dynamics steps between kept snapshots")
    p.add_argument("--random-scale", type=float,
                   help="scale of the random configurations (default: the model's)")
    p.add_argument("--seed", type=int, help="master seed (default 0)")
    p.add_argument("--overwrite", action="store_true", help="replace --out if it holds another data set")
    add_common_options(cls, p)


def run_generate(cls: type, args: argparse.Namespace) -> int:
    from latsym.forcefield import GenerationOptions, generate

    prog = f"latsym {cls.name} generate"
    given = {"shape": args.size, "n_random": args.n_random, "n_quenches": args.n_quenches,
             "snapshots_per_quench": args.snapshots_per_quench, "snapshot_every": args.snapshot_every,
             "random_scale": args.random_scale, "seed": args.seed}
    overrides = {key: value for key, value in given.items() if value is not None}
    try:
        options = GenerationOptions(**{"shape": cls.default_size, **cls.generation_presets[args.preset],
                                       **overrides})
        plugin = plugin_from_args(cls, args)
    except ValueError as exc:
        return _fail(prog, exc)
    path, status = _guarded(prog, lambda: generate(plugin, args.out, options, overwrite=args.overwrite,
                                                   progress=not args.no_progress))
    if status is not None:
        return status
    print(f"wrote {options.n_configurations} configurations of {size_text(options.shape)} to {path}")
    return 0


# -- simulate ---------------------------------------------------------------------------------------


def configure_simulate(cls: type, p: argparse.ArgumentParser) -> None:
    sides = "x".join(f"L{a + 1}" for a in range(len(cls.default_size)))
    p.add_argument("--out", type=Path, required=True, help="directory for quench.h5 (re-running resumes it)")
    p.add_argument("--size", type=functools.partial(lattice_size, dim=len(cls.default_size)),
                   default=cls.default_size,
                   help=f"lattice L or {sides} (default {size_text(cls.default_size)})")
    p.add_argument("--steps", type=int, default=1000, help="dynamics steps (time = steps * dt; default 1000)")
    pretrained = " or the word 'pretrained': the plugin's shipped network," if cls.pretrained_path() else ""
    p.add_argument("--network", type=Path, metavar="MODEL",
                   help=f"drive the run with a trained network (a model.pt written by `latsym {cls.name} "
                   f"train`,{pretrained}) instead of the exact reference forces; fields then take the "
                   "network's dtype. The model parameters (--config) must be those the network was "
                   "trained with")
    p.add_argument("--ignore-trained-params", action="store_true",
                   help="run a --network even where --config differs from the parameters it was trained "
                   "with, e.g. to test how it transfers")
    dynamics = list(cls().integrators())
    p.add_argument("--dynamics", choices=dynamics, default=dynamics[0] if dynamics else None,
                   help=f"integrator (default {dynamics[0] if dynamics else 'none'})")
    p.add_argument("--seed", type=int, default=0, help="seed of the initial state and the noise")
    p.add_argument("--replicas", type=positive_int, metavar="R",
                   help="run R independent simulations side by side as one batch (snapshots (T, R, ...); "
                   "`analyze` averages over them); a network on a GPU evaluates many replicas for little "
                   "more than the cost of one")
    p.add_argument("--snapshot-every", type=int, default=50, help="steps between snapshots (default 50)")
    p.add_argument("--checkpoint-every", type=int, default=500,
                   help="steps between checkpoints (default 500)")
    p.add_argument("--overwrite", action="store_true", help="start afresh instead of resuming")
    p.add_argument("--device", type=device_arg, default="cpu",
                   help=f"{DEVICE_HELP}; where the fields and the --network live (the reference forces "
                   "are computed where the plugin computes them). A run resumes only on the device type it "
                   "started on")
    p.add_argument("--cuda-graph", action=argparse.BooleanOptionalAction,
                   help="replay the --network from a CUDA graph (latsym.dynamics.CUDAGraphForce): the same "
                   "forces without eager PyTorch's per-kernel launch cost; default: on with --device cuda "
                   "and a --network")
    p.add_argument("--threads", type=positive_int, help=THREADS_HELP)
    p.add_argument("--tile", type=positive_int, metavar="T",
                   help="evaluate the --network tile by tile, T cells per side with their halos (the "
                   "same forces, the memory of one tile: for lattices whose activations do not fit at "
                   "once); needs a local network")
    p.add_argument("--nprocs", type=positive_int, metavar="N",
                   help="split the lattice over N local worker processes (torch.distributed, gloo) that "
                   "exchange halos: needs a --network whose receptive field is local. Under torchrun the "
                   "lattice is split over its processes without --nprocs. The run resumes on any number of "
                   "processes")
    grid = "x".join(f"P{a + 1}" for a in range(len(cls.default_size)))
    p.add_argument("--grid", type=functools.partial(process_grid, dim=len(cls.default_size)), metavar=grid,
                   help="processes per lattice axis of a split run (default: the grid with the least halo "
                   "traffic)")
    p.add_argument("--analyze", action="store_true", help="run `analyze` on the trajectory afterwards")
    add_common_options(cls, p)


def load_network_for(plugin, path: Path, prog: str, ignore_trained_params: bool):
    """The network at ``path`` (``'pretrained'``: the plugin's), checked against the plugin's layout
    and parameters; returns ``(network, None)`` or ``(None, message)``."""
    from latsym.forcefield import NetworkFileError

    registry = plugin.network_registry()
    if registry is None:
        return None, f"the {plugin.name} plugin ships no networks"
    if str(path) == "pretrained":
        if plugin.pretrained_path() is None:
            return None, (f"the {plugin.name} plugin ships no pretrained network; train one with "
                          f"`latsym {plugin.name} train`")
        path = plugin.pretrained_path()
    try:
        network = registry.load(path)
    except NetworkFileError as exc:
        return None, exc
    layout = plugin.field_layout()
    if (network.dim, tuple(network.site_shape)) != (layout.dim, layout.site_shape):
        return None, (f"the network {path} works on fields {network.dim}D with per-site axes "
                      f"{tuple(network.site_shape)} ({network.lattice_name} lattice), but this plugin's are "
                      f"{layout.dim}D with {layout.site_shape}; train one with `latsym {plugin.name} train`")
    trained = (getattr(network, "extra", None) or {}).get("settings", {}).get("params")
    differences = plugin.force_field_differences(trained) if trained else []
    if differences and not ignore_trained_params:
        return None, (f"the network {path} was trained for other model parameters (here vs trained: "
                      f"{'; '.join(differences)}), so its forces are not this model's; generate data with "
                      "these parameters and train a network on them, drop --config, or pass "
                      "--ignore-trained-params to run it anyway")
    return network, None


def run_simulate(cls: type, args: argparse.Namespace) -> int:
    import torch

    from latsym.forcefield import network_force, simulate

    prog = f"latsym {cls.name} simulate"
    if args.out.exists() and not args.out.is_dir():
        return _fail(prog, f"--out must be a directory (the trajectory goes to DIR/quench.h5), but "
                     f"{args.out} is a file")
    if args.threads is not None:
        torch.set_num_threads(args.threads)
    try:
        plugin = plugin_from_args(cls, args)
    except ValueError as exc:
        return _fail(prog, exc)
    if args.ignore_trained_params and args.network is None:
        return _fail(prog, "--ignore-trained-params applies to a --network only; the reference forces always "
                     "use --config's parameters")
    if args.tile is not None and args.network is None:
        return _fail(prog, "--tile applies to a --network only; the reference forces are not evaluated in "
                     "tiles")
    if args.cuda_graph and (args.network is None or args.device.type != "cuda"):
        return _fail(prog, "--cuda-graph needs --device cuda and a --network (the reference forces run "
                     "on the CPU)")
    if args.nprocs is not None or args.grid is not None or under_torchrun():
        return run_decomposed(cls, args, plugin, prog)
    force, dtype = None, torch.float64
    if args.network is not None:
        network, problem = load_network_for(plugin, args.network, prog, args.ignore_trained_params)
        if problem is not None:
            return _fail(prog, problem)
        network = network.to(args.device)
        force, dtype = network_force(network), network.input_scale.dtype
        if args.tile is not None:
            from latsym.forcefield import tiled_network_force

            force, status = _guarded(prog, lambda: tiled_network_force(network, tile=args.tile))
            if status is not None:
                return status
        if args.device.type == "cuda" and args.cuda_graph is not False:
            from latsym.dynamics import CUDAGraphForce

            force = CUDAGraphForce(force)
    trajectory = args.out / "quench.h5"
    result, status = _guarded(prog, lambda: simulate(
        plugin, trajectory, args.size, args.steps, force=force, seed=args.seed,
        snapshot_every=args.snapshot_every, checkpoint_every=args.checkpoint_every,
        dynamics=args.dynamics, dtype=dtype, device=args.device, replicas=args.replicas,
        overwrite=args.overwrite, progress=not args.no_progress,
    ))
    if status is not None:
        return status
    print(f"trajectory: {result.path} ({result.n_snapshots} snapshots, step {result.state.step})")
    if args.analyze:
        return analyze_and_report(plugin, trajectory, args.out, cls.analysis_options(args))
    return 0


def under_torchrun() -> bool:
    """Whether this process is one of ``torchrun``'s (its environment names a rank and a world size)."""
    import os

    return "RANK" in os.environ and "WORLD_SIZE" in os.environ


def run_decomposed(cls: type, args: argparse.Namespace, plugin, prog: str) -> int:
    """``simulate`` with the lattice split over processes (:func:`latsym.forcefield.simulate_decomposed`);
    only rank 0 prints."""
    from latsym.forcefield import simulate_decomposed

    if args.network is None:
        reference = getattr(plugin, "reference_name", "reference")
        return _fail(prog, f"the exact reference forces ({reference}) solve the whole lattice at once, a "
                     "global operation that cannot be split over processes: pass --network with a local "
                     "network (or drop --nprocs/--grid)")
    if args.replicas is not None or args.cuda_graph:
        return _fail(prog, "--replicas and --cuda-graph do not combine with a split run (--nprocs, --grid, "
                     "torchrun)")
    network, problem = load_network_for(plugin, args.network, prog, args.ignore_trained_params)
    if problem is not None:
        return _fail(prog, problem)
    trajectory = args.out / "quench.h5"
    result, status = _guarded(prog, lambda: simulate_decomposed(
        plugin, trajectory, args.size, args.steps, network=network, nprocs=args.nprocs, grid=args.grid,
        seed=args.seed, snapshot_every=args.snapshot_every, checkpoint_every=args.checkpoint_every,
        dynamics=args.dynamics, device=args.device, threads=args.threads or 1, tile=args.tile,
        overwrite=args.overwrite,
        progress=not args.no_progress,
    ))
    if status is not None or result is None:  # result None: a rank other than 0
        return status or 0
    print(f"trajectory: {result.path} ({result.n_snapshots} snapshots, step {result.state.step})")
    if args.analyze:
        return analyze_and_report(plugin, trajectory, args.out, cls.analysis_options(args))
    return 0


# -- analyze ----------------------------------------------------------------------------------------


def configure_analyze(cls: type, p: argparse.ArgumentParser) -> None:
    p.add_argument("trajectory", type=Path, help="HDF5 trajectory written by `simulate`")
    p.add_argument("--out", type=Path, help="output directory (default: the trajectory's directory)")
    cls.configure_analysis(p)


def run_analyze(cls: type, args: argparse.Namespace) -> int:
    from latsym.forcefield import load_trajectory

    prog = f"latsym {cls.name} analyze"
    try:
        params = load_trajectory(args.trajectory, cls.name)["metadata"].get("params", {})
        plugin = cls.from_config(params)
    except (ValueError, TypeError) as exc:
        return _fail(prog, exc)
    return analyze_and_report(plugin, args.trajectory, args.out or args.trajectory.parent,
                              cls.analysis_options(args))


def analyze_and_report(plugin, trajectory: Path, out: Path, options: dict) -> int:
    """Run :func:`latsym.forcefield.analyze`, print the plugin's report lines; exit status 1 when the
    plugin reports a failed analysis (its summary's ``"failed"``)."""
    from latsym.forcefield import analyze

    prog = f"latsym {plugin.name} analyze"
    try:
        summary = analyze(plugin, trajectory, out, **options)
    except ValueError as exc:
        return _fail(prog, exc)
    except OSError as exc:
        return _fail(prog, _storage_message(exc))
    for line in plugin.analysis_report(summary):
        print(line)
    print(f"wrote {Path(out) / 'analysis.json'} and {len(summary['plots'])} plots")
    if summary.get("failed"):
        print(f"{prog}: {summary['failed']}", file=sys.stderr)
        return 1
    return 0
