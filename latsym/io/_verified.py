"""Verified files: a dict of tensors and JSON-able state saved with a SHA-256 of every part."""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import torch

from latsym.io._atomic import atomic_save
from latsym.io._errors import CorruptFileError

CHECKSUMS_KEY = "latsym_checksums"
_SCALARS = (bool, int, float, str, type(None))


def save_verified(path: str | os.PathLike, payload: Mapping[str, Any]) -> Path:
    """Save ``payload`` atomically with a SHA-256 of each tensor and of the rest; returns the path.

    Args:
        path: the file to write (its directory is created if missing).
        payload: a dict with ``str`` keys whose values are tensors (any shape, dtype and device;
            loaded back on the CPU), ``None``, ``bool``, ``int``, ``float``, ``str``, or dicts (keys of those
            scalar types), lists and tuples of these — e.g. a model's and an optimizer's
            ``state_dict()`` next to a step counter. The key ``"latsym_checksums"`` is reserved.

    The file is a ``torch.save`` archive of ``payload`` plus ``payload["latsym_checksums"]``, so it
    also loads with ``torch.load(path, weights_only=True)``; :func:`load_verified` checks it.

    Raises:
        TypeError: a value of another type (e.g. a numpy array: convert it with ``torch.from_numpy``).
        StorageError: writing failed; a previous file at ``path`` is intact.

    >>> import tempfile
    >>> path = save_verified(Path(tempfile.mkdtemp()) / "train.pt", {"step": 3, "w": torch.ones(2)})
    >>> load_verified(path)
    {'step': 3, 'w': tensor([1., 1.])}
    """
    if not isinstance(payload, Mapping) or not all(isinstance(k, str) for k in payload):
        raise TypeError(f"save_verified needs a dict with str keys, got {type(payload).__name__}")
    if CHECKSUMS_KEY in payload:
        raise ValueError(f"the key {CHECKSUMS_KEY!r} is reserved for the checksums; rename it")
    return atomic_save({**payload, CHECKSUMS_KEY: _checksums(payload)}, path)


def load_verified(path: str | os.PathLike) -> dict[str, Any]:
    """Read a file written by :func:`save_verified`, after checking every checksum; tensors on the CPU.

    Raises:
        FileNotFoundError: there is no file at ``path``.
        CorruptFileError: the file is unreadable or truncated, carries no checksums, or a tensor or
            the other state differs from what was saved (names which).
    """
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(2, "no such file", str(path))
    try:
        raw = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:
        raise CorruptFileError(path, f"unreadable or truncated ({type(exc).__name__})") from exc
    if not isinstance(raw, dict) or not isinstance(raw.get(CHECKSUMS_KEY), dict):
        raise CorruptFileError(path, "it carries no checksums (it was not written by save_verified)")
    stored = raw.pop(CHECKSUMS_KEY)
    try:
        actual = _checksums(raw)
    except TypeError as exc:
        raise CorruptFileError(path, f"it holds a value that cannot have been saved ({exc})") from exc
    for name, digest in actual["tensors"].items():
        if stored.get("tensors", {}).get(name) != digest:
            raise CorruptFileError(path, f"tensor {name!r} does not match its SHA-256")
    if stored != actual:
        raise CorruptFileError(path, "the state (non-tensor values, layout) does not match its SHA-256")
    return raw


def _checksums(payload: Mapping[str, Any]) -> dict:
    tensors: dict[str, str] = {}
    layout = _encode(dict(payload), "", tensors)
    state = hashlib.sha256(json.dumps(layout, sort_keys=True).encode()).hexdigest()
    return {"tensors": tensors, "state": state}


def _encode(value: Any, where: str, tensors: dict[str, str]) -> Any:
    """A JSON-able description of ``value`` with each tensor replaced by its name (hashed apart)."""
    if isinstance(value, torch.Tensor):
        tensors[where] = _tensor_sha256(value)
        return {"tensor": where}
    if type(value) in _SCALARS:
        return [type(value).__name__, value]
    if isinstance(value, dict):
        items = []
        for key, item in value.items():
            if type(key) not in _SCALARS:
                raise TypeError(f"key {key!r} at {where or '/'} is a {type(key).__name__}")
            items.append([_encode(key, where, tensors), _encode(item, _join(where, key), tensors)])
        return {"dict": items}
    if isinstance(value, list | tuple):
        items = [_encode(item, _join(where, i), tensors) for i, item in enumerate(value)]
        return {type(value).__name__: items}
    raise TypeError(
        f"{where or 'the payload'} is a {type(value).__name__}; verified files hold tensors, None, bool, "
        "int, float, str, and dicts, lists and tuples of these"
    )


def _tensor_sha256(x: torch.Tensor) -> str:
    x = x.detach().cpu().resolve_conj().resolve_neg().contiguous()
    digest = hashlib.sha256(f"{x.dtype} {tuple(x.shape)}".encode())
    digest.update(x.reshape(-1).view(torch.uint8).numpy())
    return digest.hexdigest()



def _join(where: str, key: Any) -> str:
    return f"{where}/{key}" if where else str(key)
