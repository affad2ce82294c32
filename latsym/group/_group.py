"""Finite groups as data: a multiplication table, optionally with a faithful matrix representation."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from functools import cached_property

import numpy as np

from latsym._errors import format_bytes
from latsym.group._compact import CompactGroup, check_count_and_seed, schur_intertwiners
from latsym.group._errors import GroupError
from latsym.group._names import element_names

#: Upper bound on the order of the groups latsym builds from a short description (the default
#: bound of :meth:`Group.from_generators`, and the bound on :class:`~latsym.group.Zn` and on direct
#: products): a group's table, classes and irreps take O(|G|²) memory.
MAX_ORDER = 2048


def check_order(order: int, what: str) -> None:
    """Raise a :class:`GroupError` with the memory it would need when ``order`` exceeds :data:`MAX_ORDER`."""
    if order > MAX_ORDER:
        raise GroupError(
            f"{what} would have {order} elements, over the limit MAX_ORDER={MAX_ORDER} "
            f"(latsym.group.MAX_ORDER): its multiplication table alone takes {format_bytes(8.0 * order**2)}, "
            "and its classes, character table and irreps need O(|G|²) memory and more; use a smaller group"
        )


class Group(CompactGroup):
    """A finite group with elements indexed ``0 .. order-1``; element 0 is the identity.

    The group is its multiplication table: ``table[a, b]`` is the index of the product ``a·b``
    (for matrix groups, ``matrices[table[a, b]] == matrices[a] @ matrices[b]``, i.e. ``b`` acts
    first). Matrix groups also carry ``matrices`` of shape ``(order, d, d)``: for a spatial group
    its action on positions. Elements have unique ``names`` (see :mod:`latsym.group._names` for
    the notation of 2D and 3D orthogonal matrices).

    Build one with :meth:`from_generators` (matrices) or :meth:`from_table`; ``G * K`` is the
    direct product (:class:`~latsym.group.DirectProduct`); ``G * SO3()`` or ``G * U1()`` is a
    :class:`~latsym.group.LieProduct`.

    A group follows the protocol shared with the Lie groups (:class:`~latsym.group.CompactGroup`):
    its elements are the indices, ``irrep(label)`` and ``irreps()`` are its real irreps
    (:func:`~latsym.group.real_irreps`), ``test_elements()`` lists every element.

    Attributes:
        is_internal: False for groups acting on positions (point groups, custom matrix groups);
            True for internal groups acting on field values only (:class:`~latsym.group.Zn`, ...).
        basis_change: for a group built with ``orthogonalize=True``, the ``(d, d)`` matrix A with
            ``matrices[g] = A @ M_g @ inv(A)`` for the input matrices M_g (coordinates change as
            ``v ↦ A v``); None when the matrices are used as given.

    >>> import numpy as np
    >>> c4 = np.array([[0.0, -1.0], [1.0, 0.0]])
    >>> G = Group.from_generators([c4], name="C4")
    >>> G.order, len(G.classes)
    (4, 4)
    """

    is_internal: bool = False

    def __init__(
        self,
        table: np.ndarray,
        *,
        matrices: np.ndarray | None = None,
        names: Sequence[str] | None = None,
        name: str | None = None,
        check: bool = True,
        basis_change: np.ndarray | None = None,
    ):
        table = np.asarray(table)
        if table.ndim != 2 or table.shape[0] != table.shape[1] or table.shape[0] == 0:
            raise GroupError(f"a multiplication table must be a non-empty square array, got {table.shape}")
        if not np.issubdtype(table.dtype, np.integer):
            raise GroupError(f"a multiplication table must hold integers, got dtype {table.dtype}")
        self.table = table.astype(np.int64)
        self.table.setflags(write=False)
        n = self.order
        if check:
            _check_table(self.table)
        if matrices is not None:
            matrices = np.array(matrices, dtype=np.float64)  # a copy: it is made read-only
            if matrices.ndim != 3 or matrices.shape[0] != n or matrices.shape[1] != matrices.shape[2]:
                raise GroupError(f"expected matrices of shape ({n}, d, d), got {matrices.shape}")
            matrices.setflags(write=False)
        self.matrices = matrices
        if names is not None and len(names) != n:
            raise GroupError(f"expected {n} element names, got {len(names)}")
        self.names: list[str] = list(names) if names is not None else _default_names(n)
        if len(set(self.names)) != n:
            raise GroupError("element names must be unique within a group")
        self.name = name or f"G{n}"
        if basis_change is not None:
            basis_change = np.array(basis_change, dtype=np.float64)
            basis_change.setflags(write=False)
        self.basis_change = basis_change

    # -- construction ---------------------------------------------------------------------------

    @classmethod
    def from_generators(
        cls,
        generators: Sequence[np.ndarray] | np.ndarray,
        *,
        name: str | None = None,
        names: Sequence[str] | None = None,
        max_order: int = MAX_ORDER,
        atol: float = 1e-8,
        orthogonalize: bool = False,
    ) -> Group:
        """Close a set of invertible matrices into a finite group (Dimino's algorithm).

        Args:
            generators: ``k`` matrices of shape ``(d, d)`` (a sequence or an array ``(k, d, d)``).
            name: the group's name.
            names: optional element names, one per element in the closure order; by default
                2×2 and 3×3 groups get their names from the matrices (``E``, ``C4z``, ``σx``...,
                directions in the input basis) and others ``E, g1, g2, ...``.
            max_order: refuse groups larger than this (a set of generators that does not close,
                such as a rotation by an irrational angle, hits this bound).
            atol: tolerance to identify two matrices as the same element.
            orthogonalize: accept non-orthogonal generators of a finite group (e.g. a point group
                as integer matrices in a hexagonal lattice basis) and change basis so that all
                matrices become orthogonal: with ``S = Σ_g gᵀg / |G|`` over the closure (invariant:
                hᵀ S h = S) and A = S^(1/2), the group's matrices are A g A⁻¹ and
                ``basis_change`` is A.

        Returns:
            A plain :class:`Group` (also when called on a subclass), with ``matrices`` of shape
            ``(order, d, d)``, the identity first and the other elements in Dimino's order
            (deterministic for given generators).

        Raises:
            GroupError: empty, non-square, mismatched, non-finite, singular or (without
                ``orthogonalize``) non-orthogonal generators, a set that does not close within
                ``max_order`` elements, or a non-positive ``max_order`` or ``atol``.
            TypeError: a generator that is a group (such as ``TimeReversal()``) or an element
                name instead of a matrix; the message names the magnetic and grey routes.

        >>> import numpy as np
        >>> c6 = np.array([[1, -1], [1, 0]])  # a 60° rotation in a hexagonal lattice basis
        >>> G = Group.from_generators([c6], orthogonalize=True)
        >>> G.order, G.names[1]
        (6, 'C6')
        """
        if max_order < 1 or not atol > 0:
            raise GroupError(f"max_order must be >= 1 and atol > 0, got max_order={max_order}, atol={atol}")
        gens = _validate_generators(generators)
        d = gens.shape[1]
        if not orthogonalize:
            for k, g in enumerate(gens):
                if not np.allclose(g.T @ g, np.eye(d), atol=_ORTHO_TOL):
                    raise GroupError(
                        f"generator {k} is not orthogonal; if the matrices are written in a "
                        "non-orthonormal basis (e.g. a hexagonal lattice basis), pass "
                        "orthogonalize=True to change to a basis where they are orthogonal"
                    )
        mats, table = _close(gens, max_order, atol)
        basis_change = None
        if orthogonalize:
            s = np.einsum("gji,gjk->ik", mats, mats) / len(mats)
            w, v = np.linalg.eigh(s)
            basis_change = (v * np.sqrt(w)) @ v.T
            mats = basis_change @ mats @ np.linalg.inv(basis_change)
        if names is None:
            names = _matrix_names(mats, basis_change)
        return Group(table, matrices=mats, names=names, name=name, check=False,
                     basis_change=basis_change)

    @classmethod
    def from_table(cls, table: np.ndarray, *, name: str | None = None,
                   names: Sequence[str] | None = None) -> Group:
        """A group from its multiplication table (validated: closure, identity 0, inverses,
        associativity, the latter by Light's test on a generating set).

        >>> Z3 = Group.from_table([[0, 1, 2], [1, 2, 0], [2, 0, 1]], name="Z3")
        >>> Z3.element_orders.tolist()
        [1, 3, 3]
        """
        return Group(np.asarray(table), names=names, name=name, check=True)

    # -- basic structure ------------------------------------------------------------------------

    @property
    def order(self) -> int:
        """Number of elements ``|G|``."""
        return self.table.shape[0]

    def __len__(self) -> int:
        return self.order

    @cached_property
    def inverse(self) -> np.ndarray:
        """``inverse[g]`` is the index of g⁻¹, shape ``(order,)``."""
        inv = np.argmax(self.table == 0, axis=1)
        inv.setflags(write=False)
        return inv

    def index_of(self, name: str) -> int:
        """The index of the element called ``name``.

        >>> import numpy as np
        >>> Group.from_generators([np.array([[0.0, -1.0], [1.0, 0.0]])]).index_of("C4^-1")
        3
        """
        try:
            return self.names.index(name)
        except ValueError:
            raise GroupError(f"{self.name} has no element {name!r}; its elements are {self.names}") from None

    def mul(self, a: int, b: int) -> int:
        """Index of the product a·b."""
        return int(self.table[a, b])

    @cached_property
    def element_orders(self) -> np.ndarray:
        """``element_orders[g]`` is the smallest k ≥ 1 with g^k = e, shape ``(order,)``."""
        result = np.empty(self.order, dtype=np.int64)
        for g in range(self.order):
            k, x = 1, g
            while x != 0:
                x = int(self.table[x, g])
                k += 1
            result[g] = k
        result.setflags(write=False)
        return result

    @cached_property
    def class_of(self) -> np.ndarray:
        """``class_of[g]`` is the index of g's conjugacy class, shape ``(order,)``.

        Classes are numbered in order of their first element; class 0 is the identity.
        """
        n = self.order
        out = -np.ones(n, dtype=np.int64)
        c = 0
        for g in range(n):
            if out[g] >= 0:
                continue
            conj = self.table[self.table[:, g], self.inverse]  # h g h^-1 for every h
            out[conj] = c
            c += 1
        out.setflags(write=False)
        return out

    @cached_property
    def classes(self) -> list[np.ndarray]:
        """Conjugacy classes as sorted arrays of element indices; ``classes[0] == [0]``."""
        return [np.flatnonzero(self.class_of == c) for c in range(int(self.class_of.max()) + 1)]

    @property
    def class_sizes(self) -> np.ndarray:
        """Sizes of the conjugacy classes, shape ``(n_classes,)``."""
        return np.array([len(c) for c in self.classes])

    @cached_property
    def is_abelian(self) -> bool:
        return bool(np.array_equal(self.table, self.table.T))

    def generated_subgroup(self, elements: Sequence[int]) -> np.ndarray:
        """Sorted indices of the subgroup generated by ``elements``."""
        for g in elements:
            if not 0 <= int(g) < self.order:
                raise GroupError(f"element index {g} out of range for a group of order {self.order}")
        return _right_closure(self.table, [int(g) for g in elements])

    def subgroup(self, elements: Sequence[int], *, name: str | None = None) -> tuple[Group, np.ndarray]:
        """The subgroup generated by ``elements``, as a group of its own.

        Returns:
            ``(H, embedding)`` where ``embedding[h]`` is the index in this group of H's element
            ``h`` (``embedding[0] == 0``).
        """
        members = self.generated_subgroup(elements)
        pos = -np.ones(self.order, dtype=np.int64)
        pos[members] = np.arange(len(members))
        table = pos[self.table[np.ix_(members, members)]]
        mats = None if self.matrices is None else self.matrices[members]
        names = [self.names[g] for g in members]
        return Group(table, matrices=mats, names=names, name=name, check=False), members

    # -- identity of content --------------------------------------------------------------------

    @cached_property
    def fingerprint(self) -> str:
        """A hex digest of the table (and matrices, rounded), used as a cache key."""
        h = hashlib.sha256(self.table.tobytes())
        if self.matrices is not None:
            h.update((np.round(self.matrices, 10) + 0.0).tobytes())  # + 0.0: no negative zeros
        return h.hexdigest()[:16]

    def _identity(self) -> tuple:
        """What equality compares: the content for spatial groups (internal groups, whose tables
        carry no meaning of their own, compare by kind and name instead)."""
        return ("spatial" if not self.is_internal else "internal", self.fingerprint)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Group) and self._identity() == other._identity()

    def __hash__(self) -> int:
        return hash(self.fingerprint)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.name!r}, order={self.order})"

    def __mul__(self, other: object) -> Group:
        """The direct product ``self × other`` (:class:`~latsym.group.DirectProduct`)."""
        if not isinstance(other, Group):
            return NotImplemented
        from latsym.group._product import DirectProduct

        return DirectProduct(self, other)

    # -- the protocol shared with Lie groups ----------------------------------------------------

    @property
    def is_finite(self) -> bool:
        return True

    @property
    def identity(self) -> int:
        """The identity element, index 0."""
        return 0

    def check_element(self, element: int) -> int:
        """``element`` as a Python int, after checking it is an element index of this group."""
        if isinstance(element, bool) or not isinstance(element, int | np.integer):
            raise TypeError(f"an element of {self.name} is an integer index, got {type(element).__name__}")
        if not 0 <= int(element) < self.order:
            raise GroupError(f"element index {element} out of range for {self.name} of order {self.order}")
        return int(element)

    def compose(self, a: int, b: int) -> int:
        """Index of the product a·b (checked; :meth:`mul` is the unchecked table look-up)."""
        return self.mul(self.check_element(a), self.check_element(b))

    def invert(self, a: int) -> int:
        """Index of a⁻¹."""
        return int(self.inverse[self.check_element(a)])

    def irreps(self) -> tuple:
        """The real irreps, :func:`~latsym.group.real_irreps` (a finite group takes no cutoff)."""
        from latsym.group._irreps import real_irreps

        return real_irreps(self)

    def irrep(self, label: str):
        """The real irrep with this label.

        >>> from latsym.group import point_group
        >>> point_group("m-3m").irrep("T1u").dim
        3
        """
        label = self.parse_label(label)
        for irrep in self.irreps():
            if irrep.label == label:
                return irrep
        raise GroupError(
            f"{self.name} has no irrep {label!r}; its irreps are {[r.label for r in self.irreps()]}"
        )

    def test_elements(self) -> list[int]:
        """Every element, ``[0, 1, ..., order-1]``."""
        return list(range(self.order))

    def sample_elements(self, n: int, seed: int = 0) -> list[int]:
        """``n`` elements drawn uniformly (with replacement) with ``default_rng(seed)``."""
        check_count_and_seed(n, seed)
        return [int(g) for g in np.random.default_rng(seed).integers(self.order, size=n)]

    def intertwiners(self, irrep_in, irrep_out) -> np.ndarray:
        """Schur's lemma: the endomorphism basis if ``irrep_in`` is ``irrep_out``, else an empty
        ``(0, d_out, d_in)`` array."""
        return schur_intertwiners(self, irrep_in, irrep_out)

    def clebsch_gordan(self, irrep1, irrep2, irrep3) -> np.ndarray:
        """:func:`~latsym.group.clebsch_gordan` for irreps of this group."""
        from latsym.group._clebsch_gordan import clebsch_gordan

        return clebsch_gordan(irrep1, irrep2, irrep3)


#: Tolerance of the orthogonality check on generators.
_ORTHO_TOL = 1e-6


def _default_names(n: int) -> list[str]:
    return ["E"] + [f"g{g}" for g in range(1, n)]


def _matrix_names(mats: np.ndarray, basis: np.ndarray | None) -> list[str]:
    """Names from the matrices for 2D and 3D groups (if unique), else ``E, g1, g2, ...``."""
    if mats.shape[1] in (2, 3):
        names = element_names(mats, basis)
        if len(set(names)) == len(names):
            return names
    return _default_names(len(mats))


class _Lookup:
    """Index of matrices up to ``atol``: a rounded-key dictionary with an exact fallback scan
    (for entries that round differently on either side of a grid boundary)."""

    def __init__(self, d: int, atol: float):
        self.atol = atol
        self.scale = 1.0 / atol
        self.keys: dict[bytes, int] = {}
        self.mats = np.empty((16, d, d))
        self.n = 0

    def find(self, m: np.ndarray) -> int | None:
        k = self.keys.get(np.round(m * self.scale).astype(np.int64).tobytes())
        return self._scan(m) if k is None else k

    def find_many(self, ms: np.ndarray) -> list[int | None]:
        """:meth:`find` for every matrix of ``ms`` (k, d, d), rounding all at once."""
        rounded = np.round(ms * self.scale).astype(np.int64)
        found = [self.keys.get(r.tobytes()) for r in rounded]
        return [self._scan(m) if k is None else k for m, k in zip(ms, found, strict=True)]

    def _scan(self, m: np.ndarray) -> int | None:
        close = np.flatnonzero(np.max(np.abs(self.mats[: self.n] - m), axis=(1, 2)) <= self.atol)
        return int(close[0]) if len(close) else None

    def add(self, m: np.ndarray) -> None:
        if self.n == len(self.mats):
            self.mats = np.concatenate([self.mats, np.empty_like(self.mats)])
        self.mats[self.n] = m
        self.keys[np.round(m * self.scale).astype(np.int64).tobytes()] = self.n
        self.n += 1


def _close(gens: np.ndarray, max_order: int, atol: float) -> tuple[np.ndarray, np.ndarray]:
    """Dimino's algorithm: the closure ``(order, d, d)`` (identity first) and its table."""
    d = gens.shape[1]
    found = _Lookup(d, atol)
    found.add(np.eye(d))

    def add(m: np.ndarray) -> None:
        if found.n >= max_order:
            raise GroupError(
                f"the generators do not close into a group of order <= {max_order}; they may "
                "not generate a finite group (e.g. a rotation by an irrational angle), or "
                "raise max_order"
            )
        found.add(m)

    # grow the group generated by the first i generators one coset at a time
    for i, g in enumerate(gens):
        if found.find(g) is not None:
            continue
        prev = found.n
        if prev == 1:
            x = g
            while found.find(x) is None:
                add(x)
                x = x @ g
            continue
        for h in range(prev):
            add(found.mats[h] @ g)
        rep = prev
        while rep < found.n:
            for s in gens[: i + 1]:
                elt = found.mats[rep] @ s
                if found.find(elt) is None:
                    for h in range(prev):
                        add(found.mats[h] @ elt)
            rep += prev
    n = found.n
    mats = found.mats[:n].copy()
    table = np.empty((n, n), dtype=np.int64)
    for a in range(n):
        row = found.find_many(mats[a] @ mats)
        if None in row:
            raise GroupError(
                "products of the closed set are not in the set: the generators are too inexact "
                f"for atol={atol} (or do not generate a finite group); give exact generators or a "
                "smaller atol"
            )
        table[a] = row
    return mats, table


def _validate_generators(generators) -> np.ndarray:
    if isinstance(generators, np.ndarray) and generators.ndim == 2:
        raise GroupError("pass a list of generator matrices, not a single matrix: [m]")
    generators = [generators] if isinstance(generators, Group) else list(generators)
    for k, m in enumerate(generators):
        if isinstance(m, str | Group) or getattr(m, "is_internal", False):
            raise TypeError(
                f"generator {k} is {m!r}, not a matrix: generators are matrices acting on positions. "
                "Time reversal and other internal symmetries act on field values: a magnetic point "
                "group is magnetic_point_group(\"4'\") or magnetic_point_group(G, primed=[names]), "
                "a grey group G * TimeReversal()"
            )
    try:
        mats = [np.asarray(m, dtype=np.float64) for m in generators]
    except (TypeError, ValueError) as exc:
        raise GroupError(f"generators must be numeric square matrices: {exc}") from exc
    if not mats:
        raise GroupError("at least one generator is needed (use the identity for the trivial group)")
    for k, m in enumerate(mats):
        if m.ndim != 2 or m.shape[0] != m.shape[1]:
            raise GroupError(f"generator {k} must be a square matrix, got shape {m.shape}")
        if m.shape != mats[0].shape:
            raise GroupError(
                f"generators must all have the same shape: generator 0 is {mats[0].shape}, "
                f"generator {k} is {m.shape}"
            )
        if not np.all(np.isfinite(m)):
            raise GroupError(f"generator {k} has NaN or inf entries")
        det = np.linalg.det(m)
        if abs(det) < 1e-10:
            raise GroupError(f"generator {k} is singular: a group element must be invertible")
        if abs(abs(det) - 1.0) > _ORTHO_TOL:
            raise GroupError(
                f"generator {k} has determinant {det:.6g}: every element of a finite matrix group "
                "has |det| = 1, so its powers never close"
            )
    return np.stack(mats)


def _check_table(table: np.ndarray) -> None:
    n = table.shape[0]
    if table.min() < 0 or table.max() >= n:
        raise GroupError(f"table entries must be element indices in 0..{n - 1}")
    ar = np.arange(n)
    if not (np.array_equal(table[0], ar) and np.array_equal(table[:, 0], ar)):
        raise GroupError("element 0 must be the identity: table[0] and table[:, 0] must be 0..n-1")
    if not np.array_equal(np.sort(table, axis=1), np.broadcast_to(ar, (n, n))):
        raise GroupError("each row of a group table must be a permutation (Latin square)")
    if not np.array_equal(np.sort(table, axis=0), np.broadcast_to(ar[:, None], (n, n))):
        raise GroupError("each column of a group table must be a permutation (Latin square)")
    # Light's test: (x s) y == x (s y) for all x, y and s in a set whose left-nested products
    # reach every element implies associativity, at O(n² log n) cost instead of O(n³).
    gens: list[int] = []
    reached = np.zeros(n, dtype=bool)
    reached[0] = True
    for g in range(n):
        if reached[g]:
            continue
        gens.append(g)
        reached[_right_closure(table, gens)] = True
    for s in gens:
        if not np.array_equal(table[table[:, s], :], table[:, table[s, :]]):
            raise GroupError("the table is not associative")


def _right_closure(table: np.ndarray, gens: Sequence[int]) -> np.ndarray:
    """Indices reached from the identity by right multiplication with ``gens``."""
    members = np.zeros(table.shape[0], dtype=bool)
    members[0] = True
    frontier = np.array([0])
    while len(frontier):
        nxt = np.unique(table[np.ix_(frontier, np.asarray(gens, dtype=np.int64))])
        frontier = nxt[~members[nxt]]
        members[frontier] = True
    return np.flatnonzero(members)
