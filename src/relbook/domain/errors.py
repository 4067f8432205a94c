"""Errors split into the user's (or the environment's) and bugs.

A ``UserError`` carries a message that names the thing that went wrong and a ``remedy``
that names the way out. Anything else that escapes is a bug: logged with its traceback and
shown as "something went wrong" with the log path.
"""

from __future__ import annotations

from dataclasses import dataclass, field


class UserError(Exception):
    """A problem the user or the environment caused; the message is shown as is."""

    def __init__(self, message: str, remedy: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.remedy = remedy

    def __str__(self) -> str:
        return f"{self.message} {self.remedy}".strip()


@dataclass(frozen=True)
class FieldError:
    field: str
    message: str


@dataclass
class ValidationError(UserError):
    """One or more fields hold values the book cannot accept; nothing was saved."""

    errors: list[FieldError] = field(default_factory=list)

    def __init__(self, errors: list[FieldError] | FieldError) -> None:
        self.errors = [errors] if isinstance(errors, FieldError) else list(errors)
        text = "; ".join(f"{e.field}: {e.message}" for e in self.errors)
        UserError.__init__(self, f"Not saved — {text}.", "Correct the value and save again.")

    def for_field(self, name: str) -> str | None:
        return next((e.message for e in self.errors if e.field == name), None)

    def __str__(self) -> str:
        return UserError.__str__(self)

    def __hash__(self) -> int:
        return id(self)


class NotFoundError(UserError):
    def __init__(self, kind: str, ident: str) -> None:
        super().__init__(
            f"No {kind} with id {ident} in this book (it may have been deleted).",
            "Refresh the view.",
        )
        self.kind = kind
        self.ident = ident


class ConflictError(UserError):
    """An edit was based on an older version than the one stored."""


class FilterSyntaxError(UserError):
    def __init__(self, message: str, position: int, text: str) -> None:
        pointer = f"{text}\n{' ' * position}^"
        super().__init__(
            f"Filter not understood at position {position + 1}: {message}.\n{pointer}",
            "See 'Filters' in the README for the language (e.g. tag:vip amount>10000).",
        )
        self.position = position
        self.text = text


class BookError(UserError):
    """The book file cannot be used as it is."""


class BookTooNewError(BookError):
    pass


class BookCorruptError(BookError):
    def __init__(self, message: str, remedy: str, latest_backup: str | None) -> None:
        super().__init__(message, remedy)
        self.latest_backup = latest_backup


class BookLockedError(BookError):
    pass


class ImportFileError(UserError):
    """A whole input file could not be read (per-row problems are reported, not raised)."""


class GuardTripped(UserError):
    """A data-loss guard stopped an operation; it goes on only when the user confirms."""
