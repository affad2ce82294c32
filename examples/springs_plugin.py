"""A model plugin from the ``ModelPlugin`` base: the minimal plugin ``latsym-springs``, class to CLI.

``examples/minimal_plugin/`` is a complete, installable distribution: ``pyproject.toml`` registers
``latsym_springs.plugin:SpringsPlugin`` under the entry-point group ``latsym.models``, and the class
subclasses :class:`latsym.plugin.ModelPlugin` for classical harmonic springs on the square lattice
(``F = -k Q - κ Σ_nn Q``, symmetry translations × 4mm × Z2). Run this walk-through with
``.venv/bin/python examples/springs_plugin.py`` (``--help`` for the options); it takes a few seconds.
The guide ``docs/guides/plugins.md`` explains each part; ``examples/custom_plugin.py`` takes the
other road, subclassing the Holstein plugin for the simple cubic lattice.

1. Build the plugin from a config mapping and look at its lattice, group and field types.
2. Its exact forces: check them against the finite-difference gradient of its energy.
3. Its symmetry: ``assert_equivariant`` on all 16 elements of 4mm × Z2 and every lattice
   translation, in float64 and float32.
4. A few Langevin steps with ``latsym.dynamics.run`` and the plugin's ``dynamics_defaults``.
5. Its command line ``latsym springs``: through latsym's own CLI when the distribution is installed
   (``pip install -e examples/minimal_plugin``), otherwise through a parser holding just this plugin.

Without installing, the package is imported from ``examples/minimal_plugin`` next to this script.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import torch

from latsym.dynamics import LangevinVV, run
from latsym.plugin import plugin_entry_points

try:
    from latsym_springs import SpringsPlugin
except ImportError:  # not installed: use the source next to this script
    sys.path.insert(0, str(Path(__file__).resolve().parent / "minimal_plugin"))
    from latsym_springs import SpringsPlugin


def finite_difference_forces(plugin: SpringsPlugin, q: np.ndarray, h: float = 1e-4) -> np.ndarray:
    """``-∂E/∂Q_i`` by central differences, one site at a time: shape ``(L1, L2)`` like ``q``."""
    forces = np.empty_like(q)
    for site in np.ndindex(q.shape):
        step = np.zeros_like(q)
        step[site] = h
        forces[site] = -(plugin.energy(q + step) - plugin.energy(q - step)) / (2 * h)
    return forces


def langevin(plugin: SpringsPlugin, size: int, n_steps: int, batch: int = 16, seed: int = 0):
    """``n_steps`` Langevin steps from ``Q = 0`` with the plugin's defaults; returns the
    :class:`latsym.dynamics.RunResult` (fields ``(batch, size, size)`` in float64)."""
    integrator = LangevinVV(**plugin.dynamics_defaults())
    q0 = torch.zeros(batch, size, size, dtype=torch.float64)
    return run(integrator, plugin.reference_forces, q0, n_steps, seed=seed, progress=False)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=6, help="lattice L (L x L sites; default 6)")
    parser.add_argument("--steps", type=int, default=200, help="Langevin steps (default 200)")
    args = parser.parse_args(argv)
    start = time.perf_counter()

    print("1. The plugin")
    plugin = SpringsPlugin.from_config({"k": 1.0, "kappa": 0.2})
    group = plugin.symmetry_group()
    print(f"   {plugin.name}: {plugin.description}")
    print(f"   lattice {plugin.lattice().name}, symmetry {group.name} (order {group.order}), "
          f"fields {plugin.input_irreps} -> {plugin.force_irreps}")

    print("2. Exact forces")
    q = np.random.default_rng(0).standard_normal((args.size, args.size))
    error = np.abs(plugin.reference_forces(q) - finite_difference_forces(plugin, q)).max()
    print(f"   E(Q) = {plugin.energy(q):.6f} on a random {args.size}x{args.size} configuration")
    print(f"   forces vs -finite-difference gradient of E: max deviation {error:.2e}")

    print("3. Symmetry")
    for dtype in (torch.float64, torch.float32):
        report = plugin.check_symmetry(args.size, dtype=dtype)
        print(f"   assert_equivariant: {str(dtype).removeprefix('torch.')}: {len(report.errors)} operations "
              f"({group.order} group elements, {args.size**2 - 1} translations), "
              f"worst error {report.worst[1]:.1e}")

    print("4. Langevin dynamics")
    defaults = plugin.dynamics_defaults()
    print("   " + ", ".join(f"{key} = {value:g}" for key, value in defaults.items()))
    result = langevin(plugin, args.size, args.steps)
    energy = plugin.observables()["energy_per_site"](result.state.q).mean()
    print(f"   after {result.state.step} steps (t = {result.state.time:g}): energy per site {energy:.4f} "
          f"(equipartition in equilibrium: T/2 = {defaults['temperature'] / 2:g})")

    print("5. Command line")
    if "springs" not in plugin_entry_points():
        print("   not installed: `pip install -e examples/minimal_plugin` adds `latsym springs` to latsym;")
        print("   until then a parser holding just this plugin stands in")
    for argv_ in (["springs", "--help"], ["springs", "relax", "--size", str(args.size), "--steps", "100"]):
        print(f"$ latsym {' '.join(argv_)}")
        status = SpringsPlugin.run_cli(argv_)
        if status != 0:
            return status
    print(f"done in {time.perf_counter() - start:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
