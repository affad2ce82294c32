"""How local is the Kondo lattice's effective field? The floor of any network that sees a finite radius.

For a site ``i`` and a radius ``R``, the spins farther than ``R`` from ``i`` (real-space distance
on the periodic triangular lattice, nearest image) are drawn afresh from the same distribution,
the rest kept, and the ED field perpendicular to the spin, ``h⊥_i``, is computed again. The RMS
change over configurations, divided by ``std(h⊥)``, measures how much of ``h⊥_i`` depends on spins
beyond ``R``: a model whose field at ``i`` sees only the spins within ``R`` cannot do better than
about that change over √2 (the spread of ``h⊥_i`` given its neighbourhood), whatever its form.

Two kinds of configurations: ``random`` (spins uniform on the sphere, infinite temperature) and
``domains`` (noisy tetrahedral domains of :func:`latsym_kondo.chiral_domains`, noise 0.4, the
ordered phase with its walls). Prints a table and writes JSON::

    python benchmarks/kondo_locality.py                                  # 24 × 24, about 3 minutes
    python benchmarks/kondo_locality.py --size 12 --radii 2 3 4 5 --configurations 40
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np
from latsym_kondo import KondoParams, chiral_domains, effective_field, random_spins


def distances_from_origin(size: int) -> np.ndarray:
    """``(size, size)`` real-space distances of the sites ``[x, y]`` (``x a1 + y a2``) from ``[0, 0]``
    on the periodic lattice, the nearest of the nine images."""
    x, y = np.meshgrid(np.arange(size), np.arange(size), indexing="ij")
    best = np.full((size, size), np.inf)
    for sx in (-size, 0, size):
        for sy in (-size, 0, size):
            px, py = x + sx - 0.5 * (y + sy), np.sqrt(3) / 2 * (y + sy)
            best = np.minimum(best, np.hypot(px, py))
    return best


def perpendicular(h: np.ndarray, s: np.ndarray) -> np.ndarray:
    return h - (h * s).sum(0) * s


def locality(kind: str, size: int, radii: list[float], n: int, seed: int) -> dict:
    """The RMS change of ``h⊥`` at the origin per radius, in units of ``std(h⊥)``, for ``n``
    configurations of ``kind``."""
    rng = np.random.default_rng(seed)
    params = KondoParams()

    def draw() -> np.ndarray:
        if kind == "random":
            return random_spins((3, size, size), rng)
        return chiral_domains((size, size), rng, noise=0.4)

    far = {r: distances_from_origin(size) > r for r in radii}
    changes = {r: [] for r in radii}
    fields = []
    for _ in range(n):
        spins = draw()
        h = perpendicular(effective_field(spins, params), spins)
        fields.append(h.reshape(3, -1))
        for r in radii:
            redrawn = spins.copy()
            redrawn[:, far[r]] = draw()[:, far[r]]
            changes[r].append(perpendicular(effective_field(redrawn, params), redrawn)[:, 0, 0] - h[:, 0, 0])
    std = float(np.concatenate(fields, axis=1).std())
    rms = {r: float(np.sqrt(np.mean(np.square(changes[r])))) / std for r in radii}
    return {"std_h_perp": std, "rms_change": rms, "floor": {r: v / np.sqrt(2) for r, v in rms.items()}}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=24, help="lattice side (default 24)")
    parser.add_argument("--radii", type=float, nargs="+", default=[2, 4, 6, 8],
                        help="radii R in lattice spacings (default 2 4 6 8)")
    parser.add_argument("--configurations", type=int, default=8, help="configurations per kind (default 8)")
    parser.add_argument("--kinds", nargs="+", choices=("random", "domains"), default=["random", "domains"])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", metavar="PATH", help="also write the results to this JSON file")
    args = parser.parse_args(argv)
    results = {}
    for kind in args.kinds:
        start = time.perf_counter()
        results[kind] = locality(kind, args.size, args.radii, args.configurations, args.seed)
        results[kind]["seconds"] = time.perf_counter() - start
    print(f"{args.size}x{args.size}, {args.configurations} configurations per kind; RMS change of h_perp "
          "at a site when the spins beyond R are redrawn, / std(h_perp) (floor: / sqrt 2)")
    print(f"{'R':>6}" + "".join(f"{kind:>20}" for kind in args.kinds))
    for r in args.radii:
        cells = "".join(f"{results[k]['rms_change'][r]:>10.3f} ({results[k]['floor'][r]:.3f})"
                        for k in args.kinds)
        print(f"{r:>6g}{cells}")
    if args.json:
        with open(args.json, "w") as handle:
            json.dump({"benchmark": "kondo_locality", "size": args.size,
                       "configurations": args.configurations, "results": results}, handle, indent=2)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
