"""The errors a delivery can raise: a file (or period folder) that cannot be read, a reload
that would lose most of what the period held, and a file dated for another period."""

from __future__ import annotations

from pathlib import Path


class UnreadableFileError(Exception):
    """A file (or a period folder) that cannot be loaded at all."""

    def __init__(self, path: Path, problem: str) -> None:
        super().__init__(f"{path}: {problem}")
        self.path = path
        self.problem = problem


class ReloadRefused(UnreadableFileError):
    """A reload of a period that would replace its rows with far fewer (a header-only or
    truncated file, a file that failed): refused before anything is written, so the period
    keeps its previous load until the operator accepts the smaller delivery."""


class OtherPeriodRefused(UnreadableFileError):
    """A file whose dates belong to another period than its folder's (a month's extract, a
    School Census return; put in the wrong folder it would be published as the wrong period):
    refused before anything is written, until the operator moves it or accepts it for this
    period."""
