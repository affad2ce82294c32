"""Lattices: constructors, site-symmetry groups, coordinates, and every bad-input path."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from latsym.group import Group, point_group
from latsym.lattice import (
    Lattice,
    LatticeError,
    bcc,
    fcc,
    honeycomb,
    kagome,
    rectangular,
    simple_cubic,
    square,
    triangular,
)

CONSTRUCTORS = {
    "square": square,
    "rectangular": lambda: rectangular(1.0, 1.7),
    "triangular": triangular,
    "honeycomb": honeycomb,
    "kagome": kagome,
    "simple_cubic": simple_cubic,
    "bcc": bcc,
    "fcc": fcc,
}

# (dim, n_basis, site-group order, nearest-neighbour distance, coordination number)
EXPECTED = {
    "square": (2, 1, 8, 1.0, 4),
    "rectangular": (2, 1, 4, 1.0, 2),
    "triangular": (2, 1, 12, 1.0, 6),
    "honeycomb": (2, 2, 6, 1 / np.sqrt(3), 3),
    "kagome": (2, 3, 4, 0.5, 4),
    "simple_cubic": (3, 1, 48, 1.0, 6),
    "bcc": (3, 1, 48, np.sqrt(3) / 2, 8),
    "fcc": (3, 1, 48, 1 / np.sqrt(2), 12),
}

BUILT = {name: make() for name, make in CONSTRUCTORS.items()}  # lattices are immutable: build once


def _sites_near(lattice, centre, radius):
    """Brute force: Cartesian positions of all sites within radius of centre, as a sorted array."""
    r = np.arange(-6, 7)
    cells = np.stack(np.meshgrid(*[r] * lattice.dim, indexing="ij"), -1).reshape(-1, lattice.dim)
    pos = (cells @ lattice.vectors)[:, None, :] + lattice.basis[None]
    pos = pos.reshape(-1, lattice.dim) - centre
    pos = pos[np.linalg.norm(pos, axis=1) <= radius + 1e-9]
    return pos[np.lexsort(np.round(pos, 6).T)]


@pytest.mark.parametrize("name", list(CONSTRUCTORS))
def test_constructor_structure_and_coordination(name):
    lat = CONSTRUCTORS[name]()
    dim, n_basis, order, nn, z = EXPECTED[name]
    assert (lat.dim, lat.n_basis, lat.group.order) == (dim, n_basis, order)
    for s in range(lat.n_basis):
        near = _sites_near(lat, lat.basis[s], nn * 1.0001)
        dist = np.linalg.norm(near, axis=1)
        assert np.isclose(np.sort(dist)[1], nn)
        assert (dist > 1e-9).sum() == z


@pytest.mark.parametrize("name", list(CONSTRUCTORS))
def test_every_site_group_maps_the_lattice_to_itself(name):
    """Independent of the library's check: the image of a ball of sites is the same ball."""
    lat = CONSTRUCTORS[name]()
    for s in range(lat.n_basis):
        ball = _sites_near(lat, lat.basis[s], 2.0)
        for m in lat.site_group(s).matrices:
            assert np.allclose(m @ m.T, np.eye(lat.dim))
            image = ball @ m.T
            image = image[np.lexsort(np.round(image, 6).T)]
            assert np.allclose(image, ball, atol=1e-9)


def test_site_groups_come_from_the_catalogue():
    assert square().group == point_group("4mm", dim=2)
    assert rectangular(1.0, 2.0).group == point_group("2mm", dim=2)
    assert triangular().group == point_group("6mm", dim=2)
    assert kagome().group == point_group("2mm", dim=2)
    for lat in (simple_cubic(), bcc(), fcc()):
        assert lat.group == point_group("m-3m")


def test_honeycomb_site_group_fixes_the_three_bonds():
    lat = honeycomb()
    for s in (0, 1):
        bonds = _sites_near(lat, lat.basis[s], 0.6)
        bonds = bonds[np.linalg.norm(bonds, axis=1) > 1e-9]
        assert len(bonds) == 3
        mirrors = 0
        for m in lat.site_group(s).matrices:
            image = bonds @ m.T
            assert np.allclose(image[np.lexsort(np.round(image, 6).T)], bonds)
            mirrors += np.isclose(np.linalg.det(m), -1)
        assert mirrors == 3
    assert any(np.allclose(m, np.diag([-1.0, 1.0])) for m in lat.group.matrices)


def test_kagome_sublattices_have_rotated_site_groups():
    lat = kagome()
    mats = [lat.site_group(s).matrices for s in range(3)]
    assert not np.allclose(mats[0], mats[1]) and not np.allclose(mats[1], mats[2])
    assert all(lat.site_group(s).order == 4 for s in range(3))


@pytest.mark.parametrize("name", ["honeycomb", "kagome"])
def test_hexagon_centre_carries_the_full_point_group(name):
    """6mm about the centre of a hexagon: the six nearest sites form a regular hexagon around it, and
    the rotations move sites between sublattices (which no site group does)."""
    lat = BUILT[name]
    assert lat.point_group == point_group("6mm", dim=2)
    ring = _sites_near(lat, lat.centre, 0.58 if name == "honeycomb" else 0.51)
    assert len(ring) == 6 and np.allclose(np.linalg.norm(ring, axis=1), np.linalg.norm(ring[0]))
    rotation = next(m for m in lat.point_group.matrices if np.isclose(m[0, 0], 0.5) and m[1, 0] > 0)
    _, image_sub = lat.locate(lat.centre + (lat.basis - lat.centre) @ rotation.T)
    assert not np.array_equal(image_sub, np.arange(lat.n_basis))


def test_bravais_point_group_defaults_to_the_site_group():
    lat = square()
    assert lat.point_group == lat.group and np.array_equal(lat.centre, [0.0, 0.0])


def test_lattice_constants_scale_positions():
    assert np.allclose(square(2.5).vectors, 2.5 * np.eye(2))
    assert np.allclose(fcc(2.0).vectors, [[0, 1, 1], [1, 0, 1], [1, 1, 0]])
    assert np.allclose(bcc(2.0).vectors, [[-1, 1, 1], [1, -1, 1], [1, 1, -1]])
    assert np.allclose(honeycomb(3.0).basis[1], [0.0, np.sqrt(3)])


@given(
    name=st.sampled_from(list(CONSTRUCTORS)),
    data=st.data(),
)
def test_positions_and_locate_round_trip(name, data):
    lat = BUILT[name]
    cells = np.array(data.draw(st.lists(st.integers(-50, 50), min_size=lat.dim, max_size=lat.dim)))
    sub = data.draw(st.integers(0, lat.n_basis - 1))
    pos = lat.positions(cells, sub)
    assert np.allclose(pos, cells @ lat.vectors + lat.basis[sub])
    back_cells, back_sub = lat.locate(pos)
    assert back_cells.tolist() == cells.tolist() and int(back_sub) == sub


def test_positions_broadcast_over_leading_axes():
    lat = honeycomb()
    cells = np.zeros((3, 4, 2), dtype=int)
    assert lat.positions(cells, np.ones((3, 4), dtype=int)).shape == (3, 4, 2)


@pytest.mark.parametrize("name", list(CONSTRUCTORS))
def test_cell_matrices_are_the_point_group_on_lattice_vectors(name):
    lat = CONSTRUCTORS[name]()
    R = lat.cell_matrices()
    G = lat.group
    rng = np.random.default_rng(0)
    n = rng.integers(-5, 6, size=(10, lat.dim))
    for g in range(G.order):
        assert np.allclose((R[g] @ n.T).T @ lat.vectors, n @ lat.vectors @ G.matrices[g].T)
    assert np.array_equal(R[G.table], np.einsum("gij,hjk->ghik", R, R))


def test_a_custom_group_string_and_per_sublattice_groups():
    lat = Lattice(np.eye(2), [[0, 0], [0.5, 0.5]], group=["4mm", "4mm"], name="checkerboard")
    assert lat.site_group(1).order == 8
    c4 = Group.from_generators([np.array([[0.0, -1.0], [1.0, 0.0]])], name="C4")
    assert Lattice(np.eye(2), group=c4).group.order == 4
    assert "checkerboard" in repr(lat)


# -- bad input ------------------------------------------------------------------------------------


def test_a_group_that_is_not_a_lattice_symmetry_names_the_element():
    G = point_group("6mm", dim=2)
    with pytest.raises(LatticeError, match="does not map the square lattice to itself") as exc:
        Lattice(np.eye(2), group=G, name="square")
    assert any(repr(name) in str(exc.value) for name in G.names[1:])
    with pytest.raises(LatticeError, match="not a lattice vector"):
        Lattice(triangular().vectors, group="4mm", name="triangular")
    with pytest.raises(LatticeError, match="sends a lattice vector to a non-lattice vector"):
        square().cell_matrices(G)


def test_a_group_that_moves_a_basis_site_off_the_lattice():
    with pytest.raises(LatticeError, match="sends the basis site 1"):
        Lattice(triangular().vectors, honeycomb().basis, group="6mm", name="honeycomb")


def test_a_non_orthogonal_or_wrong_dimensional_group():
    shear = Group(np.array([[0, 1], [1, 0]]), matrices=[np.eye(2), [[1.0, 1.0], [0.0, -1.0]]])
    with pytest.raises(LatticeError, match="not orthogonal"):
        Lattice(np.eye(2), group=shear)
    with pytest.raises(LatticeError, match="2-dimensional"):
        Lattice(np.eye(2), group=point_group("m-3m"))
    table_only = Group.from_table(np.array([[0, 1], [1, 0]]))
    with pytest.raises(TypeError, match="no matrices"):
        Lattice(np.eye(2), group=table_only)
    with pytest.raises(TypeError, match="Group"):
        square().check_group(np.eye(2))


@pytest.mark.parametrize(
    ("vectors", "basis", "match"),
    [
        (np.eye(4), None, "d = 2 or 3"),
        (np.ones(3), None, "d = 2 or 3"),
        ([[1, 0], [2, 0]], None, "linearly dependent"),
        ([[1, 0], [0, np.nan]], None, "NaN"),
        ([["a", "b"], ["c", "d"]], None, "numeric"),
        (np.eye(2), [[0, 0, 0]], "basis must have shape"),
        (np.eye(2), np.zeros((0, 2)), "basis must have shape"),
        (np.eye(2), [[0, 0], [1, 0]], "same place"),
    ],
)
def test_malformed_vectors_and_basis(vectors, basis, match):
    with pytest.raises(LatticeError, match=match):
        Lattice(vectors, basis, group=Group.from_generators([np.eye(2)]))


def test_a_group_of_the_wrong_type_or_an_unknown_symbol():
    with pytest.raises(TypeError, match="group must be a Group, a point-group symbol"):
        Lattice(np.eye(2), group=np.eye(2))
    with pytest.raises(TypeError, match=r"expected a latsym\.group\.Group"):
        Lattice(np.eye(2), group=[np.eye(2)])
    with pytest.raises(ValueError, match="7mm"):
        Lattice(np.eye(2), group="7mm")


def test_wrong_number_of_groups():
    with pytest.raises(LatticeError, match="one group for every sublattice"):
        Lattice(np.eye(2), [[0, 0], [0.5, 0.5]], group=["4mm", "4mm", "4mm"])


def test_bad_sublattices_cells_and_points():
    lat = honeycomb()
    with pytest.raises(LatticeError, match="out of range"):
        lat.site_group(2)
    with pytest.raises(TypeError, match="sublattice must be an int"):
        lat.site_group(1.0)
    with pytest.raises(LatticeError, match="cells must be integers"):
        lat.positions([0.5, 0.0])
    with pytest.raises(LatticeError, match="cells must be integers"):
        lat.positions([0, 0, 0])
    with pytest.raises(LatticeError, match=r"must lie in 0\.\.1"):
        lat.positions([0, 0], 2)
    with pytest.raises(LatticeError, match="must be integers"):
        lat.positions([0, 0], 0.5)
    with pytest.raises(LatticeError, match="not a site of the honeycomb lattice"):
        lat.locate([0.5, 0.0])


@pytest.mark.parametrize("bad", [0.0, -1.0, float("inf")])
def test_bad_lattice_constants(bad):
    with pytest.raises(LatticeError, match="positive and finite"):
        square(bad)
    with pytest.raises(LatticeError, match="lattice constant b"):
        rectangular(1.0, bad)


def test_non_numeric_lattice_constant():
    with pytest.raises(TypeError, match="must be a number"):
        fcc("1")
    with pytest.raises(TypeError, match="must be a number"):
        kagome(True)
