"""Plots: each writes a readable PNG and refuses bad input."""

import numpy as np
import pytest
from latsym_holstein.observables import correlation, order_parameter_field, structure_factor
from latsym_holstein.plots import (
    plot_coarsening,
    plot_correlation_collapse,
    plot_snapshots,
    plot_structure_factor,
)

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def domain_series():
    """Order-parameter fields of square domains growing as 2, 4, 8 on a 32x32 lattice."""
    x, y = np.meshgrid(np.arange(32), np.arange(32), indexing="ij")
    return np.stack([np.where((x // w + y // w) % 2 == 0, 0.45, -0.45) for w in (2, 4, 8)])


def assert_png(path):
    data = path.read_bytes()
    assert path.suffix == ".png" and len(data) > 1000 and data.startswith(PNG_SIGNATURE)


def test_snapshots(tmp_path):
    phi = domain_series()
    assert_png(
        plot_snapshots(phi, [1.0, 2.0, 3.0], tmp_path / "a" / "snapshots.png", ncols=2, title="domains")
    )
    assert_png(plot_snapshots(phi[0], [0.0], tmp_path / "one.png"))


def test_structure_factor(tmp_path):
    n = 0.5 + order_parameter_field(domain_series() + 0.5)
    s = structure_factor(n)
    assert_png(plot_structure_factor(s, tmp_path / "s.png", times=[1, 2, 3], zoom=np.pi / 4))
    assert_png(plot_structure_factor(s[0], tmp_path / "s_one.png"))


def test_correlation_collapse_skips_frames_without_a_length(tmp_path):
    c = correlation(np.concatenate([domain_series(), np.full((1, 32, 32), 0.45)]))  # last: one domain
    assert_png(plot_correlation_collapse(c, [1, 2, 3, 4], tmp_path / "collapse.png"))
    with pytest.raises(ValueError, match="no frame has a finite half-height length"):
        plot_correlation_collapse(c[3:], [4], tmp_path / "none.png")


def test_coarsening(tmp_path):
    t = np.geomspace(1, 1000, 20)
    length = 1.5 * t**0.45 * np.exp(0.03 * np.random.default_rng(0).standard_normal(20))
    assert_png(plot_coarsening(t, length, tmp_path / "coarsening.png", window=(5, 500)))
    assert_png(plot_coarsening(t, length, tmp_path / "coarsening_all.png"))


def test_bad_input_is_refused(tmp_path):
    phi = domain_series()
    with pytest.raises(ValueError, match=r"ending in \.png"):
        plot_snapshots(phi, [1, 2, 3], tmp_path / "snapshots.pdf")
    with pytest.raises(ValueError, match=r"one entry per phi frame \(3\)"):
        plot_snapshots(phi, [1, 2], tmp_path / "snapshots.png")
    with pytest.raises(ValueError, match="ncols must be at least 1"):
        plot_snapshots(phi, [1, 2, 3], tmp_path / "snapshots.png", ncols=0)
    with pytest.raises(ValueError, match=r"shape \(L1, L2\) or \(B, L1, L2\)"):
        plot_snapshots(phi[None], [1], tmp_path / "snapshots.png")
    with pytest.raises(ValueError, match=r"zoom must lie in \(0, pi\]"):
        plot_structure_factor(structure_factor(phi), tmp_path / "s.png", zoom=4.0)
    with pytest.raises(ValueError, match="one entry per s frame"):
        plot_structure_factor(structure_factor(phi), tmp_path / "s.png", times=[1])
    with pytest.raises(ValueError, match="one entry per c frame"):
        plot_correlation_collapse(correlation(phi), [1, 2], tmp_path / "c.png")
    with pytest.raises(ValueError, match="at least 3 points"):
        plot_coarsening([1.0, 2.0, 3.0], [1.0, 2.0, 3.0], tmp_path / "l.png", window=(1.5, 3.0))
    assert not any(tmp_path.iterdir())


def test_simple_cubic_structure_factor_and_collapse(tmp_path):
    signs = (-1.0) ** np.indices((8, 8, 8)).sum(axis=0)
    phi = np.stack([np.where(np.indices((8, 8, 8))[0] // w % 2 == 0, 0.45, -0.45) for w in (2, 4)])
    s = structure_factor(phi * signs, dim=3)
    assert_png(plot_structure_factor(s, tmp_path / "s3.png", times=[1, 2], dim=3))
    assert_png(plot_correlation_collapse(correlation(phi, dim=3), [1, 2], tmp_path / "c3.png", dim=3))
    with pytest.raises(ValueError, match=r"shape \(L1, L2, L3\) or \(B, L1, L2, L3\)"):
        plot_structure_factor(s[0, 0], tmp_path / "flat.png", dim=3)
