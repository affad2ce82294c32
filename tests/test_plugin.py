"""The ModelPlugin base class: parameters, network presets, CLI wiring."""

import argparse
import dataclasses

import numpy as np
import pytest

from latsym.group import Group
from latsym.plugin import CLICommand, ModelPlugin


@dataclasses.dataclass(frozen=True)
class SpringParams:
    k: float = 2.0


class SpringPlugin(ModelPlugin):
    """Independent harmonic sites: the smallest possible model."""

    name = "spring"
    description = "independent harmonic sites"
    Params = SpringParams
    input_irreps = "A1"
    force_irreps = "A1"

    def lattice(self):
        return "chain"

    def symmetry_group(self):
        return Group.from_generators([-np.eye(1)], name="Z2")

    def reference_forces(self, q):
        return -self.params.k * np.asarray(q)

    def networks(self):
        return {"default": lambda scale=1.0: (lambda q: -scale * q)}

    @classmethod
    def cli_commands(cls):
        def configure(p):
            p.add_argument("--k", type=float, default=2.0)

        def run(args):
            print(cls(SpringParams(k=args.k)).reference_forces([1.0]))
            return 0

        return {**super().cli_commands(), "force": CLICommand("force at q = 1", configure, run)}


def test_params_default_and_config():
    assert SpringPlugin().params == SpringParams()
    assert SpringPlugin.from_config({"k": 3.0}).params.k == 3.0
    np.testing.assert_allclose(SpringPlugin().reference_forces([1.0, -2.0]), [-2.0, 4.0])


def test_unknown_config_key_is_named():
    with pytest.raises(ValueError, match=r"unknown spring parameter\(s\) \['stiffness'\]"):
        SpringPlugin.from_config({"stiffness": 1.0})


def test_wrong_params_type():
    with pytest.raises(TypeError, match="expects parameters of type SpringParams"):
        SpringPlugin({"k": 1.0})


def test_network_presets():
    net = SpringPlugin().network("default", scale=3.0)
    assert net(2.0) == -6.0
    with pytest.raises(ValueError, match="no network preset 'big'"):
        SpringPlugin().network("big")


def test_abstract_methods_are_required():
    class Incomplete(ModelPlugin):
        name = "incomplete"
        Params = SpringParams

    with pytest.raises(TypeError, match="abstract"):
        Incomplete()


def test_cli_commands_are_added(capsys):
    parser = argparse.ArgumentParser(prog="latsym")
    SpringPlugin.add_cli(parser.add_subparsers())
    args = parser.parse_args(["spring", "force", "--k", "5"])
    assert args.func(args) == 0
    assert "-5." in capsys.readouterr().out
    args = parser.parse_args(["spring", "info"])
    assert args.func(args) == 0
    out = capsys.readouterr().out
    assert "k = 2.0" in out and "independent harmonic sites" in out


def test_check_symmetry_runs_assert_equivariant_on_the_reference_forces():
    from latsym_holstein.plugin import HolsteinPlugin

    report = HolsteinPlugin().check_symmetry(4, backend="numpy")
    assert len(report.errors) == 16 + 15 and max(report.errors.values()) < 1e-10  # 4mm x Z2, 4x4 - 1 shifts

    class Biased(HolsteinPlugin):
        def reference_forces(self, q):
            return super().reference_forces(q) + 0.1  # not odd under Q -> -Q

    with pytest.raises(AssertionError, match="not equivariant"):
        Biased().check_symmetry(4, translations=None, backend="numpy")


def test_run_cli_runs_the_plugins_own_commands(capsys):
    assert SpringPlugin.run_cli(["spring", "force", "--k", "3"]) == 0
    assert "-3." in capsys.readouterr().out
    assert SpringPlugin.run_cli(["spring", "--help"]) == 0  # argparse's exit, as a status
    assert SpringPlugin.run_cli(["spring", "force", "--k", "x"]) == 2
    assert "invalid float value: 'x'" in capsys.readouterr().err
    from latsym_holstein.plugin import HolsteinPlugin  # registered or not: only its own commands

    assert HolsteinPlugin.run_cli(["models"]) == 2
    assert "invalid choice: 'models'" in capsys.readouterr().err


def test_plugin_module_does_not_import_the_cli():
    import subprocess
    import sys

    code = "import sys, latsym.plugin; print('latsym.cli' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "False"


def _register(tmp_path, monkeypatch, entry_name: str, module_source: str) -> None:
    """Register ``bogus_plugin:Plugin`` under ``entry_name`` as an installed distribution would."""
    (tmp_path / "bogus_plugin.py").write_text(module_source)
    dist = tmp_path / "bogus_plugin-0.1.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: bogus-plugin\nVersion: 0.1\n")
    (dist / "entry_points.txt").write_text(f"[latsym.models]\n{entry_name} = bogus_plugin:Plugin\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(__import__("sys").modules, "bogus_plugin", raising=False)


_BOGUS = '''
import dataclasses
from latsym.plugin import ModelPlugin

@dataclasses.dataclass(frozen=True)
class P:
    x: list = dataclasses.field(default_factory=lambda: [1, 2])

class Plugin(ModelPlugin):
    name = "{name}"
    description = "a test plugin"
    Params = P
    input_irreps = force_irreps = "A1"
    def lattice(self): ...
    def symmetry_group(self): ...
    def reference_forces(self, q): return q
'''


def test_entry_point_name_must_match_the_class_name(tmp_path, monkeypatch):
    from latsym.plugin import PluginError, load_plugin

    _register(tmp_path, monkeypatch, "bogus", _BOGUS.format(name="other"))
    with pytest.raises(PluginError, match="registered as 'bogus' but its class says name = 'other'"):
        load_plugin("bogus")


def test_a_clashing_plugin_does_not_break_the_other_commands(tmp_path, monkeypatch, capsys):
    from latsym.cli import main

    _register(tmp_path, monkeypatch, "models", _BOGUS.format(name="models"))
    assert main(["groups", "--dim", "2"]) == 0
    captured = capsys.readouterr()
    assert "6mm" in captured.out
    assert "plugin 'models' could not add its commands" in captured.err


def test_info_prints_default_factory_values(tmp_path, monkeypatch, capsys):
    from latsym.cli import main

    _register(tmp_path, monkeypatch, "bogus", _BOGUS.format(name="bogus"))
    assert main(["bogus", "info"]) == 0
    assert "x = [1, 2]" in capsys.readouterr().out


def test_plugin_commands_are_configured_only_when_used():
    configured = []

    class LazyPlugin(SpringPlugin):
        @classmethod
        def cli_commands(cls):
            def configure(p):
                configured.append(p.prog)
                p.add_argument("--x", type=int, default=1)

            return {"slow": CLICommand("needs heavy imports", configure, lambda args: args.x)}

    parser = argparse.ArgumentParser(prog="latsym")
    LazyPlugin.add_cli(parser.add_subparsers())
    assert configured == []  # building the parser imports nothing of the command
    args = parser.parse_args(["spring", "slow", "--x", "7"])
    assert args.func(args) == 7 and configured == ["latsym spring slow"]
