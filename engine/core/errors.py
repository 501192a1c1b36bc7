"""Exceptions the engine raises; the Processing layer turns them into QgsProcessingException."""


class GeohazardError(Exception):
    """A problem with the user's input or environment, stated as a sentence a geologist reads."""


class Cancelled(GeohazardError):
    """The user cancelled the run; nothing partial is left behind."""

    def __init__(self, message: str = "Cancelled by the user; no output was written.") -> None:
        super().__init__(message)
