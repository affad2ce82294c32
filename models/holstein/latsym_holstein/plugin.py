"""The Holstein model plugin, registered under the entry-point group ``latsym.models``.

It adds ``latsym holstein info | generate | simulate | analyze | train``; ``latsym holstein COMMAND
--help`` explains every option.

:class:`HolsteinPlugin` is also the base of the Holstein model on other hypercubic lattices: the
lattice, its symmetry group, the lattice dimension, the parameter defaults, the data-generation
presets, the default quench size and the network presets with their default configs are class
attributes and methods that a subclass overrides, and every command (generate, simulate, train)
follows them. The simple cubic lattice takes a few lines (``examples/custom_plugin.py``)::

    class CubicHolsteinPlugin(HolsteinPlugin):
        name = "holstein-cubic"
        Params = CubicHolsteinParams  # a HolsteinParams subclass with kappa = 0.12
        dim = 3
        generation_presets = {"small": {"shape": (6, 6, 6)}}
        default_size = (6, 6, 6)
        network_defaults = {"latsym": {"lattice": "sc"}}

        def lattice(self):
            return simple_cubic()

        def symmetry_group(self):
            return point_group("m-3m") * Z2()
"""

from __future__ import annotations

import argparse
import functools
import json
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any, ClassVar

from latsym.plugin import CLICommand, ModelPlugin
from latsym_holstein.params import HolsteinParams


class HolsteinPlugin(ModelPlugin):
    """The semiclassical Holstein model on the square lattice (spinless fermions, one classical
    distortion ``Q_i`` per site). Symmetry: translations × 4mm (D4) × the particle–hole Z2 under which
    ``Q`` and the force are odd scalars (``A1:odd``).

    Subclass it for another hypercubic lattice: override :meth:`lattice`, :meth:`symmetry_group`,
    ``name`` and the class attributes below, ``Params`` for other parameter defaults (a
    :class:`~latsym_holstein.params.HolsteinParams` subclass) and ``input_irreps``/``force_irreps``
    where the site group names its invariant irrep otherwise (``A1g`` in m-3m); the ED solver, data
    generation, training, quenches and the commands follow ``dim``. Parameters whose elastic energy
    is unbounded below in ``dim`` dimensions are refused (``ValueError``).

    Attributes:
        dim: the lattice dimension ``d``: configurations have shape ``(L1, …, Ld)`` or
            ``(B, L1, …, Ld)`` (the ED solver is called with ``dim=dim``).
        generation_presets: the ``generate --preset`` choices (the first is the default): the name of
            a :meth:`~latsym_holstein.data.GenerationOptions.preset` and the options this lattice
            changes in it (e.g. ``{"small": {"shape": (6, 6, 6)}}``).
        default_size: the lattice of ``simulate`` without ``--size``.
        network_defaults: the network presets offered (:meth:`networks`, ``train --network``) with the
            default config of each, under the user's ``--network-config``; ``None`` (the square
            lattice): every preset of :data:`latsym_holstein.networks.NETWORKS` with its own defaults.
    """

    name = "holstein"
    description = "semiclassical Holstein model on the square lattice (ED forces, Langevin quenches)"
    Params = HolsteinParams
    input_irreps = "A1:odd"
    force_irreps = "A1:odd"
    dim: ClassVar[int] = 2
    generation_presets: ClassVar[Mapping[str, Mapping[str, Any]]] = {"small": {}, "paper": {}}
    default_size: ClassVar[tuple[int, ...]] = (24, 24)
    network_defaults: ClassVar[Mapping[str, Mapping[str, Any]] | None] = None

    def __init__(self, params: HolsteinParams | None = None):
        from latsym_holstein.ed import check_stable

        super().__init__(params)
        _check_hypercubic(type(self), self.lattice(), self.dim)
        check_stable(self.params, self.dim)

    def lattice(self):
        from latsym.lattice import square

        return square()

    def symmetry_group(self):
        from latsym.group import Z2, point_group

        return point_group("4mm", dim=2) * Z2()

    def reference_forces(self, q):
        """The exact (ED) forces of configurations ``(L1, …, Ld)`` or ``(B, L1, …, Ld)``, ``d = dim``:
        same shape and type (numpy or torch) as ``q``."""
        from latsym_holstein.ed import ed_forces

        return ed_forces(q, self.params, dim=self.dim)

    def params_dict(self) -> dict[str, float]:
        return self.params.to_dict()

    def check_cells(self, shape) -> None:
        """The ED solver and the checkerboard order need ``dim`` even sides of at least 2, and
        parameters whose elastic energy is bounded below in ``dim`` dimensions.

        Raises:
            ValueError: otherwise, naming the fix.
        """
        from latsym_holstein.ed import check_stable

        sides = " x ".join(str(s) for s in shape)
        if len(shape) != self.dim:
            raise ValueError(
                f"the {self.name} lattice is {self.dim}-dimensional: give {self.dim} sides, got {sides}; "
                "for another lattice use its plugin (e.g. the simple cubic one of examples/custom_plugin.py)"
            )
        if min(shape) < 2 or any(s % 2 for s in shape):
            raise ValueError(
                f"lattice sides must be even and at least 2 (the checkerboard CDW is frustrated on odd "
                f"sides), got {sides}"
            )
        check_stable(self.params, self.dim)

    def random_configuration(self, shape, rng, scale=None):
        """``Q_i ~ N(0, scale²)`` on ``shape`` sites (default :data:`~latsym_holstein.data.INITIAL_Q_STD`)."""
        from latsym_holstein.data import INITIAL_Q_STD

        return (INITIAL_Q_STD if scale is None else scale) * rng.standard_normal(tuple(shape))

    def initial_state(self, shape, rng, scale=None):
        """The authors' high-temperature start: :meth:`random_configuration` and ``v_i ~ N(0, 1)``."""
        q = self.random_configuration(shape, rng, scale)
        return q, rng.standard_normal(tuple(shape))

    def reference_solution(self, q) -> dict:
        """ED forces, densities ``⟨n_i⟩`` and the total free energy of a batch ``(n, L1, …, Ld)``."""
        from latsym_holstein.ed import ed_solve

        result = ed_solve(q, self.params, dim=self.dim)
        return {"forces": result.forces, "density": result.density, "free_energy": result.free_energy}

    def dynamics_defaults(self) -> dict[str, float]:
        p = self.params
        return {"dt": p.dt, "gamma": p.gamma, "temperature": p.temperature, "mass": p.mass}

    def observables(self):
        from latsym_holstein.simulate import quench_observables

        return quench_observables(self.dim)

    @classmethod
    def cli_commands(cls) -> dict[str, CLICommand]:
        commands = {
            **super().cli_commands(),
            "generate": CLICommand(
                "make a training data set: ED forces of random configurations and quench snapshots",
                functools.partial(_configure_generate, cls),
                functools.partial(_run_generate, cls),
            ),
            "simulate": CLICommand(
                "run (or resume) a thermal quench and write its HDF5 trajectory",
                functools.partial(_configure_simulate, cls),
                functools.partial(_run_simulate, cls),
            ),
            "analyze": CLICommand(
                "observables and plots of a quench trajectory (JSON + PNG)", _configure_analyze, _run_analyze
            ),
            "train": CLICommand(
                "train a force-field network on a generated data set (report, parity plot, checkpoints)",
                functools.partial(_configure_train, cls),
                functools.partial(_run_train, cls),
            ),
        }
        if cls.dim not in (2, 3):  # the analysis (structure factor, domain sizes, plots) is 2D or 3D
            del commands["analyze"]
        return commands

    default_network = "latsym"

    def network_registry(self):
        from latsym_holstein.networks import NETWORKS

        return NETWORKS

    def check_training(self, network, dataset) -> None:
        """A network odd in ``q`` by construction (``F(−q) = −F(q)``, the particle–hole symmetry of half
        filling) cannot learn data at another filling.

        Raises:
            ValueError: naming the networks that are not odd.
        """
        import math

        filling = dataset.params["filling"] if isinstance(dataset.params, dict) else dataset.params.filling
        if getattr(network, "odd_in_q", False) and not math.isclose(filling, 0.5):
            registry = self.network_registry()
            odd_free = ", ".join(n for n in self.networks() if not getattr(registry[n], "odd_in_q", False))
            raise ValueError(
                f"network {network.name!r} is odd in q by construction (F(-q) = -F(q), the particle-hole "
                f"symmetry of half filling), but the data set has filling {filling}; train a network "
                f"that is not odd ({odd_free}) or generate data at filling 0.5"
            )

    @classmethod
    def networks(cls):
        """Network factories by preset name, building this lattice's default config (see
        ``network_defaults``) unless overridden: ``plugin.network("latsym", layers=2)``."""
        from latsym_holstein.networks import NETWORKS

        if cls.network_defaults is None:
            return dict(NETWORKS)
        return {
            preset: functools.partial(NETWORKS[preset], **defaults)
            for preset, defaults in cls.network_defaults.items()
        }


_INTERRUPTED = "interrupted; the progress is saved: run the same command again to resume"


def _check_hypercubic(cls: type, lattice, dim: int) -> None:
    """The Holstein solver (``ed.py``) builds the hopping of the ``dim``-dimensional hypercubic lattice:
    refuse a subclass whose ``lattice()`` is another one, which would silently get its physics wrong."""
    import numpy as np

    vectors = np.asarray(getattr(lattice, "vectors", np.zeros(0)))
    if (getattr(lattice, "n_basis", None) != 1 or vectors.shape != (dim, dim)
            or not np.allclose(vectors, np.eye(dim) * vectors[0, 0])):
        name = getattr(lattice, "name", type(lattice).__name__)
        raise ValueError(
            f"{cls.__name__}.lattice() is the {name} lattice, but HolsteinPlugin's exact solver and "
            f"networks are those of the {dim}-dimensional hypercubic lattice (square, simple cubic); "
            "write the model on another lattice as its own ModelPlugin (see the honeycomb plugin in "
            "docs/guides/plugins.md), or set dim to the lattice's dimension"
        )


# -- shared options ------------------------------------------------------------------------------


def _lattice_size(text: str, dim: int = 2) -> tuple[int, ...]:
    """``--size``: ``L`` (every side) or ``L1xL2`` (``L1xL2xL3`` for ``dim=3``), sides >= 2."""
    form = "L or " + "x".join(f"L{a + 1}" for a in range(dim))
    example = "16 or 16x24" if dim == 2 else "6 or " + "x".join(["6"] * (dim - 1) + ["8"])
    try:
        sizes = tuple(int(p) for p in text.lower().split("x"))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"lattice size must be {form} (e.g. {example}), got {text!r}"
        ) from None
    if len(sizes) == 1:
        sizes = sizes * dim
    if len(sizes) != dim or min(sizes) < 2:
        raise argparse.ArgumentTypeError(f"lattice size must be {form} with sides >= 2, got {text!r}")
    return sizes


def _size_text(shape: tuple[int, ...]) -> str:
    return "x".join(str(side) for side in shape)


def _add_params_option(cls: type[HolsteinPlugin], p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--config",
        type=Path,
        metavar="JSON",
        help="JSON file of model parameters overriding the defaults (keys: "
        + ", ".join(cls.Params().to_dict())
        + "); unknown keys are an error",
    )
    p.add_argument("--no-progress", action="store_true", help="hide the progress bars")


def _params(cls: type[HolsteinPlugin], args: argparse.Namespace) -> HolsteinParams:
    """The parameters of ``--config`` (the plugin's defaults without it).

    Raises:
        ValueError: the file is unreadable, not a JSON object, or holds an unknown or invalid parameter
            (the commands print the message to stderr and exit with status 2).
    """
    if args.config is None:
        return cls.Params()
    try:
        values = json.loads(Path(args.config).read_text())
    except (OSError, json.JSONDecodeError) as exc:
        raise ValueError(f"cannot read the config file {args.config}: {exc}") from exc
    if not isinstance(values, dict):
        raise ValueError(f"config file {args.config} must hold a JSON object of parameters")
    try:
        return cls.Params.from_dict(values)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"config file {args.config}: {exc}") from exc


# -- generate ------------------------------------------------------------------------------------


def _configure_generate(cls: type[HolsteinPlugin], p: argparse.ArgumentParser) -> None:
    from latsym_holstein.data import preset

    presets = []
    for name, overrides in cls.generation_presets.items():
        o = preset(name, **overrides)
        presets.append(
            f"{name}: {_size_text(o.shape)}, {o.n_random} random + {o.n_quenches} quenches x "
            f"{o.snapshots_per_quench} snapshots every {o.snapshot_every} steps"
            + (" (as Fan & Chern 2026)" if name == "paper" else "")
        )
    p.add_argument("--out", type=Path, required=True, help="HDF5 data set to write (re-running resumes it)")
    p.add_argument(
        "--preset",
        choices=list(cls.generation_presets),
        default=next(iter(cls.generation_presets)),
        help="; ".join(presets) + ". Options below override it",
    )
    side_names = "x".join(f"L{a + 1}" for a in range(cls.dim))
    size = functools.partial(_lattice_size, dim=cls.dim)
    p.add_argument("--size", type=size, help=f"lattice L or {side_names} (even sides)")
    p.add_argument("--n-random", type=int, help="random configurations Q_i ~ N(0, std^2)")
    p.add_argument("--n-quenches", type=int, help="ED-driven Langevin quenches")
    p.add_argument("--snapshots-per-quench", type=int, help="snapshots kept per quench")
    p.add_argument("--snapshot-every", type=int, help="Langevin steps between kept snapshots")
    p.add_argument(
        "--random-std", type=float, help="standard deviation of random distortions (default sqrt(5/0.18))"
    )
    p.add_argument("--seed", type=int, help="master seed (default 0)")
    p.add_argument("--overwrite", action="store_true", help="replace --out if it holds another data set")
    _add_params_option(cls, p)


def _run_generate(cls: type[HolsteinPlugin], args: argparse.Namespace) -> int:
    from latsym.forcefield import generate
    from latsym_holstein.data import preset

    overrides = {
        key: value
        for key, value in {
            "shape": args.size,
            "n_random": args.n_random,
            "n_quenches": args.n_quenches,
            "snapshots_per_quench": args.snapshots_per_quench,
            "snapshot_every": args.snapshot_every,
            "random_scale": args.random_std,
            "seed": args.seed,
        }.items()
        if value is not None
    }
    prog = f"latsym {cls.name} generate"
    try:
        options = preset(args.preset, **{**cls.generation_presets[args.preset], **overrides})
        plugin = cls(_params(cls, args))
        path = generate(plugin, args.out, options, overwrite=args.overwrite, progress=not args.no_progress)
    except ValueError as exc:  # DatasetError included
        print(f"{prog}: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"{prog}: {_INTERRUPTED}", file=sys.stderr)
        return 130
    print(f"wrote {options.n_configurations} configurations of {_size_text(options.shape)} to {path}")
    return 0


# -- simulate ------------------------------------------------------------------------------------


def _configure_simulate(cls: type[HolsteinPlugin], p: argparse.ArgumentParser) -> None:
    from latsym_holstein.train import DEVICE_HELP, THREADS_HELP, device_arg, positive_int

    side_names = "x".join(f"L{a + 1}" for a in range(cls.dim))
    p.add_argument("--out", type=Path, required=True, help="directory for quench.h5 (re-running resumes it)")
    p.add_argument(
        "--size",
        type=functools.partial(_lattice_size, dim=cls.dim),
        default=cls.default_size,
        help=f"lattice L or {side_names} (default {_size_text(cls.default_size)})",
    )
    p.add_argument("--steps", type=int, default=1000, help="Langevin steps (time = steps * dt; default 1000)")
    p.add_argument(
        "--network",
        type=Path,
        metavar="MODEL",
        help=f"drive the quench with a trained network (a model.pt written by `latsym {cls.name} train`, "
        "or the word 'pretrained': the network shipped with latsym-holstein, square lattice, default "
        "parameters) instead of exact ED forces; fields then take the network's dtype. The model "
        "parameters (--config) must be those the network was trained with",
    )
    p.add_argument(
        "--ignore-trained-params",
        action="store_true",
        help="run a --network even where --config differs from the parameters it was trained with "
        "(t, g, k, kappa, temperature, filling), e.g. to test how it transfers",
    )
    p.add_argument("--dynamics", choices=["langevin", "brownian"], default="langevin", help="integrator")
    p.add_argument("--seed", type=int, default=0, help="seed of the initial state and the noise")
    p.add_argument(
        "--replicas", type=positive_int, metavar="R",
        help="run R independent quenches side by side as one batch (snapshots (T, R, ...); `analyze` "
        "averages S(k), C(r) and the order parameters over them); a network on a GPU evaluates many "
        "replicas for little more than the cost of one",
    )
    p.add_argument("--snapshot-every", type=int, default=50, help="steps between snapshots (default 50)")
    p.add_argument(
        "--checkpoint-every", type=int, default=500, help="steps between checkpoints (default 500)"
    )
    p.add_argument("--overwrite", action="store_true", help="start afresh instead of resuming")
    p.add_argument(
        "--device", type=device_arg, default="cpu",
        help=f"{DEVICE_HELP}; where the fields and the --network live (ED forces are computed on the "
        "CPU wherever the fields are). A run resumes only on the device type it started on",
    )
    p.add_argument(
        "--cuda-graph", action=argparse.BooleanOptionalAction,
        help="replay the --network from a CUDA graph (latsym.dynamics.CUDAGraphForce): the same forces "
        "without eager PyTorch's per-kernel launch cost, several times faster on small and mid-size "
        "lattices; default: on with --device cuda and a --network",
    )
    p.add_argument("--threads", type=positive_int, help=THREADS_HELP)
    if "analyze" in cls.cli_commands():
        p.add_argument("--analyze", action="store_true", help="run `analyze` on the trajectory afterwards")
    _add_params_option(cls, p)


def _run_simulate(cls: type[HolsteinPlugin], args: argparse.Namespace) -> int:
    import torch

    from latsym.dynamics import NonFiniteError, ResumeError
    from latsym_holstein.simulate import quench

    prog = f"latsym {cls.name} simulate"
    if args.out.exists() and not args.out.is_dir():
        print(
            f"{prog}: --out must be a directory (the trajectory goes to DIR/quench.h5), "
            f"but {args.out} is a file",
            file=sys.stderr,
        )
        return 2
    trajectory = args.out / "quench.h5"
    if args.threads is not None:
        torch.set_num_threads(args.threads)
    try:
        params = _params(cls, args)
    except ValueError as exc:
        print(f"{prog}: {exc}", file=sys.stderr)
        return 2
    force, dtype = None, torch.float64
    if args.cuda_graph and (args.network is None or args.device.type != "cuda"):
        print(f"{prog}: --cuda-graph needs --device cuda and a --network (ED forces run on the CPU)",
              file=sys.stderr)
        return 2
    if args.network is not None:
        from latsym_holstein._pretrained import PRETRAINED_PATH
        from latsym_holstein.networks import NetworkFileError, load_network
        from latsym_holstein.simulate import network_force_fn

        path = PRETRAINED_PATH if str(args.network) == "pretrained" else args.network
        try:
            network = load_network(path).to(args.device)
        except NetworkFileError as exc:
            print(f"{prog}: {exc}", file=sys.stderr)
            return 2
        if network.dim != cls.dim:
            print(
                f"{prog}: the network {path} works on {network.dim}D fields ({network.lattice_name} "
                f"lattice), but this plugin's lattice is {cls.dim}D; train one with "
                f"`latsym {cls.name} train`",
                file=sys.stderr,
            )
            return 2
        trained = (getattr(network, "extra", None) or {}).get("settings", {}).get("params")
        differences = params.force_field_differences(trained) if trained else []
        if differences and not args.ignore_trained_params:
            print(
                f"{prog}: the network {path} was trained for other model parameters (here vs trained: "
                f"{'; '.join(differences)}), so its forces are not this model's; generate data with "
                f"these parameters and train a network on them, drop --config, or pass "
                f"--ignore-trained-params to run it anyway",
                file=sys.stderr,
            )
            return 2
        force, dtype = network_force_fn(network), network.input_scale.dtype
        if args.device.type == "cuda" and args.cuda_graph is not False:
            from latsym.dynamics import CUDAGraphForce

            force = CUDAGraphForce(force)
    try:
        result = quench(
            trajectory,
            args.size,
            args.steps,
            params=params,
            seed=args.seed,
            snapshot_every=args.snapshot_every,
            checkpoint_every=args.checkpoint_every,
            dynamics=args.dynamics,
            force=force,
            dtype=dtype,
            device=args.device,
            replicas=args.replicas,
            metadata={"model": cls.name},
            overwrite=args.overwrite,
            progress=not args.no_progress,
        )
    except (ValueError, ResumeError, NonFiniteError) as exc:
        print(f"{prog}: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"{prog}: {_INTERRUPTED}", file=sys.stderr)
        return 130
    print(f"trajectory: {result.path} ({result.n_snapshots} snapshots, step {result.state.step})")
    if getattr(args, "analyze", False):
        return _analyze(trajectory, args.out, None)
    return 0


# -- analyze -------------------------------------------------------------------------------------


def _configure_analyze(p: argparse.ArgumentParser) -> None:
    p.add_argument("trajectory", type=Path, help="HDF5 trajectory written by `simulate`")
    p.add_argument("--out", type=Path, help="output directory (default: the trajectory's directory)")
    p.add_argument(
        "--window",
        type=float,
        nargs=2,
        metavar=("TMIN", "TMAX"),
        help="time window of the coarsening fit L(t) ~ t^alpha (default: the later half)",
    )


def _run_analyze(args: argparse.Namespace) -> int:
    return _analyze(args.trajectory, args.out or args.trajectory.parent, args.window)


def _analyze(trajectory: Path, out: Path, window) -> int:
    from latsym_holstein.analysis import analyze
    from latsym_holstein.observables import format_estimate

    try:
        summary = analyze(trajectory, out, window=tuple(window) if window else None)
    except ValueError as exc:
        print(f"latsym holstein analyze: {exc}", file=sys.stderr)
        return 2
    fit = summary["fit"]
    if fit and "alpha" in fit:
        print(
            f"coarsening exponent alpha = {format_estimate(fit['alpha'], fit['alpha_err'], ' +- ')} "
            f"over {fit['window'][0]:g} <= t <= {fit['window'][1]:g}"
        )
    elif fit:
        print(f"latsym holstein analyze: no coarsening fit: {fit['error']}", file=sys.stderr)
    print(f"wrote {out / 'analysis.json'} and {len(summary['plots'])} plots")
    return 0


# -- train ---------------------------------------------------------------------------------------


def _configure_train(cls: type[HolsteinPlugin], p: argparse.ArgumentParser) -> None:
    from latsym_holstein.train import configure_parser

    configure_parser(p, networks=None if cls.network_defaults is None else list(cls.network_defaults))


def _run_train(cls: type[HolsteinPlugin], args: argparse.Namespace) -> int:
    from latsym_holstein.train import run_from_args

    prog = f"latsym {cls.name} train"
    if cls.network_defaults is None:
        return run_from_args(args, prog=prog)
    if args.network not in cls.network_defaults:
        print(
            f"{prog}: network preset {args.network!r} is not available on this lattice; "
            f"available: {', '.join(cls.network_defaults)}",
            file=sys.stderr,
        )
        return 2
    return run_from_args(args, prog=prog, network_defaults=cls.network_defaults[args.network])
