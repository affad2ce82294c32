"""Cost of the Kondo-lattice ED effective field against a bare complex ``numpy.linalg.eigh``.

For each lattice side L, times ``latsym_kondo.ed_solve`` (fields, free energy, μ) on one random spin
configuration and ``numpy.linalg.eigh`` of the same complex Hermitian ``2N × 2N`` matrix, alternating
the two in the same run, and prints the best (minimum) time of each over the repetitions and their
ratio. The default run is short (seconds); L = 24 (a 1152 × 1152 matrix) takes longer.

    python benchmarks/kondo_ed.py                          # L = 8, 12
    python benchmarks/kondo_ed.py --sizes 12 24 --repeats 3 --json kondo_ed.json
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time

import numpy as np
from latsym_kondo import KondoParams, ed_solve, hamiltonian, random_spins


def measure(size: int, repeats: int, params: KondoParams, seed: int = 0) -> dict[str, float]:
    spins = random_spins((3, size, size), seed)
    h = hamiltonian(spins, params)
    eigh_times, ed_times = [], []
    for _ in range(repeats):
        start = time.perf_counter()
        np.linalg.eigh(h)
        eigh_times.append(time.perf_counter() - start)
        start = time.perf_counter()
        ed_solve(spins, params)
        ed_times.append(time.perf_counter() - start)
    eigh_s, ed_s = min(eigh_times), min(ed_times)
    return {"L": size, "N": size * size, "matrix": 2 * size * size, "eigh_s": eigh_s, "ed_s": ed_s,
            "ratio": ed_s / eigh_s}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[8, 12], help="lattice sides L")
    parser.add_argument("--repeats", type=int, default=5, help="timed repetitions per size (best of)")
    parser.add_argument("--json", metavar="PATH", help="also write the results to this JSON file")
    args = parser.parse_args(argv)
    params = KondoParams()
    ed_solve(random_spins((3, 4, 4), 0), params)  # warm up imports and caches
    rows = []
    print(f"{'L':>4} {'2N':>6} {'eigh [s]':>10} {'ED [s]':>10} {'ED/eigh':>8}")
    for size in args.sizes:
        row = measure(size, args.repeats, params)
        rows.append(row)
        print(f"{row['L']:>4} {row['matrix']:>6} {row['eigh_s']:>10.4f} {row['ed_s']:>10.4f} "
              f"{row['ratio']:>8.3f}")
    if args.json:
        meta = {"numpy": np.__version__, "machine": platform.machine(), "python": platform.python_version(),
                "cpus": os.cpu_count(), "params": params.to_dict()}
        with open(args.json, "w") as handle:
            json.dump({"benchmark": "kondo_ed_vs_eigh", "meta": meta, "results": rows}, handle, indent=2)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
