"""latsym.forcefield: the network base class, per-plugin registries and the network file format."""

import sys
import types

import h5py
import numpy as np
import pytest
import torch

from latsym.forcefield import FORMAT, ForceField, NetworkFileError, NetworkRegistry


class Scale(ForceField):
    """F = -factor * q on any layout the class attributes declare."""

    def __init__(self, factor: float = 2.0):
        super().__init__({"factor": factor})
        self.factor = torch.nn.Parameter(torch.tensor(float(factor), dtype=torch.float64))

    def forces(self, q):
        return -self.factor * q / self.input_scale


def registry_with_scale(plugin="toy", site_shape=()):
    registry = NetworkRegistry(plugin)
    cls = type("Scale", (Scale,), {"site_shape": site_shape})
    registry.register("scale")(cls)
    return registry


def test_register_sets_name_and_plugin_and_refuses_duplicates():
    registry = registry_with_scale()
    net = registry["scale"]()
    assert (net.name, net.plugin) == ("scale", "toy")
    with pytest.raises(ValueError, match="toy network named 'scale' is already registered"):
        registry.register("scale")(Scale)
    with pytest.raises(ValueError, match=r"unknown toy network 'nope'; available: scale"):
        registry.build("nope")
    with pytest.raises(TypeError, match="does not accept config"):
        registry.build("scale", depth=3)
    with pytest.raises(ValueError, match="plugin's name"):
        NetworkRegistry("")


def test_registry_imports_its_modules_before_the_first_lookup(monkeypatch):
    registry = NetworkRegistry("lazy", modules=("fake_presets_b", "fake_presets_a"))
    for name, preset in (("fake_presets_a", "zeta"), ("fake_presets_b", "alpha")):
        module = types.ModuleType(name)
        module.__dict__["register"] = lambda preset=preset: registry.register(preset)(Scale)
        monkeypatch.setitem(sys.modules, name, module)
        module.register()
    assert list(registry) == ["alpha", "zeta"]  # sorted, whatever the registration order

    failing = NetworkRegistry("broken", modules=("no_such_module_for_latsym_tests",))
    with pytest.raises(ModuleNotFoundError):
        list(failing)
    with pytest.raises(ModuleNotFoundError):  # tried again, not left half-loaded
        len(failing)


def test_forward_checks_layout_dtype_and_emptiness():
    net = registry_with_scale(site_shape=(2,)).build("scale").double()
    q = torch.ones(3, 2, 4, 4, dtype=torch.float64)
    assert net(q).shape == q.shape and net(q[0]).shape == q[0].shape
    with pytest.raises(ValueError, match=r"\(2, L1, L2\) or \(batch, 2, L1, L2\)"):
        net(torch.ones(3, 4, 4, dtype=torch.float64))
    with pytest.raises(ValueError, match=r"\(2, L1, L2\)"):
        net(torch.ones(3, 3, 4, 4, dtype=torch.float64))
    with pytest.raises(TypeError, match=r"dtype torch.int64, but the network computes in torch.float64; "
                       r"convert it: q.to\(torch.float64\)$"):
        net(torch.ones(2, 4, 4, dtype=torch.int64))
    with pytest.raises(TypeError, match=r"complex128, but the network takes real fields .*q.real.to"):
        net(torch.ones(2, 4, 4, dtype=torch.complex128))
    with pytest.raises(TypeError, match=r"float32 but the network is torch.float64; .*network.to\(torch"):
        net(torch.ones(2, 4, 4, dtype=torch.float32))
    meta = torch.ones(3, 2, 4, 4, dtype=torch.float64, device="meta")
    with pytest.raises(ValueError, match=r"q is a meta tensor .* network is on cpu: .*network.to\('meta'\)"):
        net(meta)
    on_meta = registry_with_scale(site_shape=(2,)).build("scale").double().to("meta")
    shapes = on_meta(meta)  # shape inference: no values, no finiteness check
    assert shapes.shape == (3, 2, 4, 4) and shapes.device.type == "meta"
    with pytest.raises(ValueError, match=r"q is on cpu but the network is on meta: .*network.to\('cpu'\)"):
        on_meta(q)
    with pytest.raises(TypeError, match="as_tensor"):
        net(np.ones((2, 4, 4)))
    with pytest.raises(ValueError, match="empty"):
        net(torch.ones(0, 2, 4, 4, dtype=torch.float64))


@pytest.mark.parametrize("bad", [float("nan"), float("inf"), -float("inf")])
def test_forward_refuses_non_finite_fields_as_the_reference_solvers_do(bad):
    net = registry_with_scale(site_shape=(2,)).build("scale").double()
    q = torch.ones(3, 2, 4, 4, dtype=torch.float64)
    q[1, 0, 2, 3] = q[2, 1, 0, 0] = bad
    match = (r"q has 2 non-finite entries \(NaN or inf\) among its 96 values, the first at index "
             r"\(1, 0, 2, 3\); the network needs finite fields")
    with pytest.raises(ValueError, match=match):
        net(q)
    with pytest.raises(ValueError, match=r"1 non-finite entries .* index \(0, 2, 3\)"):
        net(q[1])  # one configuration: the index is in its own axes


def test_save_and_load_round_trip(tmp_path):
    registry = registry_with_scale()
    net = registry.build("scale", factor=3.0).double()
    net.fit_input_scale(torch.tensor([[-4.0, 2.0]]))
    path = registry.save(net, tmp_path / "sub" / "net.pt", note="hi")
    payload = torch.load(path, weights_only=True)
    assert (payload["format"], payload["plugin"], payload["name"]) == (FORMAT, "toy", "scale")
    loaded = registry.load(path)
    assert loaded.extra == {"note": "hi"} and not loaded.training
    q = torch.randn(2, 5, 5, dtype=torch.float64)
    assert torch.equal(loaded(q), net(q))


def test_save_refuses_foreign_modules(tmp_path):
    registry = registry_with_scale()
    with pytest.raises(TypeError, match="built by the toy registry"):
        registry.save(torch.nn.Linear(1, 1), tmp_path / "x.pt")
    with pytest.raises(TypeError, match="of plugin 'other'"):
        registry.save(registry_with_scale("other").build("scale"), tmp_path / "x.pt")
    with pytest.raises(TypeError, match="JSON-serialisable"):
        registry.save(registry.build("scale"), tmp_path / "x.pt", bad=object())
    assert not (tmp_path / "x.pt").exists()


def test_load_names_what_a_wrong_file_is(tmp_path):
    registry = registry_with_scale()
    with pytest.raises(NetworkFileError, match=r"no network file .*nothing there.*latsym toy train"):
        registry.load(tmp_path / "missing.pt")
    with pytest.raises(NetworkFileError, match="a directory there"):
        registry.load(tmp_path)
    with h5py.File(tmp_path / "data.h5", "w") as f:
        f["q"] = np.zeros(3)
    with pytest.raises(NetworkFileError, match=r"HDF5 file .*not a network file"):
        registry.load(tmp_path / "data.h5")
    (tmp_path / "junk.pt").write_bytes(b"\x00junk" * 20)
    with pytest.raises(NetworkFileError, match="not a readable network file: it is truncated"):
        registry.load(tmp_path / "junk.pt")
    torch.save({"format": "latsym.dynamics.checkpoint/1"}, tmp_path / "ckpt.pt")
    with pytest.raises(NetworkFileError, match="holds a simulation checkpoint"):
        registry.load(tmp_path / "ckpt.pt")
    torch.save(torch.zeros(3), tmp_path / "tensor.pt")
    with pytest.raises(NetworkFileError, match="not a latsym-toy network: it holds Tensor"):
        registry.load(tmp_path / "tensor.pt")
    other = registry_with_scale("other")
    other.save(other.build("scale"), tmp_path / "other.pt")
    with pytest.raises(NetworkFileError, match="network of the 'other' plugin, not of 'toy'"):
        registry.load(tmp_path / "other.pt")


def test_load_refuses_pickled_objects_without_torchs_advice(tmp_path):
    torch.save({"format": FORMAT, "plugin": "toy", "obj": Scale()}, tmp_path / "pickled.pt")
    with pytest.raises(NetworkFileError, match="holds Python objects") as info:
        registry_with_scale().load(tmp_path / "pickled.pt")
    assert "weights_only" not in str(info.value)


def test_legacy_formats_still_load(tmp_path):
    registry = NetworkRegistry("old", legacy_formats=("old-network/1",))
    registry.register("scale")(type("Scale", (Scale,), {}))
    net = registry.build("scale", factor=5.0)
    torch.save({"format": "old-network/1", "name": "scale", "config": net.config,
                "state_dict": net.state_dict(), "extra": {}}, tmp_path / "old.pt")
    assert registry.load(tmp_path / "old.pt").factor.item() == 5.0
