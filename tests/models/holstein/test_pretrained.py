"""The shipped pretrained force field: loads, is exactly symmetric, and knows the ED forces."""

import json

import latsym_holstein._pretrained as pretrained_module
import numpy as np
import pytest
import torch
from latsym_holstein._pretrained import (
    MODEL_CARD_PATH,
    PRETRAINED_DIR,
    PRETRAINED_PATH,
    model_card,
    pretrained,
)
from latsym_holstein.data import INITIAL_Q_STD
from latsym_holstein.ed import ed_forces
from latsym_holstein.lattice_net import holstein_group
from latsym_holstein.networks import build_network, read_network_file
from latsym_holstein.train import force_metrics

from latsym.lattice import PeriodicLattice, square
from latsym.testing import assert_equivariant


def test_the_files_are_shipped_and_small():
    assert PRETRAINED_PATH.is_file() and MODEL_CARD_PATH.is_file()
    assert PRETRAINED_PATH.stat().st_size < 2**20  # a few MB at most; it is far smaller


def test_it_is_the_default_architecture_in_eval_mode():
    net = pretrained()
    assert not net.training and net.name == "latsym"
    assert net.config == build_network("latsym").config  # the shipped model is the preset's default
    assert net.input_scale.dtype == torch.float32 and net.input_scale > 1


@pytest.mark.parametrize("shape", [(12, 12), (3, 16, 16), (10, 14), (2, 64, 40)])
def test_forces_on_any_lattice_size(shape, dtype):
    net = pretrained(dtype=dtype)
    q = INITIAL_Q_STD * torch.randn(shape, dtype=dtype, generator=torch.Generator().manual_seed(0))
    forces = net(q)
    assert forces.shape == q.shape and forces.dtype == dtype and torch.isfinite(forces).all()


def test_exactly_equivariant_under_translations_d4_and_z2(dtype):
    net = pretrained(dtype=dtype)
    report = assert_equivariant(net, lattice=PeriodicLattice(square(), 8), channel_dim=None, dtype=dtype)
    assert len(report.errors) == holstein_group().order + 2 + 1  # every element of 4mm x Z2, translations


def _fresh_configurations(size: int) -> np.ndarray:
    """Configurations the network never saw: high-temperature random ones, and checkerboard CDWs with
    two domains and thermal noise, like late quench snapshots."""
    rng = np.random.default_rng(12345)
    random = INITIAL_Q_STD * rng.standard_normal((3, size, size))
    x, y = np.indices((size, size))
    domains = np.where(x < size // 2, 1.0, -1.0)
    cdw = 6.0 * (-1.0) ** (x + y) * domains + 0.5 * rng.standard_normal((3, size, size))
    return np.concatenate([random, cdw])


def test_it_reproduces_exact_forces_on_unseen_configurations():
    """Against ED on a lattice size it was not trained on: RMSE within 15 % of the force spread on the
    random configurations and within 10 % on the CDW domains (a zero force field scores 100 %)."""
    q = _fresh_configurations(20)
    exact = ed_forces(q)
    with torch.no_grad():
        predicted = pretrained(dtype=torch.float64)(torch.from_numpy(q)).numpy()
    random, cdw = force_metrics(predicted[:3], exact[:3]), force_metrics(predicted[3:], exact[3:])
    assert random["rmse_relative"] < 0.15, random
    assert cdw["rmse_relative"] < 0.1, cdw


def test_the_model_card_states_the_shipped_metrics():
    card = model_card()
    report = json.loads((PRETRAINED_DIR / "report.json").read_text())
    payload = read_network_file(PRETRAINED_PATH)
    assert "latsym holstein generate" in card and "latsym holstein train" in card
    assert f"{report['held_out']['mse']:.4f}" in card and f"{report['held_out']['r2']:.4f}" in card
    for kind in ("random", "quench"):
        assert f"{report['held_out_by_kind'][kind]['mse']:.4f}" in card
    assert report["n_parameters"] == pretrained().n_parameters() and f"{report['n_parameters']:,}" in card
    assert payload["config"] == report["settings"]["config"]


def test_bad_input():
    with pytest.raises(TypeError, match=r"dtype must be torch\.float32 or torch\.float64"):
        pretrained(dtype=torch.int64)
    with pytest.raises(TypeError, match=r"q has dtype torch\.float64 but the network is torch\.float32"):
        pretrained()(torch.zeros(8, 8, dtype=torch.float64))


def test_a_missing_file_is_named(monkeypatch, tmp_path):
    monkeypatch.setattr(pretrained_module, "PRETRAINED_PATH", tmp_path / "gone.pt")
    with pytest.raises(FileNotFoundError, match=r"gone\.pt is missing; reinstall latsym-holstein"):
        pretrained()
