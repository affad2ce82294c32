"""Cost of one exact-diagonalization force evaluation against a bare ``numpy.linalg.eigh``.

For each lattice size, times ``latsym_holstein.ed.ed_solve`` on one random configuration and
``numpy.linalg.eigh`` of the same single-particle matrix, alternating the two in the same run, and
prints the best (minimum) time of each over the repetitions, which is the least disturbed by other
load on the machine, and their ratio (target: at most 1.3).

    python benchmarks/bench_ed.py                       # L = 16, 24, 32, 40
    python benchmarks/bench_ed.py --sizes 16 32 --repeats 5 --json ed.json
"""

from __future__ import annotations

import argparse
import json
import platform
import time

import numpy as np
from latsym_holstein.ed import ed_solve, hopping_matrix
from latsym_holstein.params import HolsteinParams


def measure(size: int, repeats: int, params: HolsteinParams, seed: int = 0) -> dict[str, float]:
    rng = np.random.default_rng(seed)
    q = 6.0 * rng.standard_normal((size, size))
    h = hopping_matrix(size, size, params.t) - params.g * np.diag(q.ravel())
    eigh_times, ed_times = [], []
    for _ in range(repeats):
        start = time.perf_counter()
        np.linalg.eigh(h)
        eigh_times.append(time.perf_counter() - start)
        start = time.perf_counter()
        ed_solve(q, params)
        ed_times.append(time.perf_counter() - start)
    eigh_s, ed_s = min(eigh_times), min(ed_times)
    return {"L": size, "N": size * size, "eigh_s": eigh_s, "ed_s": ed_s, "ratio": ed_s / eigh_s}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[16, 24, 32, 40], help="lattice sides L")
    parser.add_argument("--repeats", type=int, default=7, help="timed repetitions per size (best of)")
    parser.add_argument("--json", metavar="PATH", help="also write the results to this JSON file")
    args = parser.parse_args(argv)
    params = HolsteinParams()
    ed_solve(np.zeros((4, 4)), params)  # warm up imports and caches
    rows = []
    print(f"{'L':>4} {'N':>6} {'eigh [s]':>10} {'ED [s]':>10} {'ED/eigh':>8}")
    for size in args.sizes:
        row = measure(size, args.repeats, params)
        rows.append(row)
        print(f"{row['L']:>4} {row['N']:>6} {row['eigh_s']:>10.4f} {row['ed_s']:>10.4f} {row['ratio']:>8.3f}")
    if args.json:
        meta = {"numpy": np.__version__, "machine": platform.machine(), "python": platform.python_version()}
        with open(args.json, "w") as handle:
            json.dump({"benchmark": "ed_vs_eigh", "meta": meta, "results": rows}, handle, indent=2)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
