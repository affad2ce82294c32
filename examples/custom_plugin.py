"""Your own model plugin by subclassing: the Holstein model on the simple cubic lattice.

latsym's Holstein plugin (:class:`latsym_holstein.plugin.HolsteinPlugin`) takes its lattice, symmetry
group, lattice dimension, parameter defaults, data presets and network defaults from overridable
class members, so the same model on another hypercubic lattice is a subclass of a few lines:
:class:`CubicHolsteinPlugin` below puts it on the simple cubic lattice, whose site group is m-3m
(Oh, order 48), times the particle–hole Z2 (order 96 in all). Everything else — the ED solver, data
generation, training, Langevin quenches and the command line ``latsym holstein-cubic ...`` — is the
Holstein plugin's own code, following ``dim = 3``. Run it with
``.venv/bin/python examples/custom_plugin.py`` (``--help`` for the options; well under a minute at
the default size). The guide ``docs/guides/plugins.md`` explains each part;
``examples/springs_plugin.py`` takes the other road, a plugin written from the ``ModelPlugin`` base.

1. The plugin: its lattice, group, field types and parameters.
2. Its symmetry: the irreps of m-3m and the decomposition of a site's neighbourhood.
3. Exact (ED) forces on an L x L x L lattice, checked by ``assert_equivariant`` on all 96 elements
   of m-3m x Z2 and every lattice translation.
4. A small data set: ``latsym holstein-cubic generate``.
5. A short training run of the equivariant network (``lattice="sc"``): ``latsym holstein-cubic train``.
6. A few Langevin steps driven by the trained network: ``latsym holstein-cubic simulate --network``,
   its forces checked against ED along the way.

The commands go through latsym's own CLI once the plugin is registered under the entry-point group
``latsym.models`` (``holstein-cubic = custom_plugin:CubicHolsteinPlugin``, see the guide); until then
a parser holding just this plugin stands in.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import tempfile
import time
from pathlib import Path
from typing import ClassVar

import h5py
import numpy as np
import torch
from latsym_holstein import HolsteinParams, ed_forces
from latsym_holstein.networks import load_network
from latsym_holstein.plugin import HolsteinPlugin

from latsym.group import Z2, point_group, real_irreps
from latsym.lattice import PeriodicLattice, simple_cubic
from latsym.nn import Neighbourhood
from latsym.plugin import plugin_entry_points


@dataclasses.dataclass(frozen=True)
class CubicHolsteinParams(HolsteinParams):
    """The Holstein parameters on the simple cubic lattice: κ = 0.12, so that with 6 neighbours
    ``k - 6κ = 0.28`` as on the square lattice (``k - 4 × 0.18``): the same CDW amplitude
    ``Q0 ≈ g / (2(k - 6κ)) ≈ 6.25``. The plugin checks the 3D bound ``k > 6|κ|``."""

    kappa: float = 0.12


class CubicHolsteinPlugin(HolsteinPlugin):
    """The semiclassical Holstein model on the simple cubic lattice: translations × m-3m × Z2, with
    ``Q`` and the force odd invariants (``A1g:odd``); the CDW is the ``(π, π, π)`` checkerboard."""

    name = "holstein-cubic"
    description = "semiclassical Holstein model on the simple cubic lattice (ED forces, Langevin quenches)"
    Params = CubicHolsteinParams
    input_irreps = force_irreps = "A1g:odd"  # the invariant irrep of m-3m is A1g
    dim = 3
    generation_presets: ClassVar = {"small": {"shape": (6, 6, 6)}}  # `generate --preset small`: 6x6x6
    default_size = (6, 6, 6)  # of `simulate`
    network_defaults: ClassVar = {"latsym": {"lattice": "sc"}, "latsym-energy": {"lattice": "sc"}}

    def lattice(self):
        return simple_cubic()

    def symmetry_group(self):
        return point_group("m-3m") * Z2()


#: A small network for a short example (the preset's default has 5,803 parameters and a stencil of radius
#: 2, which needs at least 5 x 5 x 5 sites).
SMALL_NETWORK = {"odd": 4, "even": 4, "layers": 1, "gated": "1xT1u:odd", "skip_radius": 1.0}


def perturbed_cdw(size: int, amplitude: float = 3.0, noise: float = 1.0, seed: int = 0) -> np.ndarray:
    """``Q = A (-1)^(x+y+z) + noise``: a perturbed (π, π, π) checkerboard, shape ``(size,) * 3``."""
    signs = (-1.0) ** np.indices((size,) * 3).sum(axis=0)
    return amplitude * signs + noise * np.random.default_rng(seed).standard_normal(signs.shape)


def _run(argv: list[str]) -> None:
    print("$ latsym " + " ".join(argv))
    status = CubicHolsteinPlugin.run_cli(argv)
    if status != 0:
        raise SystemExit(status)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=6, help="lattice L (L x L x L sites, even; default 6)")
    parser.add_argument("--n-random", type=int, default=15, help="random configurations (default 15)")
    parser.add_argument("--epochs", type=int, default=4, help="training epochs (default 4)")
    parser.add_argument("--steps", type=int, default=20, help="Langevin steps of the quench (default 20)")
    parser.add_argument("--workdir", type=Path, help="keep the files here (default: a temporary folder)")
    args = parser.parse_args(argv)
    start = time.perf_counter()
    with tempfile.TemporaryDirectory() as temporary:
        try:
            walk_through(args, args.workdir or Path(temporary))
        except SystemExit as exc:
            return exc.code
    print(f"done in {time.perf_counter() - start:.1f} s")
    return 0


def walk_through(args: argparse.Namespace, work: Path) -> None:
    size = args.size
    print("1. The plugin")
    plugin = CubicHolsteinPlugin()
    group = plugin.symmetry_group()
    print(f"   {plugin.name}: {plugin.description}")
    print(f"   lattice {plugin.lattice().name} (dim {plugin.dim}), symmetry {group.name} "
          f"(order {group.order}), fields {plugin.input_irreps} -> {plugin.force_irreps}")
    print(f"   parameters: {plugin.params}")
    if CubicHolsteinPlugin.name not in plugin_entry_points():
        print("   not registered: a parser holding just this plugin stands in for `latsym` below")

    print("2. Symmetry")
    site_group = group.factors[0]
    print(f"   real irreps of {site_group.name}: {', '.join(ir.label for ir in real_irreps(site_group))}")
    neighbourhood = Neighbourhood(PeriodicLattice(plugin.lattice(), 4), group, 3**0.5, plugin.input_irreps)
    print(f"   the 27 sites within sqrt(3) (shells 1 + 6 + 12 + 8) of Q: {neighbourhood.irreps_out}")

    print("3. Exact forces")
    q = perturbed_cdw(size)
    forces = plugin.reference_forces(q)
    print(f"   perturbed (pi, pi, pi) CDW on {size}x{size}x{size}: max |F| = {np.abs(forces).max():.3f}, "
          f"mean (-1)^(x+y+z) F = {np.mean((-1.0) ** np.indices(q.shape).sum(axis=0) * forces):.3f}")
    report = plugin.check_symmetry(size, backend="numpy")
    print(f"   assert_equivariant: {len(report.errors)} operations ({group.order} group elements, "
          f"{size**3 - 1} translations), worst error {report.worst[1]:.1e}")

    print("4. Training data")
    data = work / "data.h5"
    _run([plugin.name, "generate", "--out", str(data), "--size", str(size), "--n-random", str(args.n_random),
          "--n-quenches", "1", "--snapshots-per-quench", "3", "--snapshot-every", "5", "--no-progress"])

    print("5. Training")
    trained = work / "train"
    _run([plugin.name, "train", "--data", str(data), "--out", str(trained), "--epochs", str(args.epochs),
          "--network-config", json.dumps(SMALL_NETWORK), "--lr", "3e-2", "--no-plots", "--no-progress"])
    network = load_network(trained / "model.pt")
    print(f"   {network.name} {json.dumps(network.config)}: {network.n_parameters()} parameters")

    print("6. Langevin dynamics with the network")
    run_dir = work / "run"
    _run([plugin.name, "simulate", "--out", str(run_dir), "--size", str(size), "--steps", str(args.steps),
          "--snapshot-every", str(max(1, args.steps // 4)), "--network", str(trained / "model.pt"),
          "--no-progress"])
    with h5py.File(run_dir / "quench.h5", "r") as trajectory:
        q_last = trajectory["q"][-1]
        order = trajectory["observables/order_abs"][()]
    with torch.no_grad():
        q_tensor = torch.as_tensor(q_last, dtype=network.input_scale.dtype)
        predicted, flipped = network(q_tensor), network(-q_tensor)
    exact = ed_forces(q_last, plugin.params, dim=plugin.dim)
    rmse = float(np.sqrt(np.mean((predicted.double().numpy() - exact) ** 2)))
    print(f"   <|phi|> along the quench: {' '.join(f'{x:.2f}' for x in order)}")
    print(f"   last snapshot: network vs ED force RMSE {rmse:.3f} (force std {exact.std():.3f}); "
          f"odd in Q: max |F(-Q) + F(Q)| = {float((flipped + predicted).abs().max()):.1e}")


if __name__ == "__main__":
    sys.exit(main())
