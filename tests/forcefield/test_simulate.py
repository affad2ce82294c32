"""latsym.forcefield.simulate and generate on a toy plugin: the plugin's divergence bound guards
every run, before a diverged state is saved."""

import dataclasses

import h5py
import numpy as np
import pytest
import torch

from latsym.dynamics import DivergenceError, checkpoint_path
from latsym.forcefield import GenerationOptions, generate, simulate
from latsym.group import point_group
from latsym.lattice import square
from latsym.plugin import ModelPlugin


@dataclasses.dataclass(frozen=True)
class Params:
    k: float = 1.0  # F = -k q: stable for dt < 2 sqrt(m / k), diverging beyond
    dt: float = 0.1
    gamma: float = 0.0
    temperature: float = 0.0
    mass: float = 1.0


class Oscillators(ModelPlugin):
    """Independent harmonic oscillators on the square lattice; ``max |q|`` never exceeds that of the
    start without friction and noise, so 3 x the start's scale bounds every physical state."""

    name = "oscillators"
    Params = Params
    input_irreps = force_irreps = "A1"

    def __init__(self, params=None):
        super().__init__(params)
        self.scales = []  # the scale each divergence_bound call was given

    def lattice(self):
        return square()

    def symmetry_group(self):
        return point_group("4mm", dim=2)

    def reference_forces(self, q):
        return -self.params.k * q

    def random_configuration(self, shape, rng, scale=None):
        return (scale or 1.0) * np.clip(rng.standard_normal(shape), -2.0, 2.0)

    def dynamics_defaults(self):
        return dataclasses.asdict(self.params)

    def divergence_bound(self, scale=None):
        self.scales.append(scale)
        return 3.0 * (scale or 1.0) * 2.0  # 3 x the largest |q| of a start


class Unbounded(Oscillators):
    name = "unbounded"

    def divergence_bound(self, scale=None):
        return super(Oscillators, self).divergence_bound(scale)  # the base class's: None


STABLE, UNSTABLE = Params(dt=0.1), Params(dt=2.5)  # Verlet amplifies by ~4.7 per step at dt = 2.5


def test_a_stable_run_stays_within_the_bound(tmp_path):
    result = simulate(Oscillators(STABLE), tmp_path / "run.h5", (4, 4), 60, snapshot_every=10, progress=False)
    assert result.state.step == 60 and float(result.state.q.abs().max()) <= 2.0 + 1e-12


def test_the_plugins_bound_stops_a_diverging_run_before_it_is_saved(tmp_path):
    out = tmp_path / "run.h5"
    with pytest.raises(DivergenceError, match=r"diverged at step \d+: max \|q\| = .* exceeds the bound 6; "
                       "reduce dt") as exc:
        simulate(Oscillators(UNSTABLE), out, (4, 4), 200, snapshot_every=1, progress=False)
    step = exc.value.step
    assert 1 < step < 10
    with h5py.File(out) as f:
        assert f["step"][-1] == step - 1 and np.abs(f["q"][()]).max() <= 6.0
    checkpoint = torch.load(checkpoint_path(out), weights_only=True)
    assert checkpoint["step"] == step - 1 and float(checkpoint["q"].abs().max()) <= 6.0
    # the default (no bound) lets the same run grow far beyond any physical state
    far = simulate(Unbounded(UNSTABLE), None, (4, 4), 40, progress=False)
    assert float(far.state.q.abs().max()) > 1e20


def test_generate_bounds_its_quenches_with_the_start_scale(tmp_path):
    options = GenerationOptions(shape=(4, 4), n_random=1, n_quenches=1, snapshots_per_quench=20,
                                snapshot_every=5, random_scale=0.5)
    plugin = Oscillators(UNSTABLE)
    with pytest.raises(DivergenceError, match="exceeds the bound 3;"):
        generate(plugin, tmp_path / "data.h5", options, progress=False)
    assert plugin.scales == [0.5]
