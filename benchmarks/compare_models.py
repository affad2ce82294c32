"""Accuracy vs cost of the Holstein force-field candidates, trained on the same data and budget.

Each candidate (a registered network preset with a config) is trained from the same seed on the
training split of one data set (every third configuration held out, as in Fan & Chern 2026) with
Adam + ReduceLROnPlateau, one configuration per step, for the same number of epochs, in float32.
The table gives the held-out force MSE, the parameter count, the training time, and the time per
site of one force evaluation (eval mode, no autograd graph kept, best of ``--repeats``) on a
``--size`` lattice, all measured in this one run (the timings one after the other at the end), and
how many times cheaper per site each is than the slowest.

    python benchmarks/compare_models.py --data /tmp/h10/data16.h5 --epochs 20 --json out.json
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np
import torch
from latsym_holstein.data import load_dataset
from latsym_holstein.networks import build_network

#: name → (preset, config). The first is the default model.
CANDIDATES: dict[str, tuple[str, dict]] = {
    "latsym": ("latsym", {}),
    "latsym-no-mu": ("latsym", {"chemical_potential": False}),
    "latsym-local": ("latsym", {"context": False, "chemical_potential": False}),
    "latsym-no-gains": ("latsym", {"gains": 0}),
    "latsym-12-6-4": ("latsym", {"odd": 12, "even": 6, "gated": "2xE:odd + 2xE:even + 2xB1:odd + 2xB2:odd",
                                 "layers": 4}),
    "latsym-scalar": ("latsym", {"gated": ""}),
    "latsym-energy": ("latsym-energy", {}),
    "latsym-tp": ("latsym-tp", {}),
    "paper": ("paper", {}),
    "gnn": ("gnn", {}),
}


def train(net, q_train, f_train, epochs: int, lr: float, seed: int) -> float:
    """Train ``net`` in place; returns the wall time in seconds."""
    net.fit_input_scale(q_train)
    opt = torch.optim.Adam(net.parameters(), lr=lr)
    sched = torch.optim.lr_scheduler.ReduceLROnPlateau(opt, factor=0.75, patience=5)
    gen = torch.Generator().manual_seed(seed)
    start = time.perf_counter()
    for _ in range(epochs):
        net.train()
        total = 0.0
        for i in torch.randperm(len(q_train), generator=gen).tolist():
            loss = torch.mean((net(q_train[i]) - f_train[i]) ** 2)
            opt.zero_grad()
            loss.backward()
            opt.step()
            total += loss.item()
        sched.step(total / len(q_train))
    return time.perf_counter() - start


def held_out_mse(net, q, f) -> float:
    net.eval()
    with torch.no_grad():
        errors = [torch.mean((net(q[i : i + 1]) - f[i : i + 1]) ** 2).item() for i in range(len(q))]
    return float(np.mean(errors))


def time_per_site(net, size: int, repeats: int) -> float:
    """Best-of-``repeats`` seconds per site of one force evaluation on a ``size``×``size`` lattice."""
    net.eval()
    q = 5.0 * torch.randn(1, size, size, generator=torch.Generator().manual_seed(0))
    best = float("inf")
    with torch.no_grad():
        net(q)
        for _ in range(repeats):
            t = time.perf_counter()
            net(q)
            best = min(best, time.perf_counter() - t)
    return best / size**2


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", required=True, help="HDF5 data set from `latsym holstein generate`")
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--size", type=int, default=64, help="lattice side for the timing")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--only", nargs="*", choices=sorted(CANDIDATES), help="candidates to run")
    parser.add_argument("--max-train", type=int, help="train on the first N training configurations only")
    parser.add_argument("--json", help="write the results here")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    data = load_dataset(args.data)
    train_idx, test_idx = data.split(3)
    train_idx = train_idx[: args.max_train]
    q = torch.as_tensor(data.q, dtype=torch.float32)
    f = torch.as_tensor(data.forces, dtype=torch.float32)
    results, nets = [], []
    print(f"data {args.data}: {len(train_idx)} training / {len(test_idx)} held-out configurations of "
          f"{tuple(q.shape[1:])}; force variance {float(f[test_idx].var()):.4g}; {args.epochs} epochs")
    for name in args.only or CANDIDATES:
        preset, config = CANDIDATES[name]
        torch.manual_seed(args.seed)
        net = build_network(preset, **config)
        seconds = train(net, q[train_idx], f[train_idx], args.epochs, args.lr, args.seed)
        mse = held_out_mse(net, q[test_idx], f[test_idx])
        print(f"trained {name}: held-out MSE {mse:.4g} in {seconds:.1f} s", flush=True)
        results.append({"model": name, "preset": preset, "config": net.config, "held_out_mse": mse,
                        "parameters": net.n_parameters(), "train_seconds": seconds})
        nets.append(net)
    # all timings together at the end, so that they share the machine's state
    for row, net in zip(results, nets, strict=True):
        row["seconds_per_site"] = time_per_site(net, args.size, args.repeats)
    print(f"\n{'model':16s} {'held-out MSE':>12s} {'params':>8s} {'train s':>8s} {'us/site':>9s} "
          f"{'x cheaper':>9s}  (time per site: one force evaluation on {args.size}x{args.size})")
    slowest = max(row["seconds_per_site"] for row in results)
    for row in results:
        print(f"{row['model']:16s} {row['held_out_mse']:12.4g} {row['parameters']:8d} "
              f"{row['train_seconds']:8.1f} {1e6 * row['seconds_per_site']:9.3f} "
              f"{slowest / row['seconds_per_site']:9.1f}")
    if args.json:
        with open(args.json, "w") as handle:
            json.dump({"data": args.data, "n_train": len(train_idx), "n_held_out": len(test_idx),
                       "epochs": args.epochs, "lr": args.lr, "seed": args.seed,
                       "timing_size": args.size, "threads": args.threads, "results": results},
                      handle, indent=2)


if __name__ == "__main__":
    main()
