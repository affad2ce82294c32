"""Complex character tables of finite groups (Burnside–Dixon) and Frobenius–Schur indicators.

The characters are computed numerically from the class-multiplication coefficients: the vectors
``ω_χ(C) = |C| χ(C) / χ(1)`` are the common eigenvectors of the class-multiplication matrices, found
by diagonalising one fixed (seeded) generic combination of them. This works for any finite group
given by its multiplication table; a McWeeny purification of the central idempotents then polishes
the characters to full double precision.

Rows are ordered and labelled as the real irreps (:mod:`latsym.group._labels`): as in the published
tables, with Mulliken labels for point groups; the two members of a complex-conjugate pair follow
each other.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from latsym._errors import format_bytes
from latsym.group._group import Group, GroupError
from latsym.group._labels import order_and_label, reference_element
from latsym.group._product import DirectProduct


def raw_characters(G: Group) -> np.ndarray:
    """The irreducible complex characters of ``G`` in an unspecified order.

    Args:
        G: a finite group.

    Returns:
        Complex array ``(n_classes, n_classes)``: row ``k`` holds the character of irrep ``k`` on
        each conjugacy class (classes as in ``G.classes``).
    """
    classes = G.classes
    n_cls = len(classes)
    _check_size(G, n_cls)
    reps = np.array([c[0] for c in classes])
    sizes = G.class_sizes.astype(np.float64)
    # c[r, s, t] = #{x in C_r : x^-1 z_t in C_s}, z_t the representative of class t;
    # then ω(C_r) ω(C_s) = Σ_t c[r, s, t] ω(C_t): ω is a right eigenvector of every c[r].
    coeff = np.zeros((n_cls, n_cls, n_cls))
    cols = np.broadcast_to(np.arange(n_cls), (1, n_cls))
    for r, members in enumerate(classes):
        hit = G.class_of[G.table[G.inverse[members][:, None], reps[None, :]]]
        np.add.at(coeff[r], (hit, np.broadcast_to(cols, hit.shape)), 1.0)
    # In the basis scaled by sqrt(|C|) the eigenvectors are the columns of a unitary matrix, so the
    # scaled matrices are normal and their eigenvectors well conditioned.
    root = np.sqrt(sizes)
    for seed in range(8):
        weights = np.random.default_rng(seed).standard_normal(n_cls)
        mixed = np.tensordot(weights, coeff, axes=1) * root[None, :] / root[:, None]
        values, vectors = np.linalg.eig(mixed)
        vectors = vectors * root[:, None]
        gaps = np.abs(values[:, None] - values[None, :])
        np.fill_diagonal(gaps, np.inf)
        if gaps.min() > 1e-6 * max(1.0, np.abs(values).max()):
            break
    else:  # pragma: no cover - eight generic combinations all degenerate: never seen
        raise GroupError(f"could not separate the characters of {G!r}")
    omega = vectors / vectors[0]  # ω(identity class) = 1
    # Σ_C |C| |χ(C)|^2 = |G| with χ(C) = d ω(C) / |C| fixes the degree d.
    norms = (np.abs(omega) ** 2 / sizes[:, None]).sum(axis=0)
    degrees = np.sqrt(G.order / norms)
    if not np.allclose(degrees, np.round(degrees), atol=1e-6):  # pragma: no cover
        raise GroupError(f"character degrees of {G!r} are not integers: {degrees}")
    chars = (omega * np.round(degrees)[None, :] / sizes[:, None]).T
    chars = _purify(chars, coeff, G.order)
    chars[:, 0] = np.round(degrees)  # exact on the identity
    return _clean(chars)


#: The most memory the class-multiplication coefficients may take (about 40·n³ bytes for n classes,
#: with the purification's complex copies): 4 GiB allows some 470 classes.
_MAX_CHARACTER_BYTES = 2**32


def _check_size(G: Group, n_classes: int) -> None:
    size = 40.0 * n_classes**3
    if size > _MAX_CHARACTER_BYTES:
        largest = int((_MAX_CHARACTER_BYTES / 40) ** (1 / 3))
        raise GroupError(
            f"the character table of {G.name} ({n_classes} conjugacy classes) needs about "
            f"{format_bytes(size)}: its class-multiplication coefficients take O(n_classes³) memory, and "
            f"latsym computes tables of at most {largest} classes ({format_bytes(_MAX_CHARACTER_BYTES)}); "
            "use a smaller group (an abelian group has one class per element)"
        )


def _purify(chars: np.ndarray, coeff: np.ndarray, order: int, steps: int = 2) -> np.ndarray:
    """Polish characters to full precision: the central idempotents ``e = (d/|G|) conj(χ)`` satisfy
    ``e * e = e`` (convolution through the class coefficients), and McWeeny's iteration
    ``e ← 3 e*e − 2 e*e*e`` converges quadratically to it."""
    d = chars[:, :1].real
    e = d / order * chars.conj()
    for _ in range(steps):
        conv = np.tensordot(e, coeff, axes=1)  # (k, s, t): convolution with e_k, one matrix per irrep
        e2 = (e[:, None, :] @ conv)[:, 0]
        e = 3 * e2 - 2 * (e2[:, None, :] @ conv)[:, 0]
    return (e * order / d).conj()


def frobenius_schur(G: Group, chars: np.ndarray) -> np.ndarray:
    """Frobenius–Schur indicators ``(1/|G|) Σ_g χ(g²)`` of the rows of ``chars``.

    Args:
        G: the group.
        chars: complex characters ``(k, n_classes)``.

    Returns:
        Integer array ``(k,)`` with entries +1 (real type), 0 (complex type), -1 (quaternionic type).
    """
    reps = np.array([c[0] for c in G.classes])
    square_class = G.class_of[G.table[reps, reps]]
    nu = (chars[:, square_class] * G.class_sizes[None, :]).sum(axis=1) / G.order
    out = np.round(nu.real).astype(np.int64)
    if not np.allclose(nu, out, atol=1e-6):  # pragma: no cover - only for wrong characters
        raise GroupError(f"Frobenius–Schur indicators of {G!r} are not integers: {nu}")
    return out


def _clean(chars: np.ndarray) -> np.ndarray:
    """Snap real and imaginary parts within 1e-12 of a multiple of 1/2 to it (no negative zeros)."""

    def snap(x):
        half = np.round(2 * x) / 2
        return np.where(np.abs(x - half) < 1e-12, half, x) + 0.0

    return snap(chars.real) + 1j * snap(chars.imag)


@dataclass(frozen=True, eq=False)
class CharacterTable:
    """The complex character table of a finite group, rows ordered like :func:`real_irreps`.

    Attributes:
        group: the group.
        classes: conjugacy classes, a list of index arrays (as ``group.classes``).
        class_sizes: ``(n_classes,)`` integers.
        characters: complex ``(n_irreps, n_classes)``; ``characters[k, c]`` is the character of
            complex irrep ``k`` on class ``c``.
        dims: ``(n_irreps,)`` complex dimensions.
        frobenius_schur: ``(n_irreps,)`` indicators, +1 real, 0 complex, -1 quaternionic type.
        labels: one label per complex irrep. Real- and quaternionic-type irreps carry the label of
            their real irrep; the two members of a complex-conjugate pair carry it prefixed with
            ``1`` and ``2`` (``1E``, ``2E``, as in the Bilbao tables), ``1`` being the one with
            positive imaginary part on the point group's rotation ``C_n^+`` (see
            :func:`~latsym.group._labels.reference_element`; like ``x + iy``), for direct
            products the product of the factors' first members, and for other groups the one
            with positive imaginary part on the first class where the character is not real.
        real_labels: label of each real irrep, in the order of :func:`real_irreps`.
        real_types: ``"R"``, ``"C"`` or ``"H"`` per real irrep.
        real_complex_indices: per real irrep, the rows of ``characters`` it realifies (one row
            for types R and H, a conjugate pair for type C).
        real_factors: for a direct product ``A × K``, per real irrep the pair ``(r, s)`` of the
            factors' real irreps whose tensor product contains it; ``None`` for other groups.

    >>> import numpy as np
    >>> from latsym.group import Group, character_table
    >>> G = Group.from_generators([np.array([[0.0, -1.0], [1.0, 0.0]])], name="C4")
    >>> character_table(G).labels
    ('A', 'B', '1E', '2E')
    """

    group: Group
    classes: list
    class_sizes: np.ndarray
    characters: np.ndarray
    dims: np.ndarray
    frobenius_schur: np.ndarray
    labels: tuple
    real_labels: tuple
    real_types: tuple
    real_complex_indices: tuple
    real_factors: tuple | None = None

    def real_character(self, k: int) -> np.ndarray:
        """Trace of real irrep ``k`` on each class, ``(n_classes,)`` (twice the complex character
        for type H, the sum of the conjugate pair for type C)."""
        rows = self.characters[list(self.real_complex_indices[k])].sum(axis=0).real
        return rows * (2.0 if self.real_types[k] == "H" else 1.0)

    @property
    def class_names(self) -> list[str]:
        """A name per class: the size and the name of its first element, e.g. ``"2 C4z"``."""
        names = self.group.names
        return [
            (f"{len(c)} " if len(c) > 1 else "") + names[int(c[0])] for c in self.classes
        ]

    def __str__(self) -> str:
        header = ["", *self.class_names]
        rows = [header]
        for label, row in zip(self.labels, self.characters, strict=True):
            rows.append([label, *(_format_value(x) for x in row)])
        widths = [max(len(r[k]) for r in rows) for k in range(len(header))]
        lines = [f"Character table of {self.group.name} (order {self.group.order})"]
        for i, r in enumerate(rows):
            cells = [r[0].ljust(widths[0])] + [s.rjust(w) for s, w in zip(r[1:], widths[1:], strict=True)]
            lines.append("  ".join(cells).rstrip())
            if i == 0:
                lines.append("-" * len(lines[-1]))
        return "\n".join(lines)


def _format_value(x: complex) -> str:
    re = 0.0 if abs(x.real) < 5e-4 else x.real
    im = 0.0 if abs(x.imag) < 5e-4 else x.imag
    if im == 0.0:
        return f"{re:.3g}" if re != round(re) else str(round(re))
    imag = ("i" if im > 0 else "-i") if abs(abs(im) - 1) < 5e-4 else f"{im:.3g}i"
    if re == 0.0:
        return imag
    return f"{re:.3g}{'' if imag.startswith('-') else '+'}{imag}"


_TABLES: dict = {}


def character_table(G: Group) -> CharacterTable:
    """The complex character table of ``G`` with rows in the order of :func:`real_irreps`.

    Cached by content (``G.fingerprint``; internal groups also by name, so that ``table.group ==
    G``). Direct products are tabulated from their factors.

    Args:
        G: a finite group.

    Returns:
        The :class:`CharacterTable`; for point groups rows carry Mulliken labels.

    >>> import numpy as np
    >>> from latsym.group import Group, character_table
    >>> c3 = np.array([[-0.5, -0.75 ** 0.5], [0.75 ** 0.5, -0.5]])
    >>> t = character_table(Group.from_generators([c3], name="C3"))
    >>> t.labels
    ('A', '1E', '2E')
    >>> np.round(t.characters[1], 3)
    array([ 1. +0.j   , -0.5+0.866j, -0.5-0.866j])
    """
    if not isinstance(G, Group):
        raise TypeError(f"character_table expects a latsym Group, got {type(G).__name__}")
    key = (type(G).__qualname__, G._identity())  # content, plus the names of internal groups
    if key not in _TABLES:
        factors = two_factors(G)
        _TABLES[key] = _product_table(G, factors) if factors else _single_table(G)
    return _TABLES[key]


def two_factors(G: Group) -> tuple[Group, Group] | None:
    """``(A, K)`` with ``G = A × K`` (element ``i·|K| + j``) for a direct product, else None.

    A product of more than two factors is split at its last factor: ``A`` is the product of the
    others.
    """
    if not isinstance(G, DirectProduct):
        return None
    *head, last = G.factors
    return (head[0] if len(head) == 1 else DirectProduct(*head)), last


def _positive_first(chars: np.ndarray, a: int, b: int, ref_class: int | None = None) -> tuple[int, int]:
    """Order a conjugate pair: positive imaginary part first on the reference class if the
    character is not real there, else on the first class where it is not real."""
    nonreal = np.flatnonzero(np.abs(chars[a].imag) > 1e-8)
    first = ref_class if ref_class in nonreal else nonreal[0]
    return (a, b) if chars[a, first].imag > 0 else (b, a)


def _single_table(G: Group) -> CharacterTable:
    chars = raw_characters(G)
    fs = frobenius_schur(G, chars)
    ref = reference_element(G)
    ref_class = None if ref is None else int(G.class_of[ref])
    members, types = [], []
    seen: set[int] = set()
    for k in range(len(chars)):
        if k in seen:
            continue
        if fs[k] == 0:
            partner = next(j for j in range(len(chars))
                           if j not in seen and j != k and np.allclose(chars[j], chars[k].conj(), atol=1e-8))
            members.append(_positive_first(chars, k, partner, ref_class))
        else:
            members.append((k,))
        types.append({1: "R", 0: "C", -1: "H"}[int(fs[k])])
        seen.update(members[-1])
    real_chars = np.array([chars[list(m)].sum(axis=0).real * (2.0 if t == "H" else 1.0)
                           for m, t in zip(members, types, strict=True)])
    cdims = [round(chars[m[0], 0].real) for m in members]
    order, labels = order_and_label(G, real_chars, types, cdims)
    return _assemble(G, chars, fs, [members[k] for k in order], [types[k] for k in order], labels)


def _assemble(G, chars, fs, members, types, labels, real_factors=None) -> CharacterTable:
    rows, clabels, real_idx = [], [], []
    for m, label in zip(members, labels, strict=True):
        real_idx.append(tuple(range(len(rows), len(rows) + len(m))))
        rows.extend(m)
        clabels.extend([label] if len(m) == 1 else [f"1{label}", f"2{label}"])
    characters = _clean(chars[rows])
    characters.setflags(write=False)
    return CharacterTable(
        group=G,
        classes=G.classes,
        class_sizes=G.class_sizes,
        characters=characters,
        dims=np.round(characters[:, 0].real).astype(np.int64),
        frobenius_schur=np.asarray(fs)[rows],
        labels=tuple(clabels),
        real_labels=tuple(labels),
        real_types=tuple(types),
        real_complex_indices=tuple(real_idx),
        real_factors=real_factors,
    )


def _product_table(G: Group, factors) -> CharacterTable:
    """Character table of a direct product ``A × K`` (element ``i·|K| + j``) from its factors.

    Checks that the element indexing is the product's (a :class:`GroupError` otherwise).

    Real irreps are pairs ``(r, s)`` of real irreps of the factors, ordered with the second
    (internal) factor outermost, labelled ``"r:s"``. A pair of two complex-type irreps splits into
    two complex-type real irreps: ``"r:s"`` realifies ``χ_r χ_s`` and ``"r:s*"`` realifies
    ``χ_r conj(χ_s)``. Pairs with a real-type factor keep the other factor's type; complex with
    quaternionic gives complex type, quaternionic with quaternionic gives real type. The complex
    constituents of a complex-type piece are listed as products of the factors' constituents,
    first with first (``1E ⊗ 1k1`` is ``1E:k1``; ``1E ⊗ 2k1`` is ``1E:k1*``).
    """
    A, K = factors
    i, j = np.divmod(np.arange(G.order), K.order)
    if A.order * K.order != G.order or not np.array_equal(
        G.table, A.table[np.ix_(i, i)] * K.order + K.table[np.ix_(j, j)]
    ):
        raise GroupError(f"{G!r} is not the direct product of its factors with elements i·|K| + j")
    ta, tk = character_table(A), character_table(K)
    first = np.array([c[0] for c in G.classes])
    ca, ck = A.class_of[first // K.order], K.class_of[first % K.order]
    members, types, labels, columns, pairs_rs = [], [], [], [], []
    for s in range(len(tk.real_types)):
        for r in range(len(ta.real_types)):
            ia, ik = ta.real_complex_indices[r], tk.real_complex_indices[s]
            tr, ts = ta.real_types[r], tk.real_types[s]
            name = f"{ta.real_labels[r]}:{tk.real_labels[s]}"
            if "R" in (tr, ts):
                pieces = [([(a, b) for a in ia for b in ik], tr if ts == "R" else ts, name)]
            elif tr == ts == "C":
                pieces = [([(ia[0], ik[0]), (ia[1], ik[1])], "C", name),
                          ([(ia[0], ik[1]), (ia[1], ik[0])], "C", name + "*")]
            elif tr == ts == "H":
                pieces = [([(ia[0], ik[0])], "R", name)]
            else:
                pieces = [([(a, b) for a in ia for b in ik], "C", name)]
            for pairs, t, lab in pieces:
                rows = [ta.characters[a][ca] * tk.characters[b][ck] for a, b in pairs]
                members.append(tuple(range(len(columns), len(columns) + len(rows))))
                columns.extend(rows)
                types.append(t)
                labels.append(lab)
                pairs_rs.append((r, s))
    chars = _clean(np.array(columns))
    fs = frobenius_schur(G, chars)
    return _assemble(G, chars, fs, members, types, labels, tuple(pairs_rs))
