"""Speed of the Kondo spin-energy network's effective fields against exact diagonalization (ED).

Part 1 times, on one thread, the fields of one random 24 × 24 spin configuration (or ``--compare``)
from ``latsym_kondo.effective_field`` (ED, float64) and from the spin-energy network
(``-∂E/∂S`` by autograd, in eval mode; the pretrained one if shipped, else a fresh default
preset: the cost is the same) in float32 and float64, and prints their ratio. Part 2 times the
network alone for growing lattices (default L = 24, 48, 96; ``--sizes ... 256`` for the full scan)
and reports the time per site, which is constant for a local network (cost linear in N), and times
ED for a few small lattices (``--ed-sizes``); both scans end with the fitted exponent ``p`` of
``time ∝ N^p`` (least squares in log–log, with its standard error): about 1 for the network, about 3
for ED. Best of ``--repeats`` runs.

    python benchmarks/kondo_network.py                              # seconds
    python benchmarks/kondo_network.py --sizes 24 48 96 192 256 --json kondo_network.json
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time

import numpy as np
import torch
from latsym_kondo import KondoParams, effective_field, random_spins
from latsym_kondo.plugin import KondoPlugin

from latsym.coarsening import format_estimate


def best_time(fn, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def scaling_exponent(sites: list[int], seconds: list[float]) -> tuple[float, float]:
    """``(p, standard error)`` of ``seconds ∝ sites^p`` fitted in log–log (``nan`` error below three
    points)."""
    if len(sites) < 2:
        return float("nan"), float("nan")
    x, y = np.log(sites), np.log(seconds)
    if len(sites) == 2:
        return float((y[1] - y[0]) / (x[1] - x[0])), float("nan")
    coefficients, covariance = np.polyfit(x, y, 1, cov=True)
    return float(coefficients[0]), float(np.sqrt(covariance[0, 0]))


def load_network():
    path = KondoPlugin.pretrained_path()
    plugin = KondoPlugin()
    if path is not None:
        return plugin.network_registry().load(path), "pretrained"
    torch.manual_seed(0)
    return plugin.network("energy").eval(), "fresh default preset"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--compare", type=int, default=24, help="lattice side of the ED comparison")
    parser.add_argument("--sizes", type=int, nargs="+", default=[24, 48, 96],
                        help="lattice sides of the scan")
    parser.add_argument("--ed-sizes", type=int, nargs="+", default=[12, 16, 20, 24],
                        help="lattice sides of the ED scan (default 12 16 20 24)")
    parser.add_argument("--repeats", type=int, default=3, help="timed repetitions (best of)")
    parser.add_argument("--json", metavar="PATH", help="also write the results to this JSON file")
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    network, which = load_network()
    params = KondoParams()

    spins = random_spins((3, args.compare, args.compare), seed=0)
    ed_s = best_time(lambda: effective_field(spins, params), max(1, min(args.repeats, 2)))
    compare = {"L": args.compare, "ed_s": ed_s}
    print(f"network: {which}; one thread; L = {args.compare}: ED {ed_s:.3f} s")
    for dtype in (torch.float32, torch.float64):
        net = network.to(dtype)
        q = torch.from_numpy(spins).to(dtype)
        net(q)  # warm-up
        s = best_time(lambda net=net, q=q: net(q), args.repeats)
        name = str(dtype).removeprefix("torch.")
        compare[f"network_{name}_s"] = s
        compare[f"speedup_{name}"] = ed_s / s
        print(f"  network {name}: {s * 1e3:.2f} ms, {ed_s / s:.0f}x faster than ED")

    print(f"\n{'L':>5} {'N':>7} {'float32 [ms]':>13} {'us/site':>8}")
    net = network.to(torch.float32)
    scan = []
    for size in args.sizes:
        q = torch.from_numpy(random_spins((3, size, size), seed=1)).float()
        net(q)
        s = best_time(lambda q=q: net(q), args.repeats)
        scan.append({"L": size, "N": size * size, "network_float32_s": s, "us_per_site": 1e6 * s / size**2})
        print(f"{size:>5} {size * size:>7} {s * 1e3:>13.2f} {1e6 * s / size**2:>8.3f}")
    network_exponent = scaling_exponent([r["N"] for r in scan], [r["network_float32_s"] for r in scan])
    print(f"network: time ~ N^p, p = {format_estimate(*network_exponent)}")
    print(f"\n{'L':>5} {'N':>7} {'ED [s]':>10}")
    ed_scan = []
    for size in args.ed_sizes:
        s_ed = random_spins((3, size, size), seed=2)
        seconds = best_time(lambda s_ed=s_ed: effective_field(s_ed, params), max(1, min(args.repeats, 2)))
        ed_scan.append({"L": size, "N": size * size, "ed_s": seconds})
        print(f"{size:>5} {size * size:>7} {seconds:>10.4f}")
    ed_exponent = scaling_exponent([r["N"] for r in ed_scan], [r["ed_s"] for r in ed_scan])
    print(f"ED: time ~ N^p, p = {format_estimate(*ed_exponent)}")
    if args.json:
        meta = {"torch": torch.__version__, "machine": platform.machine(),
                "python": platform.python_version(), "cpus": os.cpu_count(), "threads": 1,
                "network": which, "config": network.config}
        with open(args.json, "w") as handle:
            json.dump({"benchmark": "kondo_network_vs_ed", "meta": meta, "compare": compare, "scan": scan,
                       "network_exponent": network_exponent, "ed_scan": ed_scan, "ed_exponent": ed_exponent},
                      handle, indent=2)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
