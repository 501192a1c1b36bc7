"""The model card: what a weights file is, how to feed it, and how well it did on unseen data.

One typed card for every task. It is written by :func:`write_card` only (JSON beside the weights,
the same JSON embedded in the safetensors metadata) and checked by :func:`card_from_dict` whenever
it is read, so a missing field, a wrong type or an absurd value is one clear sentence, never a
traceback. No torch here: listing models and showing help stay fast.
"""

from __future__ import annotations

import json
import os
import re
import uuid
from dataclasses import asdict, dataclass, field
from typing import Any

from ..core.errors import GeohazardError

CARD_VERSION = 1
MAX_CARD_BYTES = 4 * 1024 * 1024  # a card is a few kB; anything this large is refused unread
NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$")


@dataclass(frozen=True)
class BandSet:
    """One input (or the output) of a model: a role and the meaning of each band, in order.

    Args:
        role: what the raster is, e.g. ``dem``, ``reference``, ``sar``, ``output``.
        bands: meaning and unit of each band, e.g. ``("elevation (m)",)``.
    """

    role: str
    bands: tuple[str, ...]


@dataclass(frozen=True)
class Normalisation:
    """How inputs are scaled before the network and outputs restored after it.

    Args:
        kind: the task's name for the scheme, e.g. ``per-tile-standardise``.
        params: its parameters (numbers or short strings), as the task reads them.
    """

    kind: str
    params: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class HeldOut:
    """Metrics on data the model never saw (whole areas held out), beside the best baseline.

    Args:
        data: what the held-out data is and where it comes from.
        metrics: ``{"model": {...}, "<baseline>": {...}}``, each metric name to its value.
        baseline: the strongest classical method compared with.
        model_beats_baseline: stated plainly, so a model that loses says so.
        notes: anything a user must know to read the numbers.
        by_area: optional rows, one per held-out area (and degradation), each a mapping with
            the area's description and ``metrics`` grouped by method like ``metrics``.
    """

    data: str
    metrics: dict[str, dict[str, float]]
    baseline: str
    model_beats_baseline: bool
    notes: str = ""
    by_area: tuple[dict[str, Any], ...] = ()


@dataclass(frozen=True)
class ModelCard:
    """Everything needed to run a weights file, and what it is worth.

    Args:
        name: short model name (letters, digits, ``_ . -``), also the file's base name.
        task: the task id the model serves (e.g. ``dem-super-resolution``).
        description: one or two sentences for the user.
        architecture: ``{"type": <registered architecture>, **constructor arguments}``.
        inputs: one :class:`BandSet` per input raster, in the order the task feeds them.
        output: the output bands and their meaning.
        normalisation: input scaling and output restoring.
        context_px: input pixels on each side that influence an output pixel; tiles overlap
            by at least this much.
        tile_size: default tile side in input pixels.
        overlap: default tile overlap in input pixels.
        scale: output pixels per input pixel along each axis (1: output on the input grid).
        parameters: number of weights.
        training: data, recipe and script that produced the weights.
        held_out: metrics on held-out data next to the baseline (None only for untested models,
            which the user is told).
        limitations: where the model should not be trusted.
        card_version: format version of the card.
    """

    name: str
    task: str
    description: str
    architecture: dict[str, Any]
    inputs: tuple[BandSet, ...]
    output: BandSet
    normalisation: Normalisation
    context_px: int
    tile_size: int
    overlap: int
    scale: int = 1
    parameters: int = 0
    training: dict[str, Any] = field(default_factory=dict)
    held_out: HeldOut | None = None
    limitations: str = ""
    card_version: int = CARD_VERSION

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _fail(where: str, message: str) -> GeohazardError:
    return GeohazardError(f"The model card {where}{message}")


def _get(d: dict[str, Any], key: str, kind: type | tuple[type, ...], where: str) -> Any:
    if key not in d:
        raise _fail(where, f"has no '{key}' entry.")
    value = d[key]
    kinds = kind if isinstance(kind, tuple) else (kind,)
    if isinstance(value, bool) and bool not in kinds or not isinstance(value, kinds):
        names = " or ".join(k.__name__ for k in kinds)
        raise _fail(where, f"has a '{key}' that is not a {names}: {value!r:.60}.")
    return value


def _int_in(
    d: dict[str, Any], key: str, lo: int, hi: int, where: str, default: int | None = None
) -> int:
    if default is not None and key not in d:
        return default
    value = _get(d, key, int, where)
    if not lo <= value <= hi:
        raise _fail(where, f"gives {key} = {value}, outside {lo} to {hi}.")
    return int(value)


def _bandset(d: Any, where: str) -> BandSet:
    if not isinstance(d, dict):
        raise _fail(where, "lists an input or output that is not a mapping.")
    bands = _get(d, "bands", (list, tuple), where)
    if not 1 <= len(bands) <= 64 or not all(isinstance(b, str) for b in bands):
        raise _fail(where, "lists bands that are not 1 to 64 texts.")
    return BandSet(str(_get(d, "role", str, where)), tuple(bands))


def card_from_dict(d: Any, source: str = "") -> ModelCard:
    """Check a card read from JSON and return it typed; one sentence per problem."""
    where = f"of '{source}' " if source else ""
    if not isinstance(d, dict):
        raise _fail(where, "is not a JSON object.")
    name = _get(d, "name", str, where)
    if not NAME_RE.match(name):
        raise _fail(where, f"has an unusable name {name!r:.60} (letters, digits, _ . - only).")
    arch = _get(d, "architecture", dict, where)
    if not isinstance(arch.get("type"), str):
        raise _fail(where, "has an architecture without a 'type'.")
    inputs = _get(d, "inputs", (list, tuple), where)
    if not 1 <= len(inputs) <= 8:
        raise _fail(where, f"lists {len(inputs)} inputs; 1 to 8 are supported.")
    norm = _get(d, "normalisation", dict, where)
    tile = _int_in(d, "tile_size", 16, 8192, where)
    overlap = _int_in(d, "overlap", 0, tile // 2, where)
    held = d.get("held_out")
    held_out = None
    if held is not None:
        if not isinstance(held, dict):
            raise _fail(where, "has a 'held_out' entry that is not a mapping.")
        metrics = _get(held, "metrics", dict, where)
        if not all(isinstance(v, dict) for v in metrics.values()):
            raise _fail(where, "has held-out metrics that are not grouped by method.")
        by_area = held.get("by_area") or []
        if not isinstance(by_area, (list, tuple)) or not all(
            isinstance(r, dict)
            and isinstance(r.get("metrics"), dict)
            and all(isinstance(v, dict) for v in r["metrics"].values())
            for r in by_area
        ):
            raise _fail(where, "has held-out rows by area that are not grouped by method.")
        held_out = HeldOut(
            data=str(_get(held, "data", str, where)),
            metrics=metrics,
            baseline=str(_get(held, "baseline", str, where)),
            model_beats_baseline=bool(_get(held, "model_beats_baseline", bool, where)),
            notes=str(held.get("notes", "")),
            by_area=tuple(by_area),
        )
    version = _int_in(d, "card_version", 1, CARD_VERSION, where, default=CARD_VERSION)
    return ModelCard(
        name=name,
        task=_get(d, "task", str, where),
        description=str(d.get("description", "")),
        architecture=arch,
        inputs=tuple(_bandset(i, where) for i in inputs),
        output=_bandset(_get(d, "output", dict, where), where),
        normalisation=Normalisation(
            str(_get(norm, "kind", str, where)), dict(_get(norm, "params", dict, where))
        ),
        context_px=_int_in(d, "context_px", 0, 1024, where),
        tile_size=tile,
        overlap=overlap,
        scale=_int_in(d, "scale", 1, 16, where, default=1),
        parameters=_int_in(d, "parameters", 0, 10**10, where, default=0),
        training=dict(d.get("training") or {}),
        held_out=held_out,
        limitations=str(d.get("limitations", "")),
        card_version=version,
    )


def card_text(card: ModelCard) -> str:
    """The card as the JSON text that is written beside the weights and embedded in them."""
    return json.dumps(card.to_dict(), indent=2) + "\n"


def write_card(path: str, card: ModelCard) -> None:
    """Write ``card`` as JSON to ``path`` atomically (a unique temporary name, then rename)."""
    card_from_dict(json.loads(card_text(card)))  # what is written must read back
    folder = os.path.dirname(os.path.abspath(path))
    tmp = os.path.join(folder, f".{os.path.basename(path)}.{uuid.uuid4().hex}.tmp")
    try:
        with open(tmp, "x", encoding="utf-8") as fh:
            fh.write(card_text(card))
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)


def read_card_file(path: str) -> ModelCard:
    """Read and check a JSON card file; refuses oversized or malformed files clearly."""
    base = os.path.basename(path)
    try:
        size = os.path.getsize(path)
    except OSError as exc:
        raise GeohazardError(f"The model card '{base}' cannot be read: {exc.strerror}.") from exc
    if size > MAX_CARD_BYTES:
        raise GeohazardError(f"The model card '{base}' is {size} bytes, too large to be a card.")
    try:
        with open(path, encoding="utf-8") as fh:
            data = json.load(fh)
    except (OSError, ValueError) as exc:
        raise GeohazardError(f"The model card '{base}' is not valid JSON: {exc}") from exc
    return card_from_dict(data, base)
