"""Time building the real irreps of the whole point-group catalogue from a cold cache.

Usage: ``python benchmarks/bench_groups.py [--json PATH] [--repeat N]``.

Prints one row per group (order, number of real irreps, time for the character table and the
real irreps, both from a cold cache) and the total; the goal is under 2 s for all 42 groups. Then
the time of the full Clebsch–Gordan table of Oh (every triple of real irreps) from a cold cache.
"""

from __future__ import annotations

import argparse
import json
import platform
import time

from latsym.group import (
    _characters,
    _clebsch_gordan,
    _irreps,
    character_table,
    clebsch_gordan,
    point_group,
    point_group_symbols,
    real_irreps,
)


def _cold(G) -> float:
    _characters._TABLES.clear()
    _irreps._CACHE.clear()
    start = time.perf_counter()
    character_table(G)
    real_irreps(G)
    return time.perf_counter() - start


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", metavar="PATH", help="also write the results as JSON to PATH")
    parser.add_argument("--repeat", type=int, default=3, help="take the best of N cold builds (default 3)")
    args = parser.parse_args(argv)
    groups = [point_group(i.schoenflies, d) for d in (3, 2) for i in point_group_symbols(d)]
    rows = []
    for G in groups:
        best = min(_cold(G) for _ in range(args.repeat))
        rows.append(
            {
                "group": f"{G.name} ({G.dim}D)",
                "order": G.order,
                "real_irreps": len(real_irreps(G)),
                "seconds": best,
            }
        )
    _characters._TABLES.clear()
    _irreps._CACHE.clear()
    start = time.perf_counter()
    for G in groups:
        real_irreps(G)
    total = time.perf_counter() - start
    print(f"{'group':<14}{'order':>6}{'irreps':>8}{'ms':>10}")
    for r in rows:
        print(f"{r['group']:<14}{r['order']:>6}{r['real_irreps']:>8}{1e3 * r['seconds']:>10.2f}")
    print(f"{'sum of best':<28}{1e3 * sum(r['seconds'] for r in rows):>10.1f}")
    print(f"{'all 42, one cold pass':<28}{1e3 * total:>10.1f}")
    oh = real_irreps(point_group("Oh"))
    _clebsch_gordan._CACHE.clear()
    start = time.perf_counter()
    for a in oh:
        for b in oh:
            for c in oh:
                clebsch_gordan(a, b, c)
    cg_seconds = time.perf_counter() - start
    print(f"{'Oh Clebsch-Gordan table':<28}{1e3 * cg_seconds:>10.1f}   ({len(oh) ** 3} triples, cold cache)")
    result = {
        "groups": rows,
        "total_seconds": total,
        "oh_clebsch_gordan_seconds": cg_seconds,
        "python": platform.python_version(),
        "machine": platform.machine(),
    }
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(result, fh, indent=2)
    return result


if __name__ == "__main__":
    main()
