"""examples/springs_plugin.py walks through the springs plugin end to end at a small size."""

import importlib.util
import re
import sys
from pathlib import Path

import numpy as np
import pytest

EXAMPLE = Path(__file__).parents[2] / "examples" / "springs_plugin.py"


@pytest.fixture(scope="module")
def example():
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(sys, "path", list(sys.path))  # the example may add examples/minimal_plugin to it
        spec = importlib.util.spec_from_file_location("springs_plugin_example", EXAMPLE)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
    return module


def test_walkthrough_runs(example, capsys):
    assert example.main(["--size", "4", "--steps", "60"]) == 0
    out = capsys.readouterr().out
    steps = ("1. The plugin", "2. Exact forces", "3. Symmetry", "4. Langevin dynamics", "5. Command line")
    assert all(step in out for step in steps)
    assert "symmetry C4v×Z2 (order 16), fields A1:odd -> A1:odd" in out
    deviation = float(re.search(r"max deviation (\S+)", out).group(1))
    assert deviation < 1e-8
    # 16 elements of 4mm x Z2 and the 15 non-trivial translations of a 4x4 lattice, in two dtypes
    assert out.count("31 operations (16 group elements, 15 translations)") == 2
    assert "after 60 steps (t = 3): energy per site" in out
    assert "$ latsym springs --help" in out and "relax     relax a random configuration" in out
    assert re.search(r"energy per site: \S+ -> \S+ after 100 steps", out)


def test_walkthrough_help(example, capsys):
    with pytest.raises(SystemExit) as exc:
        example.main(["--help"])
    assert exc.value.code == 0
    assert "--steps" in capsys.readouterr().out


def test_finite_difference_forces(example):
    plugin = example.SpringsPlugin()
    q = np.random.default_rng(4).standard_normal((3, 3))
    np.testing.assert_allclose(example.finite_difference_forces(plugin, q), plugin.reference_forces(q),
                               atol=1e-9)


def test_check_symmetry_catches_a_broken_model(example):
    class Tilted(example.SpringsPlugin):
        def reference_forces(self, q):
            return super().reference_forces(q) + 0.1  # a uniform push: not odd under Q -> -Q

    report = example.SpringsPlugin().check_symmetry(3, dtype=example.torch.float64)
    assert len(report.errors) == 16 + 8
    with pytest.raises(AssertionError, match="not equivariant"):
        Tilted().check_symmetry(3, dtype=example.torch.float64)


def test_langevin_keeps_the_shape_and_moves(example):
    result = example.langevin(example.SpringsPlugin(), 5, 10, batch=3)
    assert result.state.step == 10 and result.state.q.shape == (3, 5, 5)
    assert result.state.q.abs().max() > 0  # the thermostat has kicked the springs


def test_latsym_cli_reports_failures(example, capsys):
    assert example.SpringsPlugin.run_cli(["springs", "relax", "--kappa", "0.5"]) == 2
    assert "need k > 4|kappa|" in capsys.readouterr().err
    assert example.SpringsPlugin.run_cli(["springs", "relax", "--size", "0"]) == 2
