"""Quench analysis: observables, coarsening fit, JSON summary and plots of a trajectory file."""

import json

import h5py
import latsym_holstein.analysis as analysis_module
import numpy as np
import pytest
from latsym_holstein import observables as obs
from latsym_holstein.analysis import analyze, load_trajectory

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
TIMES = np.array([0.0, 1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0])
PLOTS = ["snapshots.png", "structure_factor.png", "correlation_collapse.png", "coarsening.png"]


def growing_domains(times, size=48, seed=0):
    """Distortions ``(T, L, L)`` of CDW domains growing as sqrt(t): one white noise smoothed by a
    Gaussian of width 0.7 sqrt(t), saturated by tanh to the amplitude 6 and staggered."""
    noise = np.random.default_rng(seed).standard_normal((size, size))
    k = 2 * np.pi * np.fft.fftfreq(size)
    k2 = k[:, None] ** 2 + k[None, :] ** 2
    signs = (-1.0) ** np.add.outer(np.arange(size), np.arange(size))
    frames = []
    for t in times:
        smooth = np.fft.ifft2(np.fft.fft2(noise) * np.exp(-k2 * 0.49 * t / 2)).real
        frames.append(6.0 * np.tanh(4 * smooth / smooth.std()) * signs)
    return np.stack(frames)


def write_trajectory(path, q, times):
    with h5py.File(path, "w") as f:
        f["q"] = q
        f["time"] = times
        f["step"] = np.arange(len(times))
    return path


@pytest.fixture(scope="module")
def trajectory(tmp_path_factory):
    return write_trajectory(tmp_path_factory.mktemp("traj") / "quench.h5", growing_domains(TIMES), TIMES)


def assert_png(path):
    data = path.read_bytes()
    assert len(data) > 1000 and data.startswith(PNG_SIGNATURE), path


def test_load_trajectory(trajectory):
    t, q = load_trajectory(trajectory)
    np.testing.assert_array_equal(t, TIMES)
    assert q.shape == (8, 48, 48) and q.dtype == np.float64


def test_analyze_growing_domains(trajectory, tmp_path):
    summary = analyze(trajectory, tmp_path / "out", n_panels=4)
    assert json.loads((tmp_path / "out" / "analysis.json").read_text()) == summary
    assert summary["trajectory"] == str(trajectory)
    assert summary["time"] == TIMES.tolist()

    q = growing_domains(TIMES)
    phi = obs.order_parameter_field(q, field="distortion")
    np.testing.assert_allclose(summary["order_parameter"], obs.order_parameter(phi))
    np.testing.assert_allclose(summary["order_abs"], np.abs(phi).mean(axis=(1, 2)))
    sizes = np.array(summary["domain_size_cr"], dtype=float)
    np.testing.assert_allclose(sizes, obs.domain_size_correlation(obs.correlation(phi)))
    assert np.all(np.isfinite(sizes)) and np.all(np.diff(sizes) > 0)  # the domains grow
    sizes_sk = np.array(summary["domain_size_sk"], dtype=float)
    assert np.all(np.isfinite(sizes_sk)) and sizes_sk[-1] > 2 * sizes_sk[1]

    # default window: the later half of the 7 snapshots with t > 0, i.e. t = 8 ... 64
    fit = summary["fit"]
    assert fit["window"] == [8.0, 64.0]
    expected = obs.fit_coarsening_exponent(TIMES, sizes, (8.0, 64.0))
    assert (fit["alpha"], fit["alpha_err"], fit["prefactor"]) == pytest.approx(tuple(expected), rel=1e-12)
    assert fit["alpha"] == pytest.approx(0.5, abs=0.1) and 0 < fit["alpha_err"] < 0.05  # L ~ sqrt(t)

    assert summary["plots"] == [str(tmp_path / "out" / name) for name in PLOTS]
    for name in PLOTS:
        assert_png(tmp_path / "out" / name)


@pytest.fixture
def drawn(monkeypatch):
    """Replaces the plot functions (tested in test_plots.py and above) by recorders: the names of
    the plots ``analyze`` asks for, without the cost of drawing them."""
    names = []

    def recorder(name):
        def plot(*args, **kwargs):
            path = next(a for a in [*args, *kwargs.values()] if str(a).endswith(".png"))
            names.append(path.name)
            return path

        return plot

    for name in ("plot_snapshots", "plot_structure_factor", "plot_correlation_collapse", "plot_coarsening"):
        monkeypatch.setattr(analysis_module.plots, name, recorder(name))
    return names


def test_explicit_window_and_failed_fit(trajectory, tmp_path, drawn):
    summary = analyze(trajectory, tmp_path, window=(2.0, 32.0), n_panels=3)
    assert summary["fit"]["window"] == [2.0, 32.0]
    sizes = np.array(summary["domain_size_cr"], dtype=float)
    assert summary["fit"]["alpha"] == pytest.approx(obs.fit_coarsening_exponent(TIMES, sizes, (2, 32)).alpha)
    assert drawn == PLOTS

    drawn.clear()
    summary = analyze(trajectory, tmp_path / "empty", window=(100.0, 200.0))
    assert summary["fit"]["window"] == [100.0, 200.0]
    assert "at least 3 points" in summary["fit"]["error"]
    assert drawn == PLOTS[:3]  # no coarsening plot without a fit
    assert json.loads((tmp_path / "empty" / "analysis.json").read_text())["fit"] == summary["fit"]


def test_fit_skips_snapshots_without_a_finite_size(tmp_path, monkeypatch):
    """A system-wide ordered snapshot (L = inf) inside the fit window is left out of the fit."""
    for name in ("plot_snapshots", "plot_structure_factor", "plot_correlation_collapse"):
        monkeypatch.setattr(analysis_module.plots, name, lambda *args, **kwargs: args[-1])
    q = growing_domains(TIMES)
    q[6] = 6.0 * (-1.0) ** np.add.outer(np.arange(48), np.arange(48))  # t = 32: one domain
    summary = analyze(write_trajectory(tmp_path / "t.h5", q, TIMES), tmp_path / "out")
    sizes = np.array(summary["domain_size_cr"], dtype=float)
    assert summary["domain_size_cr"][6] is None and np.isnan(sizes[6])
    keep = np.arange(8) != 6
    expected = obs.fit_coarsening_exponent(TIMES[keep], sizes[keep], (8.0, 64.0))
    assert summary["fit"]["window"] == [8.0, 64.0]
    assert summary["fit"]["alpha"] == pytest.approx(expected.alpha, rel=1e-12)
    assert_png(tmp_path / "out" / "coarsening.png")


def test_short_trajectory_has_no_fit(tmp_path, drawn):
    times = TIMES[:4]
    path = write_trajectory(tmp_path / "short.h5", growing_domains(times), times)
    summary = analyze(path, tmp_path / "out")
    assert summary["fit"] is None
    assert drawn == PLOTS[:3]
    assert summary["plots"] == [str(tmp_path / "out" / name) for name in PLOTS[:3]]


def test_ordered_and_zero_fields_give_null_sizes(tmp_path, drawn):
    """A perfect checkerboard has infinite domains and a zero field none: JSON gets null, no crash."""
    signs = (-1.0) ** np.add.outer(np.arange(8), np.arange(8))
    q = np.stack([np.zeros((8, 8)), 6.0 * signs, 6.0 * signs])
    path = write_trajectory(tmp_path / "ordered.h5", q, np.array([0.0, 1.0, 2.0]))
    summary = analyze(path, tmp_path / "out")
    assert summary["domain_size_cr"] == [None, None, None]
    assert summary["order_parameter"] == pytest.approx([0.0, 6.0, 6.0])
    assert summary["fit"] is None
    assert drawn == PLOTS[:2]  # nothing to collapse
    json.loads((tmp_path / "out" / "analysis.json").read_text())


def test_bad_files(tmp_path):
    with pytest.raises(ValueError, match=r"no trajectory at .*latsym holstein simulate"):
        analyze(tmp_path / "missing.h5", tmp_path)
    garbage = tmp_path / "garbage.h5"
    garbage.write_bytes(b"\x00garbage" * 50)
    with pytest.raises(ValueError, match="not a readable HDF5 file"):
        analyze(garbage, tmp_path)
    foreign = tmp_path / "foreign.h5"
    with h5py.File(foreign, "w") as f:
        f["q"] = np.zeros((2, 4, 4))
    with pytest.raises(ValueError, match=r"not a latsym trajectory .no 'q' and 'time' datasets"):
        analyze(foreign, tmp_path)
    batched = write_trajectory(tmp_path / "batched.h5", np.zeros((2, 3, 4, 4)), np.array([0.0, 1.0]))
    with pytest.raises(ValueError, match="expected snapshots of shape \\(T, 4, 4\\)"):
        analyze(batched, tmp_path)
    assert not (tmp_path / "analysis.json").exists()


def growing_cubic_domains(times, size=16, seed=0):
    """The simple cubic counterpart of :func:`growing_domains`: ``(T, L, L, L)``."""
    noise = np.random.default_rng(seed).standard_normal((size,) * 3)
    k2 = sum(k**2 for k in np.meshgrid(*3 * [2 * np.pi * np.fft.fftfreq(size)], indexing="ij"))
    signs = (-1.0) ** np.indices((size,) * 3).sum(axis=0)
    frames = []
    for t in times:
        smooth = np.fft.ifftn(np.fft.fftn(noise) * np.exp(-k2 * 0.49 * t / 2)).real
        frames.append(6.0 * np.tanh(4 * smooth / smooth.std()) * signs)
    return np.stack(frames)


def test_analyze_a_simple_cubic_trajectory(tmp_path):
    """The metadata's shape makes a (T, L1, L2, L3) trajectory simple cubic: observables with dim=3."""
    q = growing_cubic_domains(TIMES)
    path = write_trajectory(tmp_path / "cubic.h5", q, TIMES)
    with h5py.File(path, "a") as f:
        f.attrs["metadata"] = json.dumps({"model": "holstein", "shape": [16, 16, 16]})
    times, loaded = load_trajectory(path)
    assert loaded.shape == (8, 16, 16, 16) and times.tolist() == TIMES.tolist()
    summary = analyze(path, tmp_path / "out", n_panels=4, window=(1.0, 16.0))
    phi = obs.order_parameter_field(q, field="distortion", dim=3)
    np.testing.assert_allclose(summary["order_abs"], np.abs(phi).mean(axis=(1, 2, 3)))
    sizes = np.array(summary["domain_size_cr"][:6], dtype=float)
    expected = obs.domain_size_correlation(obs.correlation(phi, dim=3), dim=3)
    np.testing.assert_allclose(sizes, expected[:6])
    assert np.all(np.diff(sizes) > 0)  # the domains grow, until one fills the 16^3 box (L = inf: null)
    assert summary["domain_size_cr"][6:] == [None, None] and np.all(np.isinf(expected[6:]))
    assert summary["fit"]["alpha"] == pytest.approx(0.5, abs=0.15)  # L ~ sqrt(t), as in 2D
    for name in PLOTS:
        assert_png(tmp_path / "out" / name)


def test_analyze_a_simple_cubic_ed_quench(tmp_path, cubic_plugin):
    """End to end: simulate() on a 4x4x4 simple cubic lattice with ED forces, then analyze()."""
    from latsym_holstein.params import HolsteinParams

    import latsym.forcefield

    plugin = cubic_plugin(HolsteinParams(kappa=0.12))  # k > 6|kappa|: a stable elastic energy in 3D
    latsym.forcefield.simulate(plugin, tmp_path / "q.h5", (4, 4, 4), 40, seed=1, snapshot_every=10,
                               progress=False)
    summary = latsym.forcefield.analyze(plugin, tmp_path / "q.h5", tmp_path / "out")
    assert summary["time"] == pytest.approx([0.0, 0.5, 1.0, 1.5, 2.0])
    with h5py.File(tmp_path / "q.h5") as f:
        recorded = f["observables"]["order_abs"][()]
    np.testing.assert_allclose(summary["order_abs"], recorded.reshape(-1), rtol=1e-12)
    assert_png(tmp_path / "out" / "snapshots.png")


def test_trajectory_shape_must_match_its_metadata(tmp_path):
    path = write_trajectory(tmp_path / "mismatch.h5", np.zeros((2, 4, 4, 4)), np.array([0.0, 1.0]))
    with h5py.File(path, "a") as f:
        f.attrs["metadata"] = json.dumps({"shape": [4, 4]})  # a batched square-lattice run
    with pytest.raises(ValueError, match=r"shape \(T, 4, 4\) from its metadata, got \(2, 4, 4, 4\)"):
        analyze(path, tmp_path)
    with h5py.File(path, "a") as f:
        f.attrs["metadata"] = json.dumps({"shape": [4, 4], "replicas": 3})
    with pytest.raises(ValueError, match=r"shape \(T, 3, 4, 4\) from its metadata, got \(2, 4, 4, 4\)"):
        analyze(path, tmp_path)


def test_replicas_are_averaged(tmp_path, drawn):
    """S(k), C(r) and the order parameters of a run of replicas are replica averages; domain sizes
    come from the averaged S and C; the snapshots show replica 0."""
    q = np.stack([growing_domains(TIMES, size=32, seed=seed) for seed in (0, 1, 2)], axis=1)
    path = write_trajectory(tmp_path / "replicas.h5", q, TIMES)
    with h5py.File(path, "a") as f:
        f.attrs["metadata"] = json.dumps({"shape": [32, 32], "replicas": 3})
    assert load_trajectory(path)[1].shape == (8, 3, 32, 32)
    summary = analyze(path, tmp_path / "out")
    phi = [obs.order_parameter_field(q[:, r], field="distortion") for r in range(3)]
    c = np.mean([obs.correlation(p) for p in phi], axis=0)
    s = np.mean([obs.structure_factor(q[:, r]) for r in range(3)], axis=0)
    def assert_sizes(key, expected):  # the summary writes a size that is not finite as None
        written = np.array([np.nan if v is None else v for v in summary[key]])
        np.testing.assert_allclose(written, np.where(np.isfinite(expected), expected, np.nan), rtol=1e-12)

    assert_sizes("domain_size_cr", obs.domain_size_correlation(c))
    assert_sizes("domain_size_sk", obs.domain_size_structure_factor(s))
    np.testing.assert_allclose(summary["order_abs"],
                               np.mean([obs.order_parameter(p, absolute=True) for p in phi], axis=0))
    assert summary["replicas"] == 3 and summary["fit"]["alpha"] > 0
    one = analyze(write_trajectory(tmp_path / "one.h5", q[:, 0], TIMES), tmp_path / "one")
    assert one["replicas"] == 1 and one["domain_size_cr"] != summary["domain_size_cr"]
