"""Errors the pipeline raises. Each carries a message a user can act on, never a traceback."""

from __future__ import annotations


class PipelineError(Exception):
    """Base class: `user_message` says what was wrong and what to do."""

    def __init__(self, user_message: str) -> None:
        super().__init__(user_message)
        self.user_message = user_message


class BadInput(PipelineError):
    """The request itself cannot be made (empty prompt, impossible value)."""


class BadReference(PipelineError):
    """The reference audio is unreadable, empty, not audio, too long or too large."""


class SoundFontMissing(PipelineError):
    """No General MIDI SoundFont was found where the settings point."""


class ScratchSpaceFull(PipelineError):
    """The scratch folder has no room for the job's stems."""


class QAFailed(PipelineError):
    """The track still failed its checks after every corrective retry."""

    def __init__(self, user_message: str, reasons: list[str]) -> None:
        super().__init__(user_message)
        self.reasons = reasons


class Cancelled(PipelineError):
    """The job was cancelled while it was being made."""


class GeneratorFailed(PipelineError):
    """A generator backend could not make the audio: a remote service refused or failed, a model is
    missing. Subclasses (pipeline.backends.stability) say which; `exit_code` is what `ampa generate`
    returns, `reason` a short slug for job records."""

    exit_code = 3
    reason = "generator_failed"
    credits_spent: float = 0.0  # what earlier requests of the same job cost before this failure
