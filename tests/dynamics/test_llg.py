"""Landau–Lifshitz–Gilbert dynamics: norm, precession sense, damping, energy order, thermal equilibrium,
checkpointed runs and bad input."""

import math

import h5py
import numpy as np
import pytest
import torch

from latsym.dynamics import LandauLifshitzGilbert, checkpoint_path, run

F64 = torch.float64


def unit(x, dim=1):
    return x / torch.linalg.vector_norm(x, dim=dim, keepdim=True)


def random_spins(shape, seed, dim=1, dtype=F64):
    return unit(torch.randn(shape, generator=torch.Generator().manual_seed(seed), dtype=dtype), dim)


class Heisenberg:
    """``E = -J Σ_<ij> S_i·S_j - b·Σ_i S_i - K Σ_i (S_i^z)^2`` on a periodic square lattice.

    Spins of shape ``(B, 3, L, L)``; ``field`` returns ``h = -dE/dS`` of the same shape.
    """

    def __init__(self, J, b, K=0.0):
        self.J, self.K = J, K
        self.b = torch.as_tensor(b, dtype=F64).reshape(1, 3, 1, 1)

    def neighbour_sum(self, s):
        return sum(torch.roll(s, shift, d) for shift in (1, -1) for d in (-2, -1))

    def field(self, s):
        h = self.J * self.neighbour_sum(s) + self.b.to(s.dtype)
        anisotropy = torch.zeros_like(s)
        anisotropy[:, 2] = 2 * self.K * s[:, 2]
        return h + anisotropy

    def energy(self, s):
        """Energy of each sample, shape ``(B,)``."""
        bonds = (s * (torch.roll(s, 1, -2) + torch.roll(s, 1, -1))).sum(dim=(1, 2, 3))
        zeeman = (s * self.b.to(s.dtype)).sum(dim=(1, 2, 3))
        return -self.J * bonds - zeeman - self.K * (s[:, 2] ** 2).sum(dim=(1, 2))


def constant_field(h):
    """The force of spins ``(B, 3)`` in the fixed fields ``h`` (``(B, 3)`` or ``(3,)``)."""
    return lambda s: torch.as_tensor(h, dtype=s.dtype).expand_as(s).clone()


def integrate(llg, force, q0, n_steps, *, seed=0):
    state = llg.init_state(q0, force, seed=seed)
    for _ in range(n_steps):
        state = llg.step(state, force)
    return state


def rodrigues(s, n, angle):
    """``s`` rotated about the unit axes ``n`` (``(B, 3)``) by ``angle`` (``(B,)``, right-handed)."""
    cos, sin = torch.cos(angle).unsqueeze(-1), torch.sin(angle).unsqueeze(-1)
    return cos * s + sin * torch.linalg.cross(n, s, dim=-1) + (1 - cos) * (n * s).sum(-1, keepdim=True) * n


# --- norm and precession ------------------------------------------------------------------------


@pytest.mark.parametrize("n_steps", [5_000, pytest.param(100_000, marks=pytest.mark.slow)])
def test_norm_stays_one_over_many_noisy_damped_steps(n_steps):
    model = Heisenberg(J=1.0, b=[0.3, -0.2, 0.8], K=0.4)
    llg = LandauLifshitzGilbert(dt=0.05, alpha=0.1, temperature=0.5)
    q0 = random_spins((1, 3, 2, 2), seed=0)
    state = llg.init_state(q0, model.field, seed=1)
    worst = 0.0
    for i in range(n_steps):
        state = llg.step(state, model.field)
        if i % 500 == 0:
            worst = max(worst, float((torch.linalg.vector_norm(state.q, dim=1) - 1).abs().max()))
    worst = max(worst, float((torch.linalg.vector_norm(state.q, dim=1) - 1).abs().max()))
    assert worst <= 1e-12
    assert state.step == n_steps and not torch.allclose(state.q, q0, atol=0.1)  # the spins did move


@pytest.mark.parametrize("n_spins", [64, 4096])  # small and large fields take different code paths
def test_larmor_precession_sense_and_frequency(n_spins):
    # dS/dt = -S × h: S turns about h counter-clockwise at |h|, by 2 arctan(|h| dt/2) per step (no noise).
    g = torch.Generator().manual_seed(3)
    h = torch.randn(n_spins, 3, generator=g, dtype=F64) * 2
    s0 = random_spins((n_spins, 3), seed=4)
    dt, n_steps = 0.01, 300
    llg = LandauLifshitzGilbert(dt=dt, alpha=0.0, temperature=1.0)
    state = integrate(llg, constant_field(h), s0, n_steps)
    h_abs = torch.linalg.vector_norm(h, dim=-1)
    n = h / h_abs.unsqueeze(-1)
    exact_scheme = rodrigues(s0, n, n_steps * 2 * torch.atan(h_abs * dt / 2))
    assert (state.q - exact_scheme).abs().max() <= 1e-12
    larmor = rodrigues(s0, n, h_abs * n_steps * dt)  # the exact solution, a phase error h^3 dt^2 t/12 away
    phase_error = (h_abs**3 * dt**2 * n_steps * dt / 12).max()
    assert (state.q - larmor).abs().max() <= 1.01 * phase_error
    # the sense in one picture: h = z, S(0) = x goes to +y first
    state = integrate(LandauLifshitzGilbert(dt=0.01, alpha=0.0, temperature=0.0),
                      constant_field([0.0, 0.0, 1.0]), torch.tensor([[1.0, 0.0, 0.0]], dtype=F64), 157)
    assert (state.q - torch.tensor([[0.0, 1.0, 0.0]], dtype=F64)).abs().max() < 1e-3


def test_damped_relaxation_follows_the_landau_lifshitz_solution():
    # h = h z: tan(theta/2) = tan(theta0/2) exp(-alpha h t) and phi = phi0 + h t (the Gilbert form would
    # have both rates divided by 1 + alpha^2 = 1.25 here).
    h, alpha, theta0 = 1.5, 0.5, 2.8
    s0 = torch.tensor([[math.sin(theta0), 0.0, math.cos(theta0)]], dtype=F64)
    t_end = 3.0
    cos_theta = math.tanh(alpha * h * t_end - math.log(math.tan(theta0 / 2)))
    sin_theta = math.sqrt(1 - cos_theta**2)
    phi = h * t_end
    exact = torch.tensor([[sin_theta * math.cos(phi), sin_theta * math.sin(phi), cos_theta]], dtype=F64)
    errors = []
    for dt in (0.02, 0.01):
        llg = LandauLifshitzGilbert(dt=dt, alpha=alpha, temperature=0.0)
        state = integrate(llg, constant_field([0.0, 0.0, h]), s0, round(t_end / dt))
        errors.append(float((state.q - exact).abs().max()))
    assert errors[1] < 2e-4
    assert 3.5 < errors[0] / errors[1] < 4.5  # second order


def test_damped_zero_temperature_lattice_aligns_with_the_field():
    model = Heisenberg(J=1.0, b=[0.0, 0.6, 0.8])
    llg = LandauLifshitzGilbert(dt=0.1, alpha=1.0, temperature=0.0)
    state = llg.init_state(random_spins((2, 3, 3, 3), seed=5), model.field, seed=0)
    energies = [model.energy(state.q)]
    for _ in range(300):
        state = llg.step(state, model.field)
        energies.append(model.energy(state.q))
    energies = torch.stack(energies)
    assert (energies[1:] <= energies[:-1] + 1e-12).all()  # damping only lowers the energy
    b_hat = torch.tensor([0.0, 0.6, 0.8], dtype=F64).reshape(1, 3, 1, 1)
    assert ((state.q * b_hat).sum(1) > 1 - 1e-10).all()


# --- energy conservation ------------------------------------------------------------------------


def test_energy_is_conserved_with_second_order_error():
    # Four independent 2x2 systems; the energy error (worst over 0 <= t <= 4) falls as dt^2 per system.
    model = Heisenberg(J=1.0, b=[0.2, 0.0, 0.5], K=0.3)
    q0 = random_spins((4, 3, 2, 2), seed=6)
    e0 = model.energy(q0)
    t_end, errors = 4.0, []
    dts = (0.02, 0.01, 0.005)
    for dt in dts:
        llg = LandauLifshitzGilbert(dt=dt, alpha=0.0, temperature=0.0)
        state = llg.init_state(q0, model.field, seed=0)
        worst = torch.zeros_like(e0)
        for _ in range(round(t_end / dt)):
            state = llg.step(state, model.field)
            worst = torch.maximum(worst, (model.energy(state.q) - e0).abs())
        errors.append(worst.numpy())
    errors = np.array(errors)  # (dt, system)
    slopes = np.diff(np.log(errors), axis=0) / np.diff(np.log(dts))[:, None]
    assert errors[-1].max() < 1e-4
    assert np.all((slopes[-1] > 1.8) & (slopes[-1] < 2.3)), slopes  # asymptotic order 2
    assert np.all((slopes > 1.8) & (slopes < 2.6)), slopes


# --- thermal equilibrium -----------------------------------------------------------------------


def langevin(x):
    """``coth(x) - 1/x``: the mean ``<S·h/|h|>`` of a classical unit spin at ``x = |h|/T``."""
    return 1 / math.tanh(x) - 1 / x


@pytest.mark.parametrize("temperature", [0.25, 0.5, 1.0])
def test_single_spins_in_a_field_reach_the_langevin_function(temperature):
    # 4096 independent spins start perpendicular to h (|h| = 1), relax for 5 damping times, then their
    # time averages over 10 more are independent samples of <S·h>: the standard error is honest.
    # alpha T dt <= 0.01 keeps the O(dt) bias of the scheme below half the error (measured with 16384
    # spins: <S·h> 0.1662 for 0.1640 at T = 2, alpha T dt = 0.02; within 0.2 errors at T = 0.5 and 1).
    n = torch.tensor([1.0, 2.0, 2.0], dtype=F64) / 3
    n_spins, dt = 4096, 0.01
    llg = LandauLifshitzGilbert(dt=dt, alpha=1.0, temperature=temperature)
    q0 = (torch.tensor([2.0, -2.0, 1.0], dtype=F64) / 3).expand(n_spins, 3).clone()
    state = integrate(llg, constant_field(n), q0, round(5 / dt), seed=11)
    n_prod = round(10 / dt)
    first, second = torch.zeros(n_spins, dtype=F64), torch.zeros(n_spins, dtype=F64)
    for _ in range(n_prod):
        state = llg.step(state, constant_field(n))
        c = state.q @ n
        first += c
        second += c * c
    first, second = (first / n_prod).numpy(), (second / n_prod).numpy()
    mean, mean_err = first.mean(), first.std(ddof=1) / math.sqrt(n_spins)
    square, square_err = second.mean(), second.std(ddof=1) / math.sqrt(n_spins)
    x = 1 / temperature
    exact_mean, exact_square = langevin(x), 1 - 2 * langevin(x) / x
    assert abs(langevin(x / 2) - exact_mean) > 20 * mean_err  # the temperature is resolved
    assert abs(mean - exact_mean) < 4 * mean_err
    assert abs(square - exact_square) < 4 * square_err


def test_free_spins_diffuse_with_the_fluctuation_dissipation_rate():
    # h = 0: rotational diffusion with D = alpha T, so <S(t)·S(0)> = exp(-2 alpha T t).
    alpha, temperature, dt, n_spins = 0.5, 1.0, 0.01, 16384
    llg = LandauLifshitzGilbert(dt=dt, alpha=alpha, temperature=temperature)
    q0 = random_spins((n_spins, 3), seed=15)
    state = llg.init_state(q0, torch.zeros_like, seed=12)
    for t_check in (0.25, 0.5, 1.0, 2.0):
        while state.time < t_check - dt / 2:
            state = llg.step(state, torch.zeros_like)
        overlap = (state.q * q0).sum(-1).numpy()
        mean, err = overlap.mean(), overlap.std(ddof=1) / math.sqrt(n_spins)
        assert abs(mean - math.exp(-2 * alpha * temperature * t_check)) < 4 * err, t_check
        assert abs(math.exp(-alpha * temperature * t_check) - mean) > 8 * err  # half the rate is excluded


# --- runs, reproducibility ----------------------------------------------------------------------


def interrupting(force, at_call, exc):
    """``force`` that raises ``exc`` on its ``at_call``-th call (call 0 is the initial force)."""
    calls = [0]

    def fn(q):
        calls[0] += 1
        if calls[0] - 1 == at_call:
            raise exc
        return force(q)

    return fn


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32])
def test_interrupted_and_resumed_run_is_bitwise_identical(tmp_path, dtype):
    model = Heisenberg(J=1.0, b=[0.0, 0.0, 0.5], K=0.2)
    llg = LandauLifshitzGilbert(dt=0.05, alpha=0.3, temperature=0.4)
    q0 = random_spins((2, 3, 3, 3), seed=7, dtype=dtype)
    kwargs = {"seed": 5, "snapshot_every": 3, "checkpoint_every": 4, "progress": False,
              "observables": {"m_z": lambda s: s.q[:, 2].mean()}}
    ref = run(llg, model.field, q0, 30, out=tmp_path / "ref.h5", **kwargs)
    out = tmp_path / "run.h5"
    with pytest.raises(KeyboardInterrupt):  # two forces per step: call 21 is inside step 11
        run(llg, interrupting(model.field, 21, KeyboardInterrupt()), q0, 30, out=out, **kwargs)
    assert torch.load(checkpoint_path(out), weights_only=True)["step"] == 10
    res = run(llg, model.field, q0, 30, out=out, **kwargs)
    assert res.start_step == 10 and res.state.step == 30 and res.state.v is None
    assert torch.equal(res.state.q, ref.state.q) and torch.equal(res.state.f, ref.state.f)
    assert torch.equal(res.state.generator.get_state(), ref.state.generator.get_state())
    with h5py.File(ref.path) as a, h5py.File(out) as b:
        assert sorted(a) == sorted(b) and "v" not in a
        for name in ("step", "time", "q", "f", "observables/m_z"):
            assert np.array_equal(a[name][()], b[name][()]), name
        assert dict(a.attrs) == dict(b.attrs)
        assert '"integrator": "LandauLifshitzGilbert"' in a.attrs["integrator"]
    norm = torch.linalg.vector_norm(res.state.q, dim=1)
    assert (norm - 1).abs().max() <= 10 * torch.finfo(dtype).eps


def test_step_leaves_the_state_unchanged_and_repeats():
    model = Heisenberg(J=1.0, b=[0.1, 0.2, 0.3])
    llg = LandauLifshitzGilbert(dt=0.05, alpha=0.5, temperature=1.0)
    state = llg.init_state(random_spins((1, 3, 2, 2), seed=8), model.field, seed=2)
    q, g = state.q.clone(), state.generator.get_state()
    a, b = llg.step(state, model.field), llg.step(state, model.field)
    assert torch.equal(a.q, b.q) and torch.equal(state.q, q) and torch.equal(state.generator.get_state(), g)
    assert not torch.equal(a.generator.get_state(), g)  # the noise came from a fork, carried forward
    assert a.step == 1 and a.time == 0.05
    assert torch.equal(a.f, model.field(a.q))


def test_no_noise_without_damping():
    # fluctuation–dissipation: alpha = 0 draws no noise whatever the temperature
    model = Heisenberg(J=1.0, b=[0.1, 0.2, 0.3])
    q0 = random_spins((1, 3, 2, 2), seed=9)
    hot = integrate(LandauLifshitzGilbert(dt=0.05, alpha=0.0, temperature=10.0), model.field, q0, 5, seed=1)
    cold = integrate(LandauLifshitzGilbert(dt=0.05, alpha=0.0, temperature=0.0), model.field, q0, 5, seed=2)
    assert torch.equal(hot.q, cold.q)
    assert torch.equal(hot.generator.get_state(), torch.Generator().manual_seed(1).get_state())


@pytest.mark.parametrize("n_spins", [8, 4096])
def test_a_force_that_tracks_gradients_is_accepted(n_spins):
    weight = torch.tensor([0.5, -1.0, 2.0], dtype=F64, requires_grad=True)
    llg = LandauLifshitzGilbert(dt=0.05, alpha=0.5, temperature=0.2)
    q0 = random_spins((n_spins, 3), seed=16)
    tracked = integrate(llg, lambda s: s.roll(1, 0) * weight, q0, 3, seed=1)
    plain = integrate(llg, lambda s: s.roll(1, 0) * weight.detach(), q0, 3, seed=1)
    assert tracked.q.requires_grad and (tracked.q.detach() - plain.q).abs().max() <= 1e-14


@pytest.mark.parametrize(
    "shape, component_dim", [((3, 4, 4), 0), ((2, 4, 4, 3), -1), ((2, 3, 5), 1), ((3,), 0)]
)
def test_component_axis_anywhere(shape, component_dim):
    # the same spins and fields laid out along another axis give the same trajectory
    q0 = random_spins(shape, seed=10, dim=component_dim)
    b = torch.tensor([0.3, -0.5, 0.4], dtype=F64)

    def field(s):  # a local field: an on-site term plus the fixed b, in the layout of s
        moved = s.movedim(component_dim, -1)
        return (b + 0.7 * moved[..., [1, 2, 0]]).movedim(-1, component_dim)

    moved_field = lambda s: field(s.movedim(-1, component_dim)).movedim(component_dim, -1)  # noqa: E731
    llg = LandauLifshitzGilbert(dt=0.05, alpha=0.2, temperature=0.0, component_dim=component_dim)
    state = integrate(llg, field, q0, 20)
    reference = integrate(
        LandauLifshitzGilbert(dt=0.05, alpha=0.2, temperature=0.0, component_dim=-1),
        moved_field, q0.movedim(component_dim, -1), 20,
    )
    assert state.q.shape == shape
    assert (state.q.movedim(component_dim, -1) - reference.q).abs().max() <= 1e-14
    hot = LandauLifshitzGilbert(dt=0.05, alpha=0.2, temperature=0.3, component_dim=component_dim)
    noisy = integrate(hot, field, q0, 20)
    assert (torch.linalg.vector_norm(noisy.q, dim=component_dim) - 1).abs().max() < 1e-14


# --- bad input ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        ({"dt": 0.0}, ValueError, "dt must be finite and > 0"),
        ({"dt": -0.1}, ValueError, "dt must be finite and > 0"),
        ({"dt": math.inf}, ValueError, "dt must be finite"),
        ({"dt": "0.1"}, TypeError, "dt must be a real number"),
        ({"alpha": -0.1}, ValueError, "alpha must be finite and >= 0"),
        ({"alpha": math.nan}, ValueError, "alpha must be finite"),
        ({"temperature": -1.0}, ValueError, "temperature must be finite and >= 0"),
        ({"temperature": True}, TypeError, "temperature must be a real number"),
        ({"component_dim": 1.0}, TypeError, "component_dim must be an int"),
        ({"component_dim": True}, TypeError, "component_dim must be an int"),
    ],
)
def test_bad_parameters_are_refused(kwargs, error, match):
    params = {"dt": 0.1, "alpha": 0.1, "temperature": 0.1, **kwargs}
    with pytest.raises(error, match=match):
        LandauLifshitzGilbert(**params)


def test_spins_off_the_unit_sphere_are_refused_with_the_worst_deviation():
    llg = LandauLifshitzGilbert(dt=0.1, alpha=0.1, temperature=0.1)
    q0 = random_spins((2, 3, 4, 4), seed=11)
    q0[1, :, 2, 3] *= 1.25
    q0[0, :, 0, 0] *= 0.9
    with pytest.raises(ValueError, match=r"index \(1, 2, 3\).* \|\|S\| - 1\| = 0\.25; normalise"):
        llg.init_state(q0, lambda s: s, seed=0)
    with pytest.raises(ValueError, match="normalise"):  # through run, before anything is written
        run(llg, lambda s: s, torch.randn(2, 3, 4, 4, dtype=F64), 3, seed=0, progress=False)
    nan = random_spins((1, 3, 2, 2), seed=12)
    nan[0, 1, 1, 0] = math.nan
    with pytest.raises(ValueError, match=r"index \(0, 1, 0\).*= nan"):
        llg.init_state(nan, lambda s: s, seed=0)
    single = LandauLifshitzGilbert(dt=0.1, alpha=0.1, temperature=0.1, component_dim=0)
    with pytest.raises(ValueError, match=r"but the spin has \|\|S\| - 1\| = 0\.5; normalise"):
        single.init_state(torch.tensor([0.0, 0.5, 0.0], dtype=F64), lambda s: s, seed=0)
    # round-off is accepted: float32 spins normalised in float32
    llg.init_state(random_spins((2, 3, 4, 4), seed=13, dtype=torch.float32), lambda s: s, seed=0)


@pytest.mark.parametrize(
    "shape, component_dim, match",
    [
        ((2, 4, 4, 4), 1, "have 4 components on component_dim=1; it must be 3"),
        ((2, 2, 4, 4), 1, "have 2 components"),
        ((3, 4, 4), 3, "component_dim=3 is not an axis of spins of shape"),
        ((3, 4, 4), -4, "component_dim=-4 is not an axis"),
        ((3,), 1, "is not an axis"),
    ],
)
def test_wrong_component_axis_is_refused(shape, component_dim, match):
    llg = LandauLifshitzGilbert(dt=0.1, alpha=0.1, temperature=0.1, component_dim=component_dim)
    q0 = torch.zeros(shape, dtype=F64)
    with pytest.raises(ValueError, match=match):
        llg.init_state(q0, lambda s: s, seed=0)
    good = LandauLifshitzGilbert(dt=0.1, alpha=0.1, temperature=0.1, component_dim=0)
    state = good.init_state(random_spins((3, 2), seed=0, dim=0), lambda s: s, seed=0)
    with pytest.raises(ValueError, match=r"components|not an axis"):  # a state of another layout at step
        llg.step(state, lambda s: s)


def test_velocities_and_non_tensors_are_refused():
    llg = LandauLifshitzGilbert(dt=0.1, alpha=0.1, temperature=0.1)
    q0 = random_spins((1, 3, 2, 2), seed=14)
    with pytest.raises(ValueError, match=r"has no velocities; pass v0=None"):
        llg.init_state(q0, lambda s: s, seed=0, v0=torch.zeros_like(q0))
    with pytest.raises(TypeError, match=r"q0 must be a real floating-point torch\.Tensor"):
        llg.init_state(q0.numpy(), lambda s: s, seed=0)
    with pytest.raises(TypeError, match=r"q0 must be a real floating-point torch\.Tensor"):
        llg.init_state(torch.ones(1, 3, 2, 2, dtype=torch.int64), lambda s: s, seed=0)
    with pytest.raises(ValueError, match="force_fn returned forces of shape"):
        llg.init_state(q0, lambda s: s[:, :2], seed=0)
