"""Training Holstein networks: the binding of latsym.forcefield.train, its networks, the odd-network
rule, the cubic subclass and the ``latsym holstein train`` command."""

import argparse
import json

import numpy as np
import pytest
import torch
from latsym_holstein import HolsteinParams
from latsym_holstein import train as train_module
from latsym_holstein.data import DatasetError, GenerationOptions, generate, load_dataset
from latsym_holstein.networks import build_network, load_network
from latsym_holstein.plugin import HolsteinPlugin
from latsym_holstein.train import configure_parser, predict, run_from_args, train

import latsym.forcefield
from latsym.lattice import square
from latsym.plugin import ModelPlugin

TINY = {"widths": [1, 8, 8, 1]}


@pytest.fixture(autouse=True)
def one_thread():
    """Tiny tensors run fastest on one thread (and a loaded machine makes two much slower)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope="session")
def data(tmp_path_factory):
    """12 configurations of 8 x 8: 6 random ones and 2 quenches x 3 snapshots (8 training, 4 held out)."""
    options = GenerationOptions(
        shape=(8, 8), n_random=6, n_quenches=2, snapshots_per_quench=3, snapshot_every=5
    )
    return generate(tmp_path_factory.mktemp("data") / "tiny.h5", options, progress=False)


def run(data, out, **kwargs):
    settings = {"network": "gnn", "network_config": TINY, "epochs": 3, "progress": False, "plots": False,
                **kwargs}
    return train(data, out, **settings)


def test_holstein_training_records_the_model_and_its_parameters(data, tmp_path):
    report = run(data, tmp_path, epochs=2)
    net = load_network(report.model_path)
    assert (net.name, net.plugin, net.config) == ("gnn", "holstein", TINY)
    assert report.n_parameters == build_network("gnn", **TINY).n_parameters()
    settings = net.extra["settings"]
    assert settings["plugin"] == "holstein" and settings["params"] == HolsteinParams().to_dict()
    assert HolsteinParams().force_field_differences(settings["params"]) == []  # what simulate checks
    checkpoint = torch.load(tmp_path / "checkpoint.pt", weights_only=True)
    assert checkpoint["format"] == "latsym-forcefield-train-checkpoint/1" and checkpoint["epoch"] == 2
    assert predict(net, load_dataset(data).q).shape == (12, 8, 8)


def test_the_binding_is_latsyms_trainer():
    for name in ("TrainReport", "TrainingError", "evaluate", "force_metrics", "predict", "device_arg",
                 "positive_int", "DEVICE_HELP", "THREADS_HELP", "SCHEDULES"):
        assert getattr(train_module, name) is getattr(latsym.forcefield, name), name


def test_an_unknown_network_is_named_with_the_holstein_presets(data, tmp_path):
    with pytest.raises(ValueError, match="unknown holstein network 'nope'; available: gnn, latsym, "):
        run(data, tmp_path, network="nope")


def test_odd_networks_are_refused_away_from_half_filling(tmp_path):
    """F(-q) = -F(q) holds only at half filling: a Z2-odd network cannot fit other data."""
    options = GenerationOptions(shape=(6, 6), n_random=3, n_quenches=0)
    doped = generate(tmp_path / "doped.h5", options, HolsteinParams(filling=0.4), progress=False)
    with pytest.raises(ValueError, match=r"'latsym' is odd in q.*filling 0.4; train a network that is not "
                                         r"odd \(gnn, paper\) or generate data at filling 0.5"):
        run(doped, tmp_path / "out", network="latsym", network_config={"odd": 2, "even": 2, "layers": 1})
    assert run(doped, tmp_path / "gnn", epochs=1).epochs == 1  # a network without the symmetry trains


def test_data_sets_of_other_models_and_subclasses_are_refused(tmp_path, cubic_plugin, capsys):
    class Elsewhere(ModelPlugin):
        """Not a Holstein model: its data sets are not the Holstein trainer's."""

        name = "elsewhere"
        Params = HolsteinParams
        input_irreps = force_irreps = "A1:odd"

        def lattice(self):
            return square()

        def symmetry_group(self):
            return HolsteinPlugin().symmetry_group()

        def reference_forces(self, q):
            return -q

        def random_configuration(self, shape, rng, scale=None):
            return rng.standard_normal(tuple(shape))

        def dynamics_defaults(self):
            return {"dt": 0.1, "gamma": 0.1, "temperature": 0.1, "mass": 1.0}

    options = GenerationOptions(shape=(4, 4), n_random=3, n_quenches=0)
    other = latsym.forcefield.generate(Elsewhere(), tmp_path / "other.h5", options, progress=False)
    with pytest.raises(DatasetError, match="is a data set of the 'elsewhere' model, not of 'holstein'"):
        run(other, tmp_path / "out")
    options = GenerationOptions(shape=(2, 2, 2), n_random=3, n_quenches=0)
    cubic = cubic_plugin(HolsteinParams(kappa=0.12))
    cube = latsym.forcefield.generate(cubic, tmp_path / "cube.h5", options, progress=False)
    # a subclass's data set trains with that subclass only, named by `plugin`
    with pytest.raises(DatasetError, match="is a data set of the 'holstein-cubic' model, not of 'holstein'"):
        run(cube, tmp_path / "out")
    assert run_from_args(parse("--data", str(cube), "--out", str(tmp_path / "out"), "--no-progress")) == 2
    assert "is a data set of the 'holstein-cubic' model" in capsys.readouterr().err
    with pytest.raises(TypeError, match="plugin must be HolsteinPlugin or a subclass of it"):
        run(cube, tmp_path / "out", plugin=Elsewhere)
    with pytest.raises(DatasetError, match="no data set"):
        run(tmp_path / "missing.h5", tmp_path / "out")


# -- CLI hook ------------------------------------------------------------------------------------


def parse(*argv):
    parser = argparse.ArgumentParser()
    configure_parser(parser)
    return parser.parse_args(list(argv))


def test_cli_trains_and_reports(data, tmp_path, capsys):
    out = tmp_path / "run"
    float32 = ["--data", str(data), "--out", str(out), "--network", "gnn",
               "--network-config", json.dumps(TINY), "--epochs", "2",
               "--no-progress", "--no-plots"]
    args = parse(*float32, "--patience", "0", "--dtype", "float64")
    assert run_from_args(args) == 0
    printed = capsys.readouterr().out
    assert "held-out force RMSE" in printed and "held-out MSE by kind: random " in printed
    document = json.loads((out / "report.json").read_text())
    assert document["settings"]["dtype"] == "float64" and document["settings"]["early_stopping"] is None
    assert run_from_args(parse(*float32)) == 2  # another dtype: it does not resume the float64 run
    assert "different dtype" in capsys.readouterr().err
    assert run_from_args(parse(*float32, "--overwrite")) == 0
    assert parse("--data", "d", "--out", "o").network == "latsym"


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--network", "nope"], "unknown holstein network 'nope'"),
        (["--network-config", "{bad"], "not valid JSON"),
        (["--network-config", "[1, 2]"], "must be a JSON object"),
        (["--network-config", '{"depth": 3}'], "does not accept config"),
        (["--epochs", "0"], "epochs must be"),
    ],
)
def test_cli_bad_input_exits_2(data, tmp_path, capsys, extra, message):
    args = parse("--data", str(data), "--out", str(tmp_path), "--no-progress", *extra)
    assert run_from_args(args) == 2
    err = capsys.readouterr().err
    assert err.startswith("latsym holstein train: ") and message in err


def test_cli_missing_data_exits_2(tmp_path, capsys):
    args = parse("--data", str(tmp_path / "none.h5"), "--out", str(tmp_path), "--no-progress")
    assert run_from_args(args) == 2
    assert "no data set" in capsys.readouterr().err


def test_cli_network_defaults_of_a_plugin_lie_under_the_users_config(data, tmp_path, capsys):
    parser = argparse.ArgumentParser()
    configure_parser(parser, networks=["gnn"])
    base = ["--data", str(data), "--epochs", "1", "--no-progress", "--no-plots"]
    args = parser.parse_args([*base, "--out", str(tmp_path / "a")])
    assert args.network == "gnn"
    assert run_from_args(args, network_defaults={"widths": [1, 4, 1]}) == 0
    assert load_network(tmp_path / "a" / "model.pt").config == {"widths": [1, 4, 1]}
    args = parser.parse_args([*base, "--out", str(tmp_path / "b"), "--network-config", json.dumps(TINY)])
    assert run_from_args(args, network_defaults={"widths": [1, 4, 1]}) == 0
    assert load_network(tmp_path / "b" / "model.pt").config == TINY
    args = parser.parse_args([*base, "--out", str(tmp_path / "c"), "--network-config", '{"depth": 2}'])
    assert run_from_args(args, prog="latsym holstein-cubic train") == 2
    assert capsys.readouterr().err.startswith("latsym holstein-cubic train: network 'gnn' does not accept")


def test_trains_on_the_simple_cubic_lattice(tmp_path, cubic_plugin):
    from latsym_holstein import ed_forces

    options = GenerationOptions(shape=(4, 4, 4), n_random=6, n_quenches=0)
    params = HolsteinParams(kappa=0.12)
    path = latsym.forcefield.generate(cubic_plugin(params), tmp_path / "cube.h5", options, progress=False)
    config = {"lattice": "sc", "odd": 2, "even": 2, "gated": "1xT1u:odd", "layers": 1, "skip_radius": 1.0}
    report = train(path, tmp_path / "run", "latsym", config, plugin=cubic_plugin, epochs=1, progress=False,
                   plots=False)
    net = load_network(report.model_path)
    dataset = load_dataset(path)
    predicted = predict(net, dataset.q)
    assert predicted.shape == (6, 4, 4, 4) and report.metrics["n_sites"] == 2 * 64
    settings = net.extra["settings"]
    assert settings["plugin"] == "holstein-cubic" and settings["params"]["kappa"] == 0.12
    np.testing.assert_allclose(dataset.forces, ed_forces(dataset.q, params, dim=3), atol=1e-12)


def test_default_network_is_latsyms_own_as_on_the_command_line(data, tmp_path):
    report = train(data, tmp_path, epochs=1, progress=False, plots=False)
    assert load_network(report.model_path).name == "latsym" == parse("--data", "d", "--out", "o").network


def test_latsym_holstein_train_stops_cleanly_on_ctrl_c_and_resumes(data, tmp_path, capsys, monkeypatch):
    import latsym.forcefield._train as trainer

    one_epoch = trainer._train_epoch

    def interrupted(*args):
        if args[6] == 2:  # the epoch argument
            raise KeyboardInterrupt
        return one_epoch(*args)

    monkeypatch.setattr(trainer, "_train_epoch", interrupted)
    argv = ["holstein", "train", "--data", str(data), "--out", str(tmp_path), "--network", "gnn",
            "--network-config", json.dumps(TINY), "--epochs", "2", "--no-progress", "--no-plots"]
    assert HolsteinPlugin.run_cli(argv) == 130
    assert capsys.readouterr().err == (
        "latsym holstein train: interrupted; the progress is saved: run the same command again to resume\n")
    assert torch.load(tmp_path / "checkpoint.pt", weights_only=True)["epoch"] == 1
    monkeypatch.setattr(trainer, "_train_epoch", one_epoch)
    assert HolsteinPlugin.run_cli(argv) == 0
    assert "after 2 epochs" in capsys.readouterr().out
    assert HolsteinPlugin.run_cli([*argv[:-3], "1", *argv[-2:]]) == 2  # --epochs 1 into the 2-epoch run
    assert "holds a training run of 2 epochs, more than the 1 asked for" in capsys.readouterr().err
