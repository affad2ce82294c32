"""Domain decomposition: process grids, halo exchange and decomposed forces on 4 gloo processes."""

import socket

import pytest
import torch
import torch.distributed as dist
import torch.multiprocessing as mp

from latsym.forcefield import (
    DecomposedForce,
    ProcessGrid,
    exchange_halos,
    periodic_window,
    receptive_field,
)
from latsym.forcefield._decomposition import gather_field, scatter_field
from latsym.group import Z2, point_group
from latsym.lattice import PeriodicLattice, square
from latsym.nn import Gate, LatticeConv, Sequential

G = point_group("4mm", dim=2) * Z2()

#: (lattice, grid, halo) of the exchange checks: corners, a grid of 2 (the same neighbour on both
#: sides), a halo as wide as the tile, an axis that is not split.
EXCHANGES = [((8, 12), (2, 2), (1, 2)), ((8, 12), (4, 1), (2, 3)), ((8, 12), (1, 4), (3, 3)),
             ((6, 6, 4), (2, 2, 1), (1, 3, 2))]


def stack(dtype):
    torch.manual_seed(0)
    acts = [torch.tanh, torch.nn.functional.silu]
    gate = Gate("2xA1:odd + A1:even", acts, "A1:even", torch.sigmoid, "E:odd", group=G)
    lat = PeriodicLattice(square(), 5)
    net = Sequential(LatticeConv(lat, "A1:odd", gate.irreps_in, 2**0.5, group=G, bias=True), gate,
                     LatticeConv(lat, gate.irreps_out, "A1:odd", 2.0, group=G))
    return net.to(dtype).eval()


def checks(rank: int) -> dict:
    """What every rank checks, with the answers it finds (the parent asserts on them)."""
    found = {}
    for shape, grid, halo in EXCHANGES:
        pg = ProcessGrid(shape, grid, halo)
        x = torch.arange(2 * torch.Size(shape).numel(), dtype=torch.float64).reshape(2, *shape)
        start = pg.start(rank)
        stop = tuple(s + t for s, t in zip(start, pg.tile, strict=True))
        padded = exchange_halos(x[(..., *pg.slices(rank))], pg, rank)
        found[f"exchange {grid}"] = torch.equal(padded, periodic_window(x, start, stop, halo))
        tile = scatter_field(x if rank == 0 else None, pg, rank, x[(..., *pg.slices(rank))])
        back = gather_field(tile, pg, rank)
        found[f"scatter-gather {grid}"] = True if back is None else torch.equal(back, x)
    for dtype in (torch.float32, torch.float64):
        net = stack(dtype)
        q = torch.randn(3, 1, 16, 12, dtype=dtype, generator=torch.Generator().manual_seed(1))
        for grid in ((2, 2), (4, 1)):
            pg = ProcessGrid((16, 12), grid, receptive_field(net))
            with torch.no_grad():
                local = DecomposedForce(net, pg, rank)(q[(..., *pg.slices(rank))])
                full = gather_field(local, pg, rank)
                if full is not None:
                    reference = net(q)
                    error = (full - reference).abs().max() / reference.abs().max()
                    found[f"forces {dtype} {grid}"] = float(error)
    return found


def worker(rank, world, port, queue):
    torch.set_num_threads(1)
    dist.init_process_group("gloo", init_method=f"tcp://127.0.0.1:{port}", rank=rank, world_size=world)
    try:
        queue.put((rank, checks(rank)))
    finally:
        dist.destroy_process_group()


@pytest.fixture(scope="module")
def on_four_ranks():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    context = mp.get_context("forkserver")  # as simulate_decomposed starts its workers
    context.set_forkserver_preload(["latsym.forcefield"])
    queue = context.SimpleQueue()
    mp.start_processes(worker, args=(4, port, queue), nprocs=4, start_method="forkserver")
    results = {}
    while not queue.empty():
        rank, found = queue.get()
        results[rank] = found
    return results


def test_halo_exchange_gives_every_rank_its_periodic_window(on_four_ranks):
    assert sorted(on_four_ranks) == [0, 1, 2, 3]
    for found in on_four_ranks.values():
        for key, ok in found.items():
            if key.startswith(("exchange", "scatter")):
                assert ok is True, key


def test_decomposed_forces_equal_the_whole_lattice(on_four_ranks):
    errors = {k: v for k, v in on_four_ranks[0].items() if k.startswith("forces")}
    assert len(errors) == 4
    for key, error in errors.items():
        assert error <= (1e-6 if "float32" in key else 1e-12), key


def test_a_grid_splits_the_lattice_into_tiles():
    g = ProcessGrid((12, 8, 6), (3, 2, 1), (1, 1, 1))
    assert g.size == 6 and g.tile == (4, 4, 6)
    for rank in range(6):
        assert g.rank_of(g.coords(rank)) == rank
    assert g.coords(5) == (2, 1, 0) and g.start(5) == (8, 4, 0)
    assert g.neighbour(0, axis=0, step=-1) == 4 and g.neighbour(5, axis=1, step=1) == 4
    assert g.slices(3) == (slice(4, 8), slice(4, 8), slice(0, 6))


def test_the_chosen_grid_sends_the_fewest_cells():
    # cells received per exchange: strips 2·2·16 = 64; 2x2 tiles 2·2·8 + 2·2·(8 + 4) = 80
    assert ProcessGrid.choose((16, 16), 4, (2, 2)).grid == (4, 1)
    assert ProcessGrid.choose((64, 64), 16, (1, 1)).grid == (4, 4)  # 4·16 + 4 < 2·64
    assert ProcessGrid.choose((16, 16), 4, (5, 1)).grid == (1, 4)  # tiles of 4 < 5 along axis 0 do not fit
    assert ProcessGrid.choose((16, 16), 4, (5, 1)).traffic() == 2 * (16 + 10)
    assert ProcessGrid.choose((16, 16), 1, (3, 3)).traffic() == 0


def test_bad_grids_are_refused():
    with pytest.raises(ValueError, match=r"does not divide the lattice 10x8.*10 cells along axis 0 over 4"):
        ProcessGrid((10, 8), (4, 1), (1, 1))
    with pytest.raises(ValueError, match=r"tiles of 2 cells along axis 1.*narrower than the network's halo"):
        ProcessGrid((8, 8), (1, 4), (1, 3))
    with pytest.raises(ValueError, match="2 positive ints"):
        ProcessGrid((8, 8), (2, 0), (1, 1))
    with pytest.raises(ValueError, match="2 positive ints"):
        ProcessGrid((8, 8), (2,), (1, 1))
    with pytest.raises(ValueError, match="halo"):
        ProcessGrid((8, 8), (2, 1), (1,))
    with pytest.raises(ValueError, match=r"no grid of 7 processes fits the lattice 16x16"):
        ProcessGrid.choose((16, 16), 7, (1, 1))
