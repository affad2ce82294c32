"""The shipped Kondo network: it loads through ``--network pretrained``'s hook, is exactly
equivariant, and its error on fresh ED configurations matches its model card."""

import json

import numpy as np
import pytest
import torch
from latsym_kondo import chiral_domains, effective_field, random_spins
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


#: The two data sets of the card: uniform random spins and noisy tetrahedral domains, 24 × 24.
DATA_SETS = {"random": "r24.h5", "domains": "d24.h5"}


def test_the_model_card_states_the_report_numbers(plugin, card_report):
    card = (plugin.pretrained_path().parent / "MODEL_CARD.md").read_text()
    for data in DATA_SETS.values():
        assert f"{card_report['held_out_by_dataset'][data]['rmse_relative']:.3f}" in card
    assert f"{card_report['held_out']['rmse_relative']:.3f}" in card


def test_the_pretrained_network_is_exactly_equivariant(network, plugin):
    side = network.min_side() + network.min_side() % 2
    assert_equivariant(network, SPIN, SPIN, group=plugin.symmetry_group(),
                       lattice=PeriodicLattice(triangular(), side), dtype=torch.float64, atol=1e-10,
                       samples=1, channel_dim=1)


@pytest.mark.parametrize("kind", DATA_SETS)
def test_the_pretrained_network_matches_its_card_on_fresh_configurations(network, plugin, card_report, kind):
    """h⊥ on two fresh 24 × 24 configurations of each kind of the training data: RMSE/std within 1.5× of
    the card's figure for that kind."""
    rng = np.random.default_rng(2024)
    if kind == "random":
        spins = random_spins((2, 3, 24, 24), rng)
    else:
        spins = np.stack([chiral_domains((24, 24), rng, noise=float(rng.uniform(0, 0.8))) for _ in range(2)])
    exact = plugin.training_target(spins, effective_field(spins, plugin.params.electrons()))
    with torch.no_grad():
        predicted = network(torch.from_numpy(spins)).numpy()
    metrics = force_metrics(plugin.training_target(spins, predicted), exact)
    card = card_report["held_out_by_dataset"][DATA_SETS[kind]]["rmse_relative"]
    assert metrics["rmse_relative"] <= 1.5 * card
