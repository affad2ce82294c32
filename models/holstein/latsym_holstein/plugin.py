"""The Holstein model plugin, registered under the entry-point group ``latsym.models``.

It adds ``latsym holstein info | generate | simulate | analyze``; ``latsym holstein COMMAND --help``
explains every option.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from latsym.plugin import CLICommand, ModelPlugin
from latsym_holstein.params import HolsteinParams


class HolsteinPlugin(ModelPlugin):
    """The semiclassical Holstein model on the square lattice (spinless fermions, one classical
    distortion ``Q_i`` per site). Symmetry: translations × 4mm (D4) × the particle–hole Z2 under which
    ``Q`` and the force are odd scalars (``A1:odd``)."""

    name = "holstein"
    description = "semiclassical Holstein model on the square lattice (ED forces, Langevin quenches)"
    Params = HolsteinParams
    input_irreps = "A1:odd"
    force_irreps = "A1:odd"

    def lattice(self):
        from latsym.lattice import square

        return square()

    def symmetry_group(self):
        from latsym.group import Z2, point_group

        return point_group("4mm", dim=2) * Z2()

    def reference_forces(self, q):
        from latsym_holstein.ed import ed_forces

        return ed_forces(q, self.params)

    def dynamics_defaults(self) -> dict[str, float]:
        p = self.params
        return {"dt": p.dt, "gamma": p.gamma, "temperature": p.temperature, "mass": p.mass}

    def observables(self):
        from latsym_holstein.simulate import quench_observables

        return quench_observables()

    @classmethod
    def cli_commands(cls) -> dict[str, CLICommand]:
        return {
            **super().cli_commands(),
            "generate": CLICommand(
                "make a training data set: ED forces of random configurations and quench snapshots",
                _configure_generate,
                _run_generate,
            ),
            "simulate": CLICommand(
                "run (or resume) a thermal quench and write its HDF5 trajectory",
                _configure_simulate,
                _run_simulate,
            ),
            "analyze": CLICommand(
                "observables and plots of a quench trajectory (JSON + PNG)", _configure_analyze, _run_analyze
            ),
            "train": CLICommand(
                "train a force-field network on a generated data set (report, parity plot, checkpoints)",
                _configure_train,
                _run_train,
            ),
        }

    def networks(self):
        from latsym_holstein.networks import NETWORKS

        return dict(NETWORKS)


_INTERRUPTED = "interrupted; the progress is saved: run the same command again to resume"


# -- shared options ------------------------------------------------------------------------------


def _lattice_size(text: str) -> tuple[int, int]:
    parts = text.lower().split("x")
    try:
        sizes = tuple(int(p) for p in parts)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"lattice size must be L or L1xL2 (e.g. 16 or 16x24), got {text!r}"
        ) from None
    if len(sizes) == 1:
        sizes = sizes * 2
    if len(sizes) != 2 or min(sizes) < 2:
        raise argparse.ArgumentTypeError(f"lattice size must be L or L1xL2 with sides >= 2, got {text!r}")
    return sizes


def _add_params_option(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--config",
        type=Path,
        metavar="JSON",
        help="JSON file of model parameters overriding the defaults (keys: "
        + ", ".join(HolsteinParams().to_dict())
        + "); unknown keys are an error",
    )
    p.add_argument("--no-progress", action="store_true", help="hide the progress bars")


def _params(args: argparse.Namespace) -> HolsteinParams:
    """The parameters of ``--config`` (defaults without it).

    Raises:
        ValueError: the file is unreadable, not a JSON object, or holds an unknown or invalid parameter
            (the commands print the message to stderr and exit with status 2).
    """
    if args.config is None:
        return HolsteinParams()
    try:
        values = json.loads(Path(args.config).read_text())
    except (OSError, json.JSONDecodeError) as exc:
        raise ValueError(f"cannot read the config file {args.config}: {exc}") from exc
    if not isinstance(values, dict):
        raise ValueError(f"config file {args.config} must hold a JSON object of parameters")
    try:
        return HolsteinParams.from_dict(values)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"config file {args.config}: {exc}") from exc


# -- generate ------------------------------------------------------------------------------------


def _configure_generate(p: argparse.ArgumentParser) -> None:
    p.add_argument("--out", type=Path, required=True, help="HDF5 data set to write (re-running resumes it)")
    p.add_argument(
        "--preset",
        choices=["small", "paper"],
        default="small",
        help="small: 16x16, 20 random + 2 quenches x 10 snapshots (minutes on 2 cores); paper: 40x40, "
        "200 random + 4 quenches x 100 snapshots every 50 steps (Fan & Chern 2026). "
        "Options below override it",
    )
    p.add_argument("--size", type=_lattice_size, help="lattice L or L1xL2 (even sides)")
    p.add_argument("--n-random", type=int, help="random configurations Q_i ~ N(0, std^2)")
    p.add_argument("--n-quenches", type=int, help="ED-driven Langevin quenches")
    p.add_argument("--snapshots-per-quench", type=int, help="snapshots kept per quench")
    p.add_argument("--snapshot-every", type=int, help="Langevin steps between kept snapshots")
    p.add_argument(
        "--random-std", type=float, help="standard deviation of random distortions (default sqrt(5/0.18))"
    )
    p.add_argument("--seed", type=int, help="master seed (default 0)")
    p.add_argument("--overwrite", action="store_true", help="replace --out if it holds another data set")
    _add_params_option(p)


def _run_generate(args: argparse.Namespace) -> int:
    from latsym_holstein.data import GenerationOptions, generate

    overrides = {
        key: value
        for key, value in {
            "shape": args.size,
            "n_random": args.n_random,
            "n_quenches": args.n_quenches,
            "snapshots_per_quench": args.snapshots_per_quench,
            "snapshot_every": args.snapshot_every,
            "random_std": args.random_std,
            "seed": args.seed,
        }.items()
        if value is not None
    }
    try:
        options = GenerationOptions.preset(args.preset, **overrides)
        path = generate(
            args.out, options, _params(args), overwrite=args.overwrite, progress=not args.no_progress
        )
    except ValueError as exc:  # DatasetError included
        print(f"latsym holstein generate: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"latsym holstein generate: {_INTERRUPTED}", file=sys.stderr)
        return 130
    print(
        f"wrote {options.n_configurations} configurations of {options.shape[0]}x{options.shape[1]} to {path}"
    )
    return 0


# -- simulate ------------------------------------------------------------------------------------


def _configure_simulate(p: argparse.ArgumentParser) -> None:
    p.add_argument("--out", type=Path, required=True, help="directory for quench.h5 (re-running resumes it)")
    p.add_argument("--size", type=_lattice_size, default=(24, 24), help="lattice L or L1xL2 (default 24)")
    p.add_argument("--steps", type=int, default=1000, help="Langevin steps (time = steps * dt; default 1000)")
    p.add_argument(
        "--network",
        type=Path,
        metavar="MODEL",
        help="drive the quench with a trained network (a model.pt written by `latsym holstein train`) "
        "instead of exact ED forces; fields then take the network's dtype",
    )
    p.add_argument("--dynamics", choices=["langevin", "brownian"], default="langevin", help="integrator")
    p.add_argument("--seed", type=int, default=0, help="seed of the initial state and the noise")
    p.add_argument("--snapshot-every", type=int, default=50, help="steps between snapshots (default 50)")
    p.add_argument(
        "--checkpoint-every", type=int, default=500, help="steps between checkpoints (default 500)"
    )
    p.add_argument("--overwrite", action="store_true", help="start afresh instead of resuming")
    p.add_argument("--analyze", action="store_true", help="run `analyze` on the trajectory afterwards")
    _add_params_option(p)


def _run_simulate(args: argparse.Namespace) -> int:
    import torch

    from latsym.dynamics import NonFiniteError, ResumeError
    from latsym_holstein.simulate import quench

    if args.out.exists() and not args.out.is_dir():
        print(
            f"latsym holstein simulate: --out must be a directory (the trajectory goes to DIR/quench.h5), "
            f"but {args.out} is a file",
            file=sys.stderr,
        )
        return 2
    trajectory = args.out / "quench.h5"
    force, dtype = None, torch.float64
    if args.network is not None:
        from latsym_holstein.networks import NetworkFileError, load_network
        from latsym_holstein.simulate import network_force_fn

        try:
            network = load_network(args.network)
        except NetworkFileError as exc:
            print(f"latsym holstein simulate: {exc}", file=sys.stderr)
            return 2
        force, dtype = network_force_fn(network), network.input_scale.dtype
    try:
        result = quench(
            trajectory,
            args.size,
            args.steps,
            params=_params(args),
            seed=args.seed,
            snapshot_every=args.snapshot_every,
            checkpoint_every=args.checkpoint_every,
            dynamics=args.dynamics,
            force=force,
            dtype=dtype,
            overwrite=args.overwrite,
            progress=not args.no_progress,
        )
    except (ValueError, ResumeError, NonFiniteError) as exc:
        print(f"latsym holstein simulate: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"latsym holstein simulate: {_INTERRUPTED}", file=sys.stderr)
        return 130
    print(f"trajectory: {result.path} ({result.n_snapshots} snapshots, step {result.state.step})")
    if args.analyze:
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

    try:
        summary = analyze(trajectory, out, window=tuple(window) if window else None)
    except ValueError as exc:
        print(f"latsym holstein analyze: {exc}", file=sys.stderr)
        return 2
    fit = summary["fit"]
    if fit and "alpha" in fit:
        print(
            f"coarsening exponent alpha = {fit['alpha']:.3f} +- {fit['alpha_err']:.3f} "
            f"over t in {fit['window']}"
        )
    elif fit:
        print(f"latsym holstein analyze: no coarsening fit: {fit['error']}", file=sys.stderr)
    print(f"wrote {out / 'analysis.json'} and {len(summary['plots'])} plots")
    return 0


# -- train ---------------------------------------------------------------------------------------


def _configure_train(p: argparse.ArgumentParser) -> None:
    from latsym_holstein.train import configure_parser

    configure_parser(p)


def _run_train(args: argparse.Namespace) -> int:
    from latsym_holstein.train import run_from_args

    return run_from_args(args)
