"""ED vs ML: thermal quenches driven by exact ED forces and by a trained network, from the same starts.

Run it with ``.venv/bin/python examples/ed_vs_ml.py --help``. For every seed it runs two Langevin
quenches of the Holstein model (:func:`latsym_holstein.simulate.quench` with that seed): one with the
exact-diagonalization (ED) forces, one with a force-field network (default: the pretrained model of
:func:`latsym_holstein.pretrained`). Both start from the same high-temperature state and
draw the same thermostat noise: both integrate in float64 (the noise stream of a ``torch.Generator``
depends on the dtype), the ED forces are float64 and the network runs in its own dtype on ``Q`` cast
to it, its forces cast back to float64.

From the trajectories it measures the order parameter ``<|phi|>(t)`` and the domain size ``L_C(t)``
(half height of ``C(r)``; a field ordered across the whole lattice counts as ``L_C = L/2``, the
largest size the half height can measure), and compares the ED and ML means over the seeds with
the spread over the seeds. Writes to ``--out``:

- ``ed/seed<S>.h5`` and ``ml/seed<S>.h5`` (``ml-x<F>/`` with ``--force-scale F``): the
  trajectories; re-running resumes them and skips finished runs;
- ``ed_vs_ml.json``: per-time mean, standard deviation, min and max over seeds for both drivers, the
  per-seed curves and a summary (see :func:`latsym.ensembles.compare_to_reference`);
- ``ed_vs_ml.png``: ``<|phi|>(t)`` and ``L_C(t)``, ED and ML means with shaded mean +- std bands.

ED costs O(N^3) per step (about 0.06 s per step at 24 x 24, 0.25 s at 32 x 32 on 2 cores): the
default run (24 x 24, 4 seeds, 1000 steps: 4000 steps per driver) takes 5 to 15 minutes, the same
on 40 x 40 about an hour (0.75 to 0.9 s per ED step on one core).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import time
from pathlib import Path

import numpy as np
import torch
from latsym_holstein import PRETRAINED_PATH, pretrained
from latsym_holstein import observables as obs
from latsym_holstein.analysis import load_trajectory
from latsym_holstein.networks import ForceField, NetworkFileError, load_network
from latsym_holstein.params import HolsteinParams
from latsym_holstein.simulate import ForceFn, network_force_fn, quench

from latsym.dynamics import NonFiniteError, ResumeError
from latsym.ensembles import compare_ensembles, format_comparison, plot_ensembles

#: The compared observables: key in the JSON -> label in the table and the plot.
OBSERVABLES = {"order_abs": "<|phi|>", "domain_size": "L_C"}
AXIS_LABELS = {"order_abs": r"$\langle|\phi|\rangle$", "domain_size": r"$L_C$ (half height of $C(r)$)"}
DRIVERS = ("ed", "ml")


def ml_force_fn(network: ForceField, scale: float = 1.0) -> ForceFn:
    """The network's forces on float64 fields: ``Q`` is cast to the network's dtype, the forces
    (times ``scale``) back to the dtype of ``Q``.

    >>> from latsym_holstein.networks import build_network
    >>> net = build_network("latsym", odd=2, even=2, gated="", layers=1)
    >>> ml_force_fn(net)(torch.zeros(8, 8, dtype=torch.float64)).dtype
    torch.float64
    """
    forces = network_force_fn(network)
    dtype = network.input_scale.dtype

    def force(q: torch.Tensor) -> torch.Tensor:
        return (scale * forces(q.to(dtype))).to(q.dtype)

    force.name = forces.name if scale == 1 else f"{forces.name} x {scale:g}"
    return force


def seed_curves(trajectory: Path, size: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Times ``(T,)``, ``<|phi|>`` ``(T,)`` and ``L_C`` ``(T,)`` of one trajectory (``L_C`` capped at
    ``size / 2``, where the half height of ``C(r)`` stops being measurable)."""
    t, q = load_trajectory(trajectory)
    phi = obs.order_parameter_field(q, field="distortion")
    domain = obs.domain_size_correlation(obs.correlation(phi))
    return t, obs.order_parameter(phi, absolute=True), np.minimum(domain, size / 2)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--out", type=Path, default=Path("ed-vs-ml-output"),
        help="output directory for the trajectories, ed_vs_ml.json and ed_vs_ml.png; re-running resumes "
        "(default ed-vs-ml-output)",
    )
    parser.add_argument(
        "--network", type=Path, metavar="MODEL",
        help="force-field network file (the model.pt of `latsym holstein train`, or save_network); "
        "default: the pretrained model of latsym_holstein.pretrained()",
    )
    parser.add_argument("--size", type=int, default=24, help="lattice side L, even and >= 4 (default 24)")
    parser.add_argument(
        "--seeds", type=int, default=4,
        help="number of seeds, >= 2: first-seed, first-seed + 1, ... (default 4)",
    )
    parser.add_argument("--first-seed", type=int, default=0, help="the first seed (default 0)")
    parser.add_argument(
        "--steps", type=int, default=1000, help="Langevin steps of dt = 0.05 per quench (default 1000)"
    )
    parser.add_argument("--snapshot-every", type=int, default=20, help="steps between snapshots (default 20)")
    parser.add_argument(
        "--force-scale", type=float, default=1.0,
        help="multiply the network's forces by this factor: a deliberately wrong force field, to see that "
        "the comparison detects it; its trajectories go to ml-x<F>/ (default 1)",
    )
    parser.add_argument(
        "--overwrite", action="store_true", help="recompute the trajectories instead of resuming them"
    )
    parser.add_argument("--no-progress", action="store_true", help="hide the progress bars")
    return parser


def run_quenches(
    args: argparse.Namespace,
    drivers: dict[str, tuple[str, ForceFn | None, dict]],
    seeds: list[int],
    params: HolsteinParams,
) -> tuple[dict[str, list[Path]], dict[str, float], dict[str, int]]:
    """Run (or resume) the quench of every seed with every driver ``name -> (folder, force, metadata)``.

    Returns the trajectory paths per driver (in the order of ``seeds``), the wall time per driver
    (seconds, this call) and the steps computed per driver in this call.
    """
    trajectories = {driver: [] for driver in drivers}
    wall = dict.fromkeys(drivers, 0.0)
    new_steps = dict.fromkeys(drivers, 0)
    for seed in seeds:
        for driver, (folder, force, metadata) in drivers.items():
            start = time.perf_counter()
            result = quench(
                args.out / folder / f"seed{seed}.h5", (args.size, args.size), args.steps,
                params=params, force=force, seed=seed, snapshot_every=args.snapshot_every,
                checkpoint_every=10 * args.snapshot_every, dtype=torch.float64, metadata=metadata,
                overwrite=args.overwrite, progress=not args.no_progress,
            )
            wall[driver] += time.perf_counter() - start
            new_steps[driver] += result.state.step - result.start_step
            trajectories[driver].append(result.path)
    return trajectories, wall, new_steps


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if args.size < 4 or args.size % 2:
        parser.error(f"--size must be even and at least 4 (a checkerboard fits), got {args.size}")
    if args.seeds < 2:
        parser.error(f"--seeds must be at least 2 (the spread over seeds needs two), got {args.seeds}")
    if args.first_seed < 0:
        parser.error(f"--first-seed must be non-negative, got {args.first_seed}")
    if args.steps < 1 or args.snapshot_every < 1:
        parser.error(f"--steps and --snapshot-every must be >= 1, got {args.steps}, {args.snapshot_every}")
    if not args.force_scale > 0:
        parser.error(f"--force-scale must be positive, got {args.force_scale}")
    if args.out.exists() and not args.out.is_dir():
        parser.error(f"--out must be a directory, but {args.out} is a file")
    network_path = args.network or PRETRAINED_PATH
    try:
        network = pretrained() if args.network is None else load_network(args.network)
    except (NetworkFileError, FileNotFoundError) as exc:
        parser.error(f"--network: {exc}")

    params = HolsteinParams()
    seeds = list(range(args.first_seed, args.first_seed + args.seeds))
    ml_dir = "ml" if args.force_scale == 1 else f"ml-x{args.force_scale:g}"
    scaled = "" if args.force_scale == 1 else f", forces x {args.force_scale:g}"
    network_id = {
        "network": str(network_path),
        "network_sha256": hashlib.sha256(network_path.read_bytes()).hexdigest(),
        "force_scale": args.force_scale,
    }
    # driver -> (folder, force (None: quench's own float64 ED forces), metadata)
    drivers = {"ed": ("ed", None, {}), "ml": (ml_dir, ml_force_fn(network, args.force_scale), network_id)}
    print(
        f"ED vs ML: {args.size}x{args.size} lattice, seeds {seeds}, {args.steps} steps (t = "
        f"{args.steps * params.dt:g}), network {network_path} ({network.name}, {network.input_scale.dtype}"
        f"{scaled})"
    )

    try:
        trajectories, wall, new_steps = run_quenches(args, drivers, seeds, params)
    except ResumeError as exc:
        hint = "runs with another network or other settings need another --out, or --overwrite"
        print(f"ed_vs_ml: {exc}\n({hint})", file=sys.stderr)
        return 2
    except (ValueError, NonFiniteError) as exc:
        print(f"ed_vs_ml: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("ed_vs_ml: interrupted; run the same command again to resume", file=sys.stderr)
        return 130

    curves: dict[str, dict[str, np.ndarray]] = {}
    for driver in DRIVERS:
        per_seed = [seed_curves(path, args.size) for path in trajectories[driver]]
        time_ = per_seed[0][0]
        curves[driver] = {key: np.array([c[i + 1] for c in per_seed]) for i, key in enumerate(OBSERVABLES)}
    png = plot_ensembles(
        time_, curves, AXIS_LABELS, args.out / "ed_vs_ml.png",
        f"ED vs ML ({network.name}{scaled}), {args.size}x{args.size}, {len(seeds)} seeds",
    )
    comparison = compare_ensembles(time_, curves)
    report = {
        "settings": {
            "size": args.size, "seeds": seeds, "steps": args.steps, "snapshot_every": args.snapshot_every,
            "params": params.to_dict(), "network_dtype": str(network.input_scale.dtype), **network_id,
        },
        **comparison,
        "trajectories": {driver: [str(p) for p in paths] for driver, paths in trajectories.items()},
        "new_steps": new_steps,
        "wall_s": wall,
        "plot": str(png),
    }
    (args.out / "ed_vs_ml.json").write_text(json.dumps(report, indent=1))
    print("\n" + "\n".join(format_comparison(comparison, OBSERVABLES)))
    verdict = "yes" if report["agree_within_spread"] else "no"
    print(f"ML mean within the seed spread of the ED mean at every t > 0, both observables: {verdict}")
    for driver in DRIVERS:
        rate = f", {wall[driver] / new_steps[driver] * 1e3:.2f} ms/step" if new_steps[driver] else ""
        print(f"{driver.upper()}: {new_steps[driver]} new steps in {wall[driver]:.1f} s{rate}")
    print(f"results in {args.out}/: ed_vs_ml.json, ed_vs_ml.png")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
