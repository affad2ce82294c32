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
