"""examples/minimal_plugin: registered by its entry point it shows up in ``latsym models`` and adds
``latsym springs``; its springs model has the right forces, symmetry and dynamics.

Nothing is pip-installed: the ``installed_springs`` fixture writes the ``.dist-info`` directory that
``pip install`` would write (its ``entry_points.txt`` made from the example's own ``pyproject.toml``)
next to a ``sys.path`` entry for the package source, which is all ``importlib.metadata`` looks at.
"""

import doctest
import importlib.util
import math
import re
import sys
import tomllib
from pathlib import Path

import numpy as np
import pytest
import torch

from latsym.cli import main
from latsym.dynamics import LangevinVV
from latsym.lattice import PeriodicLattice
from latsym.plugin import ENTRY_POINT_GROUP, ModelPlugin, load_plugin, plugin_entry_points
from latsym.testing import assert_equivariant

EXAMPLES = Path(__file__).parents[2] / "examples"
DIST = EXAMPLES / "minimal_plugin"
PYPROJECT = tomllib.loads((DIST / "pyproject.toml").read_text(encoding="utf-8"))

sys.path.insert(0, str(DIST))  # the package source, for the tests of the model itself
try:
    import latsym_springs.plugin
    from latsym_springs import SpringsParams, SpringsPlugin
finally:
    sys.path.remove(str(DIST))


@pytest.fixture
def installed_springs(tmp_path, monkeypatch):
    """``latsym-springs`` as ``pip install`` would register it, for the duration of one test."""
    project = PYPROJECT["project"]
    dist_info = tmp_path / f"{project['name'].replace('-', '_')}-{project['version']}.dist-info"
    dist_info.mkdir()
    (dist_info / "METADATA").write_text(
        f"Metadata-Version: 2.1\nName: {project['name']}\nVersion: {project['version']}\n", encoding="utf-8"
    )
    lines = [f"{name} = {value}" for name, value in project["entry-points"][ENTRY_POINT_GROUP].items()]
    (dist_info / "entry_points.txt").write_text(
        f"[{ENTRY_POINT_GROUP}]\n" + "\n".join(lines) + "\n", encoding="utf-8"
    )
    monkeypatch.syspath_prepend(str(DIST))
    monkeypatch.syspath_prepend(str(tmp_path))  # also clears importlib's (and its metadata's) caches


def exit_code(argv):
    """Exit status of ``latsym ARGV`` whether it returns or raises SystemExit (argparse)."""
    try:
        return main(argv)
    except SystemExit as exc:
        return exc.code


# -- registration and command line ---------------------------------------------------------------


def test_pyproject_registers_the_plugin_class():
    project = PYPROJECT["project"]
    assert project["name"] == "latsym-springs"
    assert project["entry-points"] == {"latsym.models": {"springs": "latsym_springs.plugin:SpringsPlugin"}}
    assert PYPROJECT["tool"]["setuptools"]["packages"]["find"]["include"] == ["latsym_springs*"]
    # the CLI group is the class's name: it must match the entry point's name
    assert SpringsPlugin.name == "springs" and issubclass(SpringsPlugin, ModelPlugin)


def test_not_registered_until_installed(capsys):
    if "springs" in plugin_entry_points():
        pytest.skip("latsym-springs is pip-installed in this environment")
    assert exit_code(["springs", "--help"]) == 2
    assert "invalid choice: 'springs'" in capsys.readouterr().err


def test_entry_point_is_found_and_loads(installed_springs):
    ep = plugin_entry_points()["springs"]
    assert ep.value == "latsym_springs.plugin:SpringsPlugin" and ep.dist.name == "latsym-springs"
    assert load_plugin("springs") is SpringsPlugin


def test_latsym_models_lists_it(installed_springs, capsys):
    assert main(["models"]) == 0
    rows = {line.split()[0]: line.split()[1:] for line in capsys.readouterr().out.splitlines()}
    assert rows["springs"] == ["latsym_springs.plugin:SpringsPlugin", "(latsym-springs)"]
    assert "holstein" in rows  # the other installed plugins stay listed


def test_latsym_springs_help_lists_the_commands(installed_springs, capsys):
    assert exit_code(["springs", "--help"]) == 0
    out = capsys.readouterr().out
    assert "usage: latsym springs" in out and SpringsPlugin.description in out
    assert re.search(r"^\s+info\s+show the model, its symmetry", out, re.M)
    assert re.search(r"^\s+relax\s+relax a random configuration", out, re.M)
    assert exit_code(["springs", "relax", "--help"]) == 0
    out = capsys.readouterr().out
    for option in ("--size", "--steps", "--seed", "--k", "--kappa"):
        assert option in out


def test_latsym_springs_info(installed_springs, capsys):
    assert main(["springs", "info"]) == 0
    out = capsys.readouterr().out
    assert "input field: A1:odd    force field: A1:odd" in out
    assert "kappa = 0.2" in out


def test_latsym_springs_relax(installed_springs, capsys):
    assert main(["springs", "relax", "--size", "4", "--steps", "40", "--kappa", "-0.1"]) == 0
    out = capsys.readouterr().out
    assert "4x4 springs, k=1, kappa=-0.1" in out
    e0, e1 = map(float, re.search(r"energy per site: (\S+) -> (\S+) after 40 steps \(t = 2\)", out).groups())
    # every normal mode decays by at least (1 - dt (k - 4|κ|)/γ)^2 per step in energy
    assert 0 < e1 <= e0 * (1 - 0.05 * 0.6) ** 80


def test_latsym_springs_relax_rejects_an_unstable_model(installed_springs, capsys):
    assert main(["springs", "relax", "--kappa", "0.3"]) == 2
    assert "need k > 4|kappa|" in capsys.readouterr().err


@pytest.mark.parametrize("option", [["--size", "1"], ["--steps", "-1"], ["--size", "four"]])
def test_latsym_springs_relax_rejects_bad_sizes(installed_springs, capsys, option):
    assert exit_code(["springs", "relax", *option]) == 2
    assert re.search(r"must be at least|expected an integer", capsys.readouterr().err)


def test_walkthrough_uses_latsym_cli_once_installed(installed_springs, capsys):
    spec = importlib.util.spec_from_file_location("springs_plugin_installed", EXAMPLES / "springs_plugin.py")
    example = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(example)
    assert example.main(["--size", "3", "--steps", "5"]) == 0
    out = capsys.readouterr().out
    assert "not installed" not in out and "usage: latsym springs" in out


# -- the model -----------------------------------------------------------------------------------


def test_docstring_examples():
    result = doctest.testmod(latsym_springs.plugin, optionflags=doctest.ELLIPSIS)
    assert result.attempted >= 5 and result.failed == 0


def test_forces_are_minus_the_energy_gradient():
    plugin = SpringsPlugin(SpringsParams(k=1.3, kappa=-0.3))
    q = np.random.default_rng(1).standard_normal((2, 3, 5))  # a batch; odd and unequal sides
    h = 1e-4
    gradient = np.empty_like(q)
    for index in np.ndindex(q.shape):
        step = np.zeros_like(q)
        step[index] = h
        gradient[index] = (plugin.energy(q + step) - plugin.energy(q - step))[index[0]] / (2 * h)
    np.testing.assert_allclose(plugin.reference_forces(q), -gradient, rtol=0, atol=1e-9)


def test_plane_waves_are_normal_modes():
    # Q_r = cos(p·r) with p = 2π (n1/L1, n2/L2): F = -(k + 2κ(cos p1 + cos p2)) Q
    k, kappa = 1.0, 0.24
    plugin = SpringsPlugin(SpringsParams(k=k, kappa=kappa))
    x, y = np.meshgrid(np.arange(6), np.arange(4), indexing="ij")
    for n1, n2 in [(0, 0), (1, 0), (3, 2), (2, 1)]:
        p1, p2 = 2 * np.pi * n1 / 6, 2 * np.pi * n2 / 4
        q = np.cos(p1 * x + p2 * y)
        stiffness = k + 2 * kappa * (math.cos(p1) + math.cos(p2))
        np.testing.assert_allclose(plugin.reference_forces(q), -stiffness * q, atol=1e-12)
        np.testing.assert_allclose(plugin.energy(q), 0.5 * stiffness * (q**2).sum(), atol=1e-12)


def test_numpy_and_torch_agree_and_keep_their_type():
    plugin = SpringsPlugin()
    q = np.random.default_rng(2).standard_normal((3, 4, 4))
    f_np = plugin.reference_forces(q)
    f_torch = plugin.reference_forces(torch.from_numpy(q))
    assert isinstance(f_np, np.ndarray) and isinstance(f_torch, torch.Tensor)
    np.testing.assert_array_equal(f_torch.numpy(), f_np)
    np.testing.assert_array_equal(plugin.reference_forces(q[1]), f_np[1])
    np.testing.assert_allclose(plugin.energy(q), [plugin.energy(c) for c in q])


def test_symmetry_is_4mm_times_z2_on_the_square_lattice():
    plugin = SpringsPlugin()
    group = plugin.symmetry_group()
    assert group.order == 16 and [factor.order for factor in group.factors] == [8, 2]
    assert plugin.lattice().name == "square"
    assert plugin.input_irreps == plugin.force_irreps == "A1:odd"


@pytest.mark.parametrize("size", [(3, 3), (4, 4)])
def test_forces_are_equivariant(size):
    plugin = SpringsPlugin(SpringsParams(kappa=-0.15))
    lattice = PeriodicLattice(plugin.lattice(), size)
    report = assert_equivariant(plugin.reference_forces, "A1:odd", "A1:odd", group=plugin.symmetry_group(),
                                lattice=lattice, channel_dim=None, backend="numpy", translations="all")
    assert len(report.errors) == 16 + size[0] * size[1] - 1


def test_forces_are_equivariant_in_torch(dtype):
    plugin = SpringsPlugin()
    assert_equivariant(plugin.reference_forces, "A1:odd", "A1:odd", group=plugin.symmetry_group(),
                       lattice=PeriodicLattice(plugin.lattice(), 4), channel_dim=None, dtype=dtype)


@pytest.mark.parametrize(
    "broken",
    [
        lambda f, q: f(q) + 0.1,  # not odd under Q -> -Q
        lambda f, q: f(q) - 0.2 * np.roll(q, 1, -1),  # a bond along one axis only: breaks C4
    ],
)
def test_the_symmetry_check_catches_a_broken_model(broken):
    plugin = SpringsPlugin()
    with pytest.raises(AssertionError, match="not equivariant"):
        assert_equivariant(lambda q: broken(plugin.reference_forces, q), "A1:odd", "A1:odd",
                           group=plugin.symmetry_group(), lattice=PeriodicLattice(plugin.lattice(), 4),
                           channel_dim=None, backend="numpy")


def test_relax_is_the_exact_euler_flow():
    # overdamped Euler at T = 0 multiplies each plane-wave mode by (1 - dt λ(p)/γ) per step
    params = SpringsParams(k=1.0, kappa=0.2, gamma=2.0, dt=0.1)
    q0 = torch.randn(5, 4, generator=torch.Generator().manual_seed(3), dtype=torch.float64)
    p1 = 2 * np.pi * np.fft.fftfreq(5)[:, None]
    p2 = 2 * np.pi * np.fft.fftfreq(4)[None, :]
    factor = 1 - params.dt * (params.k + 2 * params.kappa * (np.cos(p1) + np.cos(p2))) / params.gamma
    expected = np.fft.ifft2(factor**30 * np.fft.fft2(q0.numpy())).real
    np.testing.assert_allclose(SpringsPlugin(params).relax(q0, 30).numpy(), expected, atol=1e-12)


def test_langevin_reaches_equipartition():
    """With the plugin's dynamics defaults, the mean energy per site approaches T/2 (each normal mode
    holds T/2 of potential energy; the O(dt²) bias of the integrator is below 0.2% here)."""
    plugin = SpringsPlugin()
    defaults = plugin.dynamics_defaults()
    integrator = LangevinVV(**defaults)
    energy_per_site = plugin.observables()["energy_per_site"]
    state = integrator.init_state(torch.zeros(64, 8, 8, dtype=torch.float64), plugin.reference_forces, seed=0)
    samples = []
    for step in range(1200):
        state = integrator.step(state, plugin.reference_forces)
        if step >= 400 and step % 10 == 0:  # after 20 relaxation times 1/(γ/2) = 2
            samples.append(energy_per_site(state.q).mean())
    mean = float(torch.stack(samples).mean())
    assert mean == pytest.approx(defaults["temperature"] / 2, rel=0.03)


@pytest.mark.parametrize(
    ("values", "error", "match"),
    [
        ({"k": 1.0, "kappa": 0.25}, ValueError, r"need k > 4\|kappa\|"),
        ({"mass": 0.0}, ValueError, "mass must be positive"),
        ({"dt": -0.1}, ValueError, "dt must be positive"),
        ({"temperature": -1.0}, ValueError, "temperature must be >= 0"),
        ({"gamma": -1.0}, ValueError, "gamma must be >= 0"),
        ({"k": float("nan")}, ValueError, "k must be a finite real number"),
        ({"kappa": True}, ValueError, "kappa must be a finite real number"),
        ({"stiffness": 1.0}, ValueError, r"unknown springs parameter\(s\) \['stiffness'\]"),
    ],
)
def test_bad_parameters_are_named(values, error, match):
    with pytest.raises(error, match=match):
        SpringsPlugin.from_config(values)


def test_bad_configurations_are_named():
    plugin = SpringsPlugin()
    with pytest.raises(TypeError, match="must be floating point"):
        plugin.reference_forces(torch.zeros(4, 4, dtype=torch.int64))
    for method in (plugin.reference_forces, plugin.energy):
        with pytest.raises(ValueError, match=r"shape \(L1, L2\) or \(batch, L1, L2\), got \(16,\)"):
            method(np.zeros(16))
