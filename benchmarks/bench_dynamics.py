"""Cost of the dynamics machinery: integrator steps and full runs with HDF5 snapshots and checkpoints.

For each lattice size, dtype and device it times, per step and with a cheap local force (so that the
machinery, not the force, is measured):

- ``bare``: the Langevin update written inline with plain torch ops (the floor);
- ``LangevinVV`` / ``Brownian``: ``integrator.step`` (validation, generator copy, State);
- ``LLG``: ``LandauLifshitzGilbert.step`` on a field of unit spins ``(3, L, L)`` with a Heisenberg
  exchange field (three components and two force evaluations per step, so about 3-6 times the
  work of a scalar step);
- ``run``: :func:`latsym.dynamics.run` writing snapshots every 50 steps and checkpoints every 500.

Usage: ``python benchmarks/bench_dynamics.py [--sizes 40 200] [--steps 1000] [--json out.json]``.
"""

from __future__ import annotations

import argparse
import json
import math
import tempfile
import time
from pathlib import Path

import torch

from latsym.dynamics import Brownian, LandauLifshitzGilbert, LangevinVV, run


def force(q):
    return -(q**3) + q - 0.5 * (4 * q - sum(torch.roll(q, s, d) for s in (1, -1) for d in (-1, -2)))


def exchange_field(s):
    """``h = -dE/dS`` of ``E = -Σ_<ij> S_i·S_j`` for spins ``(3, L, L)`` on a periodic square lattice."""
    return sum(torch.roll(s, k, d) for k in (1, -1) for d in (-1, -2))


def timed(fn, device) -> float:
    if device.type == "cuda":
        torch.cuda.synchronize()
    t0 = time.perf_counter()
    fn()
    if device.type == "cuda":
        torch.cuda.synchronize()
    return time.perf_counter() - t0


def bare_langevin(q, v, n, *, m, gamma, T, dt, generator):
    f = force(q)
    a = math.exp(-gamma * dt)
    c = math.sqrt((1 - a * a) * T / m)
    for _ in range(n):
        q = q + v * dt + f * (dt * dt / (2 * m))
        f_new = force(q)
        v = (v + (f + f_new) * (dt / (2 * m))) * a
        v = v + c * torch.randn(q.shape, generator=generator, dtype=q.dtype, device=q.device)
        f = f_new
    return q


def integrator_loop(integrator, q, n, force_fn=force):
    state = integrator.init_state(q, force_fn, seed=0)
    for _ in range(n):
        state = integrator.step(state, force_fn)
    return state


def measure(device, dtype, L, n) -> dict:
    """One row of the table: microseconds per step of each variant."""
    lv = LangevinVV(mass=5.0, gamma=0.2, temperature=0.1, dt=0.05)
    br = Brownian(gamma=1.0, temperature=0.1, dt=0.01)
    q0 = torch.randn(L, L, generator=torch.Generator().manual_seed(0), dtype=dtype).to(device)
    g = torch.Generator(device=device).manual_seed(0)
    v0 = torch.zeros_like(q0)
    llg = LandauLifshitzGilbert(dt=0.05, alpha=0.1, temperature=0.1, component_dim=0)
    s0 = torch.randn(3, L, L, generator=torch.Generator().manual_seed(0), dtype=dtype).to(device)
    s0 = s0 / torch.linalg.vector_norm(s0, dim=0, keepdim=True)
    times = {
        "bare": timed(
            lambda: bare_langevin(q0, v0, n, m=5.0, gamma=0.2, T=0.1, dt=0.05, generator=g), device
        ),
        "LangevinVV": timed(lambda: integrator_loop(lv, q0, n), device),
        "Brownian": timed(lambda: integrator_loop(br, q0, n), device),
        "LLG": timed(lambda: integrator_loop(llg, s0, n, exchange_field), device),
    }
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "t.h5"
        times["run"] = timed(
            lambda: run(
                lv, force, q0, n, seed=0, out=out, snapshot_every=50, checkpoint_every=500, progress=False
            ),
            device,
        )
    row = {"device": device.type, "dtype": str(dtype).removeprefix("torch."), "L": L, "steps": n}
    row.update({f"{k}_us": 1e6 * t / n for k, t in times.items()})
    row["run_over_bare"] = times["run"] / times["bare"]
    return row


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[40, 200])
    parser.add_argument("--steps", type=int, default=1000)
    parser.add_argument("--json", type=Path, default=None, help="write the results here")
    args = parser.parse_args(argv)
    devices = [torch.device("cpu")] + ([torch.device("cuda")] if torch.cuda.is_available() else [])
    rows = [
        measure(device, dtype, L, args.steps)
        for device in devices
        for dtype in (torch.float32, torch.float64)
        for L in args.sizes
    ]
    print("microseconds per step")
    columns = ("bare", "LangevinVV", "Brownian", "LLG", "run", "run/bare")
    print(f"{'device':6} {'dtype':8} {'L':>5} " + " ".join(f"{c:>10}" for c in columns))
    for r in rows:
        print(
            f"{r['device']:6} {r['dtype']:8} {r['L']:5d} {r['bare_us']:10.1f} {r['LangevinVV_us']:10.1f} "
            f"{r['Brownian_us']:10.1f} {r['LLG_us']:10.1f} {r['run_us']:10.1f} {r['run_over_bare']:10.2f}"
        )
    if args.json is not None:
        args.json.write_text(json.dumps(rows, indent=2))


if __name__ == "__main__":
    main()
