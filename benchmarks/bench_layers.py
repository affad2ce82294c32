"""Per-site layers of ``latsym.nn`` on one lattice field, against their plain torch counterparts.

On a batch of ``(--batch, channels, --size, --size)`` float32 fields (default ``8 x 32 x 64 x 64``,
one million values) typed by ``--irreps`` (default ``"8xA1:even + 8xA1:odd + 8xE:odd"`` of
4mm × Z2: invariant scalars, odd scalars and odd vectors), this times forward and
forward + backward (the gradient of the sum) of:

* ``Linear`` (a general equivariant map) against ``conv2d`` with a 1×1 kernel of the same matrix;
* ``BatchNorm`` on ``--irreps`` and on as many invariant scalars (where it equals
  ``torch.nn.BatchNorm2d``), against ``BatchNorm2d``;
* ``Dropout`` (whole copies) against ``torch.nn.Dropout`` (single components);
* ``NormActivation`` (sigmoid of the norm of each copy, a bias per copy) and ``Norm``, against
  the torch ops of one elementwise pass (``x * sigmoid(x)``), as a floor.

Each time is the best of ``--repeats`` calls after ``--warmup`` calls, the methods taking turns
round by round; the ratio is to the torch counterpart measured in the same run.

    python benchmarks/bench_layers.py
    python benchmarks/bench_layers.py --batch 4 --size 128 --json layers.json
"""

from __future__ import annotations

import argparse
import platform

import torch
import torch.nn.functional as F
from bench_lattice_conv import add_timing_options, best_times, write_json  # the script beside this one

from latsym.group import Z2, point_group
from latsym.nn import BatchNorm, Dropout, Irreps, Linear, Norm, NormActivation


def cases(irreps: Irreps) -> list[tuple[str, torch.nn.Module | None, object, str]]:
    """``(name, latsym module, torch callable, torch name)`` for every row of the table."""
    group = irreps.group
    linear = Linear(irreps, irreps)
    kernel = linear.matrix().detach()[:, :, None, None]
    scalars = Irreps(f"{irreps.dim}x{irreps[0].irrep.label}", group)
    return [
        ("Linear", linear, lambda x: F.conv2d(x, kernel), "conv2d 1x1"),
        ("BatchNorm (irreps)", BatchNorm(irreps), torch.nn.BatchNorm2d(irreps.dim), "BatchNorm2d"),
        ("BatchNorm (scalars)", BatchNorm(scalars), torch.nn.BatchNorm2d(irreps.dim), "BatchNorm2d"),
        ("Dropout", Dropout(irreps, p=0.2), torch.nn.Dropout(0.2), "Dropout"),
        ("NormActivation", NormActivation(irreps, torch.sigmoid, bias=True), lambda x: x * torch.sigmoid(x),
         "x * sigmoid(x)"),
        ("Norm", Norm(irreps), lambda x: x * torch.sigmoid(x), "x * sigmoid(x)"),
    ]


def measure(args) -> list[dict]:
    group = point_group("4mm", dim=2) * Z2()
    irreps = Irreps(args.irreps, group)
    if not irreps[0].irrep.label.startswith("A1:even"):
        raise SystemExit("--irreps must start with invariant scalars (A1:even), which the BatchNorm "
                         "scalar row uses")
    torch.manual_seed(0)
    x = torch.randn(args.batch, irreps.dim, args.size, args.size, requires_grad=True)
    rows = []
    for name, ours, theirs, their_name in cases(irreps):
        calls = {}
        for who, f in (("latsym", ours), ("torch", theirs)):
            calls[(who, "forward")] = lambda f=f: f(x.detach())
            calls[(who, "forward+backward")] = lambda f=f: f(x).sum().backward()
        times = best_times(calls, args.repeats, args.warmup, lambda: None)
        for mode in ("forward", "forward+backward"):
            ms, base = 1e3 * times[("latsym", mode)][0], 1e3 * times[("torch", mode)][0]
            rows.append({"layer": name, "mode": mode, "latsym_ms": ms, "torch": their_name, "torch_ms": base,
                         "ratio": ms / base})
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", type=int, default=64, help="lattice side L (default 64)")
    parser.add_argument("--batch", type=int, default=8, help="fields per call (default 8)")
    parser.add_argument("--irreps", default="8xA1:even + 8xA1:odd + 8xE:odd",
                        help="field type of 4mm x Z2, starting with A1:even scalars")
    add_timing_options(parser)
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    rows = measure(args)
    print(f"{args.irreps} on ({args.batch}, C, {args.size}, {args.size}) float32, {args.threads} thread(s), "
          f"{platform.processor() or platform.machine()}; best of {args.repeats}")
    print(f"{'layer':<21}{'mode':<18}{'latsym ms':>10}  {'torch counterpart':<18}{'torch ms':>9}{'ratio':>7}")
    for r in rows:
        print(f"{r['layer']:<21}{r['mode']:<18}{r['latsym_ms']:>10.2f}  {r['torch']:<18}{r['torch_ms']:>9.2f}"
              f"{r['ratio']:>7.2f}")
    write_json(args.json, args, rows)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
