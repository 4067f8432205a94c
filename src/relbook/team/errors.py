"""What can go wrong with a team server, each with its way out."""

from __future__ import annotations

from relbook.domain.errors import UserError


class TeamError(UserError):
    """The team server cannot be used as asked (message names it, remedy the way out)."""


class TeamUnreachable(TeamError):
    """The server cannot be reached now; edits stay queued and sync resumes later."""


class TeamAuthFailed(TeamError):
    pass


class TeamTlsError(TeamError):
    pass


class UnsafeRole(TeamError):
    """The role could read past row-level security: the client refuses to sync with it."""


class TeamSchemaMismatch(TeamError):
    pass


class NotARep(TeamError):
    pass


class NotConnected(TeamError):
    def __init__(self) -> None:
        super().__init__(
            "This book is not connected to a team server.",
            "Connect it with 'relbook team connect --dsn postgresql://ROLE@HOST/DB'.",
        )
