"""Peak memory per site of a local network evaluated on the whole lattice against tile by tile.

Each measurement runs in a fresh process (one thread): it builds the network (a local Holstein preset,
default ``latsym-tp``, untrained: memory and time do not depend on the weights), allocates a random
configuration ``(L, L)`` and records the peak resident set size (``ru_maxrss``) before and after one
force evaluation under ``torch.no_grad`` (after a warm-up evaluation on a small lattice, so that
one-off allocations such as the expanded kernels are not counted). The increase over the number of
sites is the evaluation's peak memory per site: the activations of the whole lattice at once
(``full``) or of one padded tile (``tiled``, :func:`latsym.forcefield.tiled_forces`). Also prints the
time and the largest difference between the two results.

    python benchmarks/bench_tiled.py                       # 256×256, tiles of 64×64: seconds
    python benchmarks/bench_tiled.py --size 1024 --tile 128 --json tiled.json
"""

from __future__ import annotations

import argparse
import json
import platform
import resource
import subprocess
import sys
import time

PRESETS = {"latsym-tp": {"width": 8, "layers": 3},
           "latsym": {"context": False, "chemical_potential": False},
           "gnn": {"widths": [1, 64, 64, 1]}}


def measure(preset: str, size: int, tile: int | None, dtype: str) -> dict:
    """One evaluation in this process: peak RSS increase, time, and a checksum of the forces."""
    import torch
    from latsym_holstein.networks import build_network

    from latsym.forcefield import tiled_forces

    torch.set_num_threads(1)
    torch.manual_seed(0)
    net = build_network(preset, **PRESETS[preset]).to(getattr(torch, dtype)).eval()
    with torch.no_grad():
        for p in net.parameters():
            p.normal_()
    q = torch.randn(1, size, size, dtype=net.input_scale.dtype)
    evaluate = (lambda x: net(x)) if tile is None else (lambda x: tiled_forces(net, x, tile=tile))
    with torch.no_grad():
        evaluate(q[:, :16, :16])  # warm-up: kernels expanded and cached
        before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        start = time.perf_counter()
        forces = evaluate(q)
        seconds = time.perf_counter() - start
        after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return {"peak_kib": after - before, "seconds": seconds, "checksum": float(forces.double().abs().sum()),
            "first": forces[0, :4, :4].double().flatten().tolist()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--preset", choices=sorted(PRESETS), default="latsym-tp")
    parser.add_argument("--size", type=int, default=256, help="lattice side L")
    parser.add_argument("--tile", type=int, default=64, help="tile side")
    parser.add_argument("--dtype", choices=["float32", "float64"], default="float32")
    parser.add_argument("--json", help="write the results here")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker is not None:
        tile = None if args.worker == "full" else args.tile
        print(json.dumps(measure(args.preset, args.size, tile, args.dtype)))
        return
    rows = {}
    for mode in ("full", "tiled"):
        command = [sys.executable, __file__, "--worker", mode, "--preset", args.preset,
                   "--size", str(args.size), "--tile", str(args.tile), "--dtype", args.dtype]
        rows[mode] = json.loads(subprocess.run(command, check=True, capture_output=True, text=True).stdout)
    sites = args.size**2
    print(f"{args.preset} on {args.size}x{args.size} ({args.dtype}, 1 thread), "
          f"tiles of {args.tile}x{args.tile}")
    print(f"{'mode':>6} {'peak MiB':>9} {'bytes/site':>11} {'seconds':>8}")
    for mode, row in rows.items():
        row["bytes_per_site"] = row["peak_kib"] * 1024 / sites
        print(f"{mode:>6} {row['peak_kib'] / 1024:9.1f} {row['bytes_per_site']:11.1f} {row['seconds']:8.3f}")
    difference = max(abs(a - b) for a, b in zip(rows["full"]["first"], rows["tiled"]["first"], strict=True))
    print(f"largest difference of the first forces: {difference:.2e}")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"machine": platform.platform(), "preset": args.preset,
                       "config": PRESETS[args.preset], "size": args.size, "tile": args.tile,
                       "dtype": args.dtype, "results": rows}, f, indent=2)


if __name__ == "__main__":
    main()
