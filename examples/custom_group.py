"""Your own lattice group: the honeycomb site group 3m times an internal Z2, and a group from matrices.

Run it with ``.venv/bin/python examples/custom_group.py`` (``--help`` for the options); it takes a
few seconds and prints each step. The guide ``docs/guides/custom_groups.md`` walks through it.

1. The honeycomb lattice's site group 3m (setting 3m1) times an internal Z2 (e.g. particle–hole
   symmetry, under which a lattice distortion is odd) is a group of order 12 that no catalogue
   lists: build it as ``G * K`` and print its character table.
2. Decompose a site's neighbourhood (the centre and its first two shells) into irreps of G × Z2.
3. Build a small equivariant network on the periodic honeycomb lattice (``Neighbourhood`` →
   ``Linear`` → ``Gate`` → ``Linear``) and check it with ``assert_equivariant`` over all 12
   elements and lattice translations, in float32 and float64.
4. A group given only by generator matrices: the octagonal group 8mm (D8, the point group of
   octagonal quasicrystals, not crystallographic): its character table, the decomposition of the
   octagon's vertices, and a per-site network (``Linear`` → ``NormActivation`` → ``TensorSquare``
   → ``Linear``) on a field living on those vertices, checked the same way.
"""

from __future__ import annotations

import argparse
import copy
import time

import numpy as np
import torch

from latsym.group import Z2, Group, character_table, permutation_representation, real_irreps
from latsym.lattice import PeriodicLattice, Stencil, honeycomb
from latsym.nn import Gate, Irreps, Linear, Neighbourhood, NormActivation, RepType, Sequential, TensorSquare
from latsym.testing import assert_equivariant


def honeycomb_group() -> Group:
    """The honeycomb site group 3m (setting 3m1) times an internal Z2: order 12."""
    return honeycomb().site_group(0) * Z2()


def octagonal_group() -> Group:
    """The octagonal point group 8mm (D8, order 16) from two generator matrices: the rotation by 45°
    and the mirror ``x → -x``."""
    c, s = np.cos(np.pi / 4), np.sin(np.pi / 4)
    rotation = np.array([[c, -s], [s, c]])
    mirror = np.diag([-1.0, 1.0])
    return Group.from_generators([rotation, mirror], name="8mm")


def octagon_field(group: Group) -> RepType:
    """The type of a field with one value on each vertex of a regular octagon (e.g. the occupations
    of an 8-site ring): the permutation representation of ``group`` on the vertices."""
    vertices = [[np.cos(k * np.pi / 4), np.sin(k * np.pi / 4)] for k in range(8)]
    return RepType(permutation_representation(group, points=vertices))


def honeycomb_network(lattice: PeriodicLattice, group: Group, radius: float = 1.0) -> Sequential:
    """An equivariant map from a field ``"A1:even + A1:odd"`` (an invariant component and a Z2-odd
    one, per site) to a Z2-odd field ``"A1:odd"`` (e.g. the force on the odd component).

    Shapes: ``(batch, 2, 2, L1, L2)`` → ``(batch, 1, 2, L1, L2)`` (the honeycomb lattice has two
    sites per cell: ``lattice.lattice_shape == (2, L1, L2)``).
    """
    neighbourhood = Neighbourhood(lattice, group, radius, "A1:even + A1:odd")
    scalars = Irreps("4xA1:even", group)  # through tanh
    gates = Irreps("4xA1:even", group)  # through sigmoid, one per gated copy
    gated = Irreps("2xA1:odd + 2xE:odd", group)
    return Sequential(
        neighbourhood,
        Linear(neighbourhood.irreps_out, scalars + gates + gated, bias=True),
        Gate(scalars, torch.tanh, gates, torch.sigmoid, gated),
        Linear(scalars + gated, "A1:odd", group=group),
    )


def octagon_network(group: Group) -> Sequential:
    """A per-site equivariant map from a field on the octagon's vertices (:func:`octagon_field`)
    to an invariant and a vector (``"A1 + E1"``; E1 of 8mm is ``(x, y)``).

    Shapes: ``(batch, 8)`` → ``(batch, 3)``.
    """
    hidden = Irreps("2xA1 + 2xE1 + 2xE2", group)
    products = Irreps("4xA1 + 2xE1", group)
    return Sequential(
        Linear(octagon_field(group), hidden, bias=True),
        NormActivation(hidden, torch.sigmoid, bias=True),
        TensorSquare(hidden, products),
        Linear(products, "A1 + E1", group=group),
    )


def check(model: torch.nn.Module, lattice: PeriodicLattice | None = None) -> str:
    """Run ``assert_equivariant`` in float32 and float64 on copies of the model converted to each
    dtype, and describe the result; raises ``AssertionError`` if the model is not equivariant.

    Copies, because ``model.to(torch.float32)`` also rounds the model's float64 buffers (changes of
    basis): converting it back to float64 would not restore them."""
    lines = []
    for dtype in (torch.float32, torch.float64):
        report = assert_equivariant(copy.deepcopy(model).to(dtype), lattice=lattice, dtype=dtype)
        name, error = report.worst
        lines.append(f"{str(dtype).removeprefix('torch.')}: {len(report.errors)} operations, "
                     f"worst {name} with error {error:.1e} <= {report.tolerance:.0e}")
    return "; ".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", type=int, default=6, help="honeycomb lattice of L x L cells (default 6)")
    parser.add_argument("--radius", type=float, default=1.0,
                        help="neighbourhood radius in units of the lattice constant (default 1.0)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the network weights")
    args = parser.parse_args(argv)
    torch.manual_seed(args.seed)
    start = time.perf_counter()

    G = honeycomb_group()
    print(f"1. The honeycomb site group 3m times an internal Z2: {G.name}, order {G.order}\n")
    print(character_table(G), "\n")

    print(f"2. The neighbourhood of a honeycomb site within radius {args.radius:g}")
    for sublattice in (0, 1):
        stencil = Stencil(honeycomb(), args.radius, sublattice=sublattice, group=G)
        shells = [len(s) for s in stencil.shells]
        print(f"   sublattice {sublattice}: {stencil.n_points} sites in shells {shells}, "
              f"permutation representation {stencil.representation().decompose()}")

    lattice = PeriodicLattice(honeycomb(), args.size)
    net = honeycomb_network(lattice, G, args.radius)
    x = net.irreps_in.randn(4, -1, *lattice.lattice_shape)
    n_weights = sum(p.numel() for p in net.parameters())
    print(f"\n3. An equivariant network on the {args.size}x{args.size} periodic honeycomb lattice "
          f"({n_weights} weights)")
    for layer in net:
        print(f"   {type(layer).__name__:13s} {layer.irreps_in} -> {layer.irreps_out}")
    print(f"   field {tuple(x.shape)} -> {tuple(net(x).shape)}")
    print(f"   assert_equivariant: {check(net, lattice)}")

    D8 = octagonal_group()
    irreps = ", ".join(f"{ir.label} (dim {ir.dim}, type {ir.type})" for ir in real_irreps(D8))
    print(f"\n4. A group from two generator matrices: {D8.name}, order {D8.order}; real irreps {irreps}\n")
    print(character_table(D8), "\n")
    field = octagon_field(D8)
    print(f"   the octagon's 8 vertices: permutation representation {field.irreps}")
    ring = octagon_network(D8)
    for layer in ring:
        print(f"   {type(layer).__name__:14s} {layer.irreps_in} -> {layer.irreps_out}")
    print(f"   assert_equivariant: {check(ring)}")
    print(f"\ndone in {time.perf_counter() - start:.1f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
