"""The bundled Holstein example, from data to plots: a thermal quench of the charge-density wave.

Run it with ``make demo`` (or ``.venv/bin/python examples/holstein_quench.py --help``). It

1. takes a force field: by default the pretrained network shipped with latsym-holstein
   (``--force train`` makes its own instead: an ED data set with ``latsym_holstein.data.generate``,
   then a network trained on it with ``latsym_holstein.train.train``; ``--force ed`` uses exact
   diagonalization, affordable on small lattices only);
2. checks a network against exact diagonalization (ED) on fresh random configurations it has never
   seen (force MSE and RMSE relative to the spread of the forces);
3. runs a thermal quench from the high-temperature start ``Q_i ~ N(0, 5/0.18)``, ``v_i ~ N(0, 1)``
   with Langevin dynamics at ``T = 0.1``, writing an HDF5 trajectory with checkpoints (interrupt it
   with Ctrl-C and run it again: it resumes);
4. measures the checkerboard order parameter, S(k), C(r) and the domain size L(t), fits
   ``L ~ t^alpha`` and writes ``analysis.json`` and PNG plots.

The default (pretrained network, 96 x 96, 4000 steps, t = 200) takes a few minutes on 2 cores.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
import torch
from latsym_holstein import pretrained
from latsym_holstein.analysis import analyze
from latsym_holstein.data import GenerationOptions, generate
from latsym_holstein.ed import ed_forces
from latsym_holstein.networks import ForceField, load_network
from latsym_holstein.params import HolsteinParams
from latsym_holstein.simulate import initial_state, network_force_fn, quench
from latsym_holstein.train import DEVICE_HELP, device_arg, force_metrics, train

from latsym.coarsening import format_estimate
from latsym.dynamics import CUDAGraphForce


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=Path("demo-output"), help="output directory")
    parser.add_argument(
        "--force", choices=["pretrained", "train", "ed"], default="pretrained",
        help="pretrained: the shipped network (default); train: generate ED data and train a network "
        "first; ed: exact diagonalization at every step (O(N^3): small lattices only)",
    )
    parser.add_argument("--size", type=int, default=96, help="lattice side L of the quench (default 96)")
    parser.add_argument("--steps", type=int, default=4000, help="Langevin steps of dt = 0.05 (default 4000)")
    parser.add_argument("--snapshot-every", type=int, default=100, help="steps between snapshots")
    parser.add_argument("--seed", type=int, default=0, help="seed of the initial state and the noise")
    parser.add_argument(
        "--check-size", type=int, default=24,
        help="lattice side of the ED check of a network (default 24; 0 skips the check)",
    )
    parser.add_argument("--train-size", type=int, default=16, help="--force train: lattice side of the data")
    parser.add_argument("--train-epochs", type=int, default=30, help="--force train: training epochs")
    parser.add_argument(
        "--device", type=device_arg, default="cpu",
        help=f"where the network and quench run: {DEVICE_HELP}; on cuda the network replays from a CUDA "
        "graph",
    )
    parser.add_argument("--no-progress", action="store_true", help="hide the progress bars")
    args = parser.parse_args(argv)
    for name in ("size", "check_size", "train_size"):
        value = getattr(args, name)
        if value % 2 or (value < 4 and not (name == "check_size" and value == 0)):
            parser.error(f"--{name.replace('_', '-')} must be an even number >= 4, got {value}")
    for name in ("steps", "snapshot_every", "train_epochs"):
        if getattr(args, name) < 1:
            parser.error(f"--{name.replace('_', '-')} must be at least 1")
    params, progress = HolsteinParams(), not args.no_progress
    args.out.mkdir(parents=True, exist_ok=True)

    network = None
    if args.force == "pretrained":
        network = pretrained(device=args.device)
        print("force field: the pretrained network (latsym_holstein.pretrained(); see its model card)")
    elif args.force == "train":
        network = train_network(args, params, progress)
    else:
        print("force field: exact diagonalization")
    if network is not None and args.check_size:
        check = check_against_ed(network, args.check_size, params, seed=args.seed)
        (args.out / "force_check.json").write_text(json.dumps(check, indent=1))
        print(
            f"ED check on {check['configurations']} fresh {args.check_size}x{args.check_size} "
            f"configurations: force MSE {check['mse']:.3g}, RMSE/std {check['rmse_relative']:.3f}"
        )

    print(f"quench: {args.size}x{args.size} lattice, {args.steps} steps, {params}")
    start = time.perf_counter()
    result = quench(
        args.out / "quench.h5",
        (args.size, args.size),
        args.steps,
        params=params,
        force=None if network is None else network_force(network, args.device),
        seed=args.seed,
        snapshot_every=args.snapshot_every,
        checkpoint_every=10 * args.snapshot_every,
        dtype=torch.float64 if network is None else network.input_scale.dtype,
        device=args.device,
        progress=progress,
    )
    elapsed = time.perf_counter() - start
    summary = analyze(result.path, args.out)
    print_summary(summary)
    print(f"dynamics: {elapsed:.1f} s ({result.state.step - result.start_step} steps this run)")
    print(
        f"results in {args.out}/: quench.h5, analysis.json, "
        + ", ".join(Path(p).name for p in summary["plots"])
    )
    return 0


def train_network(args: argparse.Namespace, params: HolsteinParams, progress: bool) -> ForceField:
    """Generate a small ED data set and train latsym's default network on it (both resumable)."""
    options = GenerationOptions(shape=(args.train_size, args.train_size), n_random=20, n_quenches=2,
                                snapshots_per_quench=20, snapshot_every=25, seed=args.seed)
    print(f"data: {options.n_configurations} ED configurations of {args.train_size}x{args.train_size}")
    data = generate(args.out / "data.h5", options, params, progress=progress)
    report = train(data, args.out / "training", "latsym", epochs=args.train_epochs, seed=args.seed,
                   device=args.device, progress=progress)
    print(f"trained latsym ({report.n_parameters} parameters, {report.epochs} epochs): held-out force "
          f"MSE {report.metrics['mse']:.3g}, RMSE/std {report.metrics['rmse_relative']:.3f}")
    return load_network(report.model_path).to(args.device)


def check_against_ed(network: ForceField, size: int, params: HolsteinParams, *, seed: int,
                     configurations: int = 4) -> dict[str, float]:
    """Force metrics of ``network`` against ED on fresh high-temperature random configurations."""
    q = np.stack([initial_state((size, size), 10_000 + seed + k)[0] for k in range(configurations)])
    exact = ed_forces(q, params)
    with torch.no_grad():
        scale = network.input_scale
        predicted = network(torch.as_tensor(q, dtype=scale.dtype, device=scale.device)).double().cpu().numpy()
    return {**force_metrics(predicted, exact), "configurations": configurations, "size": size}


def network_force(network: ForceField, device: torch.device):
    """The network as a force callable; on a GPU replayed from a CUDA graph (several times faster)."""
    force = network_force_fn(network)
    return CUDAGraphForce(force) if device.type == "cuda" else force


def print_summary(summary: dict) -> None:
    """The per-snapshot observables as a table, and the coarsening fit."""
    print(f"\n{'t':>8} {'<phi>':>9} {'<|phi|>':>9} {'L_S(k)':>8} {'L_C(r)':>8}")
    columns = ("time", "order_parameter", "order_abs", "domain_size_sk", "domain_size_cr")
    for t, phi, phi_abs, l_s, l_c in zip(*(summary[c] for c in columns), strict=True):
        print(f"{t:8.1f} {phi:9.3f} {phi_abs:9.3f} {_fmt(l_s):>8} {_fmt(l_c):>8}")
    fit = summary["fit"]
    if fit and "alpha" in fit:
        print(f"\ncoarsening exponent alpha = {format_estimate(fit['alpha'], fit['alpha_err'], ' +- ')} "
              f"over {fit['window'][0]:g} <= t <= {fit['window'][1]:g} (Allen-Cahn: 1/2)")


def _fmt(x: float | None) -> str:
    return "-" if x is None else f"{x:.2f}"


if __name__ == "__main__":
    raise SystemExit(main())
