"""The one error a delivery can raise: a file (or period folder) that cannot be read."""

from __future__ import annotations

from pathlib import Path


class UnreadableFileError(Exception):
    """A file (or a period folder) that cannot be loaded at all."""

    def __init__(self, path: Path, problem: str) -> None:
        super().__init__(f"{path}: {problem}")
        self.path = path
        self.problem = problem
