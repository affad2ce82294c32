"""ED vs ML for the Kondo lattice: LLG quenches driven by exact fields and by a network, over seeds.

Run it with ``.venv/bin/python examples/kondo_ed_vs_ml.py --help``. For every seed it runs two
stochastic Landau–Lifshitz–Gilbert quenches (:func:`latsym.forcefield.simulate`, the plugin's defaults
``α = 0.5``, ``dt = 0.2``, ``T = 0.01``) from the same random spins (infinite temperature): one driven
by the exact-diagonalization (ED) fields in float64, one by a spin-energy network (default: the
network latsym-kondo ships) in its own dtype. The thermal noise of both is drawn per site from the
seed (:class:`latsym.dynamics.SiteNoise`), so the two runs of a seed feel the same noise up to the
precision of their fields.

From the trajectories it takes two curves per run:

- the mean ``|χ|`` of the ``2N`` triangles (0.39 for random spins, 0.770 in the tetrahedral state);
- the free energy per site ``F/N`` of each snapshot, from ED for both drivers (the physical energy
  of the configurations each driver reaches; cached next to each trajectory),

and compares the ML mean over seeds with the ED mean in units of the spread over seeds
(:mod:`latsym.ensembles`). Writes to ``--out``:

- ``ed/seed<S>.h5`` and ``ml/seed<S>.h5``: the trajectories (re-running resumes them and skips
  finished runs), and ``<driver>/seed<S>.energy.json``: their ``F/N``;
- ``ed_vs_ml.json``: per-time mean, standard deviation, min and max over seeds for both drivers, the
  per-seed curves and a summary (:func:`latsym.ensembles.compare_to_reference`);
- ``ed_vs_ml.png``: both curves, ED and ML means with mean ± std bands.

ED costs O(N³) per field (about 1.3 s on one core at 24 × 24, two fields per LLG step): the default
(24 × 24, 3 seeds, 300 steps, t = 60) takes about half an hour per seed on one core for ED, seconds
for the network. ``--size 12 --steps 40`` takes seconds.
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
from latsym_kondo import energy_per_site
from latsym_kondo.plugin import KondoPlugin

from latsym.dynamics import NonFiniteError, ResumeError
from latsym.ensembles import compare_ensembles, format_comparison, plot_ensembles
from latsym.forcefield import load_trajectory, network_force, simulate

#: The compared observables: key in the JSON -> axis label.
OBSERVABLES = {"chirality_abs": r"mean $|\chi|$ of the triangles", "free_energy": r"$F/N$ (ED, units of $t$)"}
DRIVERS = ("ed", "ml")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=Path("kondo-ed-vs-ml-output"),
                        help="output directory for the trajectories, ed_vs_ml.json and ed_vs_ml.png; "
                        "re-running resumes (default kondo-ed-vs-ml-output)")
    parser.add_argument("--network", default="pretrained",
                        help="a model.pt of `latsym kondo train`, or 'pretrained' (the network latsym-kondo "
                        "ships; the default)")
    parser.add_argument("--size", type=int, default=24,
                        help="lattice side L, even and at least the network's widest stencil (default 24)")
    parser.add_argument("--seeds", type=int, default=3,
                        help="number of seeds, >= 2: first-seed, first-seed + 1, ... (default 3)")
    parser.add_argument("--first-seed", type=int, default=0, help="the first seed (default 0)")
    parser.add_argument("--steps", type=int, default=300,
                        help="LLG steps of dt = 0.2 per quench (default 300)")
    parser.add_argument("--snapshot-every", type=int, default=10, help="steps between snapshots (default 10)")
    parser.add_argument("--threads", type=int, default=1, help="torch threads (default 1)")
    parser.add_argument("--overwrite", action="store_true",
                        help="recompute the trajectories instead of resuming them")
    parser.add_argument("--no-progress", action="store_true", help="hide the progress bars")
    return parser


def load_network(plugin: KondoPlugin, which: str) -> tuple[torch.nn.Module, Path]:
    """The shipped network (``"pretrained"``) or the network file ``which``, and its path."""
    path = plugin.pretrained_path() if which == "pretrained" else Path(which)
    if path is None:
        raise ValueError("latsym-kondo ships no pretrained network here; pass --network model.pt")
    return plugin.network_registry().load(path), path


def free_energy_curve(trajectory: Path, plugin: KondoPlugin) -> np.ndarray:
    """``F/N`` ``(T,)`` of each snapshot of ``trajectory`` by ED, cached in ``<trajectory>.energy.json``
    (recomputed when the trajectory's snapshot times change)."""
    content = load_trajectory(trajectory, plugin.name)
    times = content["time"].tolist()
    cache = trajectory.with_suffix(".energy.json")
    if cache.is_file():
        cached = json.loads(cache.read_text())
        if cached["time"] == times:
            return np.array(cached["free_energy"])
    energy = energy_per_site(content["q"][:, 0], plugin.params.electrons(), normalise=True)
    cache.write_text(json.dumps({"time": times, "free_energy": energy.tolist()}))
    return energy


def run_quenches(args: argparse.Namespace, plugin: KondoPlugin, network: torch.nn.Module,
                 network_id: dict, seeds: list[int]) -> tuple[dict[str, list[Path]], dict[str, float],
                                                              dict[str, int]]:
    """Run (or resume) both drivers' quench of every seed: the trajectory paths per driver (in the
    order of ``seeds``), the wall time per driver (seconds, this call) and the new steps per driver."""
    drivers = {"ed": (None, torch.float64, {}),
               "ml": (network_force(network), network.input_scale.dtype, network_id)}
    paths = {driver: [] for driver in DRIVERS}
    wall, new_steps = dict.fromkeys(DRIVERS, 0.0), dict.fromkeys(DRIVERS, 0)
    for seed in seeds:
        for driver, (force, dtype, metadata) in drivers.items():
            start = time.perf_counter()
            path = args.out / driver / f"seed{seed}.h5"
            result = simulate(plugin, path, (args.size, args.size), args.steps, force=force, seed=seed,
                              snapshot_every=args.snapshot_every, checkpoint_every=2 * args.snapshot_every,
                              dtype=dtype, metadata=metadata, overwrite=args.overwrite,
                              progress=not args.no_progress)
            wall[driver] += time.perf_counter() - start
            new_steps[driver] += result.state.step - result.start_step
            paths[driver].append(result.path)
    return paths, wall, new_steps


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if args.size % 2:
        parser.error(f"--size must be even (the tetrahedral order has period 2), got {args.size}")
    if args.seeds < 2:
        parser.error(f"--seeds must be at least 2 (the spread over seeds needs two), got {args.seeds}")
    if args.first_seed < 0:
        parser.error(f"--first-seed must be non-negative, got {args.first_seed}")
    for name in ("steps", "snapshot_every", "threads"):
        if getattr(args, name) < 1:
            parser.error(f"--{name.replace('_', '-')} must be at least 1")
    if args.out.exists() and not args.out.is_dir():
        parser.error(f"--out must be a directory, but {args.out} is a file")
    torch.set_num_threads(args.threads)
    plugin = KondoPlugin()
    try:
        network, network_path = load_network(plugin, args.network)
    except (ValueError, OSError) as exc:
        parser.error(f"--network: {exc}")
    if args.size < network.min_side():
        parser.error(f"--size {args.size} is smaller than the network's widest stencil, {network.min_side()} "
                     f"cells: use an even side >= {network.min_side()}")
    network_id = {"network": str(network_path),
                  "network_sha256": hashlib.sha256(network_path.read_bytes()).hexdigest()}
    seeds = list(range(args.first_seed, args.first_seed + args.seeds))
    print(f"ED vs ML: {args.size}x{args.size}, seeds {seeds}, {args.steps} LLG steps (t = "
          f"{args.steps * plugin.params.dt:g}), network {network_path} ({network.input_scale.dtype})")
    try:
        trajectories, wall, new_steps = run_quenches(args, plugin, network, network_id, seeds)
    except ResumeError as exc:
        print(f"kondo_ed_vs_ml: {exc}\n(runs with another network or other settings need another --out, "
              "or --overwrite)", file=sys.stderr)
        return 2
    except (ValueError, NonFiniteError) as exc:
        print(f"kondo_ed_vs_ml: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("kondo_ed_vs_ml: interrupted; run the same command again to resume", file=sys.stderr)
        return 130

    curves: dict[str, dict[str, np.ndarray]] = {}
    for driver in DRIVERS:
        runs = [load_trajectory(path, plugin.name) for path in trajectories[driver]]
        time_ = runs[0]["time"]
        curves[driver] = {
            "chirality_abs": np.array([run["observables"]["chirality_abs"][:, 0] for run in runs]),
            "free_energy": np.array([free_energy_curve(path, plugin) for path in trajectories[driver]]),
        }
    png = plot_ensembles(time_, curves, OBSERVABLES, args.out / "ed_vs_ml.png",
                         f"Kondo lattice, ED vs ML, {args.size}x{args.size}, {len(seeds)} seeds")
    comparison = compare_ensembles(time_, curves)
    report = {
        "settings": {"size": args.size, "seeds": seeds, "steps": args.steps,
                     "snapshot_every": args.snapshot_every, "params": plugin.params_dict(),
                     "network_dtype": str(network.input_scale.dtype), **network_id},
        **comparison,
        "trajectories": {driver: [str(p) for p in paths] for driver, paths in trajectories.items()},
        "new_steps": new_steps,
        "wall_s": wall,
        "plot": str(png),
    }
    (args.out / "ed_vs_ml.json").write_text(json.dumps(report, indent=1))
    print("\n" + "\n".join(format_comparison(comparison, {key: key for key in OBSERVABLES})))
    verdict = "yes" if report["agree_within_spread"] else "no"
    print(f"ML mean within the seed spread of the ED mean at every t > 0, both curves: {verdict}")
    for driver in DRIVERS:
        rate = f", {wall[driver] / new_steps[driver]:.3f} s/step" if new_steps[driver] else ""
        print(f"{driver.upper()}: {new_steps[driver]} new steps in {wall[driver]:.1f} s{rate}")
    print(f"results in {args.out}/: ed_vs_ml.json, ed_vs_ml.png")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
