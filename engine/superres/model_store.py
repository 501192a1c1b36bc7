"""Weights (.safetensors) and their model cards (.json beside them): save, list, load, verify.

Only safetensors files are read, so no code can run on load (pickle-based .pth/.pt/.ckpt files
are refused before they are opened). A weights file is accepted only when the architecture its
card describes has exactly the tensors (names and shapes) that the file holds.
"""

from __future__ import annotations

import json
import os
from typing import Any

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file
from torch import nn

from ..archs.registry import build_network
from ..errors import GeohazardError

MODELS_DIR = os.path.join(
    os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))), "models"
)
TASK = "dem-super-resolution"
PICKLE_EXTENSIONS = (".pth", ".pt", ".ckpt", ".pkl", ".pickle", ".bin", ".tar")


def card_path(weights_path: str) -> str:
    return os.path.splitext(weights_path)[0] + ".json"


def save_model(weights_path: str, net: nn.Module, card: dict[str, Any]) -> None:
    """Write ``net``'s weights and ``card`` (JSON beside them, also embedded as metadata)."""
    tensors = {k: v.detach().cpu().contiguous() for k, v in net.state_dict().items()}
    text = json.dumps(card, indent=2, sort_keys=False)
    tmp = weights_path + ".tmp"
    save_file(tensors, tmp, metadata={"model_card": json.dumps(card)})
    os.replace(tmp, weights_path)
    with open(card_path(weights_path), "w", encoding="utf-8") as fh:
        fh.write(text + "\n")


def bundled_models(task: str = TASK) -> dict[str, str]:
    """Bundled model names mapped to their weights paths, for ``task``."""
    found: dict[str, str] = {}
    if not os.path.isdir(MODELS_DIR):
        return found
    for name in sorted(os.listdir(MODELS_DIR)):
        if not name.endswith(".safetensors"):
            continue
        path = os.path.join(MODELS_DIR, name)
        try:
            with open(card_path(path), encoding="utf-8") as fh:
                card = json.load(fh)
        except (OSError, ValueError):
            continue
        if card.get("task") == task:
            found[card.get("name", os.path.splitext(name)[0])] = path
    return found


def resolve_model(model: str, task: str = TASK) -> str:
    """A bundled model's name, or a path to a .safetensors file, to a weights path."""
    bundled = bundled_models(task)
    if model in bundled:
        return bundled[model]
    if os.path.sep in model or model.endswith(".safetensors") or os.path.exists(model):
        return model
    known = ", ".join(bundled) or "none installed"
    raise GeohazardError(
        f"Unknown model '{model}'. Bundled models: {known}; or give a .safetensors file."
    )


def read_card(weights_path: str) -> dict[str, Any]:
    """The model card beside the weights, or the one embedded in them."""
    path = card_path(weights_path)
    name = os.path.basename(weights_path)
    if os.path.exists(path):
        try:
            with open(path, encoding="utf-8") as fh:
                card = json.load(fh)
        except ValueError as exc:
            raise GeohazardError(
                f"The model card '{os.path.basename(path)}' is not valid JSON: {exc}"
            ) from exc
    else:
        try:
            from safetensors import safe_open

            with safe_open(weights_path, framework="pt") as fh:
                meta = fh.metadata() or {}
        except (SafetensorError, OSError, ValueError) as exc:
            raise GeohazardError(f"'{name}' is not a valid safetensors file: {exc}") from exc
        if "model_card" not in meta:
            raise GeohazardError(
                f"'{name}' has no model card: put its JSON card ({os.path.basename(path)}) beside it."
            )
        card = json.loads(meta["model_card"])
    if not isinstance(card, dict) or "architecture" not in card:
        raise GeohazardError(f"The model card of '{name}' has no 'architecture' entry.")
    return card


def load_model(weights_path: str, task: str = TASK) -> tuple[nn.Module, dict[str, Any]]:
    """Build the network the card describes and load the weights into it, in eval mode."""
    name = os.path.basename(weights_path)
    if not os.path.exists(weights_path):
        raise GeohazardError(f"The weights file '{weights_path}' does not exist.")
    if not weights_path.lower().endswith(".safetensors"):
        why = (
            " (pickle-based files can run code when loaded)"
            if weights_path.lower().endswith(PICKLE_EXTENSIONS)
            else ""
        )
        raise GeohazardError(
            f"'{name}' is not a .safetensors file; only safetensors weights are accepted{why}."
        )
    card = read_card(weights_path)
    if card.get("task", task) != task:
        raise GeohazardError(f"'{name}' is a model for '{card.get('task')}', not {task}.")
    try:
        tensors = load_file(weights_path)
    except (SafetensorError, OSError, ValueError, RuntimeError) as exc:
        raise GeohazardError(
            f"'{name}' is not a valid safetensors file (corrupt or truncated): {exc}"
        ) from exc
    net = build_network(card["architecture"])
    expected = {k: tuple(v.shape) for k, v in net.state_dict().items()}
    got = {k: tuple(v.shape) for k, v in tensors.items()}
    if expected != got:
        missing = sorted(set(expected) - set(got))[:3]
        extra = sorted(set(got) - set(expected))[:3]
        shapes = [k for k in expected if k in got and expected[k] != got[k]][:3]
        details = "; ".join(
            s
            for s in (
                f"missing {missing}" if missing else "",
                f"unexpected {extra}" if extra else "",
                f"shape differs for {shapes}" if shapes else "",
            )
            if s
        )
        raise GeohazardError(
            f"The weights in '{name}' do not match the architecture in its model card ({details}); "
            "the file was refused."
        )
    net.load_state_dict(tensors)
    net.eval()
    return net, card


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
