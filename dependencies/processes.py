"""Child-process flags shared by the helpers that run pip, python and nvidia-smi."""

from __future__ import annotations

import sys

# On Windows, keep a console window from flashing up for each child process (0 elsewhere,
# where subprocess accepts only 0).
NO_WINDOW: int = 0x08000000 if sys.platform.startswith("win") else 0  # CREATE_NO_WINDOW
