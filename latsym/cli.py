"""The ``latsym`` command line: ``latsym --help`` lists the subcommands.

Core subcommands live here; every installed plugin adds a subcommand group named after it
(``latsym holstein ...``) through its ``add_cli`` hook.
"""

from __future__ import annotations

import argparse
import sys

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


def _cmd_irreps(args: argparse.Namespace) -> int:
    from latsym.group import GroupError, character_table, point_group, real_irreps

    try:
        G = point_group(args.symbol, dim=args.dim)
    except GroupError as exc:
        print(f"latsym irreps: {exc}", file=sys.stderr)
        return 2
    print(character_table(G))
    print()
    print("real irreps (type R: real, C: complex pair realified, H: quaternionic)")
    for irrep in real_irreps(G):
        print(f"  {irrep.label:<8} type {irrep.type}  real dim {irrep.dim}")
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

    p = sub.add_parser("irreps", help="character table and real irreps of a point group")
    p.add_argument("symbol", help="Schoenflies (C4v, Oh) or Hermann-Mauguin (4mm, m-3m, -4m2) symbol")
    p.add_argument(
        "--dim", type=int, choices=[2, 3], default=3, help="plane (2) or space (3) group; default 3"
    )
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
    return int(args.func(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
