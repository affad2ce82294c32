"""Training data: file layout, exact forces, determinism, resumability and clear errors."""

import dataclasses
import json
import math

import h5py
import numpy as np
import pytest
import torch
from latsym_holstein import HolsteinParams, ed_solve
from latsym_holstein import ed as ed_module
from latsym_holstein.data import (
    INITIAL_Q_STD,
    Dataset,
    DatasetError,
    GenerationOptions,
    generate,
    load_dataset,
    preset,
)
from latsym_holstein.plugin import HolsteinPlugin

import latsym
import latsym.forcefield
from latsym.dynamics import LangevinVV
from latsym.forcefield import quench_initial_state as plugin_quench_initial_state
from latsym.forcefield import random_configuration as plugin_random_configuration
from latsym.forcefield._data import FORMAT

# 5 random configurations (ED batches of 2: 3 calls) and 2 quenches of 3 snapshots every 2 steps
OPTIONS = GenerationOptions(
    shape=(4, 4), n_random=5, n_quenches=2, snapshots_per_quench=3, snapshot_every=2, seed=3
)
PARAMS = HolsteinParams(temperature=0.2)
ARRAYS = ("q", "forces", "density", "free_energy", "source", "step")


def random_configuration(options, index, params=PARAMS):
    return plugin_random_configuration(HolsteinPlugin(params), options, index)


def quench_initial_state(options, index, params=PARAMS):
    return plugin_quench_initial_state(HolsteinPlugin(params), options, index)
# ED calls of one generation with OPTIONS and batch_size=2: 3 random batches, then per quench the
# initial force, 6 steps and one batch for its snapshots
N_ED_CALLS = 3 + 2 * (1 + 6 + 1)


def make(path, options=OPTIONS, params=PARAMS, **kwargs):
    return generate(path, options, params, progress=False, batch_size=2, **kwargs)


def read_arrays(path):
    with h5py.File(path, "r") as f:
        return {name: f[name][()] for name in ARRAYS}


def assert_same_arrays(path_a, path_b):
    a, b = read_arrays(path_a), read_arrays(path_b)
    for name in ARRAYS:
        assert a[name].dtype == b[name].dtype, name
        np.testing.assert_array_equal(a[name], b[name], err_msg=name)


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    """One uninterrupted generation with OPTIONS and PARAMS."""
    return make(tmp_path_factory.mktemp("reference") / "data.h5")


class CountingED:
    """Stands in for ``ed_solve`` in ``latsym_holstein.ed``: counts calls, optionally raising
    ``KeyboardInterrupt`` at call number ``interrupt_at`` (1-based) instead of computing."""

    def __init__(self, interrupt_at=None):
        self.calls = 0
        self.random_rows = 0  # rows of numpy batches (random configurations and quench snapshots)
        self.interrupt_at = interrupt_at

    def __call__(self, q, params, dim):
        self.calls += 1
        if self.calls == self.interrupt_at:
            raise KeyboardInterrupt
        if isinstance(q, np.ndarray):
            self.random_rows += len(q)
        return ed_solve(q, params, dim=dim)


# -- layout and content ---------------------------------------------------------------------------


def test_file_layout_and_attributes(reference):
    n = OPTIONS.n_configurations
    assert n == 5 + 2 * 3
    with h5py.File(reference, "r") as f:
        for name in ("q", "forces", "density"):
            assert f[name].shape == (n, 4, 4) and f[name].dtype == np.float64
        assert f["free_energy"].shape == (n,) and f["free_energy"].dtype == np.float64
        for name in ("source", "step"):
            assert f[name].shape == (n,) and f[name].dtype == np.int64
        attrs = dict(f.attrs)
    assert attrs["format"] == FORMAT and attrs["plugin"] == "holstein"
    assert json.loads(attrs["params"]) == PARAMS.to_dict()
    assert json.loads(attrs["layout"]) == {"dim": 2, "channels": 1, "sublattices": 1, "centre": None}
    assert json.loads(attrs["options"]) == OPTIONS.to_dict()
    assert attrs["latsym_version"] == latsym.__version__
    assert attrs["created"].endswith("+00:00")
    assert (attrs["n_random_done"], attrs["n_quenches_done"]) == (5, 2)
    assert not reference.with_name(reference.name + ".work").exists()  # quench files cleaned up


def test_rows_sources_and_steps(reference):
    ds = load_dataset(reference)
    assert isinstance(ds, Dataset) and len(ds) == 11
    assert ds.params == PARAMS and ds.options == OPTIONS
    np.testing.assert_array_equal(ds.source, [-1] * 5 + [0] * 3 + [1] * 3)
    np.testing.assert_array_equal(ds.step, [0] * 5 + [2, 4, 6] * 2)
    for i in range(5):
        np.testing.assert_array_equal(ds.q[i], random_configuration(OPTIONS, i))


def test_forces_are_the_exact_forces_of_the_stored_configurations(reference):
    ds = load_dataset(reference)
    exact = ed_solve(ds.q, PARAMS)
    np.testing.assert_allclose(ds.forces, exact.forces, rtol=0, atol=1e-12)
    np.testing.assert_allclose(ds.density, exact.density, rtol=0, atol=1e-12)
    np.testing.assert_allclose(ds.free_energy, exact.free_energy, rtol=1e-13, atol=1e-12)


def test_quench_rows_follow_the_langevin_dynamics(reference):
    """The snapshots of quench 1 are those of an independent velocity-Verlet + OU integration."""
    ds = load_dataset(reference)
    q0, v0, noise_seed = quench_initial_state(OPTIONS, 1)
    integrator = LangevinVV(
        mass=PARAMS.mass, gamma=PARAMS.gamma, temperature=PARAMS.temperature, dt=PARAMS.dt
    )

    def force(q):
        return ed_solve(q, PARAMS).forces

    state = integrator.init_state(torch.from_numpy(q0), force, seed=noise_seed, v0=torch.from_numpy(v0))
    snapshots = []
    for step in range(1, 7):
        state = integrator.step(state, force)
        if step % 2 == 0:
            snapshots.append(state.q.numpy())
    np.testing.assert_array_equal(ds.q[ds.source == 1], np.stack(snapshots))


def test_random_and_initial_configurations():
    a = random_configuration(OPTIONS, 0)
    assert a.shape == (4, 4)
    np.testing.assert_array_equal(a, random_configuration(OPTIONS, 0))
    assert not np.array_equal(a, random_configuration(OPTIONS, 1))
    assert not np.array_equal(a, random_configuration(dataclasses.replace(OPTIONS, seed=4), 0))
    np.testing.assert_allclose(
        random_configuration(dataclasses.replace(OPTIONS, random_scale=2.0), 3),
        2.0 / INITIAL_Q_STD * random_configuration(OPTIONS, 3),
        rtol=1e-15,
    )
    q, v, noise_seed = quench_initial_state(OPTIONS, 0)
    q1, _, noise_seed1 = quench_initial_state(OPTIONS, 1)
    assert q.shape == v.shape == (4, 4) and isinstance(noise_seed, int) and noise_seed != noise_seed1
    assert not np.array_equal(q, q1)
    # a large sample has the stated spread
    big = GenerationOptions(shape=(100, 100), n_random=1, n_quenches=0)
    assert np.std(random_configuration(big, 0)) == pytest.approx(INITIAL_Q_STD, rel=0.03)
    assert np.std(quench_initial_state(big, 0)[1]) == pytest.approx(1.0, rel=0.03)


def test_deterministic_and_independent_of_batch_size(tmp_path, reference):
    make(tmp_path / "again.h5")
    assert_same_arrays(reference, tmp_path / "again.h5")
    generate(tmp_path / "batched.h5", OPTIONS, PARAMS, progress=False, batch_size=3)
    assert_same_arrays(reference, tmp_path / "batched.h5")
    make(tmp_path / "seed.h5", dataclasses.replace(OPTIONS, seed=4))
    assert not np.array_equal(read_arrays(tmp_path / "seed.h5")["q"], read_arrays(reference)["q"])


def test_no_quenches_and_numpy_integer_options(tmp_path):
    options = GenerationOptions(shape=(np.int64(4), 6), n_random=np.int64(3), n_quenches=0, seed=np.int32(1))
    assert type(options.n_random) is int and type(options.seed) is int and options.shape == (4, 6)
    ds = load_dataset(make(tmp_path / "random.h5", options))
    assert ds.q.shape == (3, 4, 6) and ds.options == options
    np.testing.assert_array_equal(ds.source, [-1, -1, -1])


# -- resumability ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "interrupt_at, recomputed",
    [
        (2, 0),  # in the second batch of random configurations
        (4, 0),  # at the initial force of quench 0
        (8, 1),  # at step 4 of quench 0: its initial force is evaluated again on resume
        (11, 1),  # at the exact forces of quench 0's snapshots, after its dynamics finished
        (16, 1),  # at step 4 of quench 1
    ],
)
def test_interrupted_generation_resumes_to_the_same_file(
    tmp_path, monkeypatch, reference, interrupt_at, recomputed
):
    out = tmp_path / "data.h5"
    first = CountingED(interrupt_at)
    monkeypatch.setattr(ed_module, "ed_solve", first)
    with pytest.raises(KeyboardInterrupt):
        make(out)
    assert first.calls == interrupt_at
    with pytest.raises(DatasetError, match="unfinished"):
        load_dataset(out)

    second = CountingED()
    monkeypatch.setattr(ed_module, "ed_solve", second)
    make(out)
    assert_same_arrays(reference, out)
    # nothing finished is computed again
    assert second.calls == N_ED_CALLS - (interrupt_at - 1) + recomputed
    assert len(load_dataset(out)) == OPTIONS.n_configurations
    assert not out.with_name(out.name + ".work").exists()


def test_resume_drops_rows_of_an_unrecorded_batch(tmp_path, monkeypatch, reference):
    out = tmp_path / "data.h5"
    monkeypatch.setattr(ed_module, "ed_solve", CountingED(interrupt_at=2))
    with pytest.raises(KeyboardInterrupt):
        make(out)
    with h5py.File(out, "r+") as f:  # as if killed while writing the second batch
        assert f.attrs["n_random_done"] == 2
        for name in ARRAYS:
            f[name].resize(3, axis=0)
            f[name][2] = 7
    counter = CountingED()
    monkeypatch.setattr(ed_module, "ed_solve", counter)
    make(out)
    assert_same_arrays(reference, out)
    assert counter.random_rows == 3 + 2 * 3  # random configurations 2, 3, 4 and the quench snapshots


def test_finished_file_is_not_recomputed(tmp_path, monkeypatch, reference):
    out = tmp_path / "data.h5"
    make(out)
    counter = CountingED()
    monkeypatch.setattr(ed_module, "ed_solve", counter)
    assert make(out) == out
    assert counter.calls == 0
    assert_same_arrays(reference, out)


def test_leftover_quench_files_of_a_deleted_data_set_are_discarded(tmp_path, monkeypatch):
    out = tmp_path / "data.h5"
    monkeypatch.setattr(ed_module, "ed_solve", CountingED(interrupt_at=8))
    with pytest.raises(KeyboardInterrupt):
        make(out)
    assert out.with_name("data.h5.work").is_dir()
    out.unlink()
    monkeypatch.setattr(ed_module, "ed_solve", ed_solve)
    other = dataclasses.replace(OPTIONS, seed=4)
    make(out, other)
    make(tmp_path / "fresh.h5", other)
    assert_same_arrays(tmp_path / "fresh.h5", out)


def test_refuses_to_resume_with_other_options_or_parameters(tmp_path, reference):
    out = tmp_path / "data.h5"
    make(out)
    for options, params in [
        (dataclasses.replace(OPTIONS, seed=4), PARAMS),
        (dataclasses.replace(OPTIONS, n_random=6), PARAMS),
        (OPTIONS, HolsteinParams(temperature=0.2, g=3.0)),
    ]:
        with pytest.raises(DatasetError, match=r"other options or parameters.*overwrite=True"):
            make(out, options, params)
    assert_same_arrays(reference, out)  # untouched
    other = dataclasses.replace(OPTIONS, n_random=2, n_quenches=1)
    make(out, other, overwrite=True)
    make(tmp_path / "fresh.h5", other)
    assert_same_arrays(tmp_path / "fresh.h5", out)
    assert load_dataset(out).options == other


def test_corrupt_and_foreign_files(tmp_path):
    garbage = tmp_path / "garbage.h5"
    garbage.write_bytes(b"this is not an HDF5 file" * 10)
    foreign = tmp_path / "foreign.h5"
    with h5py.File(foreign, "w") as f:
        f["q"] = np.zeros((2, 4, 4))
    for load in (load_dataset, make):
        with pytest.raises(DatasetError, match=r"not a readable HDF5 file.*corrupt or truncated"):
            load(garbage)
    with pytest.raises(DatasetError, match=r"not a latsym data set.*latsym <model> generate"):
        load_dataset(foreign)
    with pytest.raises(DatasetError, match=r"not a latsym-holstein data set.*latsym holstein generate"):
        make(foreign)
    with pytest.raises(DatasetError, match=r"no data set at .*generate --out"):
        load_dataset(tmp_path / "missing.h5")
    with pytest.raises(DatasetError, match="is a directory"):
        make(tmp_path)
    assert len(load_dataset(make(garbage, overwrite=True))) == OPTIONS.n_configurations


def test_progress_counters_beyond_the_rows_are_corrupt(tmp_path):
    out = make(tmp_path / "data.h5")
    with h5py.File(out, "r+") as f:
        for name in ARRAYS:
            f[name].resize(4, axis=0)
    with pytest.raises(
        DatasetError, match="corrupt: its progress counters record 11 configurations but it holds 4"
    ):
        make(out)
    with pytest.raises(DatasetError, match=r"unfinished .4 of 11"):
        load_dataset(out)


# -- options ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"shape": (4,)}, "one positive integer number of cells per lattice dimension"),
        ({"shape": 16}, "one positive integer number of cells per lattice dimension"),
        ({"shape": "16"}, "one positive integer number of cells per lattice dimension"),
        ({"shape": (4, 4, 4, 4)}, r"\(L1, L2\) or \(L1, L2, L3\)"),
        ({"shape": (4.0, 4)}, "one positive integer number of cells"),
        ({"shape": (True, 4)}, "one positive integer number of cells"),
        ({"shape": (0, 4)}, "one positive integer number of cells"),
        ({"n_random": -1}, "n_random must be a non-negative integer"),
        ({"n_random": 2.0}, "n_random must be a non-negative integer"),
        ({"n_quenches": -2}, "n_quenches must be a non-negative integer"),
        ({"snapshots_per_quench": -1}, "snapshots_per_quench must be a non-negative integer"),
        ({"snapshots_per_quench": 0}, "snapshots_per_quench must be at least 1"),
        ({"snapshot_every": 0}, "snapshot_every must be at least 1"),
        ({"seed": -1}, "seed must be a non-negative integer"),
        ({"seed": True}, "seed must be a non-negative integer"),
        ({"n_random": 0, "n_quenches": 0}, "at least one configuration"),
        ({"random_scale": 0.0}, "random_scale must be None or positive and finite"),
        ({"random_scale": -1.0}, "random_scale must be None or positive and finite"),
        ({"random_scale": math.nan}, "random_scale must be None or positive and finite"),
        ({"random_scale": math.inf}, "random_scale must be None or positive and finite"),
        ({"random_scale": "5"}, "random_scale must be None or positive and finite, got '5'"),
    ],
)
def test_bad_options(kwargs, message):
    with pytest.raises(ValueError, match=message):
        GenerationOptions(**kwargs)


@pytest.mark.parametrize(
    "shape, message",
    [
        ((1, 4), "at least 2"),
        ((4, 4, 4), "the holstein lattice is 2-dimensional: give 2 sides, got 4 x 4 x 4"),
    ],
)
def test_the_plugin_refuses_sizes_its_model_cannot_take(tmp_path, shape, message):
    with pytest.raises(ValueError, match=message):
        make(tmp_path / "data.h5", GenerationOptions(shape=shape))
    assert not (tmp_path / "data.h5").exists()


def test_no_snapshots_needed_without_quenches():
    assert GenerationOptions(n_quenches=0, snapshots_per_quench=0).n_configurations == 20


def test_presets():
    small = preset("small")
    assert small == GenerationOptions()
    assert small.shape == (16, 16) and small.n_configurations == 20 + 2 * 10
    paper = preset("paper")
    assert paper.shape == (40, 40)
    assert (paper.n_random, paper.n_quenches, paper.snapshots_per_quench, paper.snapshot_every) == (
        200,
        4,
        100,
        50,
    )
    assert paper.n_configurations == 600 and paper.n_configurations * 40 * 40 == 960_000  # site forces
    assert paper.random_scale is None  # the plugin's default, sqrt(5 / 0.18)
    assert INITIAL_Q_STD == pytest.approx(math.sqrt(5 / 0.18))
    assert preset("paper", shape=(8, 8), seed=5).shape == (8, 8)
    with pytest.raises(ValueError, match="unknown preset 'huge'; available: \\['paper', 'small'\\]"):
        preset("huge")


def test_options_round_trip_through_json():
    d = OPTIONS.to_dict()
    assert d["shape"] == [4, 4]
    assert GenerationOptions.from_dict(json.loads(json.dumps(d))) == OPTIONS


# -- split ------------------------------------------------------------------------------------------


def test_split_holds_out_every_third(reference):
    ds = load_dataset(reference)
    train, held = ds.split()
    np.testing.assert_array_equal(held, [2, 5, 8])
    np.testing.assert_array_equal(train, [0, 1, 3, 4, 6, 7, 9, 10])
    train, held = ds.split(4)
    np.testing.assert_array_equal(held, [3, 7])
    assert sorted([*train, *held]) == list(range(11))


@pytest.mark.parametrize("bad", [1, 0, -3, True, 2.5, "3", None])
def test_split_bad_input(reference, bad):
    with pytest.raises(ValueError, match="holdout_every must be an integer >= 2"):
        load_dataset(reference).split(bad)


# -- the simple cubic lattice -----------------------------------------------------------------------

CUBIC_OPTIONS = GenerationOptions(
    shape=(4, 4, 2), n_random=3, n_quenches=1, snapshots_per_quench=2, snapshot_every=2, seed=1
)
CUBIC_PARAMS = HolsteinParams(kappa=0.12, temperature=0.2)


def test_cubic_data_set_holds_the_exact_3d_forces(tmp_path, cubic_plugin):
    assert CUBIC_OPTIONS.dim == 3 and OPTIONS.dim == 2
    path = latsym.forcefield.generate(cubic_plugin(CUBIC_PARAMS), tmp_path / "cubic.h5", CUBIC_OPTIONS,
                                      progress=False)
    data = load_dataset(path)
    assert data.options == CUBIC_OPTIONS and data.params == CUBIC_PARAMS and data.plugin == "holstein-cubic"
    assert data.q.shape == data.forces.shape == data.density.shape == (5, 4, 4, 2)
    np.testing.assert_array_equal(data.source, [-1, -1, -1, 0, 0])
    np.testing.assert_array_equal(data.step, [0, 0, 0, 2, 4])
    np.testing.assert_array_equal(data.q[1], random_configuration(CUBIC_OPTIONS, 1))
    exact = ed_solve(data.q, CUBIC_PARAMS, dim=3)
    np.testing.assert_allclose(data.forces, exact.forces, rtol=0, atol=1e-12)
    np.testing.assert_allclose(data.free_energy, exact.free_energy, rtol=1e-13)
    # a 3D configuration read as a batch of 2D ones gives other forces: the dimension was respected
    assert not np.allclose(data.forces[0], ed_solve(data.q[0], CUBIC_PARAMS).forces)


def test_cubic_plugin_refuses_unstable_parameters(cubic_plugin):
    with pytest.raises(ValueError, match=r"3-dimensional lattice .* need k > 6\|kappa\|"):
        cubic_plugin(HolsteinParams())  # kappa = 0.18: stable in 2D only


def test_a_holstein_subclass_on_an_unsupported_lattice_is_refused():
    from latsym.lattice import honeycomb, triangular

    for lattice in (honeycomb, triangular):
        cls = type("Wrong", (HolsteinPlugin,), {"lattice": lambda self, lattice=lattice: lattice()})
        with pytest.raises(ValueError, match=r"Wrong.lattice\(\) is the .* lattice, but HolsteinPlugin"):
            cls()
