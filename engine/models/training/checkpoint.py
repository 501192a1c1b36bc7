"""Training checkpoints: safetensors (tensors) plus a JSON header (everything else), no pickle.

One file holds the models, the best weights so far, the optimisers' and schedulers' states, the
torch random state and the hooks' own state (e.g. a data sampler's random generator), so an
interrupted run resumes exactly where it stopped. Written to a unique temporary name and renamed,
so the previous checkpoint stays intact until the new one is complete.
"""

from __future__ import annotations

import errno
import json
import os
import uuid
from typing import Any

import torch
from safetensors import SafetensorError, safe_open
from safetensors.torch import load_file, save_file


def as_os_error(exc: Exception) -> OSError:
    """A safetensors write error as the OSError it wraps (a full disk reads as ENOSPC)."""
    text = str(exc)
    if "StorageFull" in text or "No space left" in text:
        return OSError(errno.ENOSPC, "No space left on device")
    return OSError(errno.EIO, text)


def save_checkpoint(path: str, tensors: dict[str, torch.Tensor], meta: dict[str, Any]) -> None:
    """Write ``tensors`` and the JSON-able ``meta`` atomically to ``path``."""
    folder = os.path.dirname(os.path.abspath(path))
    tmp = os.path.join(folder, f".{os.path.basename(path)}.{uuid.uuid4().hex}.tmp")
    try:
        save_file(
            {k: v.detach().cpu().contiguous() for k, v in tensors.items()},
            tmp,
            metadata={"state": json.dumps(meta)},
        )
        os.replace(tmp, path)
    except SafetensorError as exc:  # safetensors reports a failed write as its own error
        raise as_os_error(exc) from exc
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)


def load_checkpoint(path: str) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
    """Tensors and meta of a checkpoint written by :func:`save_checkpoint`."""
    with safe_open(path, framework="pt") as fh:
        meta = json.loads((fh.metadata() or {})["state"])
    return load_file(path), meta


def prefixed(tensors: dict[str, torch.Tensor], prefix: str) -> dict[str, torch.Tensor]:
    """The entries of ``tensors`` under ``prefix.``, with the prefix removed."""
    n = len(prefix) + 1
    return {k[n:]: v for k, v in tensors.items() if k.startswith(prefix + ".")}


def to_float_dict(
    state: dict[str, Any], prefix: str
) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
    """Split an optimizer state dict into tensors (for safetensors) and JSON-able scalars."""
    tensors: dict[str, torch.Tensor] = {}
    for idx, entry in state["state"].items():
        for key, value in entry.items():
            tensors[f"{prefix}.{idx}.{key}"] = torch.as_tensor(value).detach().cpu().clone()
    return tensors, {"param_groups": state["param_groups"]}


def from_float_dict(
    tensors: dict[str, torch.Tensor], meta: dict[str, Any], prefix: str
) -> dict[str, Any]:
    """Inverse of :func:`to_float_dict`."""
    state: dict[int, dict[str, torch.Tensor]] = {}
    for key, value in tensors.items():
        if not key.startswith(prefix + "."):
            continue
        idx, name = key[len(prefix) + 1 :].split(".", 1)
        state.setdefault(int(idx), {})[name] = value
    return {"state": state, "param_groups": meta["param_groups"]}
