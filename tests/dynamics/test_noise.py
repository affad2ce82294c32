"""SiteNoise: counter-based noise keyed by the global index, and the integrators' noise= source."""

import math

import pytest
import torch

from latsym.dynamics import Brownian, LandauLifshitzGilbert, LangevinVV, SiteNoise


def test_a_tile_draws_the_noise_of_the_whole_field_there():
    whole = SiteNoise(5, (2, 6, 8, 4))(torch.empty(2, 6, 8, 4, dtype=torch.float64), 7)
    for start in [(0, 0, 0), (3, 4, 1), (5, 0, 3)]:
        tile = SiteNoise(5, (2, 6, 8, 4), start=start)
        size = (1, 4 if start[1] == 4 else 3, 1)
        drawn = tile(torch.empty(2, *size, dtype=torch.float64), 7)
        expected = whole[:, start[0]:start[0] + 1, start[1]:start[1] + size[1], start[2]:start[2] + 1]
        assert torch.equal(drawn, expected)


def test_the_noise_is_standard_normal_and_independent_across_sites_steps_and_seeds():
    shape = (256, 256)
    like = torch.empty(shape, dtype=torch.float64)
    a, b = SiteNoise(1, shape)(like, 1), SiteNoise(1, shape)(like, 2)
    c = SiteNoise(2, shape)(like, 1)
    n = a.numel()
    sigma = 1 / math.sqrt(n)
    assert abs(float(a.mean())) < 5 * sigma
    assert abs(float(a.var()) - 1) < 5 * math.sqrt(2) * sigma
    assert abs(float((a.abs() < 1).double().mean()) - math.erf(1 / math.sqrt(2))) < 5 * 0.47 * sigma
    assert abs(float((a.abs() > 3).double().mean()) - math.erfc(3 / math.sqrt(2))) < 5 * 0.052 * sigma
    for other in (b, c, a.roll(1, 0), a.roll(1, 1)):  # other steps, seeds, neighbouring sites
        assert abs(float((a * other).mean())) < 5 * sigma
    assert torch.equal(a, SiteNoise(1, shape)(like, 1))  # a function of (seed, step, index) alone


def test_it_takes_the_fields_dtype():
    x = SiteNoise(0, (4, 4))(torch.empty(4, 4, dtype=torch.float32), 3)
    assert x.dtype == torch.float32
    assert torch.equal(x, SiteNoise(0, (4, 4))(torch.empty(4, 4, dtype=torch.float64), 3).float())


@pytest.mark.parametrize("integrator", [LangevinVV(mass=2.0, gamma=0.5, temperature=0.3, dt=0.1),
                                        Brownian(gamma=1.0, temperature=0.3, dt=0.1)])
def test_integrators_draw_from_a_noise_source_and_keep_the_generator(integrator):
    force = lambda q: -q  # noqa: E731
    state = integrator.init_state(torch.ones(5, 5, dtype=torch.float64), force, seed=0)
    before = state.generator.get_state()
    noise = SiteNoise(9, (5, 5))
    new = integrator.step(state, force, noise=noise)
    assert torch.equal(new.generator.get_state(), before)
    xi = noise(state.q, 1)
    if isinstance(integrator, Brownian):
        expected = state.q + state.f * 0.1 + math.sqrt(2 * 0.3 * 0.1) * xi
        assert torch.allclose(new.q, expected, rtol=0, atol=1e-14)
    else:
        a = math.exp(-0.5 * 0.1)
        v = state.v + (state.f + new.f) * (0.1 / 4)
        assert torch.allclose(new.v, a * v + math.sqrt((1 - a * a) * 0.3 / 2) * xi, rtol=0, atol=1e-14)
    assert not torch.equal(new.q if isinstance(integrator, Brownian) else new.v,
                           integrator.step(state, force).q if isinstance(integrator, Brownian)
                           else integrator.step(state, force).v)


def test_bad_input():
    with pytest.raises(ValueError, match="seed must be a non-negative int"):
        SiteNoise(-1, (3, 3))
    with pytest.raises(ValueError, match="more axes"):
        SiteNoise(0, (3,), start=(0, 0))
    with pytest.raises(ValueError, match="noise is for fields"):
        SiteNoise(0, (3, 3))(torch.empty(3), 1)
    with pytest.raises(ValueError, match="does not fit"):
        SiteNoise(0, (3, 3), start=(2, 0))(torch.empty(2, 3), 1)
    lv = LangevinVV(mass=1.0, gamma=1.0, temperature=1.0, dt=0.1)
    state = lv.init_state(torch.zeros(3, dtype=torch.float64), lambda q: -q, seed=0)
    with pytest.raises(TypeError, match="noise must return a tensor of shape"):
        lv.step(state, lambda q: -q, noise=lambda like, step: torch.zeros(2, dtype=torch.float64))


def test_llg_draws_from_a_noise_source_per_global_site():
    """With a site-local field, a tile of spins stepped with its SiteNoise tile is the same tile of the
    whole field stepped with the whole field's noise: the decomposition leaves the stream as it is."""
    llg = LandauLifshitzGilbert(dt=0.05, alpha=0.5, temperature=0.4, component_dim=0)
    field = torch.tensor([0.0, 0.3, 1.0], dtype=torch.float64)
    force = lambda s: field[:, None, None].expand_as(s).clone()  # noqa: E731
    spins = torch.randn(3, 6, 4, dtype=torch.float64, generator=torch.Generator().manual_seed(1))
    spins = spins / spins.norm(dim=0)
    whole = llg.init_state(spins, force, seed=0)
    before = whole.generator.get_state()
    stepped = llg.step(whole, force, noise=SiteNoise(5, (3, 6, 4)))
    assert torch.equal(stepped.generator.get_state(), before)
    tile = llg.init_state(spins[:, 2:5, 1:3].contiguous(), force, seed=0)
    tile_stepped = llg.step(tile, force, noise=SiteNoise(5, (3, 6, 4), start=(2, 1)))
    assert torch.equal(tile_stepped.q, stepped.q[:, 2:5, 1:3])
    assert not torch.equal(stepped.q, llg.step(whole, force).q)  # the noise source is used
    assert torch.allclose(stepped.q.norm(dim=0), torch.ones(6, 4, dtype=torch.float64), atol=1e-14)
