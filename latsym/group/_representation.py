"""Linear representations of finite groups: construction, algebra and decomposition into real irreps.

A representation of a group G on R^d is an array of matrices ``(|G|, d, d)``, one per element, with
``matrices[G.table[a, b]] == matrices[a] @ matrices[b]``. The decomposition into the real irreps of
``latsym.group.real_irreps`` comes with an explicit change of basis that block-diagonalises every
matrix into copies of the irreps' own matrices.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction
from functools import cache, cached_property

import numpy as np
from scipy.spatial import cKDTree

from latsym.group._group import Group, GroupError
from latsym.group._irreps import Irrep, real_irreps

#: Absolute tolerance of the homomorphism and orthogonality checks.
ATOL = 1e-8


class Representation:
    """A real linear representation ρ of a finite group: one ``(d, d)`` matrix per element.

    Args:
        group: the group G.
        matrices: ``(|G|, d, d)`` array with ``matrices[g] = ρ(g)``; element 0 must map to the identity.
        name: an optional name used in ``repr``.
        check: verify ``ρ(a)ρ(b) = ρ(ab)`` (on a generating set, which implies it for all pairs).
            Pass ``False`` only for matrices built from a representation already known to be one.

    Raises:
        TypeError: ``group`` is not a :class:`Group`.
        ValueError: wrong shape, non-finite entries.
        GroupError: the matrices are not a homomorphism.

    >>> import numpy as np
    >>> from latsym.group import Group
    >>> G = Group.from_generators([np.array([[0.0, -1.0], [1.0, 0.0]])])
    >>> rho = Representation(G, G.matrices, name="vector")
    >>> rho.dim, rho.character.round(6).tolist()
    (2, [2.0, 0.0, -2.0, 0.0])
    """

    def __init__(self, group: Group, matrices: np.ndarray, name: str | None = None, *, check: bool = True):
        if not isinstance(group, Group):
            raise TypeError(f"group must be a latsym Group, got {type(group).__name__}")
        try:
            mats = np.array(matrices, dtype=np.float64)
        except (TypeError, ValueError) as exc:
            raise ValueError(f"representation matrices must be a numeric array (|G|, d, d): {exc}") from exc
        n = group.order
        if mats.ndim != 3 or mats.shape[0] != n or mats.shape[1] != mats.shape[2] or mats.shape[1] == 0:
            raise ValueError(
                f"representation matrices must have shape ({n}, d, d) for {group.name} of order {n}, "
                f"got {mats.shape}"
            )
        if not np.all(np.isfinite(mats)):
            raise ValueError("representation matrices have NaN or inf entries")
        if check:
            _check_homomorphism(group, mats)
        mats.setflags(write=False)
        self.group = group
        self.matrices = mats
        self.name = name or f"rep{mats.shape[1]}"

    @classmethod
    def from_irrep(cls, irrep: Irrep) -> Representation:
        """The representation given by a real irrep's matrices."""
        return cls(irrep.group, irrep.matrices, name=irrep.label, check=False)

    # -- basic properties -----------------------------------------------------------------------

    @property
    def dim(self) -> int:
        """Dimension d of the representation space."""
        return self.matrices.shape[1]

    @cached_property
    def character(self) -> np.ndarray:
        """Traces ``χ(g) = tr ρ(g)``, shape ``(|G|,)``."""
        chi = np.trace(self.matrices, axis1=1, axis2=2)
        chi.setflags(write=False)
        return chi

    @cached_property
    def is_orthogonal(self) -> bool:
        """Whether every ``ρ(g)`` is orthogonal (``ρ(g)ᵀρ(g) = 1``)."""
        gram = self.matrices.transpose(0, 2, 1) @ self.matrices
        return bool(np.allclose(gram, np.eye(self.dim), rtol=0, atol=ATOL))

    def __repr__(self) -> str:
        return f"Representation({self.name!r}, group={self.group.name!r}, dim={self.dim})"

    # -- algebra --------------------------------------------------------------------------------

    def direct_sum(self, *others: Representation) -> Representation:
        """ρ ⊕ σ ⊕ …: block-diagonal matrices, ``self`` first. Also ``rho + sigma``."""
        reps = (self, *others)
        for r in others:
            self._same_group(r, "direct sum")
        d = sum(r.dim for r in reps)
        out = np.zeros((self.group.order, d, d))
        start = 0
        for r in reps:
            out[:, start : start + r.dim, start : start + r.dim] = r.matrices
            start += r.dim
        return Representation(self.group, out, name=" + ".join(r.name for r in reps), check=False)

    def __add__(self, other: Representation) -> Representation:
        if not isinstance(other, Representation):
            return NotImplemented
        return self.direct_sum(other)

    def tensor(self, other: Representation) -> Representation:
        """ρ ⊗ σ: Kronecker products ``ρ(g) ⊗ σ(g)``; index ``(i, j)`` of the product is ``i * σ.dim + j``."""
        self._same_group(other, "tensor product")
        n, d1, d2 = self.group.order, self.dim, other.dim
        out = np.einsum("gij,gkl->gikjl", self.matrices, other.matrices).reshape(n, d1 * d2, d1 * d2)
        return Representation(self.group, out, name=f"({self.name})x({other.name})", check=False)

    def dual(self) -> Representation:
        """The contragredient ρ*(g) = ρ(g⁻¹)ᵀ (equal to ρ when ρ is orthogonal)."""
        out = self.matrices[self.group.inverse].transpose(0, 2, 1)
        return Representation(self.group, out, name=f"({self.name})*", check=False)

    def restrict(self, subgroup) -> Representation:
        """Restriction to a subgroup H ⊂ G.

        Args:
            subgroup: ``(H, embedding)`` as returned by :meth:`Group.subgroup` (``embedding[h]`` is
                the index in G of H's element h), a :class:`Group` with matrices that are a subset
                of G's, or a sequence of element indices of G that is closed under multiplication.

        Returns:
            The representation ``h ↦ ρ(embedding[h])`` of H.
        """
        H, embedding = resolve_subgroup(self.group, subgroup)
        return Representation(H, self.matrices[embedding], name=f"{self.name}|{H.name}", check=False)

    def _same_group(self, other: Representation, what: str) -> None:
        if not isinstance(other, Representation):
            raise TypeError(f"{what} needs a Representation, got {type(other).__name__}")
        if other.group != self.group:
            raise GroupError(
                f"{what} of representations of different groups ({self.group.name} and "
                f"{other.group.name}); restrict or induce one of them first"
            )

    # -- decomposition --------------------------------------------------------------------------

    def decompose(self) -> Decomposition:
        """Decompose into the real irreps of the group, with an explicit change of basis.

        Returns:
            A :class:`Decomposition` whose ``change_of_basis`` Q satisfies
            ``Q⁻¹ ρ(g) Q = block_diag(irrep matrices, in order)`` for every g; Q is orthogonal when ρ
            is. Each block equals the irrep's own matrices exactly (also for C- and H-type irreps).
            Q is deterministic (no random numbers, no eigensolver basis choices; see
            ``isotypic_copies``). The result is cached on the representation.
        """
        return _decompose(self)


@dataclass(frozen=True, eq=False)
class Decomposition:
    """A representation split into real irreps: ``ρ ≅ ⊕ m_i σ_i``.

    Attributes:
        representation: the decomposed representation ρ, of dimension d.
        terms: ``((irrep, multiplicity), …)`` for the irreps that occur, in the group's irrep order.
        change_of_basis: Q, shape ``(d, d)``: column block k spans the k-th irrep copy (copies of
            the same irrep consecutive, irreps in ``terms`` order), and
            ``Q⁻¹ ρ(g) Q = block_diag(…)``. Orthogonal when ρ is.
        change_of_basis_inv: Q⁻¹, shape ``(d, d)`` (``Qᵀ`` when ρ is orthogonal).
    """

    representation: Representation
    terms: tuple[tuple[Irrep, int], ...]
    change_of_basis: np.ndarray
    change_of_basis_inv: np.ndarray

    @property
    def multiplicities(self) -> dict[str, int]:
        """``{irrep label: multiplicity}`` for the irreps that occur, in irrep order."""
        return {irrep.label: m for irrep, m in self.terms}

    @property
    def irreps(self) -> tuple[Irrep, ...]:
        """The irrep of every block, with repetitions, in block order."""
        return tuple(irrep for irrep, m in self.terms for _ in range(m))

    def block_diagonal(self) -> np.ndarray:
        """``block_diag(σ₁(g), σ₂(g), …)`` for every g, shape ``(|G|, d, d)``."""
        d = self.representation.dim
        out = np.zeros((self.representation.group.order, d, d))
        start = 0
        for irrep in self.irreps:
            out[:, start : start + irrep.dim, start : start + irrep.dim] = irrep.matrices
            start += irrep.dim
        return out

    def __str__(self) -> str:
        return " + ".join(irrep.label if m == 1 else f"{m}x{irrep.label}" for irrep, m in self.terms)


# -- constructors ---------------------------------------------------------------------------------


def trivial_representation(group: Group, dim: int = 1) -> Representation:
    """The trivial representation: ``ρ(g) = 1`` (``dim × dim`` identity) for every g."""
    if not isinstance(dim, int | np.integer) or dim < 1:
        raise ValueError(f"dim must be a positive integer, got {dim!r}")
    return Representation(group, np.broadcast_to(np.eye(dim), (group.order, dim, dim)), name="trivial")


def permutation_representation(
    group: Group,
    action: np.ndarray | None = None,
    *,
    points: np.ndarray | None = None,
    atol: float = 1e-6,
    name: str | None = None,
) -> Representation:
    """The representation of G permuting the points of a finite set: ``ρ(g) e_p = e_{g·p}``.

    Give either ``action`` or ``points``:

    Args:
        group: the group G.
        action: integer array ``(|G|, n)`` with ``action[g, p]`` the index of the image of point p.
        points: coordinates ``(n, D)`` of the points, moved by the group's ``(D, D)`` matrices
            (``g·p = matrices[g] @ p``); each image is matched to a point within ``atol``.
        atol: matching tolerance for ``points``, in the units of the coordinates.
        name: optional name.

    Raises:
        ValueError: both or neither of ``action``/``points``, wrong shapes, repeated points, or an
            image that is not in the point set.
        GroupError: ``action`` is not a group action.

    The 4 nearest neighbours of a square-lattice site under 4mm (2D):

    >>> from latsym.group import point_group
    >>> G = point_group("4mm", dim=2)
    >>> rho = permutation_representation(G, points=[[1, 0], [0, 1], [-1, 0], [0, -1]])
    >>> str(rho.decompose())
    'A1 + B1 + E'
    """
    if (action is None) == (points is None):
        raise ValueError("give exactly one of `action` (|G|, n) or `points` (n, D)")
    if points is not None:
        action = _action_from_points(group, points, atol)
    action = np.asarray(action)
    n = group.order
    if action.ndim != 2 or action.shape[0] != n or action.shape[1] == 0:
        raise ValueError(f"action must have shape ({n}, n_points), got {action.shape}")
    if not np.issubdtype(action.dtype, np.integer):
        raise ValueError(f"action must hold integer point indices, got dtype {action.dtype}")
    n_points = action.shape[1]
    if np.any(np.sort(action, axis=1) != np.arange(n_points)):
        raise GroupError("each row action[g] must be a permutation of 0..n_points-1")
    if not np.array_equal(action[0], np.arange(n_points)):
        raise GroupError("the identity (element 0) must fix every point: action[0] = 0..n_points-1")
    # a·(b·p) == (ab)·p for every a, b, p
    if not np.array_equal(action[group.table], action[:, action]):
        raise GroupError("action is not a group action: action[a·b, p] != action[a, action[b, p]]")
    mats = np.zeros((n, n_points, n_points))
    g_idx = np.repeat(np.arange(n), n_points)
    p_idx = np.tile(np.arange(n_points), n)
    mats[g_idx, action.reshape(-1), p_idx] = 1.0
    return Representation(group, mats, name=name or f"perm{n_points}", check=False)


def _action_from_points(group: Group, points, atol: float) -> np.ndarray:
    if group.matrices is None:
        raise ValueError(f"{group.name} has no matrices to move points with; pass `action` instead")
    pts = np.asarray(points, dtype=np.float64)
    D = group.matrices.shape[1]
    if pts.ndim != 2 or pts.shape[1] != D or pts.shape[0] == 0:
        raise ValueError(f"points must have shape (n, {D}) to match the group's matrices, got {pts.shape}")
    tree = cKDTree(pts)
    if len(pts) > 1:
        dist, nearest = tree.query(pts, k=2)
        if dist[:, 1].min() <= atol:
            p = int(np.argmin(dist[:, 1]))
            raise ValueError(f"points {p} and {nearest[p, 1]} coincide within atol={atol}; remove duplicates")
    images = np.einsum("gij,pj->gpi", group.matrices, pts)
    dist, action = tree.query(images)  # (|G|, n) nearest point of every image
    bad = dist > atol
    if bad.any():
        g, p = np.argwhere(bad)[0]
        raise ValueError(
            f"the points are not permuted by {group.name}: element {g} ({group.names[g]}) maps point "
            f"{p} {pts[p].tolist()} to {images[g, p].round(8).tolist()}, which is not in the set; "
            "pass a union of whole orbits (or raise atol)"
        )
    return action


def regular_representation(group: Group) -> Representation:
    """The regular representation, G permuting its own elements by left multiplication; dim ``|G|``."""
    return permutation_representation(group, group.table, name="regular")


def vector_representation(group: Group) -> Representation:
    """The group's own matrices ("polar" vectors: x, y, z)."""
    return Representation(group, _require_matrices(group), name="vector", check=False)


def pseudovector_representation(group: Group) -> Representation:
    """``det(g)·g`` ("axial" vectors, such as angular momentum or a magnetic field)."""
    mats = _require_matrices(group)
    return Representation(group, np.linalg.det(mats)[:, None, None] * mats, name="pseudovector", check=False)


def o3_representation(group: Group, l: int, parity: int) -> Representation:
    """The O(3) irrep of degree ``l`` and parity ``p`` evaluated on the group's 3×3 matrices.

    The space is the harmonic polynomials of degree l (dimension 2l+1) with ``(ρ(R)f)(x) = f(R⁻¹x)``
    for rotations; an improper element ``g = -R`` acts as ``p·ρ(R)``. The basis is deterministic and
    orthonormal on the sphere; for ``l = 1`` it is Cartesian (x, y, z), so ``(1, -1)`` is the vector
    and ``(1, +1)`` the pseudovector representation.

    Args:
        group: a group with ``(|G|, 3, 3)`` orthogonal matrices.
        l: degree, ``l ≥ 0``.
        parity: ``+1`` (even, "g") or ``-1`` (odd, "u").

    >>> from latsym.group import point_group
    >>> str(o3_representation(point_group("Oh"), 2, +1).decompose())
    'Eg + T2g'
    """
    if not isinstance(l, int | np.integer) or l < 0:
        raise ValueError(f"l must be a non-negative integer, got {l!r}")
    if parity not in (1, -1):
        raise ValueError(f"parity must be +1 or -1, got {parity!r}")
    mats = _require_matrices(group)
    if mats.shape[1] != 3:
        raise ValueError(f"o3_representation needs 3x3 matrices, {group.name} has {mats.shape[1:]}")
    if not np.allclose(np.einsum("gki,gkj->gij", mats, mats), np.eye(3), rtol=0, atol=ATOL):
        raise ValueError(f"o3_representation needs orthogonal matrices; those of {group.name} are not")
    exponents, coeffs = _harmonic_basis(int(l))
    points = _fibonacci_sphere(4 * (2 * l + 1))
    det = np.linalg.det(mats)
    rotations = det[:, None, None] * mats
    values = _evaluate(points, exponents, coeffs)  # (N, 2l+1)
    # f(R⁻¹x) at the points: R⁻¹x = Rᵀx, i.e. rows p @ R
    moved = _evaluate(np.einsum("pi,gij->gpj", points, rotations).reshape(-1, 3), exponents, coeffs)
    moved = moved.reshape(group.order, len(points), -1)
    pinv = np.linalg.pinv(values)
    out = np.einsum("ap,gpb->gab", pinv, moved)
    out *= np.where(det < 0, parity, 1)[:, None, None]
    return Representation(group, out, name=f"l={l}{'e' if parity == 1 else 'o'}")


def branching(group: Group, l: int, parity: int) -> dict[str, int]:
    """Multiplicities of the group's irreps in the O(3) irrep ``(l, parity)``.

    >>> from latsym.group import point_group
    >>> branching(point_group("Oh"), 1, -1)
    {'T1u': 1}
    """
    return o3_representation(group, l, parity).decompose().multiplicities


def _require_matrices(group: Group) -> np.ndarray:
    if not isinstance(group, Group):
        raise TypeError(f"group must be a latsym Group, got {type(group).__name__}")
    if group.matrices is None:
        raise ValueError(f"{group.name} is an abstract group without matrices")
    return group.matrices


@cache
def _harmonic_basis(l: int) -> tuple[np.ndarray, np.ndarray]:
    """Orthonormal (on the sphere, normalised measure) harmonic polynomials of degree l.

    Returns ``(exponents (M, 3), coefficients (M, 2l+1))`` over the M monomials x^a y^b z^c.
    Each basis function starts as the unique harmonic polynomial whose part of z-degree ≤ 1 is a
    monomial (x^l, x^(l-1)y, …, y^l, x^(l-1)z, …, y^(l-1)z); the set is then orthonormalised
    symmetrically (Löwdin), which keeps it deterministic and makes l = 1 exactly (x, y, z).
    """
    exponents = [(a, l - a - c, c) for c in range(l + 1) for a in range(l - c, -1, -1)]
    index = {e: i for i, e in enumerate(exponents)}
    seeds = [(a, l - a, 0) for a in range(l, -1, -1)] + [(a, l - 1 - a, 1) for a in range(l - 1, -1, -1)]
    H = np.zeros((len(exponents), len(seeds)))
    for s, seed in enumerate(seeds):
        poly = {seed: Fraction(1)}
        layer = dict(poly)
        while layer:
            nxt: dict[tuple[int, int, int], Fraction] = {}
            for (a, b, c), v in layer.items():  # f_{c+2} = -Δ_xy f_c / ((c+2)(c+1))
                scale = -v / ((c + 2) * (c + 1))
                if a >= 2:
                    key = (a - 2, b, c + 2)
                    nxt[key] = nxt.get(key, Fraction(0)) + scale * a * (a - 1)
                if b >= 2:
                    key = (a, b - 2, c + 2)
                    nxt[key] = nxt.get(key, Fraction(0)) + scale * b * (b - 1)
            layer = {k: v for k, v in nxt.items() if v != 0}
            poly.update(layer)
        for e, v in poly.items():
            H[index[e], s] = float(v)
    gram = np.array([[_sphere_moment(e1, e2) for e2 in exponents] for e1 in exponents])
    w, v = np.linalg.eigh(H.T @ gram @ H)
    coeffs = H @ (v / np.sqrt(w)) @ v.T
    return np.array(exponents), coeffs


def _sphere_moment(e1, e2) -> float:
    """Mean of x^a y^b z^c over the unit sphere for the product of two monomials."""
    a, b, c = (i + j for i, j in zip(e1, e2, strict=True))
    if a % 2 or b % 2 or c % 2:
        return 0.0

    def dfact(k: int) -> int:  # k!! (exact integers: no overflow for large l)
        return math.prod(range(k, 0, -2))

    return dfact(a - 1) * dfact(b - 1) * dfact(c - 1) / dfact(a + b + c + 1)


def _fibonacci_sphere(n: int) -> np.ndarray:
    """n deterministic, well-spread unit vectors, shape ``(n, 3)``."""
    k = np.arange(n) + 0.5
    z = 1 - 2 * k / n
    phi = np.pi * (1 + 5**0.5) * k
    r = np.sqrt(1 - z**2)
    return np.stack([r * np.cos(phi), r * np.sin(phi), z], axis=1)


def _evaluate(points: np.ndarray, exponents: np.ndarray, coeffs: np.ndarray) -> np.ndarray:
    monomials = np.prod(points[:, None, :] ** exponents[None], axis=2)  # (N, M)
    return monomials @ coeffs


# -- subgroups and induction ----------------------------------------------------------------------


def resolve_subgroup(group: Group, subgroup) -> tuple[Group, np.ndarray]:
    """Normalise a subgroup argument to ``(H, embedding)`` and check that it is a subgroup of ``group``.

    Accepts ``(H, embedding)``, a :class:`Group` whose matrices are among ``group``'s, or a sequence
    of element indices of ``group`` closed under multiplication. Raises :class:`GroupError` if the
    argument does not describe a subgroup.
    """
    if isinstance(subgroup, tuple) and len(subgroup) == 2 and isinstance(subgroup[0], Group):
        H, embedding = subgroup
        embedding = np.asarray(embedding)
        if embedding.shape != (H.order,) or not np.issubdtype(embedding.dtype, np.integer):
            raise GroupError(f"the embedding must be {H.order} integer indices, got shape {embedding.shape}")
        if embedding.min() < 0 or embedding.max() >= group.order or len(set(embedding.tolist())) != H.order:
            raise GroupError(
                f"the embedding must be distinct element indices of {group.name} (0..{group.order - 1})"
            )
        if not np.array_equal(group.table[np.ix_(embedding, embedding)], embedding[H.table]):
            raise GroupError(
                f"the embedding is not a homomorphism from {H.name} into {group.name}: "
                "embedding[H.table[a, b]] != G.table[embedding[a], embedding[b]]"
            )
        return H, embedding.astype(np.int64)
    if isinstance(subgroup, Group):
        if subgroup.matrices is None or group.matrices is None:
            raise GroupError(
                "to embed a subgroup given as a Group both groups need matrices; pass (H, embedding)"
            )
        if subgroup.matrices.shape[1:] != group.matrices.shape[1:]:
            raise GroupError(f"{subgroup.name} and {group.name} act in different dimensions")
        diff = np.abs(subgroup.matrices[:, None] - group.matrices[None]).max(axis=(2, 3))
        embedding = np.argmin(diff, axis=1)
        if np.any(diff[np.arange(subgroup.order), embedding] > ATOL):
            raise GroupError(
                f"{subgroup.name} is not a subgroup of {group.name}: some of its matrices are not in it"
            )
        return resolve_subgroup(group, (subgroup, embedding))
    try:
        elements = np.asarray(subgroup, dtype=np.int64).reshape(-1)
    except (TypeError, ValueError) as exc:
        raise TypeError(
            f"a subgroup is (H, embedding), a Group, or element indices; got {type(subgroup).__name__}"
        ) from exc
    members = group.generated_subgroup(elements.tolist())
    if set(elements.tolist()) | {0} != set(members.tolist()):
        raise GroupError(
            f"elements {sorted(set(elements.tolist()))} are not a subgroup of {group.name} (not closed under "
            f"multiplication; they generate {members.tolist()}); use group.subgroup(generators)"
        )
    return group.subgroup(members)


def induce(group: Group, subgroup, rep: Representation) -> Representation:
    """The representation of G induced from a representation of a subgroup H: ``Ind_H^G σ``.

    The space is ``⊕_i t_i V`` over left coset representatives ``t_i`` (the smallest element index
    of each coset, cosets ordered by that index), dimension ``[G:H]·dim σ``; block ``(i, j)`` of
    ``ρ(g)`` is ``σ(t_i⁻¹ g t_j)`` when that lies in H, else 0.

    Args:
        group: G.
        subgroup: H as accepted by :func:`resolve_subgroup`.
        rep: a representation of H.

    >>> from latsym.group import point_group
    >>> G = point_group("4mm", dim=2)
    >>> rho = induce(G, [0], trivial_representation(G.subgroup([0])[0]))
    >>> rho.dim == G.order
    True
    """
    H, embedding = resolve_subgroup(group, subgroup)
    if not isinstance(rep, Representation):
        raise TypeError(f"rep must be a Representation of the subgroup, got {type(rep).__name__}")
    if rep.group != H:
        raise GroupError(f"rep is a representation of {rep.group.name}, not of the subgroup {H.name}")
    n, d = group.order, rep.dim
    coset_of = -np.ones(n, dtype=np.int64)
    reps: list[int] = []
    for g in range(n):
        if coset_of[g] < 0:
            coset_of[group.table[g, embedding]] = len(reps)
            reps.append(g)
    pos = -np.ones(n, dtype=np.int64)
    pos[embedding] = np.arange(H.order)
    k = len(reps)
    out = np.zeros((n, k * d, k * d))
    t = np.array(reps)
    t_inv = group.inverse[t]
    for g in range(n):
        gt = group.table[g, t]  # g t_j
        i = coset_of[gt]
        h = pos[group.table[t_inv[i], gt]]  # t_i⁻¹ g t_j ∈ H
        for j in range(k):
            out[g, i[j] * d : (i[j] + 1) * d, j * d : (j + 1) * d] = rep.matrices[h[j]]
    return Representation(group, out, name=f"Ind({rep.name})", check=False)


# -- internals --------------------------------------------------------------------------------------


@cache
def _generating_set(group: Group) -> tuple[int, ...]:
    """A small generating set (greedy, deterministic)."""
    gens: list[int] = []
    covered = {0}
    for g in np.argsort(-group.element_orders, kind="stable").tolist():
        if g not in covered:
            gens.append(g)
            covered = set(group.generated_subgroup(gens).tolist())
            if len(covered) == group.order:
                break
    return tuple(gens)


def _check_homomorphism(group: Group, mats: np.ndarray) -> None:
    d = mats.shape[1]
    if not np.allclose(mats[0], np.eye(d), rtol=0, atol=ATOL):
        raise GroupError("not a representation: the identity (element 0) must map to the identity matrix")
    # ρ(s)ρ(b) = ρ(sb) for generators s and all b implies it for all pairs (every a is a word in them)
    for s in _generating_set(group):
        err = np.abs(mats[s] @ mats - mats[group.table[s]]).max()
        if err > ATOL * max(1.0, np.abs(mats).max()):
            b = int(np.argmax(np.abs(mats[s] @ mats - mats[group.table[s]]).max(axis=(1, 2))))
            raise GroupError(
                f"not a representation: ρ({group.names[s]}) ρ({group.names[b]}) != "
                f"ρ({group.names[s]}·{group.names[b]}) (max error {err:.2e})"
            )


def isotypic_copies(mats: np.ndarray, irrep: Irrep, multiplicity: int) -> np.ndarray:
    """Orthonormal, aligned copies of ``irrep`` inside an orthogonal representation.

    Args:
        mats: ``(|G|, d, d)`` orthogonal representation matrices.
        irrep: the real irrep σ, of dimension e.
        multiplicity: how many copies m it has in the representation.

    Returns:
        ``(m, d, e)`` isometries W_c with ``ρ(g) W_c = W_c σ(g)`` and ``W_cᵀ W_c' = δ_cc' 1``.

    Candidates ``W_x = avg_g ρ(g) x σ(g)[:, 0]ᵀ`` for x = e_0, e_1, … span Hom(σ, ρ). Copies are
    picked greedily: the first candidate whose norm is within 1e-6 of the largest (stable ties),
    made orthogonal to the images of the copies already picked and normalised. Since WᵀW of an
    intertwiner W lies in the symmetric part of End(σ), which is the multiples of 1, the
    normalised W is an isometry.
    """
    n, e = irrep.matrices.shape[0], irrep.dim
    cand = np.tensordot(mats, irrep.matrices[:, :, 0] / n, axes=(0, 0))  # (d, d, e) as (a, i, b)
    cand = np.ascontiguousarray(cand.transpose(1, 0, 2))  # (i, a, b); matmul is slow on strided views
    copies = []
    for _ in range(multiplicity):
        norms = np.einsum("iab,iab->i", cand, cand)
        best = norms.max()
        if best < 1e-12:
            raise GroupError(f"the representation holds fewer than {multiplicity} copies of {irrep.label}")
        i = int(np.argmax(norms >= (1 - 1e-6) * best))
        w = cand[i] / np.sqrt(norms[i] / e)
        copies.append(w)
        cand = cand - w @ (w.T @ cand)
    return np.array(copies).reshape(multiplicity, mats.shape[1], e)


def multiplicity(character: np.ndarray, irrep: Irrep) -> int:
    """Number of copies of a real irrep in a representation with the given character."""
    k = irrep.endomorphism_basis.shape[0]
    value = float(np.dot(character, irrep.character)) / (len(character) * k)
    m = round(value)
    if abs(value - m) > 1e-6:
        raise GroupError(f"the character has a non-integer multiplicity {value:.6f} of {irrep.label}")
    return m


def _decompose(rep: Representation) -> Decomposition:
    cached = rep.__dict__.get("_decomposition")
    if cached is not None:
        return cached
    mats = rep.matrices
    if rep.is_orthogonal:
        R = R_inv = None
    else:  # make ρ orthogonal: S = avg ρᵀρ = RᵀR, R ρ R⁻¹ is orthogonal
        S = np.tensordot(mats, mats, axes=([0, 1], [0, 1])) / len(mats)
        R = np.linalg.cholesky(S).T
        R_inv = np.linalg.inv(R)
        mats = R @ mats @ R_inv
    terms, blocks = [], []
    for irrep in real_irreps(rep.group):
        m = multiplicity(rep.character, irrep)
        if m:
            terms.append((irrep, m))
            blocks.extend(isotypic_copies(mats, irrep, m))
    Q = np.concatenate(blocks, axis=1)
    Q_inv = np.ascontiguousarray(Q.T)
    if R is not None:
        Q, Q_inv = R_inv @ Q, Q_inv @ R
    Q.setflags(write=False)
    Q_inv.setflags(write=False)
    result = Decomposition(rep, tuple(terms), Q, Q_inv)
    rep.__dict__["_decomposition"] = result
    return result
