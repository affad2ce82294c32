"""The shipped Kondo network: it loads through ``--network pretrained``'s hook, is exactly
equivariant, and its error on fresh ED configurations matches its model card."""

import json

import numpy as np
import pytest
import torch
from latsym_kondo import effective_field, random_spins
from latsym_kondo.networks import SPIN
from latsym_kondo.plugin import KondoPlugin

from latsym.forcefield import force_metrics
from latsym.lattice import PeriodicLattice, triangular
from latsym.testing import assert_equivariant


@pytest.fixture(scope="module")
def plugin():
    return KondoPlugin()


@pytest.fixture(scope="module")
def network(plugin):
    path = plugin.pretrained_path()
    assert path is not None and path.is_file()
    return plugin.network_registry().load(path).double().eval()


@pytest.fixture(scope="module")
def card_report(plugin):
    return json.loads((plugin.pretrained_path().parent / "report.json").read_text())


def test_the_model_card_states_the_report_numbers(plugin, card_report):
    card = (plugin.pretrained_path().parent / "MODEL_CARD.md").read_text()
    for kind in ("random", "quench"):
        assert f"{card_report['held_out_by_kind'][kind]['rmse_relative']:.3f}" in card
    assert f"{card_report['held_out']['rmse_relative']:.3f}" in card


def test_the_pretrained_network_is_exactly_equivariant(network, plugin):
    assert_equivariant(network, SPIN, SPIN, group=plugin.symmetry_group(),
                       lattice=PeriodicLattice(triangular(), 12), dtype=torch.float64, atol=1e-10,
                       samples=1, channel_dim=1)


def test_the_pretrained_network_matches_its_card_on_fresh_ed_configurations(network, plugin, card_report):
    """h⊥ on four fresh random 12 × 12 configurations: RMSE/std within 1.5× of the card's figure."""
    spins = random_spins((4, 3, 12, 12), np.random.default_rng(2024))
    exact = plugin.training_target(spins, effective_field(spins, plugin.params.electrons()))
    with torch.no_grad():
        predicted = network(torch.from_numpy(spins)).numpy()
    metrics = force_metrics(plugin.training_target(spins, predicted), exact)
    card = card_report["held_out_by_kind"]["random"]["rmse_relative"]
    assert metrics["rmse_relative"] <= 1.5 * card
