"""Finite periodic lattices: indices, neighbour tables, translations and point-group permutations."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from latsym.group import point_group
from latsym.lattice import (
    LatticeError,
    PeriodicLattice,
    bcc,
    fcc,
    honeycomb,
    kagome,
    rectangular,
    simple_cubic,
    square,
    triangular,
)

LATTICES = {
    "square": square,
    "rectangular": lambda: rectangular(1.0, 1.5),
    "triangular": triangular,
    "honeycomb": honeycomb,
    "kagome": kagome,
    "simple_cubic": simple_cubic,
    "bcc": bcc,
    "fcc": fcc,
}

BUILT = {name: make() for name, make in LATTICES.items()}  # lattices are immutable: build once


def _inverse(perm):
    inv = np.empty_like(perm)
    inv[perm] = np.arange(len(perm))
    return inv


@st.composite
def periodic_lattices(draw):
    """A periodic lattice with equal sizes (so the whole site group maps it to itself) and an origin."""
    name = draw(st.sampled_from(sorted(LATTICES)))
    lat = BUILT[name]
    size = draw(st.integers(1, 4 if lat.dim == 2 else 3))
    P = PeriodicLattice(lat, size)
    return P, draw(st.integers(0, P.n_sites - 1))


def test_shape_and_index_convention_row_major_axis0_along_a1():
    P = PeriodicLattice(square(), (4, 3))
    assert P.shape == (4, 3) and P.lattice_shape == (4, 3) and P.n_sites == P.n_cells == 12
    field = np.arange(12).reshape(4, 3)  # field[x, y]
    cells, _ = P.coordinates(field.reshape(-1))
    assert np.array_equal(field[cells[:, 0], cells[:, 1]], field.reshape(-1))
    assert np.allclose(P.positions, cells @ np.eye(2))
    assert int(P.index([1, 2])) == field[1, 2] == int(P.index([5, -1]))


def test_lattice_shape_with_a_basis_puts_the_sublattice_first():
    P = PeriodicLattice(kagome(), (2, 3))
    assert P.lattice_shape == (3, 2, 3) and P.n_sites == 18 and P.n_cells == 6
    cells, sub = P.coordinates(np.arange(18))
    assert sub.tolist() == [0] * 6 + [1] * 6 + [2] * 6
    assert np.array_equal(P.index(cells, sub), np.arange(18))
    assert np.allclose(P.positions, kagome().positions(cells, sub))


@given(periodic_lattices(), st.data())
def test_index_and_coordinates_round_trip(pl, data):
    P, _ = pl
    cells = np.array(data.draw(st.lists(st.integers(-20, 20), min_size=P.dim, max_size=P.dim)))
    sub = data.draw(st.integers(0, P.lattice.n_basis - 1))
    i = P.index(cells, sub)
    back, back_sub = P.coordinates(i)
    assert np.array_equal(back, np.mod(cells, P.shape)) and int(back_sub) == sub


@pytest.mark.parametrize("name", ["square", "triangular", "simple_cubic"])
def test_neighbour_table_matches_rolling_the_field(name):
    lat = LATTICES[name]()
    shape = (5, 6) if lat.dim == 2 else (4, 3, 5)
    P = PeriodicLattice(lat, shape)
    st_ = lat.stencil(1.8)
    table = P.neighbour_table(st_)
    assert table.shape == (P.n_sites, st_.n_points)
    field = np.random.default_rng(1).normal(size=shape)
    for p, off in enumerate(st_.offsets):
        rolled = np.roll(field, tuple(-off), axis=tuple(range(lat.dim)))  # rolled[n] = field[n + off]
        assert np.array_equal(field.reshape(-1)[table[:, p]], rolled.reshape(-1))


@pytest.mark.parametrize("name", ["honeycomb", "kagome"])
def test_neighbour_table_with_a_basis_points_at_the_right_positions(name):
    lat = LATTICES[name]()
    P = PeriodicLattice(lat, 4)
    period = 4 * lat.vectors
    for s in range(lat.n_basis):
        st_ = lat.stencil(1.1, sublattice=s)
        table = P.neighbour_table(st_)
        assert table.shape == (P.n_cells, st_.n_points)
        centre = P.positions[s * P.n_cells : (s + 1) * P.n_cells]
        diff = P.positions[table] - centre[:, None, :] - st_.displacements  # a period of the torus
        frac = diff @ np.linalg.inv(period)
        assert np.allclose(frac, np.round(frac), atol=1e-9)
        assert np.array_equal(table[:, 0], np.arange(P.n_cells) + s * P.n_cells)


@pytest.mark.parametrize("name", ["square", "honeycomb", "kagome"])
def test_permutations_about_the_centre_are_a_representation(name):
    lat = LATTICES[name]()
    P = PeriodicLattice(lat, 6)
    G = lat.point_group
    perms = P.site_permutations(centre=lat.centre)
    assert np.array_equal(perms[0], np.arange(P.n_sites))
    for g in range(G.order):
        assert np.array_equal(np.sort(perms[g]), np.arange(P.n_sites))
        # the image of each site sits where the matrix puts it, up to a period of the torus
        moved = lat.centre + (P.positions - lat.centre) @ G.matrices[g].T
        frac = (P.positions[perms[g]] - moved) @ np.linalg.inv(6 * lat.vectors)
        assert np.allclose(frac, np.round(frac), atol=1e-9)
        for h in range(G.order):
            assert np.array_equal(perms[G.table[g, h]], perms[g][perms[h]])


def test_permutations_about_a_point_that_is_no_centre():
    with pytest.raises(LatticeError, match=r"about the point \(0.25, 0\)"):
        PeriodicLattice(kagome(), 4).site_permutations(centre=[0.25, 0.0])


def test_a_lattice_smaller_than_the_stencil():
    st_ = square().stencil(2.0)  # spans 5 cells along each axis
    P = PeriodicLattice(square(), (5, 4))
    with pytest.raises(LatticeError, match=r"spans 5 cells along axis 1; use a shape of at least \(5, 5\)"):
        P.check_stencil(st_)
    with pytest.raises(LatticeError, match="smaller than the stencil"):
        P.neighbour_table(st_)
    assert P.neighbour_table(st_, check=False).shape == (20, 13)
    PeriodicLattice(square(), 5).check_stencil(st_)


def test_a_stencil_of_another_lattice_or_not_a_stencil():
    P = PeriodicLattice(square(), 4)
    with pytest.raises(LatticeError, match="belongs to the triangular lattice"):
        P.neighbour_table(triangular().stencil(1.0))
    with pytest.raises(LatticeError, match="belongs to the triangular lattice"):
        P.neighbour_table(triangular().stencil(1.0), check=False)
    with pytest.raises(TypeError, match="expected a Stencil"):
        P.check_stencil(np.zeros((5, 2)))
    assert P.neighbour_table(square().stencil(1.0)).shape == (16, 5)  # an equal lattice is fine


@given(periodic_lattices(), st.data())
def test_translations_compose_and_wrap(pl, data):
    P, _ = pl
    shifts = st.lists(st.integers(-5, 5), min_size=P.dim, max_size=P.dim)
    a, b = np.array(data.draw(shifts)), np.array(data.draw(shifts))
    Ta, Tb = P.translation(a), P.translation(b)
    assert np.array_equal(Ta[Tb], P.translation(a + b))
    assert np.array_equal(P.translation(np.array(P.shape) * b), np.arange(P.n_sites))
    frac = (P.positions[Ta] - P.positions - a @ P.lattice.vectors) @ np.linalg.inv(P.lattice.vectors)
    assert np.allclose(frac, np.round(frac), atol=1e-9)  # each site moved by a, up to a period
    assert np.all(np.mod(np.round(frac).astype(int), P.shape) == 0)


@given(periodic_lattices())
def test_site_permutations_compose_like_the_group_on_every_pair(pl):
    P, origin = pl
    _, sub = P.coordinates(origin)
    G = P.lattice.site_group(int(sub))
    perms = P.site_permutations(origin=origin)
    assert perms.shape == (G.order, P.n_sites)
    assert np.array_equal(perms[0], np.arange(P.n_sites))
    assert np.all(np.sort(perms, axis=1) == np.arange(P.n_sites))
    assert np.all(perms[:, origin] == origin)
    # perm(g h) = perm(g) ∘ perm(h) for every g, h
    assert np.array_equal(perms[G.table], perms[:, perms])


@given(periodic_lattices(), st.data())
def test_conjugating_a_translation_by_a_rotation_rotates_the_shift(pl, data):
    """The semidirect product: P_g ∘ T_t ∘ P_g⁻¹ = T_{R_g t}, and translations do not commute with P_g."""
    P, origin = pl
    _, sub = P.coordinates(origin)
    G = P.lattice.site_group(int(sub))
    perms = P.site_permutations(origin=origin)
    R = P.lattice.cell_matrices(G)
    t = np.array(data.draw(st.lists(st.integers(-3, 3), min_size=P.dim, max_size=P.dim)))
    T = P.translation(t)
    for g in range(G.order):
        assert np.array_equal(perms[g][T[_inverse(perms[g])]], P.translation(R[g] @ t))


@given(periodic_lattices())
def test_site_permutations_act_on_neighbour_tables_like_the_stencil_action(pl):
    """Moving the centre by g moves its stencil point p to the image point action[g, p]."""
    P, origin = pl
    _, sub = P.coordinates(origin)
    st_ = P.lattice.stencil(1.0, sublattice=int(sub))
    table = P.neighbour_table(st_, check=False)
    perms = P.site_permutations(origin=origin)
    centres = np.arange(P.n_cells) + int(sub) * P.n_cells
    for g in range(st_.group.order):
        image_centre = perms[g][centres] - int(sub) * P.n_cells
        assert np.array_equal(perms[g][table], table[image_centre][:, st_.action[g]])


def test_site_permutations_about_another_origin_and_with_a_subgroup():
    P = PeriodicLattice(square(), 4)
    origin = int(P.index([1, 2]))
    perms = P.site_permutations(origin=origin)
    assert np.all(perms[:, origin] == origin)
    x = P.positions - P.positions[origin]
    for g, m in enumerate(P.lattice.group.matrices):
        frac = np.mod(P.positions[perms[g]] - P.positions[origin] - x @ m.T, 4)
        assert np.allclose(np.minimum(frac, 4 - frac), 0, atol=1e-9)
    c2, _ = P.lattice.group.subgroup([2])
    assert P.site_permutations(c2).shape == (2, 16)
    c4 = P.lattice.group.names.index("C4")
    T = P.translation([1, 0])
    assert not np.array_equal(perms[c4][T], T[perms[c4]])  # a rotation and a translation do not commute


def test_rectangular_supercells_and_lattices():
    with pytest.raises(LatticeError, match=r"does not map the periodic lattice of shape \(4, 2\) to itself"):
        PeriodicLattice(square(), (4, 2)).site_permutations()
    perms = PeriodicLattice(rectangular(1.0, 2.0), (4, 2)).site_permutations()
    assert perms.shape == (4, 8)
    G = square().group
    mirrors = [G.names.index("σx"), G.names.index("σy")]
    d2, _ = G.subgroup(mirrors)  # the 2mm subgroup of 4mm does preserve a 4×2 torus
    assert PeriodicLattice(square(), (4, 2)).site_permutations(d2).shape == (4, 8)
    with pytest.raises(LatticeError, match="does not map the square lattice"):
        PeriodicLattice(square(), 4).site_permutations(point_group("6mm", dim=2))
    with pytest.raises(LatticeError, match="sublattice 1"):
        PeriodicLattice(kagome(), 2).site_permutations(kagome().group, origin=4)


# -- bad input ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("shape", "error", "match"),
    [
        (4.0, TypeError, "must be an int or a sequence"),
        ((4, 4.0), TypeError, r"shape\[1\] must be an integer number of cells, got 4.0"),
        ((4, True), TypeError, r"shape\[1\] must be an integer"),
        ((4, 0), LatticeError, r"shape\[1\] must be a positive number of cells, got 0"),
        (-2, LatticeError, "positive"),
        ((4, 4, 4), LatticeError, "2-dimensional: shape needs 2 sizes"),
        ("44", TypeError, "must be an integer"),
    ],
)
def test_bad_shapes(shape, error, match):
    with pytest.raises(error, match=match):
        PeriodicLattice(square(), shape)


def test_bad_lattice_indices_and_shifts():
    with pytest.raises(TypeError, match="expected a Lattice"):
        PeriodicLattice("square", 4)
    P = PeriodicLattice(honeycomb(), 3)
    with pytest.raises(LatticeError, match=r"must lie in 0\.\.17"):
        P.coordinates(18)
    with pytest.raises(TypeError, match="must be integers"):
        P.coordinates(1.5)
    with pytest.raises(LatticeError, match="cells must be integers"):
        P.index([0.5, 1])
    with pytest.raises(LatticeError, match=r"must lie in 0\.\.1"):
        P.index([0, 1], 2)
    with pytest.raises(LatticeError, match="shift must be 2 integers"):
        P.translation([1, 0, 0])
    with pytest.raises(LatticeError, match="shift must be 2 integers"):
        P.translation([0.5, 0])
    with pytest.raises(LatticeError, match=r"must lie in 0\.\.17"):
        P.site_permutations(origin=-1)
    assert "honeycomb" in repr(P)
