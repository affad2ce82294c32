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


def build_parser() -> argparse.ArgumentParser:
    """The full argument parser, with one subcommand group per installed plugin."""
    parser = argparse.ArgumentParser(
        prog="latsym",
        description="latsym: discrete lattice symmetries for equivariant machine learning.",
    )
    parser.add_argument("--version", action="version", version=f"latsym {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    p = sub.add_parser("models", help="list the installed model plugins")
    p.set_defaults(func=_cmd_models)

    for name in sorted(plugin_entry_points()):
        try:
            plugin = load_plugin(name)
        except PluginError as exc:
            print(f"latsym: warning: {exc}", file=sys.stderr)
            continue
        add_cli = getattr(plugin, "add_cli", None)
        if add_cli is not None:
            add_cli(sub)
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
