"""A Holstein quench on a big lattice, one CPU thread, the network evaluated tile by tile.

The run goes through the public API, :func:`latsym.forcefield.simulate` with
:func:`latsym.forcefield.tiled_network_force` (what ``latsym holstein simulate --network model.pt
--tile T`` does): the plugin's high-temperature start on ``L × L`` cells, Langevin dynamics in
float32, ``--steps`` steps, nothing written (``out=None``). The network is a local Holstein preset
(``latsym`` without the lattice averages and the learnt chemical potential), untrained: memory and
time do not depend on the weights.

It runs in a fresh process (one torch thread) and reports

- the peak resident set size of that process (``ru_maxrss``: imports, network, the whole fields,
  the initial draw in float64, the integrator's arrays and one padded tile's activations), and its
  increase over the process before the run, per site of the lattice;
- the time of one dynamics step (between the ends of consecutive force evaluations: one step's
  integrator update and one tiled force evaluation), as site-steps per second on one core.

    python benchmarks/bench_big_quench.py                              # 512×512, tiles of 128: seconds
    nice -n 10 python benchmarks/bench_big_quench.py --size 4096 --tile 512 --json big.json  # minutes
"""

from __future__ import annotations

import argparse
import itertools
import json
import platform
import resource
import subprocess
import sys
import time

CONFIG = {"context": False, "chemical_potential": False}


def run(size: int, tile: int, steps: int) -> dict:
    """The quench in this process: peak RSS (KiB), the RSS before the run, and the step times."""
    import torch
    from latsym_holstein.networks import build_network
    from latsym_holstein.plugin import HolsteinPlugin

    from latsym.forcefield import simulate, tiled_network_force

    torch.set_num_threads(1)
    torch.manual_seed(0)
    net = build_network("latsym", **CONFIG).float().eval()
    tiled = tiled_network_force(net, tile=tile)
    ends = []  # the end of each force evaluation: the first is the initial state's

    def force(q):
        f = tiled(q)
        ends.append(time.perf_counter())
        return f

    force.name = tiled.name
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    start = time.perf_counter()
    result = simulate(HolsteinPlugin(), None, (size, size), steps, force=force, dtype=torch.float32,
                      progress=False)
    wall = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    if not bool(torch.isfinite(result.state.q).all()):
        raise RuntimeError("the fields are not finite at the end of the run")
    return {"before_kib": before, "peak_kib": peak, "wall_seconds": wall,
            "step_seconds": [b - a for a, b in itertools.pairwise(ends)],
            "first_force_seconds": ends[0] - start, "parameters": sum(p.numel() for p in net.parameters())}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size", type=int, default=512, help="lattice side L")
    parser.add_argument("--tile", type=int, default=128, help="tile side")
    parser.add_argument("--steps", type=int, default=2, help="dynamics steps")
    parser.add_argument("--json", help="write the results here")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        print(json.dumps(run(args.size, args.tile, args.steps)))
        return
    command = [sys.executable, __file__, "--worker", "--size", str(args.size), "--tile", str(args.tile),
               "--steps", str(args.steps)]
    row = json.loads(subprocess.run(command, check=True, capture_output=True, text=True).stdout)
    sites = args.size**2
    step = sum(row["step_seconds"]) / len(row["step_seconds"])
    row.update(sites=sites, bytes_per_site=row["peak_kib"] * 1024 / sites,
               run_bytes_per_site=(row["peak_kib"] - row["before_kib"]) * 1024 / sites,
               site_steps_per_s_per_core=sites / step)
    print(f"latsym {CONFIG} float32, 1 thread: {args.size}x{args.size} ({sites:,} sites), "
          f"tiles of {args.tile}x{args.tile}, {args.steps} Langevin steps")
    print(f"peak RSS {row['peak_kib'] / 2**20:.2f} GiB ({row['bytes_per_site']:.0f} bytes/site; "
          f"{row['run_bytes_per_site']:.0f} bytes/site over the {row['before_kib'] / 1024:.0f} MiB "
          "before the run)")
    print(f"step {step:.2f} s ({row['site_steps_per_s_per_core']:.3g} site-steps/s per core); "
          f"initial state and first force {row['first_force_seconds']:.2f} s; "
          f"run {row['wall_seconds']:.1f} s")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"machine": platform.platform(), "config": CONFIG, "size": args.size, "tile": args.tile,
                       "steps": args.steps, "result": row}, f, indent=2)


if __name__ == "__main__":
    main()
