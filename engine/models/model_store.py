"""One store for the models of every task: bundled ones in ``models/`` and the user's own.

A model is ``<name>.safetensors`` with its card ``<name>.json`` beside it (the card is also
embedded in the file's metadata). Listing and resolving read only the JSON cards, never torch, so
an algorithm's help stays fast. Loading checks, in this order and before anything large is
allocated: the file type (pickle-based files are never opened), the safetensors header (its size
and the file's length), the card (types and bounds), the task, the architecture (known, allowed
for the task, arguments within bounds), the task's own consistency rules, and the tensor names
and shapes the architecture would have (built on torch's meta device, which allocates nothing)
against the header. Only then is the network built and the weights read.
"""

from __future__ import annotations

import builtins
import json
import os
import shutil
import struct
import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from ..core.errors import GeohazardError
from .model_card import ModelCard, card_from_dict, card_text, read_card_file, write_card

if TYPE_CHECKING:
    from torch import nn

BUNDLED_DIR = os.path.join(
    os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))), "models"
)
PICKLE_EXTENSIONS = (".pth", ".pt", ".ckpt", ".pkl", ".pickle", ".bin", ".tar")
MAX_HEADER_BYTES = 16 * 1024 * 1024
FLOAT_DTYPES = ("F32", "F16", "BF16", "F64", "I64")  # I64: BatchNorm step counters
DEFAULT = "default"


class TaskRules(Protocol):
    """What the store needs to know of a task (every :class:`~.model_task.ModelTask` has it)."""

    name: str
    architectures: tuple[str, ...]

    def check_card(self, card: ModelCard) -> None: ...


@dataclass(frozen=True)
class ModelEntry:
    """A model found in a folder: its name, weights path, card and where it comes from."""

    name: str
    path: str
    card: ModelCard
    source: str  # "bundled", "user" or "file"


@dataclass
class LoadedModel:
    """A network ready to run (eval mode, on the CPU) with its card."""

    net: nn.Module
    card: ModelCard
    path: str


def card_path(weights_path: str) -> str:
    return os.path.splitext(weights_path)[0] + ".json"


def read_safetensors_header(
    path: str,
) -> tuple[dict[str, tuple[str, tuple[int, ...]]], dict[str, str]]:
    """Tensor names -> (dtype, shape), and the metadata, read from the header alone.

    The header's length and the data offsets are checked against the file's size, so a
    truncated or padded file is refused here, without reading any tensor.
    """
    base = os.path.basename(path)
    try:
        size = os.path.getsize(path)
        with open(path, "rb") as fh:
            head = fh.read(8)
            if len(head) < 8:
                raise GeohazardError(f"'{base}' is not a valid safetensors file (too short).")
            (n,) = struct.unpack("<Q", head)
            if n > MAX_HEADER_BYTES or 8 + n > size:
                raise GeohazardError(
                    f"'{base}' is not a valid safetensors file (corrupt or truncated header)."
                )
            header = json.loads(fh.read(n).decode("utf-8"))
    except OSError as exc:
        raise GeohazardError(f"'{base}' cannot be read: {exc.strerror}.") from exc
    except (ValueError, UnicodeDecodeError) as exc:
        raise GeohazardError(f"'{base}' is not a valid safetensors file (bad header).") from exc
    if not isinstance(header, dict):
        raise GeohazardError(f"'{base}' is not a valid safetensors file (bad header).")
    meta = header.pop("__metadata__", None) or {}
    tensors: dict[str, tuple[str, tuple[int, ...]]] = {}
    end = 0
    for name, info in header.items():
        try:
            dtype, shape, (_start, b) = (
                info["dtype"],
                tuple(int(s) for s in info["shape"]),
                info["data_offsets"],
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise GeohazardError(f"'{base}' is not a valid safetensors file (bad entry).") from exc
        tensors[name] = (str(dtype), shape)
        end = max(end, int(b))
    if 8 + n + end != size:
        raise GeohazardError(
            f"'{base}' is not a valid safetensors file: its header describes {end} bytes of "
            f"tensors but the file holds {size - 8 - n} (corrupt or truncated)."
        )
    return tensors, {str(k): str(v) for k, v in dict(meta).items()}


class ModelStore:
    """Lists, resolves, loads and saves models of every task.

    Args:
        user_dir: the user's models folder (in the QGIS profile; training writes there), or None.
        bundled_dir: the plugin's ``models/`` folder.
    """

    def __init__(self, user_dir: str | None = None, bundled_dir: str = BUNDLED_DIR) -> None:
        self.user_dir = user_dir
        self.bundled_dir = bundled_dir

    # --- listing (no torch) --------------------------------------------------------------

    def list(self, task: str) -> builtins.list[ModelEntry]:
        """Models of ``task``: bundled first, then the user's; unreadable cards are skipped."""
        found: builtins.list[ModelEntry] = []
        names: set[str] = set()
        for folder, source in ((self.bundled_dir, "bundled"), (self.user_dir, "user")):
            if not folder or not os.path.isdir(folder):
                continue
            for file in sorted(os.listdir(folder)):
                if not file.endswith(".safetensors"):
                    continue
                path = os.path.join(folder, file)
                try:
                    card = read_card_file(card_path(path))
                except GeohazardError:
                    continue
                if card.task == task and card.name not in names:
                    names.add(card.name)
                    found.append(ModelEntry(card.name, path, card, source))
        return found

    def names(self, task: str) -> builtins.list[str]:
        return [e.name for e in self.list(task)]

    def resolve(self, task: str, ref: str, default: str) -> ModelEntry | str:
        """A model name (``default`` for ``""``/``"default"``) to its entry, or a file path."""
        ref = (ref or "").strip()
        if ref in ("", DEFAULT):
            ref = default
        for entry in self.list(task):
            if entry.name == ref:
                return entry
        if os.path.sep in ref or "." in os.path.basename(ref) or os.path.exists(ref):
            return ref
        known = ", ".join(self.names(task)) or "none installed"
        raise GeohazardError(
            f"Unknown model '{ref}'. Models for this task: {known}; or give a .safetensors file."
        )

    # --- loading ---------------------------------------------------------------------------

    def read_card(self, weights_path: str, header_meta: dict[str, str] | None = None) -> ModelCard:
        """The card beside the weights, else the one embedded in them; always checked."""
        beside = card_path(weights_path)
        if os.path.exists(beside):
            return read_card_file(beside)
        meta = header_meta if header_meta is not None else read_safetensors_header(weights_path)[1]
        if "model_card" not in meta:
            raise GeohazardError(
                f"'{os.path.basename(weights_path)}' has no model card: put its JSON card "
                f"({os.path.basename(beside)}) beside it."
            )
        try:
            data = json.loads(meta["model_card"])
        except ValueError as exc:
            raise GeohazardError(
                f"The model card embedded in '{os.path.basename(weights_path)}' is not valid JSON."
            ) from exc
        return card_from_dict(data, os.path.basename(weights_path))

    def check(self, task: TaskRules, weights_path: str) -> ModelCard:
        """Every check of loading that needs no tensor; returns the checked card."""
        from .archs.registry import check_arch_config

        base = os.path.basename(weights_path)
        if not os.path.exists(weights_path):
            raise GeohazardError(f"The weights file '{weights_path}' does not exist.")
        if not weights_path.lower().endswith(".safetensors"):
            why = (
                " (pickle-based files can run code when loaded)"
                if weights_path.lower().endswith(PICKLE_EXTENSIONS)
                else ""
            )
            raise GeohazardError(
                f"'{base}' is not a .safetensors file; only safetensors weights are accepted{why}."
            )
        header, meta = read_safetensors_header(weights_path)
        card = self.read_card(weights_path, meta)
        if card.task != task.name:
            raise GeohazardError(f"'{base}' is a model for '{card.task}', not for {task.name}.")
        check_arch_config(card.architecture, task.architectures)
        task.check_card(card)
        expected = expected_tensors(card.architecture)
        _compare(base, expected, header)
        return card

    def load(self, task: TaskRules, ref: str, default: str) -> LoadedModel:
        """Resolve, check and load a model of ``task`` (see the module docstring)."""
        from safetensors import SafetensorError
        from safetensors.torch import load_file

        from .archs.registry import build_network

        found = self.resolve(task.name, ref, default)
        path = found.path if isinstance(found, ModelEntry) else found
        card = self.check(task, path)
        net = build_network(card.architecture, task.architectures)
        try:
            tensors = load_file(path)
        except (SafetensorError, OSError, ValueError, RuntimeError) as exc:
            raise GeohazardError(
                f"'{os.path.basename(path)}' is not a valid safetensors file (corrupt): {exc}"
            ) from exc
        net.load_state_dict(tensors)
        net.eval()
        return LoadedModel(net, card, path)

    # --- saving ----------------------------------------------------------------------------

    def save(self, net: nn.Module, card: ModelCard, folder: str | None = None) -> str:
        """Write weights and card as ``<folder>/<card.name>.safetensors`` and ``.json``.

        ``folder`` defaults to the user's models folder. Both files go to unique temporary names
        first and the weights' header is read back (names, shapes, sizes against the file)
        before anything is renamed; nothing is left half-written.
        """
        from safetensors.torch import save_file

        target = folder or self.user_dir
        if not target:
            raise GeohazardError("No models folder was given to save the model in.")
        os.makedirs(target, exist_ok=True)
        weights = os.path.join(target, f"{card.name}.safetensors")
        tmp = os.path.join(target, f".{card.name}.{uuid.uuid4().hex}.tmp")
        tensors = {k: v.detach().cpu().contiguous() for k, v in net.state_dict().items()}
        try:
            save_file(tensors, tmp, metadata={"model_card": card_text(card)})
            written, _meta = read_safetensors_header(tmp)  # the write is checked before use
            if {k: shape for k, (_dtype, shape) in written.items()} != {
                k: tuple(v.shape) for k, v in tensors.items()
            }:
                raise GeohazardError(
                    f"The weights of '{card.name}' did not read back as written in '{target}' "
                    "(is the disk full or failing?); nothing was saved."
                )
            write_card(card_path(weights), card)
            os.replace(tmp, weights)
        finally:
            if os.path.exists(tmp):
                os.remove(tmp)
        return weights

    # --- managing the user's models (the model manager) --------------------------------------

    def entry(self, task: str, name: str) -> ModelEntry:
        """The listed model ``name`` of ``task``; a clear error when there is none."""
        for found in self.list(task):
            if found.name == name:
                return found
        raise GeohazardError(f"There is no model named '{name}' for {task}.")

    def import_model(self, task: TaskRules, weights_path: str) -> ModelEntry:
        """Copy a weights file and its card (beside it or embedded) into the user's folder.

        Every check of :meth:`check` runs first, so a file that would be refused on loading is
        refused here and nothing is copied. The model keeps its card's name, which must not be
        the name of a bundled model or of a user model already there. Both files are written
        to unique temporary names and renamed when complete.
        """
        if not self.user_dir:
            raise GeohazardError("No user models folder is known to import the model into.")
        card = self.check(task, weights_path)
        for folder, where in (
            (self.bundled_dir, "a bundled model"),
            (self.user_dir, "one of your models"),
        ):
            if os.path.exists(os.path.join(folder, f"{card.name}.safetensors")):
                raise GeohazardError(
                    f"'{card.name}' is already the name of {where}; delete that one first, or "
                    "rename the model in its card."
                )
        os.makedirs(self.user_dir, exist_ok=True)
        target = os.path.join(self.user_dir, f"{card.name}.safetensors")
        tmp = os.path.join(self.user_dir, f".{card.name}.{uuid.uuid4().hex}.tmp")
        try:
            shutil.copyfile(weights_path, tmp)
            write_card(card_path(target), card)
            os.replace(tmp, target)
        except OSError as exc:
            if os.path.exists(card_path(target)) and not os.path.exists(target):
                os.remove(card_path(target))
            raise GeohazardError(
                f"The model could not be copied into '{self.user_dir}': {exc.strerror}. Check "
                "the folder is writable and the disk is not full."
            ) from exc
        finally:
            if os.path.exists(tmp):
                os.remove(tmp)
        return ModelEntry(card.name, target, card, "user")

    def export_model(self, task: str, name: str, folder: str) -> str:
        """Copy a model's weights and card into ``folder`` (to share it); returns the weights
        path. An existing file of that name in ``folder`` is refused, never overwritten."""
        found = self.entry(task, name)
        weights = os.path.join(folder, os.path.basename(found.path))
        card_out = card_path(weights)
        for path in (weights, card_out):
            if os.path.exists(path):
                raise GeohazardError(
                    f"'{path}' already exists; choose another folder or remove it first."
                )
        tmp = os.path.join(folder, f".{found.name}.{uuid.uuid4().hex}.tmp")
        try:
            os.makedirs(folder, exist_ok=True)
            shutil.copyfile(found.path, tmp)
            write_card(card_out, found.card)
            os.replace(tmp, weights)
        except OSError as exc:
            raise GeohazardError(
                f"The model could not be exported to '{folder}': {exc.strerror}."
            ) from exc
        finally:
            if os.path.exists(tmp):
                os.remove(tmp)
        return weights

    def delete_model(self, task: str, name: str) -> None:
        """Delete a user model (weights and card); bundled models cannot be deleted."""
        found = self.entry(task, name)
        if found.source != "user":
            raise GeohazardError(
                f"'{name}' is a bundled model of the plugin and cannot be deleted."
            )
        try:
            os.remove(found.path)
            if os.path.exists(card_path(found.path)):
                os.remove(card_path(found.path))
        except OSError as exc:
            raise GeohazardError(f"'{name}' could not be deleted: {exc.strerror}.") from exc


def expected_tensors(architecture: dict[str, Any]) -> dict[str, tuple[int, ...]]:
    """Tensor names and shapes of an architecture, built on the meta device (no allocation)."""
    import torch

    from .archs.registry import build_network

    with torch.device("meta"):
        net = build_network(architecture)
    return {k: tuple(v.shape) for k, v in net.state_dict().items()}


def _compare(
    base: str, expected: dict[str, tuple[int, ...]], header: dict[str, tuple[str, tuple[int, ...]]]
) -> None:
    got = {k: shape for k, (_dtype, shape) in header.items()}
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
            f"The weights in '{base}' do not match the architecture in its model card "
            f"({details}); the file was refused."
        )
    bad = sorted(k for k, (dtype, _s) in header.items() if dtype not in FLOAT_DTYPES)[:3]
    if bad:
        raise GeohazardError(
            f"The weights in '{base}' hold tensors of unexpected types {bad}; refused."
        )
