"""Integrators: thermostat statistics, energy conservation, reproducibility, shapes and bad input."""

import math

import numpy as np
import pytest
import scipy.linalg
import torch

from latsym.dynamics import Brownian, LangevinVV, State

DEVICES = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])


def harmonic(k):
    return lambda q: -k * q


def group_time_averages(integrator, force_fn, q0, v0, *, n_equil, n_prod, n_groups, seed=1):
    """Time averages of q² and v² over production steps, one value per group of sites.

    The sites are independent (separable force, independent noise), so the per-group time averages
    are independent samples whatever the time correlation within a trajectory: their spread gives
    an honest standard error of the overall mean.
    """
    state = integrator.init_state(q0, force_fn, seed=seed, v0=v0)
    for _ in range(n_equil):
        state = integrator.step(state, force_fn)
    q2 = torch.zeros_like(q0)
    v2 = torch.zeros_like(q0)
    for _ in range(n_prod):
        state = integrator.step(state, force_fn)
        q2 += state.q**2
        if state.v is not None:
            v2 += state.v**2
    per_group = lambda x: (x / n_prod).reshape(n_groups, -1).mean(1).numpy()  # noqa: E731
    return per_group(q2), per_group(v2)


def mean_and_error(samples):
    return samples.mean(), samples.std(ddof=1) / math.sqrt(len(samples))


def equilibrium_start(n, *, T, k, m):
    g = torch.Generator().manual_seed(123)
    q0 = torch.randn(n, generator=g, dtype=torch.float64) * math.sqrt(T / k)
    v0 = torch.randn(n, generator=g, dtype=torch.float64) * math.sqrt(T / m)
    return q0, v0


def test_langevin_thermostat_equipartition():
    # 20,000 independent oscillators (omega = 0.5), 2,000 production steps = 50 velocity relaxation times.
    m, k, T, gamma, dt = 2.0, 0.5, 0.3, 1.0, 0.05
    q0, v0 = equilibrium_start(20_000, T=T, k=k, m=m)
    lv = LangevinVV(mass=m, gamma=gamma, temperature=T, dt=dt)
    q2, v2 = group_time_averages(lv, harmonic(k), q0, v0, n_equil=100, n_prod=2000, n_groups=40)
    kinetic, kinetic_err = mean_and_error(m * v2)
    potential, potential_err = mean_and_error(k * q2)
    # The scheme's O(dt²) bias of <k q²> is T ω² dt²/4 (see the large-dt test): far below the error bar.
    assert T * (k / m) * dt**2 / 4 < 0.25 * potential_err
    assert kinetic_err < 0.003 * T and potential_err < 0.003 * T  # the test has power
    assert abs(kinetic - T) < 4 * kinetic_err
    assert abs(potential - T) < 4 * potential_err


def test_langevin_large_dt_matches_exact_discrete_stationary_distribution():
    # For a linear force one step is x' = M x + (0, c ξ); the stationary covariance S solves the
    # discrete Lyapunov equation S = M S Mᵀ + diag(0, c²). At dt = 0.5 it differs visibly from T.
    m, k, T, gamma, dt = 1.0, 1.0, 0.3, 1.0, 0.5
    a = math.exp(-gamma * dt)
    q_row = np.array([1 - k * dt**2 / (2 * m), dt])
    v_row = np.array([-k * dt / (2 * m), 1.0]) - k * dt / (2 * m) * q_row
    M = np.array([q_row, a * v_row])
    S = scipy.linalg.solve_discrete_lyapunov(M, np.diag([0.0, (1 - a**2) * T / m]))
    q0, v0 = equilibrium_start(20_000, T=T, k=k, m=m)
    lv = LangevinVV(mass=m, gamma=gamma, temperature=T, dt=dt)
    q2, v2 = group_time_averages(lv, harmonic(k), q0, v0, n_equil=50, n_prod=1000, n_groups=40)
    potential, potential_err = mean_and_error(k * q2)
    kinetic, kinetic_err = mean_and_error(m * v2)
    assert abs(k * S[0, 0] - T) > 20 * potential_err  # a wrong coefficient would be seen
    assert abs(potential - k * S[0, 0]) < 4 * potential_err
    assert abs(kinetic - m * S[1, 1]) < 4 * kinetic_err


def test_brownian_thermostat_equipartition():
    k, T, gamma, dt = 1.0, 0.3, 1.0, 0.002
    q0, _ = equilibrium_start(10_000, T=T, k=k, m=1.0)
    br = Brownian(gamma=gamma, temperature=T, dt=dt)
    q2, _ = group_time_averages(br, harmonic(k), q0, None, n_equil=0, n_prod=4000, n_groups=40)
    potential, potential_err = mean_and_error(k * q2)
    # Euler–Maruyama's stationary <k q²> is T / (1 - k dt/(2 gamma)): its bias is below the error bar.
    assert T / (1 - k * dt / (2 * gamma)) - T < 0.5 * potential_err
    assert potential_err < 0.005 * T
    assert abs(potential - T) < 4 * potential_err


def test_brownian_large_dt_matches_exact_discrete_variance():
    # q' = (1 - k dt/gamma) q + sqrt(2 T dt/gamma) ξ has stationary variance (T/k) / (1 - k dt/(2 gamma)).
    k, T, gamma, dt = 1.0, 0.3, 1.0, 0.5
    exact = T / (1 - k * dt / (2 * gamma))
    q0, _ = equilibrium_start(20_000, T=T, k=k, m=1.0)
    br = Brownian(gamma=gamma, temperature=T, dt=dt)
    q2, _ = group_time_averages(br, harmonic(k), q0, None, n_equil=50, n_prod=500, n_groups=40)
    potential, potential_err = mean_and_error(k * q2)
    assert abs(exact - T) > 20 * potential_err
    assert abs(potential - exact) < 4 * potential_err


KAPPA = 0.5


def chain_force(q):
    """Double-well sites coupled in a ring: U = Σ (q⁴/4 - q²/2) + κ/2 Σ (q_i - q_{i+1})²."""
    return -(q**3) + q - KAPPA * (2 * q - torch.roll(q, 1, -1) - torch.roll(q, -1, -1))


def chain_energy(q, v, m):
    potential = (q**4 / 4 - q**2 / 2).sum() + KAPPA / 2 * ((q - torch.roll(q, 1, -1)) ** 2).sum()
    return float(m * (v**2).sum() / 2 + potential)


def energy_errors(dt, t_end, m=2.0):
    g = torch.Generator().manual_seed(3)
    q0 = torch.randn(64, generator=g, dtype=torch.float64)
    v0 = torch.randn(64, generator=g, dtype=torch.float64)
    vv = LangevinVV(mass=m, gamma=0.0, temperature=1.0, dt=dt)  # gamma = 0: T is irrelevant
    state = vv.init_state(q0, chain_force, seed=0, v0=v0)
    e0 = chain_energy(state.q, state.v, m)
    errors = []
    for _ in range(round(t_end / dt)):
        state = vv.step(state, chain_force)
        errors.append(chain_energy(state.q, state.v, m) - e0)
    return np.array(errors)


def test_velocity_verlet_energy_error_is_second_order():
    max_err = [np.abs(energy_errors(dt, t_end=10.0)).max() for dt in (0.04, 0.02, 0.01)]
    ratios = [max_err[0] / max_err[1], max_err[1] / max_err[2]]
    assert all(3.0 < r < 5.0 for r in ratios), ratios


def test_velocity_verlet_energy_does_not_drift():
    errors = energy_errors(0.04, t_end=200.0)
    first, last = np.array_split(errors, 4)[0], np.array_split(errors, 4)[-1]
    amplitude = np.abs(first).max()
    assert np.abs(last).max() < 1.5 * amplitude
    assert abs(last.mean() - first.mean()) < 0.25 * amplitude


def test_velocity_verlet_is_time_reversible():
    g = torch.Generator().manual_seed(5)
    q0 = torch.randn(32, generator=g, dtype=torch.float64)
    v0 = torch.randn(32, generator=g, dtype=torch.float64)
    vv = LangevinVV(mass=1.5, gamma=0.0, temperature=0.0, dt=0.05)
    state = vv.init_state(q0, chain_force, seed=0, v0=v0)
    for _ in range(200):
        state = vv.step(state, chain_force)
    back = State(q=state.q, v=-state.v, f=state.f, step=0, time=0.0, generator=state.generator)
    for _ in range(200):
        back = vv.step(back, chain_force)
    np.testing.assert_allclose(back.q, q0, rtol=0, atol=1e-9)
    np.testing.assert_allclose(-back.v, v0, rtol=0, atol=1e-9)


def test_langevin_friction_without_noise_decays_velocity_exactly():
    # F = 0, T = 0: v_n = v_0 exp(-gamma n dt), q_n = q_0 + dt Σ_{j<n} v_j.
    gamma, dt, n = 0.7, 0.1, 30
    lv = LangevinVV(mass=3.0, gamma=gamma, temperature=0.0, dt=dt)
    v0 = torch.tensor([1.0, -2.0], dtype=torch.float64)
    state = lv.init_state(torch.zeros(2, dtype=torch.float64), torch.zeros_like, seed=0, v0=v0)
    for _ in range(n):
        state = lv.step(state, torch.zeros_like)
    decay = math.exp(-gamma * dt)
    np.testing.assert_allclose(state.v, v0 * decay**n, rtol=1e-12)
    np.testing.assert_allclose(state.q, v0 * dt * (1 - decay**n) / (1 - decay), rtol=1e-12)
    assert state.step == n and state.time == pytest.approx(n * dt)


def test_brownian_without_noise_is_gradient_descent():
    k, gamma, dt, n = 2.0, 4.0, 0.1, 25
    br = Brownian(gamma=gamma, temperature=0.0, dt=dt)
    q0 = torch.tensor([[1.0, -0.5]], dtype=torch.float64)
    state = br.init_state(q0, harmonic(k), seed=0)
    for _ in range(n):
        state = br.step(state, harmonic(k))
    np.testing.assert_allclose(state.q, q0 * (1 - k * dt / gamma) ** n, rtol=1e-12)
    assert torch.equal(state.f, -k * state.q)
    assert state.v is None


def test_gamma_zero_draws_no_noise():
    vv = LangevinVV(mass=1.0, gamma=0.0, temperature=5.0, dt=0.1)
    state = vv.init_state(torch.ones(4), harmonic(1.0), seed=0)
    before = state.generator.get_state()
    state = vv.step(state, harmonic(1.0))
    assert torch.equal(state.generator.get_state(), before)


@pytest.mark.parametrize("integrator", [LangevinVV(1.0, 0.5, 0.2, 0.05), Brownian(1.0, 0.2, 0.01)])
def test_step_leaves_its_input_state_unchanged(integrator):
    state = integrator.init_state(torch.linspace(-1, 1, 6), chain_force, seed=0)
    before = state.generator.get_state()
    one, two = integrator.step(state, chain_force), integrator.step(state, chain_force)
    assert torch.equal(state.generator.get_state(), before)
    assert torch.equal(one.q, two.q) and not torch.equal(one.generator.get_state(), before)


def make_integrators():
    return [
        LangevinVV(mass=2.0, gamma=0.5, temperature=0.2, dt=0.05),
        Brownian(gamma=1.0, temperature=0.2, dt=0.01),
    ]


def trajectory(integrator, q0, seed, n=20):
    state = integrator.init_state(q0, chain_force, seed=seed)
    states = [state]
    for _ in range(n):
        state = integrator.step(state, chain_force)
        states.append(state)
    return states


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("integrator", make_integrators(), ids=lambda i: type(i).__name__)
@pytest.mark.parametrize("shape", [(7,), (3, 4, 4), (2, 1, 3, 5)])
def test_seeded_reproducibility_and_shapes(integrator, shape, dtype, device):
    q0 = torch.linspace(-1, 1, math.prod(shape), dtype=dtype, device=device).reshape(shape)
    a, b, c = (trajectory(integrator, q0, seed) for seed in (11, 11, 12))
    for sa, sb in zip(a, b, strict=True):
        assert sa.q.shape == shape and sa.f.shape == shape and sa.q.dtype == dtype
        assert torch.equal(sa.q, sb.q) and torch.equal(sa.f, sb.f)
        if sa.v is not None:
            assert torch.equal(sa.v, sb.v)
    assert not torch.equal(a[-1].q, c[-1].q)
    assert a[-1].step == 20 and a[-1].time == pytest.approx(20 * integrator.dt)
    assert a[-1].q.device.type == device


def test_params_are_json_ready():
    assert LangevinVV(mass=5, gamma=0.2, temperature=0.1, dt=0.05).params() == {
        "integrator": "LangevinVV",
        "mass": 5.0,
        "gamma": 0.2,
        "temperature": 0.1,
        "dt": 0.05,
    }
    assert Brownian(gamma=1, temperature=0, dt=0.1).params()["integrator"] == "Brownian"


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"mass": 0.0}, "mass must be finite and > 0"),
        ({"mass": -1.0}, "mass must be finite and > 0"),
        ({"dt": 0.0}, "dt must be finite and > 0"),
        ({"dt": -0.1}, "dt must be finite and > 0"),
        ({"temperature": -0.1}, "temperature must be finite and >= 0"),
        ({"gamma": -0.2}, "gamma must be finite and >= 0"),
        ({"gamma": float("nan")}, "gamma must be finite"),
        ({"dt": float("inf")}, "dt must be finite"),
    ],
)
def test_langevin_rejects_bad_parameters(kwargs, match):
    params = {"mass": 1.0, "gamma": 0.1, "temperature": 0.1, "dt": 0.05, **kwargs}
    with pytest.raises(ValueError, match=match):
        LangevinVV(**params)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"gamma": 0.0}, "gamma must be finite and > 0"),
        ({"gamma": -1.0}, "gamma must be finite and > 0"),
        ({"temperature": -1.0}, "temperature must be finite and >= 0"),
        ({"dt": 0.0}, "dt must be finite and > 0"),
    ],
)
def test_brownian_rejects_bad_parameters(kwargs, match):
    with pytest.raises(ValueError, match=match):
        Brownian(**{"gamma": 1.0, "temperature": 0.1, "dt": 0.05, **kwargs})


@pytest.mark.parametrize("value", ["1.0", True, None, torch.tensor(1.0)])
def test_parameters_must_be_real_numbers(value):
    with pytest.raises(TypeError, match="mass must be a real number"):
        LangevinVV(mass=value, gamma=0.1, temperature=0.1, dt=0.05)


@pytest.mark.parametrize("integrator", make_integrators(), ids=lambda i: type(i).__name__)
def test_force_of_wrong_shape_dtype_or_type_is_rejected(integrator):
    q0 = torch.zeros(3, 4)
    with pytest.raises(ValueError, match=r"shape \(4, 3\) for fields of shape \(3, 4\)"):
        integrator.init_state(q0, lambda q: torch.zeros(4, 3), seed=0)
    with pytest.raises(TypeError, match=r"torch\.float64 on cpu for fields torch\.float32"):
        integrator.init_state(q0, lambda q: torch.zeros(3, 4, dtype=torch.float64), seed=0)
    with pytest.raises(TypeError, match=r"must return a torch\.Tensor, got ndarray"):
        integrator.init_state(q0, lambda q: np.zeros((3, 4)), seed=0)
    state = integrator.init_state(q0, torch.zeros_like, seed=0)
    with pytest.raises(ValueError, match=r"shape \(12,\)"):
        integrator.step(state, lambda q: torch.zeros(12))


def test_init_state_rejects_bad_input():
    lv, br = make_integrators()
    with pytest.raises(TypeError, match="q0 must be a real floating-point"):
        lv.init_state(torch.zeros(3, dtype=torch.int64), torch.zeros_like, seed=0)
    with pytest.raises(TypeError, match="q0 must be a real floating-point"):
        lv.init_state(np.zeros(3), torch.zeros_like, seed=0)
    for seed in (-1, True, 1.5):
        with pytest.raises(ValueError, match="seed must be a non-negative int"):
            lv.init_state(torch.zeros(3), torch.zeros_like, seed=seed)
    with pytest.raises(ValueError, match="v has shape"):
        lv.init_state(torch.zeros(3), torch.zeros_like, seed=0, v0=torch.zeros(4))
    with pytest.raises(ValueError, match="overdamped and has no velocities"):
        br.init_state(torch.zeros(3), torch.zeros_like, seed=0, v0=torch.zeros(3))
    with pytest.raises(ValueError, match="needs velocities"):
        lv.step(br.init_state(torch.zeros(3), torch.zeros_like, seed=0), torch.zeros_like)


def test_state_rejects_inconsistent_arrays():
    g = torch.Generator()
    z = torch.zeros(3)
    with pytest.raises(ValueError, match=r"State.f has shape \(2,\) but q has shape \(3,\)"):
        State(q=z, v=z, f=torch.zeros(2), step=0, time=0.0, generator=g)
    with pytest.raises(TypeError, match=r"State\.v is torch\.float64"):
        State(q=z, v=z.double(), f=z, step=0, time=0.0, generator=g)
    with pytest.raises(TypeError, match=r"State\.f must be a torch\.Tensor"):
        State(q=z, v=z, f=None, step=0, time=0.0, generator=g)
    with pytest.raises(TypeError, match=r"State\.q must be a real floating-point"):
        State(q=torch.zeros(3, dtype=torch.complex64), v=None, f=z, step=0, time=0.0, generator=g)
    with pytest.raises(ValueError, match=r"State\.step must be a non-negative int"):
        State(q=z, v=z, f=z, step=-1, time=0.0, generator=g)
    with pytest.raises(TypeError, match=r"State\.generator must be a torch\.Generator"):
        State(q=z, v=z, f=z, step=0, time=0.0, generator=0)
    meta = torch.zeros(3, device="meta")  # a device other than the generator's
    with pytest.raises(ValueError, match=r"State\.generator is on cpu but q is on meta"):
        State(q=meta, v=meta, f=meta, step=0, time=0.0, generator=g)
