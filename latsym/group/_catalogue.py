"""The crystallographic point groups: the 32 of 3D and the 10 of 2D, by Schoenflies or
Hermann–Mauguin symbol, as orthogonal Cartesian matrices.

Settings (the standard ones of the International Tables for Crystallography, Vol. A):

- The principal (or unique) axis is z, also for the monoclinic groups 2, m, 2/m (unique axis c).
  mm2 has its 2-fold along z and mirrors normal to x and y.
- Tetragonal: 4-fold along z; secondary directions x, y; tertiary directions [110], [1-10].
  ``-42m`` (standard) has its 2-folds along x, y and mirrors normal to [110], [1-10];
  ``-4m2`` has mirrors normal to x, y and 2-folds along [110], [1-10].
- Trigonal and hexagonal: hexagonal axes a = (1, 0, 0), b = (-1/2, √3/2, 0), c = z; secondary
  directions a, b, a+b ([100], [010], [110]); tertiary directions [1-10], [120], [210] (the
  Cartesian y axis is [120]). The standard settings put the 2-folds and mirror normals along the
  secondary directions: ``321`` (2-fold along x), ``3m1`` (mirror x → -x), ``-3m1``, and
  ``-6m2`` (mirror x → -x, 2-folds along the tertiary directions, one along y); the
  alternatives ``312``, ``31m``, ``-31m`` and ``-62m`` use the tertiary directions. Element
  names of these groups write directions in the hexagonal axes (``C2x`` is along a, ``σy`` has
  normal b, ``σ[120]`` maps y → -y).
- Cubic: the 2-folds of 23 along x, y, z and the 3-folds along [111] and its images.

In 2D (``dim=2``) the 10 plane point groups are 2×2 matrices: ``m`` (Cs, D1) is the mirror
x → -x (``σx``); ``2mm`` (C2v, D2) holds σx and σy; ``4mm`` (C4v, D4) holds σx, σy, σ[11],
σ[1-1]; the hexagonal ones use the axes a = (1, 0), b = (-1/2, √3/2), and ``3m`` has the
settings ``3m1`` (standard: mirror x → -x) and ``31m`` (mirror y → -y).

Element indices follow Dimino's closure of the listed generators: deterministic, identity 0.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np

from latsym.group._group import MAX_ORDER, Group, GroupError, _close
from latsym.group._names import element_names


@dataclass(frozen=True)
class PointGroupInfo:
    """One entry of the catalogue.

    Attributes:
        schoenflies: the Schoenflies symbol (``"D4h"``).
        hermann_mauguin: the short Hermann–Mauguin symbol of the crystal class (``"4/mmm"``).
        settings: Hermann–Mauguin symbols of the available settings, the standard one first
            (``("-42m", "-4m2")``; a single entry equal to ``hermann_mauguin`` when there is one).
        aliases: other accepted Schoenflies symbols (``("S6",)`` for C3i).
        system: the crystal system (3D) or the 2D crystal system.
        dim: 2 or 3.
    """

    schoenflies: str
    hermann_mauguin: str
    settings: tuple[str, ...]
    aliases: tuple[str, ...]
    system: str
    dim: int


class PointGroup(Group):
    """A crystallographic point group: a :class:`Group` with orthogonal Cartesian ``matrices``
    of shape ``(order, dim, dim)`` and its symbols. Get one from :func:`point_group`.

    Attributes:
        schoenflies: Schoenflies symbol of the class (``"D3d"``).
        hermann_mauguin: short Hermann–Mauguin symbol of the class (``"-3m"``).
        setting: Hermann–Mauguin symbol of this setting (``"-3m1"`` or ``"-31m"``).
        standard: whether ``setting`` is the International Tables' standard one.
        dim: 2 or 3.
        axes: ``(dim, dim)`` matrix whose columns are the conventional axes in which element
            names write directions (hexagonal a, b(, c) for the trigonal and hexagonal groups,
            the identity otherwise).
    """

    def __init__(self, table: np.ndarray, matrices: np.ndarray, info: PointGroupInfo, setting: str,
                 axes: np.ndarray):
        name = info.schoenflies if setting == info.settings[0] else f"{info.schoenflies}[{setting}]"
        names = element_names(matrices, axes)
        super().__init__(table, matrices=matrices, names=names, name=name, check=False)
        self.schoenflies = info.schoenflies
        self.hermann_mauguin = info.hermann_mauguin
        self.setting = setting
        self.standard = setting == info.settings[0]
        self.dim = info.dim
        axes.setflags(write=False)
        self.axes = axes

    def rotation_subgroup(self) -> tuple[Group, np.ndarray]:
        """The subgroup of proper rotations (det = +1), as ``(H, embedding)`` like
        :meth:`Group.subgroup`.

        >>> H, emb = point_group("Oh").rotation_subgroup()
        >>> H.order
        24
        """
        proper = np.flatnonzero(np.linalg.det(self.matrices) > 0)
        return self.subgroup(proper, name=f"{self.name}+")

    def __repr__(self) -> str:
        return (f"PointGroup({self.schoenflies!r}, dim={self.dim}, setting={self.setting!r}, "
                f"order={self.order})")


def point_group(symbol: str, dim: int = 3, *, setting: str | None = None) -> PointGroup:
    """A crystallographic point group by Schoenflies or Hermann–Mauguin symbol.

    Args:
        symbol: ``"Oh"``, ``"m-3m"``, ``"C3i"``/``"S6"``, ``"-4m2"`` (a setting's own symbol
            selects that setting), ...; spaces are ignored. See :func:`point_group_symbols`.
        dim: 3 (the 32 crystallographic point groups) or 2 (the 10 plane point groups).
        setting: the Hermann–Mauguin symbol of a setting (``"31m"``), for a group with several;
            default the standard setting (see the module docstring).

    Returns:
        The group (cached: the same object for every spelling of the same group and setting).

    Raises:
        GroupError: an unknown symbol or setting (the message lists the accepted ones).

    >>> G = point_group("D4h")
    >>> G.order, len(G.classes), G.hermann_mauguin
    (16, 10, '4/mmm')
    >>> point_group("32").names
    ['E', 'C3z', 'C3z^-1', 'C2x', 'C2[110]', 'C2y']
    >>> point_group("C3v", setting="31m").setting
    '31m'
    >>> point_group("4mm", dim=2).names
    ['E', 'C4', 'C2', 'C4^-1', 'σx', 'σ[11]', 'σy', 'σ[1-1]']
    """
    if dim not in (2, 3):
        raise GroupError(f"point groups exist here for dim=2 and dim=3, got dim={dim!r}")
    if not isinstance(symbol, str):
        raise TypeError(f"a point-group symbol must be a string, got {type(symbol).__name__}")
    key = "".join(symbol.split()).replace("−", "-")
    found = _LOOKUP[dim].get(key)
    if found is None and ("'" in key or "′" in key):
        raise GroupError(f"{symbol!r} is a magnetic symbol (primes mark time reversal): use "
                         f"magnetic_point_group({symbol!r}, dim={dim})")
    if found is None:
        accepted = ", ".join(_describe(i) for i in _CATALOGUE[dim])
        raise GroupError(f"unknown {dim}D point group {symbol!r}; accepted symbols: {accepted}")
    info, implied = found
    if setting is not None:
        key = "".join(str(setting).split()).replace("−", "-")
        if key not in info.settings or (implied is not None and implied != key):
            allowed = implied if implied is not None else " or ".join(info.settings)
            raise GroupError(f"{symbol!r} has no setting {setting!r}; use {allowed}")
        implied = key
    return _build(dim, info.schoenflies, implied or info.settings[0])


def _describe(info: PointGroupInfo) -> str:
    """``"C3i/S6 (-3)"``, ``"D3 (32; settings 321, 312)"``."""
    names = "/".join((info.schoenflies, *info.aliases))
    if len(info.settings) == 1:
        return f"{names} ({info.hermann_mauguin})"
    return f"{names} ({info.hermann_mauguin}; settings {', '.join(info.settings)})"


def point_group_symbols(dim: int = 3) -> tuple[PointGroupInfo, ...]:
    """The catalogue in the order of the International Tables, one entry per crystal class.

    >>> [i.hermann_mauguin for i in point_group_symbols(2)]
    ['1', '2', 'm', '2mm', '4', '4mm', '3', '3m', '6', '6mm']
    >>> point_group_symbols()[13].settings
    ('-42m', '-4m2')
    """
    if dim not in (2, 3):
        raise GroupError(f"point groups exist here for dim=2 and dim=3, got dim={dim!r}")
    return _CATALOGUE[dim]


# -- generators ---------------------------------------------------------------------------------


def _rot_z(n: int) -> np.ndarray:
    c, s = np.cos(2 * np.pi / n), np.sin(2 * np.pi / n)
    return np.array([[c, -s, 0.0], [s, c, 0.0], [0.0, 0.0, 1.0]])


def _mirror(*normal: float) -> np.ndarray:
    n = np.array(normal, dtype=np.float64)
    n /= np.linalg.norm(n)
    return np.eye(len(n)) - 2.0 * np.outer(n, n)


_E3 = np.eye(3)
_INV = -_E3
_C2Z, _C4Z, _C3Z, _C6Z = _rot_z(2), _rot_z(4), _rot_z(3), _rot_z(6)
_C2X, _C2Y = np.diag([1.0, -1.0, -1.0]), np.diag([-1.0, 1.0, -1.0])
_SX, _SY, _SZ = _mirror(1, 0, 0), _mirror(0, 1, 0), _mirror(0, 0, 1)
_C3D = np.array([[0.0, 0.0, 1.0], [1.0, 0.0, 0.0], [0.0, 1.0, 0.0]])  # C3 about [111]: x → y → z

_E2 = np.eye(2)
_R2 = {n: _rot_z(n)[:2, :2] for n in (2, 3, 4, 6)}
_SX2, _SY2 = _mirror(1, 0), _mirror(0, 1)

_HEX3 = np.array([[1.0, -0.5, 0.0], [0.0, np.sqrt(3) / 2, 0.0], [0.0, 0.0, 1.0]])
_HEX2 = _HEX3[:2, :2]

# (Schoenflies, HM class symbol, system, aliases, {setting: generators}, standard setting first)
_TABLE_3D = [
    ("C1", "1", "triclinic", (), {"1": [_E3]}),
    ("Ci", "-1", "triclinic", ("S2",), {"-1": [_INV]}),
    ("C2", "2", "monoclinic", (), {"2": [_C2Z]}),
    ("Cs", "m", "monoclinic", ("C1h",), {"m": [_SZ]}),
    ("C2h", "2/m", "monoclinic", (), {"2/m": [_C2Z, _INV]}),
    ("D2", "222", "orthorhombic", (), {"222": [_C2Z, _C2X]}),
    ("C2v", "mm2", "orthorhombic", (), {"mm2": [_C2Z, _SX]}),
    ("D2h", "mmm", "orthorhombic", (), {"mmm": [_C2Z, _C2X, _INV]}),
    ("C4", "4", "tetragonal", (), {"4": [_C4Z]}),
    ("S4", "-4", "tetragonal", (), {"-4": [-_C4Z]}),
    ("C4h", "4/m", "tetragonal", (), {"4/m": [_C4Z, _INV]}),
    ("D4", "422", "tetragonal", (), {"422": [_C4Z, _C2X]}),
    ("C4v", "4mm", "tetragonal", (), {"4mm": [_C4Z, _SX]}),
    ("D2d", "-42m", "tetragonal", (), {"-42m": [-_C4Z, _C2X], "-4m2": [-_C4Z, _SX]}),
    ("D4h", "4/mmm", "tetragonal", (), {"4/mmm": [_C4Z, _C2X, _INV]}),
    ("C3", "3", "trigonal", (), {"3": [_C3Z]}),
    ("C3i", "-3", "trigonal", ("S6",), {"-3": [-_C3Z]}),
    ("D3", "32", "trigonal", (), {"321": [_C3Z, _C2X], "312": [_C3Z, _C2Y]}),
    ("C3v", "3m", "trigonal", (), {"3m1": [_C3Z, _SX], "31m": [_C3Z, _SY]}),
    ("D3d", "-3m", "trigonal", (), {"-3m1": [-_C3Z, _C2X], "-31m": [-_C3Z, _C2Y]}),
    ("C6", "6", "hexagonal", (), {"6": [_C6Z]}),
    ("C3h", "-6", "hexagonal", (), {"-6": [-_C6Z]}),
    ("C6h", "6/m", "hexagonal", (), {"6/m": [_C6Z, _INV]}),
    ("D6", "622", "hexagonal", (), {"622": [_C6Z, _C2X]}),
    ("C6v", "6mm", "hexagonal", (), {"6mm": [_C6Z, _SX]}),
    ("D3h", "-6m2", "hexagonal", (), {"-6m2": [-_C6Z, _SX], "-62m": [-_C6Z, _C2X]}),
    ("D6h", "6/mmm", "hexagonal", (), {"6/mmm": [_C6Z, _C2X, _INV]}),
    ("T", "23", "cubic", (), {"23": [_C2Z, _C2X, _C3D]}),
    ("Th", "m-3", "cubic", (), {"m-3": [_C2Z, _C2X, _C3D, _INV]}),
    ("O", "432", "cubic", (), {"432": [_C4Z, _C3D]}),
    ("Td", "-43m", "cubic", (), {"-43m": [-_C4Z, _C3D]}),
    ("Oh", "m-3m", "cubic", (), {"m-3m": [_C4Z, _C3D, _INV]}),
]

_TABLE_2D = [
    ("C1", "1", "oblique", (), {"1": [_E2]}),
    ("C2", "2", "oblique", (), {"2": [_R2[2]]}),
    ("Cs", "m", "rectangular", ("D1",), {"m": [_SX2]}),
    ("C2v", "2mm", "rectangular", ("D2",), {"2mm": [_R2[2], _SX2]}),
    ("C4", "4", "square", (), {"4": [_R2[4]]}),
    ("C4v", "4mm", "square", ("D4",), {"4mm": [_R2[4], _SX2]}),
    ("C3", "3", "hexagonal", (), {"3": [_R2[3]]}),
    ("C3v", "3m", "hexagonal", ("D3",), {"3m1": [_R2[3], _SX2], "31m": [_R2[3], _SY2]}),
    ("C6", "6", "hexagonal", (), {"6": [_R2[6]]}),
    ("C6v", "6mm", "hexagonal", ("D6",), {"6mm": [_R2[6], _SX2]}),
]

#: old or alternative spellings of Hermann–Mauguin symbols (3D)
_HM_ALIASES_3D = {"m3": "m-3", "m3m": "m-3m"}

_GENERATORS = {dim: {row[0]: row[4] for row in table} for dim, table in ((2, _TABLE_2D), (3, _TABLE_3D))}
_CATALOGUE = {
    dim: tuple(PointGroupInfo(s, hm, tuple(settings), aliases, system, dim)
               for s, hm, system, aliases, settings in table)
    for dim, table in ((2, _TABLE_2D), (3, _TABLE_3D))
}


def _lookup(dim: int) -> dict[str, tuple[PointGroupInfo, str | None]]:
    """Symbol → (entry, the setting the symbol names or None for the standard one)."""
    out: dict[str, tuple[PointGroupInfo, str | None]] = {}
    for info in _CATALOGUE[dim]:
        for sym in (info.schoenflies, *info.aliases, info.hermann_mauguin):
            out[sym] = (info, None)
        for sym in info.settings:
            out.setdefault(sym, (info, sym))
    if dim == 3:
        for alias, sym in _HM_ALIASES_3D.items():
            out.setdefault(alias, out[sym])
    return out


_LOOKUP = {2: _lookup(2), 3: _lookup(3)}

#: exact values the entries of crystallographic matrices take (Cartesian, hexagonal included)
_EXACT = np.array([0.0, 0.5, -0.5, 1.0, -1.0, np.sqrt(3) / 2, -np.sqrt(3) / 2])


@functools.cache
def _build(dim: int, schoenflies: str, setting: str) -> PointGroup:
    info = next(i for i in _CATALOGUE[dim] if i.schoenflies == schoenflies)
    mats, table = _close(np.stack(_GENERATORS[dim][schoenflies][setting]), MAX_ORDER, 1e-8)
    # snap the entries to their exact values so that the matrices are the same on every machine
    nearest = np.argmin(np.abs(mats[..., None] - _EXACT), axis=-1)
    hexagonal = info.system in ("hexagonal", "trigonal")
    axes = (_HEX2 if dim == 2 else _HEX3) if hexagonal else np.eye(dim)
    return PointGroup(table, _EXACT[nearest], info, setting, axes.copy())
