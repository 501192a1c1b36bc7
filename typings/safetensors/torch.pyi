# safetensors.torch of safetensors 0.4.5 (annotated in its source; restated here because a stub
# package replaces the whole installed package for mypy).
from os import PathLike

import torch

def save(tensors: dict[str, torch.Tensor], metadata: dict[str, str] | None = None) -> bytes: ...
def save_file(
    tensors: dict[str, torch.Tensor],
    filename: str | PathLike[str],
    metadata: dict[str, str] | None = None,
) -> None: ...
def load(data: bytes) -> dict[str, torch.Tensor]: ...
def load_file(
    filename: str | PathLike[str], device: str | int = "cpu"
) -> dict[str, torch.Tensor]: ...
def save_model(
    model: torch.nn.Module,
    filename: str,
    metadata: dict[str, str] | None = None,
    force_contiguous: bool = True,
) -> None: ...
def load_model(
    model: torch.nn.Module,
    filename: str | PathLike[str],
    strict: bool = True,
    device: str | int = "cpu",
) -> tuple[list[str], list[str]]: ...
