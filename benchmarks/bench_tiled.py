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
    python benchmarks/bench_tiled.py --preset latsym-tp latsym --tile 16 32 64 128 --json tiled.json \\
        --plot docs/results/tiled_memory.png             # the plot of the results page: a minute
    python benchmarks/bench_tiled.py --load tiled.json --plot tiled.png    # redraw without measuring
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

    from latsym.forcefield import receptive_field, tiled_forces

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
    return {"peak_kib": after - before, "seconds": seconds, "halo": list(receptive_field(net)),
            "checksum": float(forces.double().abs().sum()),
            "first": forces[0, :4, :4].double().flatten().tolist()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--preset", choices=sorted(PRESETS), nargs="+", default=["latsym-tp"])
    parser.add_argument("--size", type=int, default=256, help="lattice side L")
    parser.add_argument("--tile", type=int, nargs="+", default=[64], help="tile sides")
    parser.add_argument("--dtype", choices=["float32", "float64"], default="float32")
    parser.add_argument("--json", help="write the results here")
    parser.add_argument("--plot", help="draw the peak memory per site against the tile side to this PNG")
    parser.add_argument("--load", metavar="JSON",
                        help="plot the results of an earlier --json instead of measuring")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker is not None:
        tile = None if args.worker == "full" else int(args.worker)
        print(json.dumps(measure(args.preset[0], args.size, tile, args.dtype)))
        return
    if args.load is not None:
        with open(args.load) as f:
            report = json.load(f)
    else:
        report = {"machine": platform.platform(), "size": args.size, "dtype": args.dtype,
                  "results": {preset: run_preset(preset, args.size, args.tile, args.dtype)
                              for preset in args.preset}}
    if args.json:
        with open(args.json, "w") as f:
            json.dump(report, f, indent=2)
    if args.plot:
        plot(report, args.plot)


def run_preset(preset: str, size: int, tiles: list[int], dtype: str) -> dict:
    """The whole-lattice evaluation and one per tile side, each in a fresh process; prints a table."""
    def worker(mode: str) -> dict:
        command = [sys.executable, __file__, "--worker", mode, "--preset", preset, "--size", str(size),
                   "--dtype", dtype]
        row = json.loads(subprocess.run(command, check=True, capture_output=True, text=True).stdout)
        row["bytes_per_site"] = row["peak_kib"] * 1024 / size**2
        return row

    full = worker("full")
    tiled = {str(tile): worker(str(tile)) for tile in tiles}
    print(f"{preset} {PRESETS[preset]} on {size}x{size} ({dtype}, 1 thread)")
    print(f"{'mode':>12} {'peak MiB':>9} {'bytes/site':>11} {'seconds':>8} {'largest difference':>19}")
    for mode, row in [("full", full), *((f"tiles {t}x{t}", r) for t, r in tiled.items())]:
        difference = max(abs(a - b) for a, b in zip(full["first"], row["first"], strict=True))
        print(f"{mode:>12} {row['peak_kib'] / 1024:9.1f} {row['bytes_per_site']:11.1f} {row['seconds']:8.3f} "
              f"{difference:19.2e}")
    return {"config": PRESETS[preset], "full": full, "tiled": tiled}


def plot(report: dict, path: str) -> None:
    """Peak memory per site of the lattice against the tile side, one line per preset, the whole-lattice
    evaluation as a dashed level and, dotted, what it predicts for a tile: the whole lattice's memory
    per site times the padded tile's share of the sites, ``(T + 2h1)(T + 2h2) / L²``."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    size = report["size"]
    fig = Figure(figsize=(8, 3.8), layout="constrained")
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    for i, (preset, rows) in enumerate(report["results"].items()):
        color = f"C{i}"
        tiles = sorted(rows["tiled"], key=int)
        ax.plot([int(t) for t in tiles], [rows["tiled"][t]["bytes_per_site"] for t in tiles], "o-",
                color=color, label=f"{preset}, tiles")
        ax.axhline(rows["full"]["bytes_per_site"], color=color, linestyle="--",
                   label=f"{preset}, whole lattice")
        h1, h2 = rows["full"]["halo"]
        share = [(int(t) + 2 * h1) * (int(t) + 2 * h2) / size**2 for t in tiles]
        ax.plot([int(t) for t in tiles], [rows["full"]["bytes_per_site"] * s for s in share], ":",
                color=color, label=f"{preset}, whole × padded tile share")
    ax.set_xscale("log", base=2)
    ax.set_xticks(sorted({int(t) for rows in report["results"].values() for t in rows["tiled"]}))
    ax.xaxis.set_major_formatter("{x:.0f}")
    ax.set_yscale("log")
    ax.set_xlabel("tile side (cells)")
    ax.set_ylabel("peak memory per lattice site (bytes)")
    ax.set_title(f"one force evaluation on {size}×{size}, {report['dtype']}, 1 thread")
    ax.legend(fontsize="small", loc="upper left", bbox_to_anchor=(1.02, 1))
    fig.savefig(path, dpi=120)
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
