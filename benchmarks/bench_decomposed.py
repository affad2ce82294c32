"""Strong and weak scaling of a decomposed simulation step over 1, 2, 4 gloo processes on the CPU.

For each process count P (one torch thread per process) the script starts P workers and times the
dynamics step of a split run (:class:`latsym.forcefield.DecomposedForce`: halo exchange by
``batch_isend_irecv``, the network on the padded tile, the crop; then the Langevin update with
:class:`latsym.dynamics.SiteNoise`), on

- strong scaling: one lattice of ``--strong`` cells per side, split over P processes;
- weak scaling: ``--weak`` × ``--weak`` cells per process (the lattice grows with P).

The network is a local Holstein preset (``latsym`` without the global lattice averages and chemical
potential, float32, untrained). Reported per P: site-steps per second (all processes) and per core,
parallel efficiency against P = 1, and two communication fractions of the step time (slowest rank):
``comm``, the time inside the halo exchange during the run (waiting for a slower neighbour
included), and ``exchange``, the same number of exchanges timed alone with the ranks in step (the
cost of the messages themselves). On a machine with fewer free cores than P the processes
share cores and the numbers say so, not how the code scales.

    python benchmarks/bench_decomposed.py                    # seconds
    python benchmarks/bench_decomposed.py --procs 1 2 4 8 --strong 256 --weak 128 --steps 20 \\
        --json scaling.json
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import socket
import time

import torch
import torch.distributed as dist
import torch.multiprocessing as mp

CONFIG = dict(odd=8, even=4, layers=3, context=False, chemical_potential=False)


def time_steps(shape, n_steps: int, rank: int, world: int) -> dict:
    """Time ``n_steps`` decomposed steps of ``shape`` on this rank (after 2 warm-up steps)."""
    from latsym_holstein.networks import build_network
    from latsym_holstein.plugin import HolsteinPlugin

    from latsym.dynamics import SiteNoise
    from latsym.forcefield import DecomposedForce, ProcessGrid, exchange_halos, network_force, receptive_field

    torch.manual_seed(0)
    net = build_network("latsym", **CONFIG).float().eval()
    grid = ProcessGrid.choose(shape, world, receptive_field(net))
    integrator = HolsteinPlugin().integrator(None)
    q = 0.1 * torch.randn(grid.tile, generator=torch.Generator().manual_seed(rank))
    force = DecomposedForce(network_force(net), grid, rank)
    noise = SiteNoise(0, shape, start=grid.start(rank))
    state = integrator.init_state(q, force, seed=0)
    for _ in range(2):
        state = integrator.step(state, force, noise=noise)
    dist.barrier()
    force.comm_seconds = force.compute_seconds = 0.0
    start = time.perf_counter()
    for _ in range(n_steps):
        state = integrator.step(state, force, noise=noise)
    dist.barrier()
    wall = time.perf_counter() - start
    start = time.perf_counter()  # the exchange alone, the ranks in step: its cost without waiting
    for _ in range(n_steps):
        exchange_halos(state.q, grid, rank)
    dist.barrier()
    exchange = time.perf_counter() - start
    stats = torch.tensor([wall, force.comm_seconds, exchange])
    dist.all_reduce(stats, op=dist.ReduceOp.MAX)
    return {"shape": list(shape), "grid": list(grid.grid), "seconds": float(stats[0]),
            "comm_seconds": float(stats[1]), "exchange_seconds": float(stats[2]),
            "site_steps_per_s": torch.Size(shape).numel() * n_steps / float(stats[0])}


def worker(rank: int, world: int, port: int, args, queue) -> None:
    torch.set_num_threads(1)
    dist.init_process_group("gloo", init_method=f"tcp://127.0.0.1:{port}", rank=rank, world_size=world)
    try:
        strong = time_steps((args.strong, args.strong), args.steps, rank, world)
        weak = time_steps(_weak_shape(args.weak, world), args.steps, rank, world)
        if rank == 0:
            queue.put({"procs": world, "strong": strong, "weak": weak})
    finally:
        dist.destroy_process_group()


def _weak_shape(side: int, procs: int) -> tuple[int, int]:
    """``procs`` tiles of ``side``² cells as a near-square lattice."""
    a = max(k for k in range(1, int(procs**0.5) + 1) if procs % k == 0)
    return (side * (procs // a), side * a)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--procs", type=int, nargs="+", default=[1, 2, 4])
    parser.add_argument("--strong", type=int, default=64, help="lattice side of the strong-scaling runs")
    parser.add_argument("--weak", type=int, default=32, help="tile side per process of the weak-scaling runs")
    parser.add_argument("--steps", type=int, default=10, help="timed steps per run")
    parser.add_argument("--json", help="write the results here")
    args = parser.parse_args()
    rows = []
    for procs in args.procs:
        context = mp.get_context("forkserver")
        context.set_forkserver_preload(["latsym.forcefield", "latsym_holstein.plugin"])
        queue = context.SimpleQueue()
        mp.start_processes(worker, args=(procs, _free_port(), args, queue), nprocs=procs,
                           start_method="forkserver")
        rows.append(queue.get())
    cores = os.cpu_count()
    print(f"latsym {CONFIG} float32, 1 thread per process, {args.steps} steps; "
          f"{cores} CPU cores on this machine")
    print(f"{'scaling':>7} {'P':>3} {'lattice':>9} {'grid':>6} {'site-steps/s':>13} {'per core':>10} "
          f"{'efficiency':>10} {'comm':>6} {'exchange':>8}")
    for kind in ("strong", "weak"):
        base = rows[0][kind]["site_steps_per_s"] / rows[0]["procs"]
        for row in rows:
            r, p = row[kind], row["procs"]
            r["per_core"] = r["site_steps_per_s"] / p
            r["efficiency"] = r["per_core"] / base
            r["comm_fraction"] = r["comm_seconds"] / r["seconds"]
            r["exchange_fraction"] = r["exchange_seconds"] / r["seconds"]
            print(f"{kind:>7} {p:>3} {'x'.join(map(str, r['shape'])):>9} {'x'.join(map(str, r['grid'])):>6} "
                  f"{r['site_steps_per_s']:13.3g} {r['per_core']:10.3g} {r['efficiency']:10.2f} "
                  f"{r['comm_fraction']:6.1%} {r['exchange_fraction']:8.1%}")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"machine": platform.platform(), "cpu_count": cores, "config": CONFIG,
                       "steps": args.steps, "results": rows}, f, indent=2)


if __name__ == "__main__":
    main()
