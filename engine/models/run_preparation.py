"""The start every model run shares: its options checked, its tiles checked, its inputs
checked, then its model loaded (unless one is given) with the card checked against the task."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol, TypeVar

from .model_task import ModelTask, TileSettings, check_tiles

T = TypeVar("T")


class RunConfig(Protocol):
    """A family's inference options: ``validate()``, the tiles and the model reference."""

    @property
    def tiles(self) -> TileSettings: ...

    @property
    def model(self) -> str: ...

    def validate(self) -> None: ...


def prepare_run(
    task: ModelTask,
    config: RunConfig,
    check_inputs: Callable[[], T],
    model: Any = None,
    user_models: str | None = None,
) -> tuple[Any, T]:
    """(the loaded model, what ``check_inputs`` returned).

    Args:
        task: the family's task; its rules check the model card.
        config: the run's options; ``config.model`` names the model (``default`` is the task's
            :meth:`~.model_task.ModelTask.default_model` for these options).
        check_inputs: the family's checks of its input rasters (one sentence per problem),
            made before any weights are read.
        model: an already loaded :class:`~.model_store.LoadedModel` used instead.
        user_models: the user's models folder, searched after the bundled models.
    """
    from .model_store import ModelStore

    config.validate()
    check_tiles(config.tiles, task)
    inputs = check_inputs()
    if model is None:
        model = ModelStore(user_models).load(task, config.model, task.default_model(config))
    return model, inputs
