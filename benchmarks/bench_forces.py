"""Time per force evaluation (one configuration) against lattice size: ED and the registered networks.

For each lattice side L, times the exact forces (``latsym_holstein.ed.ed_forces``, up to ``--ed-max``)
and every network named by ``--networks`` (presets of ``latsym_holstein.networks``, default configs
unless ``--network-config NAME=JSON`` is given, untrained: the time does not depend on the weights) on
one random configuration ``(L, L)``, or with ``--batch B`` on ``B`` configurations ``(B, L, L)`` at
once, reported per configuration (the throughput of an ensemble of quenches run side by side;
ED, which has nothing to share between configurations, is timed on one). The methods take turns;
each time is the best (minimum) of the repetitions after a warm-up call, which is the least
disturbed by other load on the machine. Prints a table with the speed-up over ED measured at the
same L, and the exponent ``a`` of a least-squares fit ``time ∝ N^a`` (N = L² sites) per method.

ED is latsym's (numpy ``eigh`` in float64 on the CPU, with the BLAS threads it finds). With
``--eigh-device cuda`` the table also times a bare float64 ``torch.linalg.eigh`` of the same
Hamiltonian on that device: a lower bound for any ED ported there (ED's other steps cost less than
its ``eigh``), with the networks' speed-up over it. On a GPU, float32 convolutions and products run
in true float32 unless ``--allow-tf32`` (TF32 keeps a 10-bit mantissa: errors near 1e-3, far above
the float32 equivariance tolerance of latsym's tests). ``--cuda-graph`` times the networks replayed
from a CUDA graph (:class:`latsym.dynamics.CUDAGraphForce`, as ``latsym holstein simulate`` runs
them on a GPU), which removes eager PyTorch's per-kernel launch cost.

    python benchmarks/bench_forces.py --networks gnn --sizes 24 32 40
    python benchmarks/bench_forces.py --networks gnn --network-config 'gnn={"widths": [1, 64, 64, 1]}' \\
        --sizes 24 32 40 64 128 --json forces.json
    python benchmarks/bench_forces.py --networks latsym --sizes 40 128 --batch 8 --threads 1
    python benchmarks/bench_forces.py --networks latsym paper gnn --device cuda --eigh-device cuda
    python benchmarks/bench_forces.py --networks latsym paper gnn --device cuda --cuda-graph
"""

from __future__ import annotations

import argparse
import json
import platform
import time
from collections.abc import Callable

import numpy as np
import torch
from latsym_holstein.ed import ed_forces, hopping_matrix
from latsym_holstein.networks import available_networks, build_network
from latsym_holstein.params import HolsteinParams

from latsym.dynamics import CUDAGraphForce

DEFAULT_SIZES = [24, 32, 40, 64, 128, 256, 512]


def best_times(
    calls: dict[str, Callable[[], object]], repeats: int, budget_s: float, sync: Callable[[], None]
) -> dict[str, float]:
    """Minimum wall time of each call over up to ``repeats`` runs, after one warm-up run each.

    The calls take turns (one run of each per round), so that a burst of load on a shared machine
    hits all of them alike; a call stops repeating once it has spent ``budget_s`` seconds.
    """
    for call in calls.values():
        call()
        sync()
    times: dict[str, list[float]] = {name: [] for name in calls}
    for _ in range(repeats):
        for name, call in calls.items():
            if times[name] and sum(times[name]) >= budget_s:
                continue
            start = time.perf_counter()
            call()
            sync()
            times[name].append(time.perf_counter() - start)
    return {name: min(t) for name, t in times.items()}


def scaling_exponent(sizes: list[int], times: list[float]) -> float | None:
    """Slope of log(time) against log(N = L²); ``None`` with fewer than two points."""
    if len(times) < 2:
        return None
    n = np.asarray(sizes, dtype=float) ** 2
    return float(np.polyfit(np.log(n), np.log(times), 1)[0])


def parse_configs(items: list[str]) -> dict[str, dict]:
    configs = {}
    for item in items:
        name, sep, text = item.partition("=")
        if not sep:
            raise SystemExit(f"--network-config takes NAME=JSON, got {item!r}")
        configs[name] = json.loads(text)
    return configs


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=DEFAULT_SIZES, help="lattice sides L")
    parser.add_argument("--ed-max", type=int, default=40, help="largest L timed with ED (default 40)")
    parser.add_argument(
        "--networks", nargs="*", default=[], help=f"presets to time (available: {available_networks()})"
    )
    parser.add_argument(
        "--network-config", action="append", default=[], metavar="NAME=JSON", help="config of a preset"
    )
    parser.add_argument("--repeats", type=int, default=5, help="timed repetitions per point (best of)")
    parser.add_argument("--budget", type=float, default=2.0, help="stop repeating a point after this many s")
    parser.add_argument("--device", default="cpu", help="torch device of the networks (default cpu)")
    parser.add_argument("--dtype", choices=["float32", "float64"], default="float32", help="network dtype")
    parser.add_argument(
        "--eigh-device", metavar="DEVICE", help="also time a float64 torch.linalg.eigh of ED's matrix there"
    )
    parser.add_argument(
        "--allow-tf32", action="store_true", help="let CUDA run float32 convolutions and products in TF32"
    )
    parser.add_argument(
        "--cuda-graph", action="store_true", help="replay the networks from a CUDA graph (CUDAGraphForce)"
    )
    parser.add_argument("--threads", type=int, help="torch CPU threads (default: torch's choice)")
    parser.add_argument(
        "--batch", type=int, default=1, help="configurations per network call; times are per configuration"
    )
    parser.add_argument("--json", metavar="PATH", help="also write the results to this JSON file")
    args = parser.parse_args(argv)
    if args.batch < 1:
        parser.error(f"--batch must be >= 1, got {args.batch}")
    if args.cuda_graph and args.device.split(":")[0] != "cuda":
        parser.error("--cuda-graph needs --device cuda")
    if args.threads:
        torch.set_num_threads(args.threads)
    device, dtype = torch.device(args.device), getattr(torch, args.dtype)
    eigh_device = torch.device(args.eigh_device) if args.eigh_device else None
    torch.backends.cudnn.allow_tf32 = torch.backends.cuda.matmul.allow_tf32 = args.allow_tf32
    cuda_used = "cuda" in (device.type, eigh_device and eigh_device.type)
    sync = torch.cuda.synchronize if cuda_used else (lambda: None)
    configs = parse_configs(args.network_config)
    params = HolsteinParams()
    nets = {}
    for name in args.networks:
        torch.manual_seed(0)
        nets[name] = build_network(name, **configs.get(name, {})).to(device=device, dtype=dtype).eval()

    eigh = f"eigh@{eigh_device}" if eigh_device else None
    methods = ["ed", *([eigh] if eigh else []), *nets]
    times: dict[str, dict[int, float]] = {m: {} for m in methods}
    header = f"{'L':>5} {'N':>7} {'ED [s]':>10}" + (f" {eigh + ' [s]':>16}" if eigh else "")
    header += "".join(f" {m + ' [s]':>14} {'ED/' + m:>10}" for m in nets)
    print(header)
    for size in args.sizes:
        q = 6.0 * np.random.default_rng(size).standard_normal((args.batch, size, size))
        q_torch = torch.as_tensor(q if args.batch > 1 else q[0], dtype=dtype, device=device)
        forces = {name: CUDAGraphForce(net) if args.cuda_graph else net for name, net in nets.items()}
        calls = {name: (lambda force=force, q=q_torch: force(q)) for name, force in forces.items()}
        if size <= args.ed_max:
            calls["ed"] = lambda q=q[0]: ed_forces(q, params)
            if eigh:
                h = torch.as_tensor(hopping_matrix(size, size, t=params.t), device=eigh_device)
                h = h - torch.diag(torch.as_tensor(params.g * q[0].ravel(), device=eigh_device))
                calls[eigh] = lambda h=h: torch.linalg.eigh(h)
        with torch.no_grad():
            for name, t in best_times(calls, args.repeats, args.budget, sync).items():
                times[name][size] = t / args.batch if name in nets else t
        ed = times["ed"].get(size)
        row = f"{size:>5} {size * size:>7} " + (f"{ed:>10.4g}" if ed else f"{'-':>10}")
        if eigh:
            row += f" {times[eigh][size]:>16.4g}" if ed else f" {'-':>16}"
        for name in nets:
            t = times[name][size]
            row += f" {t:>14.4g} " + (f"{ed / t:>10.3g}" if ed else f"{'-':>10}")
        print(row, flush=True)
        del forces, calls  # a captured graph keeps its memory pool as long as it lives
        if cuda_used:
            torch.cuda.empty_cache()

    exponents = {m: scaling_exponent(list(times[m]), list(times[m].values())) for m in methods}
    print("scaling exponent a (time ~ N^a): " + ", ".join(
        f"{m} {a:.2f}" if a is not None else f"{m} -" for m, a in exponents.items()
    ))
    if eigh:
        for size in times[eigh]:
            print(f"L = {size}: speed-up over {eigh}: " + ", ".join(
                f"{m} {times[eigh][size] / times[m][size]:.3g}" for m in nets
            ))
    if args.json:
        meta = {
            "torch": torch.__version__, "numpy": np.__version__, "machine": platform.machine(),
            "python": platform.python_version(), "device": str(device), "dtype": args.dtype,
            "threads": torch.get_num_threads(), "batch": args.batch, "allow_tf32": args.allow_tf32,
            "cuda_graph": args.cuda_graph,
            "gpu": torch.cuda.get_device_name(device) if device.type == "cuda" else None,
        }
        results = {
            m: {"config": nets[m].config if m in nets else None,
                "times_s": {str(k): v for k, v in times[m].items()}, "exponent": exponents[m]}
            for m in methods
        }
        with open(args.json, "w") as handle:
            json.dump({"benchmark": "force_evaluation", "meta": meta, "results": results}, handle, indent=2)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
