"""Names of orthogonal 2×2 and 3×3 matrices as symmetry elements (Schoenflies notation).

Notation (one convention everywhere in latsym):

- ``E`` identity, ``i`` inversion (3D only).
- ``Cn<axis>`` a rotation by +2π/n, right-handed about the axis; powers are written ``^k`` with k
  in (-n/2, n/2], so ``C4z^-1`` is the rotation by -90° about z and ``C3[111]^-1`` the rotation
  by -120° about [111]. In 2D there is no axis: ``C4``, ``C4^-1``, ``C2``.
- ``σ<normal>`` a mirror, named by its normal (as in the International Tables, where the
  symmetry direction of a mirror is its normal): ``σx`` maps x → -x, ``σ[1-10]`` swaps x and y.
- ``Sn<axis>^k`` a rotoreflection σh·Cn^k (rotation by 2πk/n about the axis followed by the
  mirror normal to it), with k odd so that the power is itself improper: ``S4z``, ``S6[111]^-1``.

Directions are written in a basis (default: the Cartesian one; the hexagonal point groups use
their hexagonal axes a, b, c): the basis vectors are ``x``, ``y``, ``z`` (2D: ``x``, ``y``) and any
other direction is the primitive integer triple ``[uvw]`` (2D: ``[uv]``) with a minus sign before
negative entries, e.g. ``[1-10]``. The sign of a direction is fixed by making its first non-zero
entry positive. A direction that is not a small rational one is printed with decimals.
"""

from __future__ import annotations

from collections.abc import Sequence
from fractions import Fraction

import numpy as np

_TOL = 1e-6


def element_name(matrix: np.ndarray, basis: np.ndarray | None = None) -> str:
    """The name of an orthogonal 2×2 or 3×3 matrix as a symmetry element.

    Args:
        matrix: orthogonal matrix, shape ``(d, d)`` with ``d`` 2 or 3, in Cartesian coordinates.
        basis: optional ``(d, d)`` matrix whose columns are the vectors in which directions are
            written (e.g. the hexagonal axes); default the Cartesian basis.

    Returns:
        The name, e.g. ``"C4z"``, ``"σ[1-10]"``, ``"S6[111]^-1"``; see the module docstring.

    Raises:
        ValueError: a matrix that is not a 2×2 or 3×3 orthogonal matrix.

    >>> import numpy as np
    >>> element_name(np.array([[0.0, -1, 0], [1, 0, 0], [0, 0, 1]]))
    'C4z'
    >>> element_name(np.array([[0.0, 1, 0], [1, 0, 0], [0, 0, 1]]))
    'σ[1-10]'
    >>> element_name(np.array([[0.0, 1], [-1, 0]]))
    'C4^-1'
    """
    return element_names(np.asarray(matrix, dtype=np.float64)[None], basis)[0]


def element_names(matrices: np.ndarray | Sequence[np.ndarray], basis: np.ndarray | None = None) -> list[str]:
    """:func:`element_name` of every matrix of an array ``(n, d, d)``."""
    ms = np.asarray(matrices, dtype=np.float64)
    if ms.ndim != 3 or ms.shape[1] != ms.shape[2] or ms.shape[1] not in (2, 3):
        raise ValueError(f"element names exist for 2×2 and 3×3 matrices, got shape {ms.shape[1:]}")
    d = ms.shape[1]
    if np.max(np.abs(np.swapaxes(ms, 1, 2) @ ms - np.eye(d))) > _TOL:
        raise ValueError("element names exist for orthogonal matrices only")
    basis_inv = np.eye(d) if basis is None else np.linalg.inv(np.asarray(basis, dtype=np.float64))
    name = _name2 if d == 2 else _name3
    return [name(m, basis_inv) for m in ms]


def _name2(m: np.ndarray, basis_inv: np.ndarray) -> str:
    if np.linalg.det(m) > 0:
        turn = np.arctan2(m[1, 0], m[0, 0]) / (2 * np.pi)
        return _power_name("C", "", turn % 1.0, improper=False)
    normal = _mirror_normal(m)
    return "σ" + _direction(basis_inv @ normal)[0]


def _name3(m: np.ndarray, basis_inv: np.ndarray) -> str:
    proper = np.linalg.det(m) > 0
    r = m if proper else -m
    if np.max(np.abs(r - np.eye(3))) < _TOL:
        return "E" if proper else "i"
    # the rotation axis spans the null space of r - 1
    axis = np.linalg.svd(r - np.eye(3))[2][-1]
    label, sign = _direction(basis_inv @ axis)
    axis = sign * axis
    cos = (np.trace(r) - 1.0) / 2.0
    sin = 0.5 * axis @ np.array([r[2, 1] - r[1, 2], r[0, 2] - r[2, 0], r[1, 0] - r[0, 1]])
    turn = np.arctan2(sin, cos) / (2 * np.pi)
    if proper:
        return _power_name("C", label, turn % 1.0, improper=False)
    turn = (turn + 0.5) % 1.0  # -R(θ) = σh·R(θ + π)
    if min(turn, 1.0 - turn) < _TOL:
        return "σ" + label
    return _power_name("S", label, turn, improper=True)


def _power_name(letter: str, label: str, turn: float, *, improper: bool) -> str:
    """``letter n label ^k`` for a rotation by ``turn`` full turns (``turn`` in [0, 1))."""
    frac = Fraction(turn).limit_denominator(1000)
    if abs(float(frac) - turn) > 1e-9:  # not a rotation of finite order ≤ 1000
        return f"{letter}({360 * turn:.6g}°){label}"
    if frac in (0, 1):
        return "E"
    n, k = frac.denominator, frac.numerator
    if k > n / 2:
        k -= n
    if improper and k % 2 == 0:  # Sn^k with k even is proper: use k ± n (n is then odd)
        k = k - n if k > 0 else k + n
    return f"{letter}{n}{label}" + ("" if k == 1 else f"^{k}")


def _mirror_normal(m: np.ndarray) -> np.ndarray:
    """Unit normal of a reflection ``m = 1 - 2 n nᵀ``."""
    p = np.eye(m.shape[0]) - m
    col = p[:, np.argmax(np.linalg.norm(p, axis=0))]
    return col / np.linalg.norm(col)


def _direction(coords: np.ndarray) -> tuple[str, int]:
    """The label of a direction and the sign (±1) that makes its first non-zero entry positive."""
    nonzero = np.flatnonzero(np.abs(coords) > _TOL)
    sign = 1 if coords[nonzero[0]] > 0 else -1
    v = np.zeros_like(coords)
    v[nonzero] = sign * coords[nonzero]
    if len(nonzero) == 1:
        return "xyz"[nonzero[0]], sign
    ints = _primitive_integers(v, nonzero)
    if ints is None:
        return "[" + ",".join(f"{c:.4g}" for c in v) + "]", sign
    return "[" + "".join(str(c) for c in ints) + "]", sign


def _primitive_integers(v: np.ndarray, nonzero: np.ndarray) -> list[int] | None:
    """The primitive integer vector with single-digit entries along ``v``, or None."""
    u = v / np.min(np.abs(v[nonzero]))
    for t in range(1, 10):
        w = t * u
        r = np.round(w)
        if np.max(np.abs(w - r)) < 1e-6 * t and np.max(np.abs(r)) <= 9:
            return [int(c) for c in r]
    return None
