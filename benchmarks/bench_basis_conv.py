"""``LatticeConv`` on a lattice with a basis (honeycomb) against the site-by-site map and a Bravais lattice.

On the honeycomb lattice (two sites per cell, site group 3m) ``LatticeConv`` folds the sublattices
into the channels and runs one circular ``conv2d`` over the cells. This times, in eval mode on one
batch of ``--size``² cells, fields typed by ``--irreps`` in and out (default ``"8xA1 + 4xE"``, 16
channels), nearest-neighbour stencil:

* ``honeycomb conv``: ``LatticeConv`` (the folded convolution, kernel cached);
* ``honeycomb site by site``: the same map evaluated through neighbour tables: every site's
  stencil gathered (``Neighbourhood.gather``), projected and mapped by the layer's ``Linear``
  (how the layer ran before the folding);
* ``triangular conv``: ``LatticeConv`` on the triangular lattice (one site per cell, site group
  6mm) with twice the channels, ``--triangular-irreps`` (default ``"16xA1 + 8xE1"``): the same
  number of values per cell;
* ``honeycomb 6mm conv``: ``LatticeConv(..., centre=honeycomb().centre)``, equivariant under the
  full point group 6mm about the centre of a hexagon (a ``StencilKernel``), fields typed by
  ``--centre-irreps`` (default ``"8xA1 + 4xE1"``, the same 16 channels);
* ``... kernel``: building the expanded kernel from the weights, which a training step does once
  per layer and call (eval mode caches it), for the site-centred layer and the 6mm one.

Goal: the honeycomb convolution costs about what the triangular one does (ratio ≲ 1.5), and much
less than the site-by-site map. Each time is the best of ``--repeats`` calls after ``--warmup``,
the methods taking turns round by round (``best_times`` of ``bench_lattice_conv.py``).

    python benchmarks/bench_basis_conv.py
    python benchmarks/bench_basis_conv.py --size 128 --batch 8 --json basis.json
"""

from __future__ import annotations

import argparse
import platform

import torch
from bench_lattice_conv import add_timing_options, best_times, write_json  # the script beside this one

from latsym.lattice import PeriodicLattice, honeycomb, triangular
from latsym.nn import LatticeConv


def site_by_site(conv: LatticeConv, x: torch.Tensor) -> torch.Tensor:
    """``conv``'s map through neighbour tables: gather, project, then the per-site ``Linear``."""
    nb = conv.neighbourhood
    outs = []
    for b, values in enumerate(nb.gather(x)):  # (batch, channels, n_cells, n_points)
        flat = values.permute(0, 2, 1, 3).flatten(2)
        outs.append((flat @ nb.matrix(b).to(x.dtype).T).transpose(1, 2))
    features = torch.stack(outs, dim=2).reshape(x.shape[0], nb.irreps_out.dim, *x.shape[2:])
    return conv.linear(features)


def measure(args) -> list[dict]:
    torch.manual_seed(0)
    hc = PeriodicLattice(honeycomb(), args.size)
    conv = LatticeConv(hc, args.irreps, args.irreps, 1.0).eval()
    full = LatticeConv(hc, args.centre_irreps, args.centre_irreps, 1.0, centre=honeycomb().centre).eval()
    tri = LatticeConv(PeriodicLattice(triangular(), args.size), args.triangular_irreps,
                      args.triangular_irreps, 1.0).eval()
    x = torch.randn(args.batch, conv.irreps_in.dim, *hc.lattice_shape)
    x_tri = torch.randn(args.batch, tri.irreps_in.dim, args.size, args.size)
    with torch.no_grad():
        error = float((conv(x) - site_by_site(conv, x)).abs().max())
        calls = {"honeycomb conv": lambda: conv(x), "honeycomb site by site": lambda: site_by_site(conv, x),
                 "triangular conv": lambda: tri(x_tri), "honeycomb 6mm conv": lambda: full(x),
                 "honeycomb 3m kernel": conv.kernel, "honeycomb 6mm kernel": full.kernel}
        times = best_times(calls, args.repeats, args.warmup, lambda: None)
    base = times["triangular conv"][0]
    n_cells = args.batch * args.size**2
    return [{"method": name, "best_ms": 1e3 * best, "median_ms": 1e3 * median,
             "ns_per_cell": 1e9 * best / n_cells, "vs_triangular": best / base,
             "max_abs_difference": error if name in ("honeycomb conv", "honeycomb site by site") else None}
            for name, (best, median) in times.items()]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", type=int, default=64, help="cells per side (default 64)")
    parser.add_argument("--batch", type=int, default=4, help="fields per call (default 4)")
    parser.add_argument("--irreps", default="8xA1 + 4xE", help="honeycomb field type in and out")
    parser.add_argument("--triangular-irreps", default="16xA1 + 8xE1",
                        help="triangular field type in and out (default: twice the channels)")
    parser.add_argument("--centre-irreps", default="8xA1 + 4xE1",
                        help="field type in and out of the 6mm layer about the hexagon centre")
    add_timing_options(parser)
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    rows = measure(args)
    print(f"LatticeConv on {args.size}x{args.size} cells, batch {args.batch}, {args.irreps}, "
          f"{args.threads} thread(s), {platform.processor() or platform.machine()}")
    print(f"{'method':<26}{'best ms':>10}{'median ms':>11}{'ns/cell':>9}{'vs triangular':>15}")
    for r in rows:
        print(f"{r['method']:<26}{r['best_ms']:>10.2f}{r['median_ms']:>11.2f}{r['ns_per_cell']:>9.0f}"
              f"{r['vs_triangular']:>15.2f}")
    print(f"max |conv - site by site| = {rows[0]['max_abs_difference']:.2e}")
    write_json(args.json, args, rows)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
