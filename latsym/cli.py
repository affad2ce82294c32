"""The ``latsym`` command line: ``latsym --help`` lists the subcommands.

Core subcommands live here; every installed plugin adds a subcommand group named after it
(``latsym holstein ...``) through its ``add_cli`` hook.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
from pathlib import Path

import numpy as np

from latsym._version import __version__
from latsym.plugin import PluginError, load_plugin, plugin_entry_points


def _cmd_models(args: argparse.Namespace) -> int:
    eps = plugin_entry_points()
    if not eps:
        print("no latsym model plugins installed")
        return 0
    for name, ep in sorted(eps.items()):
        dist = ep.dist.name if ep.dist is not None else "?"
        print(f"{name:<16} {ep.value:<48} ({dist})")
    return 0


def _cmd_groups(args: argparse.Namespace) -> int:
    from latsym.group import point_group, point_group_symbols

    dims = (2, 3) if args.dim is None else (args.dim,)
    for dim in dims:
        print(f"{dim}D crystallographic point groups")
        header = f"{'Schoenflies':<12}{'Hermann-Mauguin':<17}{'order':>5}{'classes':>8}  {'system':<13}"
        print(f"  {header}other settings")
        for info in point_group_symbols(dim):
            G = point_group(info.schoenflies, dim=dim)
            names = info.schoenflies + "".join(f"/{a}" for a in info.aliases)
            others = ", ".join(s for s in info.settings if s != info.hermann_mauguin)
            print(
                f"  {names:<12}{info.hermann_mauguin:<17}{G.order:>5}{len(G.classes):>8}  "
                f"{info.system:<13}{others}"
            )
    return 0


def _internal_order(text: str) -> int:
    """``--internal``: ``Z2`` (the particle–hole flip), ``Z<n>`` (n ≥ 2) or ``T`` (time reversal, as 0)."""
    if text.strip() in ("T", "time-reversal"):
        return 0
    match = re.fullmatch(r"[Zz](\d+)", text.strip())
    if match and int(match.group(1)) >= 2:
        return int(match.group(1))
    raise argparse.ArgumentTypeError(
        f"unknown internal group {text!r}: use Z2 (particle-hole), Z<n> with n >= 2, or T (time reversal)"
    )


def _internal_groups(orders: list[int]) -> list:
    """The internal groups of ``--internal``; the product numbers repeated element names (P, P2, …)."""
    from latsym.group import Z2, TimeReversal, Zn

    return [TimeReversal() if n == 0 else Z2() if n == 2 else Zn(n) for n in orders]


def _irreps_document(G, table, irreps) -> dict:
    """The character table and the real irreps of G as plain JSON types."""
    return {
        "group": G.name,
        "order": G.order,
        "elements": list(G.names),
        "classes": [[G.names[g] for g in c] for c in table.classes],
        "class_names": list(table.class_names),
        "character_table": {
            "labels": list(table.labels),
            "frobenius_schur": [int(x) for x in table.frobenius_schur],
            "real": np.real(table.characters).round(12).tolist(),
            "imag": np.imag(table.characters).round(12).tolist(),
        },
        "real_irreps": [
            {"label": ir.label, "type": ir.type, "dim": ir.dim, "matrices": ir.matrices.round(15).tolist()}
            for ir in irreps
        ],
    }


def _cmd_irreps(args: argparse.Namespace) -> int:
    from latsym.group import GroupError, character_table, point_group, real_irreps

    try:
        G = point_group(args.symbol, dim=args.dim)
        for K in _internal_groups(args.internal or []):
            G = G * K
        table, irreps = character_table(G), real_irreps(G)
    except GroupError as exc:
        print(f"latsym irreps: {exc}", file=sys.stderr)
        return 2
    if args.json is not None:
        text = json.dumps(_irreps_document(G, table, irreps), indent=1)
        if args.json == "-":
            print(text)
            return 0
        try:
            Path(args.json).write_text(text + "\n")
        except OSError as exc:
            print(f"latsym irreps: cannot write --json {args.json}: {exc.strerror or exc}", file=sys.stderr)
            return 2
    print(table)
    print()
    print("real irreps (type R: real, C: complex pair realified, H: quaternionic)")
    for irrep in irreps:
        print(f"  {irrep.label:<8} type {irrep.type}  real dim {irrep.dim}")
        if args.matrices:
            for name, matrix in zip(G.names, irrep.matrices, strict=True):
                rows = ["[" + " ".join(f"{v + 0.0: .4g}" for v in row) + "]" for row in matrix]
                print(f"      {name:<12} {' '.join(rows)}")
    if args.json not in (None, "-"):
        print(f"\nwrote {args.json}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    """The full argument parser, with one subcommand group per installed plugin."""
    parser = argparse.ArgumentParser(
        prog="latsym",
        description="latsym: discrete lattice symmetries for equivariant machine learning.",
    )
    parser.add_argument("--version", action="version", version=f"latsym {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    p = sub.add_parser("groups", help="list the crystallographic point groups (2D and 3D)")
    p.add_argument("--dim", type=int, choices=[2, 3], help="only the plane (2) or space (3) point groups")
    p.set_defaults(func=_cmd_groups)

    p = sub.add_parser("irreps", help="character table and real irreps of a point group",
                       description="Print the character table (Mulliken labels) and the real irreps of a "
                       "point group, optionally times internal groups.")
    p.add_argument("symbol", help="Schoenflies (C4v, Oh) or Hermann-Mauguin (4mm, m-3m, -4m2) symbol")
    # symbols such as -43m start with '-' and a digit: read them as the symbol, not as an option
    # (argparse does this for negative numbers; no option of this command starts with -<digit>)
    p._negative_number_matcher = re.compile(r"^-\d")
    p.add_argument(
        "--dim", type=int, choices=[2, 3], default=3, help="plane (2) or space (3) group; default 3"
    )
    p.add_argument("--internal", type=_internal_order, action="append", metavar="K",
                   help="multiply by an internal group: Z2 (particle-hole flip; irreps :even/:odd), Z<n> "
                   "(n >= 2) or T (time reversal); repeat for several")
    p.add_argument("--matrices", action="store_true",
                   help="also print every real irrep's matrix for every group element")
    p.add_argument("--json", metavar="PATH",
                   help="also write elements, classes, the character table and the real irrep matrices "
                   "as JSON to PATH ('-': only the JSON, to standard output)")
    p.set_defaults(func=_cmd_irreps)

    p = sub.add_parser("models", help="list the installed model plugins")
    p.set_defaults(func=_cmd_models)

    for name in sorted(plugin_entry_points()):
        try:
            plugin = load_plugin(name)
        except PluginError as exc:
            print(f"latsym: warning: {exc}", file=sys.stderr)
            continue
        add_cli = getattr(plugin, "add_cli", None)
        if add_cli is None:
            continue
        try:
            add_cli(sub)
        except Exception as exc:  # a broken plugin must not take the other commands down
            print(f"latsym: warning: plugin {name!r} could not add its commands: {exc}", file=sys.stderr)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``latsym`` console script; returns the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if getattr(args, "func", None) is None:
        parser.print_help()
        return 0
    try:
        return int(args.func(args) or 0)
    except BrokenPipeError:  # the reader stopped early (latsym irreps Oh | head): not an error
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0


if __name__ == "__main__":
    sys.exit(main())
