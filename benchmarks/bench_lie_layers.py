"""Layers on fields of 6mm × SO(3) × T (classical spins on the triangular lattice): construction
times up to l = 4, and ``LatticeConv``'s forward against a plain ``conv2d`` of the same size.

**Construction** (``--max-l``, default 4): for each l_max = 1 … max_l, the field
``Σ_{l ≤ l_max} (2xA1:l:odd + E1:l:even)`` in and out, the time to build a ``LatticeConv``
(radius 1, about every site), a ``Linear``, a ``FullyConnectedTensorProduct`` of the field with
the spin ``A1:1:odd`` and a ``Gate``. The one-off import of ``sympy.physics.wigner`` (which the
first SO(3) Clebsch–Gordan coefficient needs) is timed on its own row first; then the first build of
each l_max is *cold* (Clebsch–Gordan
coefficients, kernel bases and decompositions computed and cached in memory) — the goal is under
1 s each —, a second build of the same layer is *warm* (caches filled).

**Forward** (``--irreps``, default ``"4xA1:1:odd + 2xA1:0:even + 2xE1:1:odd"``, 26 channels): the
time of ``LatticeConv`` in eval mode (cached expanded kernel: one circular pad and one ``conv2d``)
and in train mode (kernel rebuilt from the weights every call) on an ``--size``² triangular lattice,
against ``torch.nn.functional.conv2d`` of the circularly padded field with a random kernel of the
same shape (same channel count, same 3×3 box). Goal: eval within 1.2× of the plain conv. Times are
the best of ``--repeats`` calls, methods taking turns (see ``bench_lattice_conv.py``), so measure
ratios in one run on a loaded machine.

    python benchmarks/bench_lie_layers.py
    python benchmarks/bench_lie_layers.py --size 256 --max-l 4 --json lie.json
"""

from __future__ import annotations

import argparse
import platform
import time

import torch
import torch.nn.functional as F
from bench_lattice_conv import add_timing_options, best_times, write_json  # the script beside this one

from latsym.group import SO3, TimeReversal, point_group
from latsym.lattice import PeriodicLattice, triangular
from latsym.nn import FullyConnectedTensorProduct, Gate, Irreps, LatticeConv, Linear


def construction(max_l: int, size: int) -> list[dict]:
    """Cold and warm build times of each layer for l_max = 1 … max_l."""
    P = point_group("6mm", dim=2) * SO3() * TimeReversal()
    lattice = PeriodicLattice(triangular(), size)
    start = time.perf_counter()
    import sympy.physics.wigner  # noqa: F401  (the one-off import the first Clebsch–Gordan call pays)

    scalars = Irreps("2xA1:0:even", P)
    rows = [{"layer": "import sympy.physics.wigner", "max_l": 0, "dim": 0,
             "cold_s": time.perf_counter() - start, "warm_s": 0.0}]
    for l_max in range(1, max_l + 1):
        field = Irreps(" + ".join(f"2xA1:{l}:odd + E1:{l}:even" for l in range(l_max + 1)), P)
        gated = field.filter(lambda t: t.irrep.label[1] > 0)
        builders = {
            "LatticeConv": lambda f=field: LatticeConv(lattice, f, f, 1.0, group=P),
            "Linear": lambda f=field: Linear(f, f),
            "FullyConnectedTensorProduct": lambda f=field: FullyConnectedTensorProduct(f, "A1:1:odd", f,
                                                                                       group=P),
            "Gate": lambda g=gated: Gate(scalars, torch.tanh, Irreps("A1:0:even", P) * g.num_irreps,
                                         torch.sigmoid, g),
        }
        for name, build in builders.items():
            times = []
            for _ in range(2):
                start = time.perf_counter()
                build()
                times.append(time.perf_counter() - start)
            rows.append({"layer": name, "max_l": l_max, "dim": field.dim, "cold_s": times[0],
                         "warm_s": times[1]})
    return rows


def forward(args) -> list[dict]:
    """Best times of LatticeConv (eval, train) and the plain conv2d on one field."""
    P = point_group("6mm", dim=2) * SO3() * TimeReversal()
    irreps = Irreps(args.irreps, P)
    lattice = PeriodicLattice(triangular(), args.size)
    torch.manual_seed(0)
    x = torch.randn(args.batch, irreps.dim, args.size, args.size)
    conv = LatticeConv(lattice, irreps, irreps, 1.0, group=P)
    train, ev = conv, LatticeConv(lattice, irreps, irreps, 1.0, group=P).eval()
    kernel = torch.randn_like(ev.kernel().detach())
    pad = tuple(p for k in reversed(kernel.shape[2:]) for p in (k // 2, k // 2))
    calls = {
        "latsym eval": lambda: ev(x),
        "latsym train": lambda: train(x),
        "plain conv2d": lambda: F.conv2d(F.pad(x, pad, mode="circular"), kernel),
    }
    with torch.no_grad():
        times = best_times(calls, args.repeats, args.warmup, lambda: None)
    base = times["plain conv2d"][0]
    return [{"method": name, "channels": irreps.dim, "kernel": list(kernel.shape), "best_s": best,
             "median_s": median, "ratio": best / base} for name, (best, median) in times.items()]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--irreps", default="4xA1:1:odd + 2xA1:0:even + 2xE1:1:odd",
                        help="field type in and out of the forward timing (6mm × SO3 × T irreps)")
    parser.add_argument("--size", type=int, default=64, help="lattice side L (fields are L×L)")
    parser.add_argument("--batch", type=int, default=1)
    parser.add_argument("--max-l", type=int, default=4, help="largest l of the construction timing")
    add_timing_options(parser, repeats=10, warmup=2)
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)

    built = construction(args.max_l, 8)
    print(f"construction on 6mm × SO3 × T ({platform.machine()}, {torch.get_num_threads()} threads)")
    print(f"{'layer':<30}{'l_max':>6}{'dim':>6}{'cold (s)':>11}{'warm (s)':>11}")
    for r in built:
        print(f"{r['layer']:<30}{r['max_l']:>6}{r['dim']:>6}{r['cold_s']:>11.3f}{r['warm_s']:>11.3f}")

    timed = forward(args)
    print(f"\nforward, {args.irreps} ({timed[0]['channels']} channels) in and out, "
          f"batch {args.batch}, {args.size}×{args.size} triangular lattice, kernel {timed[0]['kernel']}")
    print(f"{'method':<16}{'best (ms)':>11}{'median (ms)':>13}{'ratio':>8}")
    for r in timed:
        print(f"{r['method']:<16}{1e3 * r['best_s']:>11.3f}{1e3 * r['median_s']:>13.3f}{r['ratio']:>8.2f}")
    write_json(args.json, args, [*({"kind": "construction", **r} for r in built),
                                 *({"kind": "forward", **r} for r in timed)])


if __name__ == "__main__":
    main()
