"""Real irreducible representations of finite groups, deterministic and orthogonal.

Each real irrep is cut out of a "natural" representation that contains it, chosen in this order:

1. a coordinate block of the group's own matrices (the vector representation) whose character is
   the irrep's: its matrices are used as they are, so E of 4mm is the (x, y) block, T1u of m-3m is
   (x, y, z) and the complex-type E of C4 is the (x, y) block;
2. symmetric tensors ``Sym^k(V) ⊗ det^s`` of the vector representation V (polynomials of degree
   k, times the pseudoscalar for s = 1), k = 0, 1, 2, …, preferring the first that holds the irrep
   exactly once, else the first that holds it at all;
3. the regular representation (groups without matrices), kept as a permutation.

Direct products ``A × K`` use the Kronecker product of the factors' real irreps, which is the irrep
itself when either factor is of real type and is split otherwise.

Within the chosen representation the isotypic component is found with the character projector;
when it holds m > 1 copies, one copy is split off as the lowest eigenspace of a fixed (seeded)
symmetric equivariant map. The basis of the copy is canonical: the projections of the standard
basis vectors, orthonormalised in order (Gram–Schmidt). Nothing depends on the eigensolver's
choice of basis, so the matrices are the same on every machine up to rounding.
"""

from __future__ import annotations

import functools
import itertools
from dataclasses import dataclass

import numpy as np

from latsym.group._characters import CharacterTable, character_table, two_factors
from latsym.group._group import Group, GroupError


@dataclass(frozen=True, eq=False)
class Irrep:
    """A real irreducible representation of a finite group.

    Attributes:
        group: the group.
        index: position in :func:`real_irreps`.
        label: ASCII label (Mulliken for point groups, e.g. ``"A1g"``, ``"E'"``, ``"T1u"``).
        type: ``"R"`` (real), ``"C"`` (complex) or ``"H"`` (quaternionic) type.
        dim: real dimension: the complex dimension n for type R, 2n for types C and H.
        matrices: ``(|G|, dim, dim)`` float64 orthogonal matrices, ``matrices[table[a, b]] ==
            matrices[a] @ matrices[b]``.
        character: ``(|G|,)`` traces of ``matrices``.
        endomorphism_basis: ``(k, dim, dim)`` orthonormal (Frobenius) basis of the matrices that
            commute with every ``matrices[g]``, k = 1, 2, 4 for types R, C, H. ``[0]`` is
            ``I/√dim``; for type C ``[1] = J/√dim`` with ``J² = -I``, the sign chosen so that
            ``(tr M(g) − i tr(J M(g))) / 2`` is the character of the first complex irrep in
            ``complex_indices`` (``J`` multiplies ``1E`` by i; for E of C4 in the (x, y) basis
            J is the rotation by +90°); for type H ``[1]``, ``[2]`` are two anticommuting complex
            structures and ``[3] = √dim · [1] @ [2]``.
        complex_indices: rows of :func:`character_table` realified by this irrep.
    """

    group: Group
    index: int
    label: str
    type: str
    dim: int
    matrices: np.ndarray
    character: np.ndarray
    endomorphism_basis: np.ndarray
    complex_indices: tuple

    def matrix(self, element: int) -> np.ndarray:
        """The matrix ``(dim, dim)`` of element ``element`` (an index), read-only."""
        return self.matrices[self.group.check_element(element)]

    def __repr__(self) -> str:
        return f"Irrep({self.label!r}, type={self.type!r}, dim={self.dim}, group={self.group.name!r})"


_CACHE: dict = {}


def real_irreps(G: Group) -> tuple[Irrep, ...]:
    """The real irreps of ``G``, trivial first, then in the order of the published tables.

    Cached by content (``G.fingerprint``; internal groups also by name, so that ``irrep.group ==
    G``); the arrays are read-only.

    Args:
        G: a finite group.

    Returns:
        One :class:`Irrep` per real irrep.

    >>> import numpy as np
    >>> from latsym.group import Group, point_group, real_irreps
    >>> [(r.label, r.type, r.dim) for r in real_irreps(point_group("4mm"))]
    [('A1', 'R', 1), ('A2', 'R', 1), ('B1', 'R', 1), ('B2', 'R', 1), ('E', 'R', 2)]
    >>> c4 = np.array([[0.0, -1.0, 0.0], [1.0, 0.0, 0.0], [0.0, 0.0, 1.0]])  # a custom group
    >>> E = real_irreps(Group.from_generators([c4]))[2]
    >>> E.label, E.type, E.matrices[1]  # complex type; the (x, y) block of C4
    ('E', 'C', array([[ 0., -1.],
           [ 1.,  0.]]))
    """
    if not isinstance(G, Group):
        raise TypeError(f"real_irreps expects a latsym Group, got {type(G).__name__}")
    key = (type(G).__qualname__, G._identity())  # content, plus the names of internal groups
    if key not in _CACHE:
        _CACHE[key] = _build(G)
    return _CACHE[key]


def _build(G: Group) -> tuple[Irrep, ...]:
    table = character_table(G)
    n_real = len(table.real_types)
    targets = [table.real_character(k)[G.class_of] for k in range(n_real)]
    mats: list[np.ndarray | None] = [None] * n_real
    if table.real_factors is not None:
        _from_factors(G, two_factors(G), table, targets, mats)
    else:
        _from_natural(G, table, targets, mats)
    gens = _generators(G)
    out = []
    for k in range(n_real):
        m = mats[k]
        if not np.allclose(np.trace(m, axis1=1, axis2=2), targets[k], atol=1e-8):  # pragma: no cover
            raise GroupError(f"internal error: irrep {table.real_labels[k]} of {G!r} has a wrong character")
        m = np.round(m) if m.shape[1] == 1 else m + 0.0  # one-dimensional irreps are exactly ±1
        m.setflags(write=False)
        character = np.trace(m, axis1=1, axis2=2).copy()
        character.setflags(write=False)
        first = table.characters[table.real_complex_indices[k][0]][G.class_of]
        endo = _endomorphisms(m, gens, table.real_types[k], first)
        endo.setflags(write=False)
        out.append(Irrep(G, k, table.real_labels[k], table.real_types[k], m.shape[1], m, character,
                         endo, table.real_complex_indices[k]))
    return tuple(out)


# -- sources of irreps ---------------------------------------------------------------------------


def _from_factors(G, factors, table: CharacterTable, targets, mats):
    A, K = factors
    ia, ik = np.divmod(np.arange(G.order), K.order)
    ra, rk = real_irreps(A), real_irreps(K)
    for k, (r, s) in enumerate(table.real_factors):
        a, b = ra[r], rk[s]
        rep = np.einsum("gij,gkl->gikjl", a.matrices[ia], b.matrices[ik]).reshape(
            G.order, a.dim * b.dim, a.dim * b.dim)
        mats[k] = _cut(rep, targets[k], table, k)


def _from_natural(G: Group, table: CharacterTable, targets, mats):
    natural = G.matrices
    if natural is not None and not _is_orthogonal(natural):
        natural = None
    todo = set(range(len(mats)))
    if natural is not None:
        for block in _coordinate_blocks(natural):
            rep = natural[:, block][:, :, block]
            chi = np.trace(rep, axis1=1, axis2=2)
            for k in sorted(todo):
                if np.allclose(chi, targets[k], atol=1e-8):
                    mats[k] = rep.copy()
                    todo.discard(k)
                    break
    fallback: dict[int, np.ndarray] = {}
    for rep in _natural_candidates(natural):
        if not todo:
            break
        chi = _traces(rep)
        for k in sorted(todo):
            m = _multiplicity(chi, targets[k])
            if m == 1:
                mats[k] = _cut(rep, targets[k], table, k)
                todo.discard(k)
                fallback.pop(k, None)
            elif m > 1 and k not in fallback:
                fallback[k] = rep
    regular = _Permutation(G.table) if any(k not in fallback for k in todo) else None
    for k in sorted(todo):
        mats[k] = _cut(fallback.get(k, regular), targets[k], table, k)


def _natural_candidates(natural):
    """Sym^k(V) ⊗ det^s for k = 0, 1, … while V^⊗k has at most 256 dimensions."""
    if natural is None:
        return
    d = natural.shape[1]
    det = np.linalg.det(natural)
    k = 0
    while d**k <= 256:
        basis = _sym_basis(d, k)
        if k == 0:
            sym = np.ones((len(natural), 1, 1))
        else:
            full = natural
            for _ in range(k - 1):
                full = np.einsum("gij,gkl->gikjl", full, natural).reshape(len(natural), full.shape[1] * d, -1)
            sym = basis.T @ full @ basis
        yield sym
        yield sym * det[:, None, None]
        k += 1


@functools.cache
def _sym_basis(d: int, k: int) -> np.ndarray:
    """Orthonormal basis ``(d**k, C(d+k-1, k))`` of the symmetric tensors, monomials in lexicographic
    order (for k = 2, d = 3: xx, xy, xz, yy, yz, zz)."""
    monomials = list(itertools.combinations_with_replacement(range(d), k))
    column = {m: c for c, m in enumerate(monomials)}
    basis = np.zeros((d**k, len(monomials)))
    for flat, index in enumerate(itertools.product(range(d), repeat=k)):
        basis[flat, column[tuple(sorted(index))]] = 1.0
    basis /= np.linalg.norm(basis, axis=0)
    basis.setflags(write=False)
    return basis


class _Permutation:
    """A permutation representation ``R(g) e_i = e_{perm[g, i]}`` kept as index arrays, shape
    ``(|G|, N, N)`` without storing the matrices (the regular representation has ``N = |G|``)."""

    def __init__(self, perm: np.ndarray):
        self.perm = perm
        self.shape = (perm.shape[0], perm.shape[1], perm.shape[1])
        self.inverse = np.argsort(perm, axis=1)  # R(g) B == B[inverse[g]]


def _traces(rep) -> np.ndarray:
    if isinstance(rep, _Permutation):
        return (rep.perm == np.arange(rep.shape[1])).sum(axis=1).astype(np.float64)
    return np.trace(rep, axis1=1, axis2=2)


def _weighted_sum(rep, weights: np.ndarray) -> np.ndarray:
    """``Σ_g weights[g] R(g)``, shape ``(N, N)``."""
    if isinstance(rep, _Permutation):
        big = rep.shape[1]
        flat = (rep.perm * big + np.arange(big)).ravel()  # entry (perm[g, i], i) of R(g)
        sums = np.bincount(flat, weights=np.repeat(weights, big), minlength=big * big)
        return sums.reshape(big, big)
    return np.tensordot(weights, rep, axes=1)


def _sandwich(rep, left: np.ndarray, right: np.ndarray) -> np.ndarray:
    """``leftᵀ R(g) right`` for every g, shape ``(|G|, left.shape[1], right.shape[1])``."""
    if isinstance(rep, _Permutation):
        return left.T @ right[rep.inverse]
    return left.T @ rep @ right


def _coordinate_blocks(mats: np.ndarray) -> list[np.ndarray]:
    """Finest partition of the coordinates into blocks that every matrix preserves."""
    linked = (np.abs(mats) > 1e-10).any(axis=0)
    d = len(linked)
    label = list(range(d))
    for i in range(d):
        for j in range(d):
            if linked[i, j] or linked[j, i]:
                a, b = label[i], label[j]
                label = [a if x == b else x for x in label]
    return [np.flatnonzero(np.array(label) == v) for v in sorted(set(label))]


# -- linear algebra ------------------------------------------------------------------------------


def _is_orthogonal(mats: np.ndarray) -> bool:
    eye = np.eye(mats.shape[1])
    return bool(np.allclose(np.einsum("gij,gkj->gik", mats, mats), eye, atol=1e-8))


def _multiplicity(chi: np.ndarray, target: np.ndarray) -> int:
    m = (chi @ target) / (target @ target)
    return round(m)


def _gram_schmidt(vectors: np.ndarray, rank: int) -> np.ndarray:
    """Orthonormalise the columns in order, skipping those (nearly) in the span of earlier ones."""
    out = np.zeros((vectors.shape[0], 0))
    for v in vectors.T:
        for _ in range(2):
            v = v - out @ (out.T @ v)
        norm = np.linalg.norm(v)
        if norm > 1e-6:
            out = np.column_stack([out, v / norm])
            if out.shape[1] == rank:
                return out
    raise GroupError(f"internal error: expected a subspace of dimension {rank}, found {out.shape[1]}")


def _cut(rep, target: np.ndarray, table: CharacterTable, k: int) -> np.ndarray:
    """Matrices of one copy of real irrep ``k`` (character ``target`` per element) inside ``rep``
    (an array ``(|G|, N, N)`` or a :class:`_Permutation`)."""
    n, big = rep.shape[0], rep.shape[1]
    dim = round(target[0])
    mult = _multiplicity(_traces(rep), target)
    if mult == 1 and big == dim and not isinstance(rep, _Permutation):
        return rep.copy()
    # character projector onto the isotypic component (characters of the distinct constituents)
    G = table.group
    constituents = table.characters[list(table.real_complex_indices[k])]
    chi = constituents.conj().sum(axis=0).real[G.class_of] * table.dims[table.real_complex_indices[k][0]]
    basis = _gram_schmidt(_weighted_sum(rep, chi / n), mult * dim)
    if mult > 1:
        sub = _sandwich(rep, basis, basis)
        x = basis.T @ _seeded_symmetric(big) @ basis
        sym = (sub @ x @ sub.transpose(0, 2, 1)).sum(axis=0)
        values, vectors = np.linalg.eigh(sym)
        scale = max(1.0, np.abs(values).max())
        if values[dim] - values[dim - 1] < 1e-6 * scale or values[dim - 1] - values[0] > 1e-8 * scale:
            raise GroupError("internal error: could not split an isotypic component")  # pragma: no cover
        copy = basis @ vectors[:, :dim]
        basis = _gram_schmidt(copy @ copy.T, dim)
    return _sandwich(rep, basis, basis)


@functools.cache
def _seeded_symmetric(size: int) -> np.ndarray:
    """A fixed generic symmetric matrix ``(size, size)`` (seeded normal entries)."""
    x = np.random.default_rng(20240917).standard_normal((size, size))
    x = x + x.T
    x.setflags(write=False)
    return x


def _generators(G: Group) -> list[int]:
    """A small generating set: greedily the first element outside the subgroup generated so far."""
    gens: list[int] = []
    members = {0}
    for g in range(G.order):
        if g not in members:
            gens.append(g)
            members = set(G.generated_subgroup(gens).tolist())
    return gens or [0]


def _endomorphisms(mats: np.ndarray, gens: list[int], kind: str, first: np.ndarray) -> np.ndarray:
    """Canonical orthonormal basis ``(k, d, d)`` of the commutant of ``mats`` ``(|G|, d, d)``.

    For type C the sign of ``J`` makes the irrep complex-linear with character ``first`` (per
    element): ``(tr M − i tr(J M)) / 2 = first``, so ``J`` is "multiplication by i" of ``1E``.
    """
    gen_mats = mats[gens]
    d = gen_mats.shape[1]
    eye = np.eye(d)
    # X M - M X = 0 for every generator M, with X flattened row-major
    rows = np.concatenate([np.kron(eye, m.T) - np.kron(m, eye) for m in gen_mats])
    _, s, vt = np.linalg.svd(rows)
    null = vt[s < 1e-8]
    expected = {"R": 1, "C": 2, "H": 4}[kind]
    if len(null) != expected:  # pragma: no cover - only for a wrong type
        raise GroupError(f"internal error: commutant of dimension {len(null)}, expected {expected}")
    unit = eye.ravel() / np.sqrt(d)
    rest = null.T - np.outer(unit, unit @ null.T)  # complement of the identity, (d*d, k)
    out = [unit]
    if kind == "C":
        j = _gram_schmidt(rest, 1)[:, 0]
        overlap = -np.einsum("ij,gji->g", j.reshape(d, d), mats) @ first.imag
        out.append(j if overlap > 0 else -j)
    elif kind == "H":
        pairs = [(a, b) for a in range(d) for b in range(a + 1, d)]
        antisym = np.zeros((d * d, len(pairs)))
        for col, (a, b) in enumerate(pairs):
            antisym[a * d + b, col], antisym[b * d + a, col] = 1.0, -1.0
        span = _gram_schmidt(rest, 3)
        j1, j2 = _gram_schmidt(span @ (span.T @ antisym), 2).T
        out += [j1, j2, (j1.reshape(d, d) @ j2.reshape(d, d)).ravel() * np.sqrt(d)]
    return np.array(out).reshape(-1, d, d)
