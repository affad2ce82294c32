"""examples/custom_plugin.py: the Holstein plugin subclassed for the simple cubic lattice, end to end.

The ``registered_cubic`` fixture registers the example's plugin class under the entry-point group
``latsym.models`` without pip, as ``tests/examples/test_minimal_plugin.py`` does for the springs
plugin: a ``.dist-info`` directory on ``sys.path`` whose ``entry_points.txt`` names
``custom_plugin:CubicHolsteinPlugin``, next to a ``sys.path`` entry for ``examples/``.
"""

import importlib.util
import json
import re
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from latsym_holstein import HolsteinParams, ed_forces
from latsym_holstein.data import load_dataset
from latsym_holstein.plugin import HolsteinPlugin

from latsym.cli import main
from latsym.plugin import ENTRY_POINT_GROUP, plugin_entry_points

EXAMPLES = Path(__file__).parents[2] / "examples"


@pytest.fixture(scope="module")
def example():
    spec = importlib.util.spec_from_file_location("custom_plugin_example", EXAMPLES / "custom_plugin.py")
    module = importlib.util.module_from_spec(spec)
    with pytest.MonkeyPatch.context() as mp:
        mp.setitem(sys.modules, spec.name, module)  # dataclasses look their module up while defining
        spec.loader.exec_module(module)
    return module


@pytest.fixture
def registered_cubic(tmp_path, monkeypatch):
    """The example's plugin registered by entry point, as ``pip install`` of a distribution declaring
    ``holstein-cubic = custom_plugin:CubicHolsteinPlugin`` would, for the duration of one test."""
    dist_info = tmp_path / "latsym_holstein_cubic-0.1.0.dist-info"
    dist_info.mkdir()
    (dist_info / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: latsym-holstein-cubic\nVersion: 0.1.0\n", encoding="utf-8"
    )
    (dist_info / "entry_points.txt").write_text(
        f"[{ENTRY_POINT_GROUP}]\nholstein-cubic = custom_plugin:CubicHolsteinPlugin\n", encoding="utf-8"
    )
    monkeypatch.syspath_prepend(str(EXAMPLES))
    monkeypatch.syspath_prepend(str(tmp_path))  # also clears importlib's (and its metadata's) caches
    yield
    sys.modules.pop("custom_plugin", None)


def exit_code(argv):
    try:
        return main(argv)
    except SystemExit as exc:
        return exc.code


# -- the walk-through --------------------------------------------------------------------------------


@pytest.mark.slow
def test_walkthrough_runs(example, capsys, tmp_path):
    argv = ["--size", "4", "--n-random", "6", "--epochs", "1", "--steps", "4", "--workdir", str(tmp_path)]
    assert example.main(argv) == 0
    out = capsys.readouterr().out
    steps = ("1. The plugin", "2. Symmetry", "3. Exact forces", "4. Training data", "5. Training",
             "6. Langevin dynamics with the network")
    assert all(step in out for step in steps)
    assert "lattice simple cubic (dim 3), symmetry Oh×Z2 (order 96), fields A1g:odd -> A1g:odd" in out
    assert "real irreps of Oh: A1g, A2g, Eg, T1g, T2g, A1u, A2u, Eu, T1u, T2u" in out
    assert "4xA1g:odd + 2xEg:odd + 2xT2g:odd + 1xA2u:odd + 3xT1u:odd + 1xT2u:odd" in out
    assert "assert_equivariant: 159 operations (96 group elements, 63 translations)" in out
    assert "wrote 9 configurations of 4x4x4" in out
    assert "held-out force RMSE" in out and "after 1 epochs" in out
    assert "(5 snapshots, step 4)" in out
    assert float(re.search(r"max \|F\(-Q\) \+ F\(Q\)\| = (\S+)", out).group(1)) == 0.0
    # the files the commands wrote: a 3D data set of exact forces, a model on the cubic lattice
    data = load_dataset(tmp_path / "data.h5")
    assert data.q.shape == (9, 4, 4, 4) and data.params.kappa == 0.12
    np.testing.assert_allclose(data.forces, ed_forces(data.q, data.params, dim=3), rtol=0, atol=1e-12)
    settings = json.loads((tmp_path / "train" / "report.json").read_text())["settings"]
    assert settings["config"]["lattice"] == "sc" and settings["network"] == "latsym"


def test_walkthrough_help(example, capsys):
    with pytest.raises(SystemExit) as exc:
        example.main(["--help"])
    assert exc.value.code == 0
    assert "--epochs" in capsys.readouterr().out


# -- the plugin class --------------------------------------------------------------------------------


def test_the_subclass_is_a_cubic_holstein_plugin(example):
    plugin = example.CubicHolsteinPlugin()
    assert isinstance(plugin, HolsteinPlugin) and plugin.dim == 3
    group = plugin.symmetry_group()
    assert group.order == 96 and [factor.order for factor in group.factors] == [48, 2]
    lattice = plugin.lattice()
    assert (lattice.name, lattice.dim, lattice.group.order) == ("simple cubic", 3, 48)
    assert plugin.params == example.CubicHolsteinParams() and plugin.params.kappa == 0.12
    q = example.perturbed_cdw(4)
    np.testing.assert_array_equal(plugin.reference_forces(q), ed_forces(q, HolsteinParams(kappa=0.12), dim=3))
    assert set(plugin.observables()) == {"order_parameter", "order_abs"}


def test_the_subclass_refuses_an_unstable_3d_model(example):
    with pytest.raises(ValueError, match=r"need k > 6\|kappa\|"):
        example.CubicHolsteinPlugin.from_config({"kappa": 0.18})  # stable in 2D, not with 6 neighbours


def test_its_networks_are_built_on_the_cubic_lattice(example):
    plugin = example.CubicHolsteinPlugin()
    assert sorted(plugin.networks()) == ["latsym", "latsym-energy"]
    net = plugin.network("latsym", **example.SMALL_NETWORK)
    assert net.config["lattice"] == "sc"
    assert net(torch.zeros(2, 4, 4, 4)).shape == (2, 4, 4, 4)


def test_check_symmetry_catches_a_broken_model(example):
    class Anisotropic(example.CubicHolsteinPlugin):
        def reference_forces(self, q):  # an extra spring along the first axis only: breaks m-3m
            return super().reference_forces(q) - 0.05 * np.roll(q, 1, axis=-3)

    report = example.CubicHolsteinPlugin().check_symmetry(4, translations="generators", backend="numpy")
    assert len(report.errors) == 96 + 4
    with pytest.raises(AssertionError, match="not equivariant"):
        Anisotropic().check_symmetry(4, translations=None, backend="numpy")


# -- the command line ----------------------------------------------------------------------------------


def test_latsym_cli_stands_in_until_registered(example, capsys):
    if "holstein-cubic" in plugin_entry_points():
        pytest.skip("a holstein-cubic plugin is installed in this environment")
    assert example.CubicHolsteinPlugin.run_cli(["holstein-cubic", "--help"]) == 0
    out = capsys.readouterr().out
    assert all(command in out for command in ("info", "generate", "simulate", "analyze", "train"))
    assert exit_code(["holstein-cubic", "--help"]) == 2  # latsym itself does not know it yet


def test_latsym_cli_reports_bad_input(example, capsys, tmp_path):
    out = str(tmp_path / "data.h5")
    run_cli = example.CubicHolsteinPlugin.run_cli
    assert run_cli(["holstein-cubic", "generate", "--out", out, "--size", "4x4"]) == 2
    assert "lattice size must be L or L1xL2xL3" in capsys.readouterr().err
    config = tmp_path / "params.json"
    config.write_text(json.dumps({"kappa": 0.18}))
    argv = ["holstein-cubic", "generate", "--out", out, "--size", "4", "--config", str(config)]
    assert example.CubicHolsteinPlugin.run_cli(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("latsym holstein-cubic generate: ") and "need k > 6|kappa|" in err
    argv = ["holstein-cubic", "train", "--data", out, "--out", str(tmp_path / "t"), "--network", "gnn"]
    assert example.CubicHolsteinPlugin.run_cli(argv) == 2
    err = capsys.readouterr().err
    assert "'gnn' is not available on this lattice; available: latsym, latsym-energy" in err


def test_registered_by_entry_point_it_joins_latsym(registered_cubic, example, capsys, tmp_path):
    assert main(["models"]) == 0
    rows = {line.split()[0]: line.split()[1:] for line in capsys.readouterr().out.splitlines()}
    assert rows["holstein-cubic"] == ["custom_plugin:CubicHolsteinPlugin", "(latsym-holstein-cubic)"]
    assert "holstein" in rows
    assert main(["holstein-cubic", "info"]) == 0
    out = capsys.readouterr().out
    assert "input field: A1g:odd    force field: A1g:odd" in out and "kappa = 0.12" in out
    argv = ["holstein-cubic", "simulate", "--out", str(tmp_path / "run"), "--size", "4", "--steps", "2",
            "--snapshot-every", "1", "--no-progress"]
    assert example.CubicHolsteinPlugin.run_cli(argv) == 0  # through latsym.cli.main now
    assert "(3 snapshots, step 2)" in capsys.readouterr().out
