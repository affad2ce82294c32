"""``LatticeConv`` forward on a 256×256 periodic square lattice under 4mm, against a plain conv and escnn.

For each stencil radius (1: the 5-point stencil, √2: the full 3×3 one; both have a 3×3 bounding box,
so the expanded kernels have the same shape) this times, on one batch of fields typed by
``--irreps`` in and out (default ``"4xA1 + 2xB1 + 2xE"``: 10 channels, scalars, a sign-changing
scalar and vectors — a typical hidden layer):

* ``latsym eval``: ``LatticeConv`` in eval mode (the expanded kernel is cached: one circular pad and
  one ``conv2d``);
* ``latsym train``: ``LatticeConv`` in train mode (the kernel is rebuilt from the weights every call,
  as it must be for autograd; forward only, under ``torch.no_grad`` like the others);
* ``plain conv2d``: ``torch.nn.functional.conv2d`` of the circularly padded field with the same
  expanded kernel (the same work: the baseline eval should match);
* ``escnn eval`` / ``escnn train``: escnn's ``R2Conv`` on ``flipRot2dOnR2(4)`` with the
  corresponding irreps (A1, A2, B1, B2, E ↦ escnn's D4 irreps with the same characters),
  ``kernel_size=3``, circular padding, applied to the tensor wrapped in a ``GeometricTensor``; in
  eval mode escnn caches its expanded filter too, in train mode it expands its basis every call.
  escnn's kernel basis is its own (sampled from a continuous one), so the radius only changes the
  latsym rows; escnn's ``kernel_size=3`` is the 3×3 box.

Each time is the best (minimum) of ``--repeats`` calls after ``--warmup`` calls; the methods take
turns round by round, so that a burst of load on the machine hits all of them alike. The table gives
each best time, its ratio to the plain conv of the same radius, and the median (how noisy the
machine was). Goal: eval within 1.1× of the plain conv, and faster than escnn.

Threads: ``--threads`` (default 1) sets ``torch.set_num_threads``; the default suits a small shared
machine (2 cores here) where more threads only add noise. escnn is optional (``--no-escnn``, or it
is skipped with a note when not installed).

    python benchmarks/bench_lattice_conv.py
    python benchmarks/bench_lattice_conv.py --size 256 --batch 4 --threads 2 --json conv.json
"""

from __future__ import annotations

import argparse
import copy
import json
import platform
import time
from collections.abc import Callable

import numpy as np
import torch
import torch.nn.functional as F

from latsym.group import point_group, real_irreps
from latsym.lattice import PeriodicLattice, square
from latsym.nn import Irreps, LatticeConv

RADII = {"1": 1.0, "sqrt2": 2**0.5}


def best_times(calls: dict[str, Callable[[], object]], repeats: int, warmup: int,
               sync: Callable[[], None]) -> dict[str, tuple[float, float]]:
    """(best, median) wall time of each call over ``repeats`` runs after ``warmup`` runs; calls take
    turns."""
    for call in calls.values():
        for _ in range(warmup):
            call()
    sync()
    times: dict[str, list[float]] = {name: [] for name in calls}
    for _ in range(repeats):
        for name, call in calls.items():
            start = time.perf_counter()
            call()
            sync()
            times[name].append(time.perf_counter() - start)
    return {name: (min(t), float(np.median(t))) for name, t in times.items()}


def add_timing_options(parser: argparse.ArgumentParser, *, repeats: int = 10, warmup: int = 2) -> None:
    """``--repeats``, ``--warmup``, ``--threads`` and ``--json``, shared by this benchmark and the ones
    beside it."""
    parser.add_argument("--repeats", type=int, default=repeats,
                        help=f"timed calls per method, the best is kept (default {repeats})")
    parser.add_argument("--warmup", type=int, default=warmup, help=f"untimed calls first (default {warmup})")
    parser.add_argument("--threads", type=int, default=1, help="torch threads (default 1)")
    parser.add_argument("--json", metavar="PATH", help="also write the settings and results as JSON")


def write_json(path: str | None, args: argparse.Namespace, rows: list[dict]) -> None:
    """``{"settings": vars(args), "rows": rows}`` to ``path`` (nothing when ``path`` is None)."""
    if path:
        with open(path, "w") as f:
            json.dump({"settings": vars(args), "rows": rows}, f, indent=1)


def escnn_field_type(irreps: Irreps):
    """escnn's ``FieldType`` on ``flipRot2dOnR2(4)`` with, for each latsym irrep, the escnn irrep of
    the same character (matched through :func:`latsym.group.to_escnn`)."""
    from escnn import gspaces
    from escnn import nn as enn

    from latsym.group import to_escnn

    gspace = gspaces.flipRot2dOnR2(N=4)
    group = irreps.group
    _, elements = to_escnn(group)
    by_label = {}
    for ours in real_irreps(group):
        for theirs in gspace.fibergroup.irreps():
            chars = [float(np.trace(theirs(elements[g]))) for g in range(group.order)]
            if np.allclose(chars, ours.character):
                by_label[ours.label] = theirs
    reps = [by_label[term.irrep.label] for term in irreps for _ in range(term.mul)]
    return enn.FieldType(gspace, reps)


def measure(args) -> list[dict]:
    G = point_group("4mm", dim=2)
    irreps = Irreps(args.irreps, G)
    lattice = PeriodicLattice(square(), args.size)
    device = torch.device(args.device)
    sync = torch.cuda.synchronize if device.type == "cuda" else lambda: None
    torch.manual_seed(0)
    x = torch.randn(args.batch, irreps.dim, args.size, args.size, device=device)
    rows = []
    escnn_conv = None
    if not args.no_escnn:
        try:
            from escnn import nn as enn
        except ImportError as exc:
            print(f"escnn not importable ({exc}); its column is left out")
        else:
            ftype = escnn_field_type(irreps)
            escnn_train = enn.R2Conv(ftype, ftype, kernel_size=3, padding=1, padding_mode="circular",
                                     bias=False).to(device)
            escnn_conv = copy.deepcopy(escnn_train).eval()
            escnn_input = enn.GeometricTensor(x, ftype)
    for name, radius in RADII.items():
        conv = LatticeConv(lattice, irreps, irreps, radius).to(device)
        kernel = conv.kernel().detach()
        pad = conv.neighbourhood.geometry.padding
        train = copy.deepcopy(conv).train()
        conv.eval()
        calls = {
            "plain conv2d": lambda kernel=kernel, pad=pad: F.conv2d(F.pad(x, pad, mode="circular"), kernel),
            "latsym eval": lambda conv=conv: conv(x),
            "latsym train": lambda train=train: train(x),
        }
        if escnn_conv is not None:
            calls["escnn eval"] = lambda: escnn_conv(escnn_input)
            calls["escnn train"] = lambda: escnn_train(escnn_input)
        with torch.no_grad():
            torch.testing.assert_close(conv(x), calls["plain conv2d"](), rtol=0, atol=0)
            times = best_times(calls, args.repeats, args.warmup, sync)
        base = times["plain conv2d"][0]
        for method, (best, median) in times.items():
            rows.append({"radius": name, "method": method, "time_s": best, "median_s": median,
                         "ratio_to_plain": best / base, "latsym_weights": conv.weight_numel})
    return rows


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--irreps", default="4xA1 + 2xB1 + 2xE", help="field type in and out (4mm irreps)")
    parser.add_argument("--size", type=int, default=256, help="lattice side L (fields are L×L)")
    parser.add_argument("--batch", type=int, default=1)
    parser.add_argument("--device", default="cpu", help="cpu or cuda (timed with synchronisation)")
    parser.add_argument("--no-escnn", action="store_true", help="leave escnn's R2Conv out")
    add_timing_options(parser, repeats=20, warmup=3)
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    rows = measure(args)
    print(f"LatticeConv forward, {args.irreps} -> same, batch {args.batch}, {args.size}×{args.size}, "
          f"float32, {args.device}, {torch.get_num_threads()} thread(s), best of {args.repeats}")
    print(f"{'radius':>7} {'method':>14} {'best (ms)':>10} {'/ plain':>8} {'median (ms)':>12}")
    for row in rows:
        ms, ratio, median = 1e3 * row["time_s"], row["ratio_to_plain"], 1e3 * row["median_s"]
        print(f"{row['radius']:>7} {row['method']:>14} {ms:10.3f} {ratio:8.3f} {median:12.3f}")
    if args.json:
        meta = {"irreps": args.irreps, "device": args.device, "size": args.size, "batch": args.batch,
                "repeats": args.repeats,
                "warmup": args.warmup, "threads": torch.get_num_threads(), "torch": torch.__version__,
                "machine": platform.platform(), "processor": platform.processor()}
        with open(args.json, "w") as f:
            json.dump({"meta": meta, "results": rows}, f, indent=2)


if __name__ == "__main__":
    main()
