"""Internal symmetry groups (Zn, Z2, time reversal) and direct products G × K."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from latsym.group import (
    Z2,
    DirectProduct,
    Group,
    GroupError,
    InternalGroup,
    InternalSymmetry,
    TimeReversal,
    Zn,
    point_group,
)

# -- internal groups -----------------------------------------------------------------------------


@pytest.mark.parametrize("n", [1, 2, 3, 4, 6, 7])
def test_zn_is_the_cyclic_group(n):
    K = Zn(n)
    ar = np.arange(n)
    np.testing.assert_array_equal(K.table, (ar[:, None] + ar[None, :]) % n)
    assert K.order == n and len(K.classes) == n and K.is_abelian
    assert K.names == (["E", "g"] + [f"g^{k}" for k in range(2, n)])[:n]
    assert K.is_internal and K.is_finite and isinstance(K, InternalSymmetry)
    assert K.matrices is None and K.name == f"Z{n}"
    # g generates: its order is n
    assert n == 1 or K.element_orders[1] == n


def test_z2_and_time_reversal():
    P = Z2("particle_hole")
    assert P.names == ["E", "P"] and P.name == "particle_hole" and P.is_internal
    T = TimeReversal()
    assert T.names == ["E", "T"] and T.name == "time_reversal" and T.is_internal
    assert isinstance(T, Z2) and isinstance(T, InternalSymmetry)
    np.testing.assert_array_equal(T.table, [[0, 1], [1, 0]])
    assert Z2(symbol="S").names == ["E", "S"]
    assert Zn(3, "clock", symbol="c").names == ["E", "c", "c^2"]


def test_internal_groups_compare_by_kind_and_name():
    assert Z2() == Z2() and hash(Z2()) == hash(Z2())
    assert Z2() != TimeReversal()
    assert Z2("particle_hole") != Z2("sign")
    assert Z2() != Zn(2)  # different generator names
    assert Zn(2, symbol="P", name="Z2") != Z2()  # a Zn is not declared a Z2
    spatial = point_group("2", dim=2)
    assert spatial != Z2() and Z2() != spatial
    assert repr(TimeReversal()) == "TimeReversal('time_reversal', order=2)"


def test_internal_group_from_a_table():
    D3 = point_group("3m", dim=2)
    S3 = InternalGroup(D3.table, name="flavour", names=[f"p{k}" if k else "E" for k in range(6)])
    assert S3.is_internal and S3.is_finite and S3.matrices is None and not S3.is_abelian
    assert S3.names[1] == "p1" and len(S3.classes) == 3
    assert S3 == InternalGroup(D3.table, name="flavour", names=S3.names)
    assert S3 != InternalGroup(D3.table, name="colour", names=S3.names)
    assert S3 != Group.from_table(D3.table, names=S3.names, name="flavour")  # that one is spatial
    GK = point_group("C4v") * S3
    assert GK.order == 48 and len(GK.classes) == 15 and not GK.is_internal
    with pytest.raises(GroupError, match="not associative"):
        InternalGroup([[0, 1, 2, 3, 4], [1, 0, 3, 4, 2], [2, 4, 0, 1, 3], [3, 2, 4, 0, 1], [4, 3, 1, 2, 0]])


@pytest.mark.parametrize(
    "args, kwargs, exc, match",
    [
        ((0,), {}, GroupError, "at least 1"),
        ((-3,), {}, GroupError, "at least 1"),
        ((2.5,), {}, TypeError, "must be an integer"),
        ((True,), {}, TypeError, "must be an integer"),
        ((3,), {"symbol": "E"}, GroupError, "other than E"),
        ((3,), {"symbol": ""}, GroupError, "non-empty string"),
    ],
)
def test_zn_bad_input(args, kwargs, exc, match):
    with pytest.raises(exc, match=match):
        Zn(*args, **kwargs)


def test_internal_symmetry_leaves_room_for_continuous_groups():
    with pytest.raises(TypeError):
        InternalSymmetry()  # abstract: is_finite is required

    class U1(InternalSymmetry):
        name = "U(1)"

        @property
        def is_finite(self) -> bool:
            return False

    u1 = U1()
    assert u1.is_internal and not u1.is_finite and not isinstance(u1, Group)


# -- direct products -----------------------------------------------------------------------------


def generic_class_of(G: Group) -> np.ndarray:
    """Classes of a product computed by the generic conjugation algorithm of Group."""
    return Group(G.table, check=False).class_of


@pytest.mark.parametrize("s", ["C1", "Ci", "C4v", "D3d", "C3h", "Th", "Oh"])
def test_point_group_times_z2(s):
    G, K = point_group(s), Z2("particle_hole")
    GK = G * K
    assert isinstance(GK, DirectProduct) and GK.factors == (G, K)
    assert GK.order == 2 * G.order and len(GK.classes) == 2 * len(G.classes)
    assert sorted(GK.class_sizes.tolist()) == sorted(2 * G.class_sizes.tolist())
    np.testing.assert_array_equal(GK.class_of, generic_class_of(GK))
    assert not GK.is_internal and GK.name == f"{s}×particle_hole"
    for i in range(G.order):
        for j in range(2):
            a = GK.index(i, j)
            assert a == i * 2 + j and GK.split(a) == (i, j)
            np.testing.assert_array_equal(GK.matrices[a], G.matrices[i])
    assert GK.names[0] == "E" and GK.names[1] == "P"
    if G.order > 1:
        assert GK.names[GK.index(1, 0)] == G.names[1]
        assert GK.names[GK.index(1, 1)] == f"{G.names[1]}·P"
    T = GK.table
    np.testing.assert_array_equal(T[T], T[:, T])


def test_product_table_is_the_componentwise_product():
    G, K = point_group("C4v"), Zn(3)
    GK = G * K
    for a in range(GK.order):
        i, j = GK.split(a)
        for b in range(GK.order):
            k, m = GK.split(b)
            assert GK.split(GK.table[a, b]) == (G.table[i, k], K.table[j, m])
    assert GK.names[GK.index(G.index_of("C4z"), 2)] == "C4z·g^2"


def test_three_factors_flatten_and_associate():
    G, P, T = point_group("C4v", dim=2), Z2("particle_hole"), TimeReversal()
    left, right = (G * P) * T, G * (P * T)
    assert left.factors == right.factors == (G, P, T)
    assert left == right and left.shape == (8, 2, 2)
    np.testing.assert_array_equal(left.table, right.table)
    assert left.order == 32 and len(left.classes) == 5 * 2 * 2
    assert left.names[left.index(1, 1, 1)] == "C4·P·T"
    assert left.split(left.index(3, 0, 1)) == (3, 0, 1)
    T3 = left.table
    np.testing.assert_array_equal(T3[T3], T3[:, T3])
    np.testing.assert_array_equal(left.class_of, generic_class_of(left))
    np.testing.assert_array_equal(left.embedding(2), [0, 1])
    np.testing.assert_array_equal(left.embedding(0), np.arange(8) * 4)
    assert DirectProduct(G, P, T) == left


def test_internal_products_have_no_matrices():
    K = Z2() * Zn(3)
    assert K.is_internal and K.matrices is None and K.order == 6 and K.is_abelian
    assert K.names == ["E", "g", "g^2", "P", "P·g", "P·g^2"]


def test_two_spatial_factors_act_block_diagonally():
    G = point_group("4", dim=2) * point_group("m")
    assert G.matrices.shape == (8, 5, 5)
    M = G.matrices
    np.testing.assert_allclose(M[G.table], M[:, None] @ M[None, :], atol=1e-12)
    np.testing.assert_array_equal(M[G.index(1, 1)][:2, :2], point_group("4", dim=2).matrices[1])
    np.testing.assert_array_equal(M[G.index(1, 1)][2:, 2:], point_group("m").matrices[1])


def test_spatial_factor_without_matrices():
    table_only = Group.from_table([[0, 1], [1, 0]])
    assert (table_only * Z2()).matrices is None


def test_quaternion_group_times_z2():
    def realify(z):
        return np.block([[z.real, -z.imag], [z.imag, z.real]])

    Q = Group.from_generators([realify(np.diag([1j, -1j])), realify(np.array([[0, 1], [-1, 0]], complex))])
    QK = Q * Z2()
    assert QK.order == 16 and len(QK.classes) == 10


@given(st.data())
def test_product_law_on_random_elements(data):
    G = point_group("D6h") * Z2() * Zn(3)
    a = data.draw(st.integers(0, G.order - 1))
    b = data.draw(st.integers(0, G.order - 1))
    parts = [f.table[x, y] for f, x, y in zip(G.factors, G.split(a), G.split(b), strict=True)]
    assert G.split(G.table[a, b]) == tuple(parts)
    assert G.index(*G.split(a)) == a


def test_direct_product_bad_input():
    G = point_group("C2v")
    with pytest.raises(GroupError, match="at least two factors"):
        DirectProduct(G)
    with pytest.raises(TypeError, match="must be Groups"):
        DirectProduct(G, 3)
    GK = G * Z2()
    with pytest.raises(GroupError, match="out of range"):
        GK.split(8)
    with pytest.raises(GroupError, match="one component per factor"):
        GK.index(1)
    with pytest.raises(GroupError, match="out of range"):
        GK.index(4, 0)
    with pytest.raises(GroupError, match="factor index 2 out of range"):
        GK.embedding(2)
    assert repr(GK) == "DirectProduct(PointGroup('C2v', dim=3, setting='mm2', order=4), Z2('Z2', order=2))"


def test_groups_survive_pickling():
    import pickle

    for G in (point_group("Oh"), point_group("C4v") * Z2() * TimeReversal(), TimeReversal(), Zn(5)):
        H = pickle.loads(pickle.dumps(G))
        assert H == G and H.names == G.names and type(H) is type(G)
        np.testing.assert_array_equal(H.table, G.table)


def test_factors_sharing_element_names_are_numbered_as_the_cli_prints_them():
    D4 = point_group("4mm", dim=2)
    G = D4 * Z2() * Z2()
    assert G.order == 32 and len(set(G.names)) == 32
    assert G.names[:4] == ["E", "P2", "P", "P·P2"] and G.split(G.index_of("P2")) == (0, 0, 1)
    assert (Zn(3) * Zn(4)).names[:4] == ["E", "g2", "g2^2", "g2^3"]
    assert (Z2() * Z2(symbol="P2") * Z2()).names[1:4] == ["P3", "P2", "P2·P3"]  # P2 is taken: P3
    chosen = D4 * Z2() * Z2(symbol="Q")
    assert "Q" in chosen.names and "P2" not in chosen.names


def test_groups_over_the_order_limit_are_refused_before_their_tables_exist():
    from latsym.group import MAX_ORDER

    limit = rf"Z{10**6} would have {10**6} elements, .*MAX_ORDER={MAX_ORDER}.*TiB"
    with pytest.raises(GroupError, match=limit):
        Zn(10**6)
    with pytest.raises(GroupError, match=r"product group C4v×Z2000 would have 16000 elements.*1.91 GiB"):
        point_group("4mm", dim=2) * Zn(2000)
    assert (Zn(MAX_ORDER // 2) * Z2()).order == MAX_ORDER


def test_a_character_table_over_the_memory_limit_is_refused_with_its_size():
    from latsym.group import character_table, real_irreps

    with pytest.raises(GroupError, match=r"table of Z2000 \(2000 conjugacy classes\) needs about 298 GiB"):
        character_table(Zn(2000))
    with pytest.raises(GroupError, match="at most 475 classes"):
        real_irreps(Zn(600))
