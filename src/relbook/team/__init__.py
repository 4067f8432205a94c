"""The team server: selective sync of the book with a shared PostgreSQL.

PostgreSQL does the serving (DESIGN.md "Team server"): row-level security decides what each
rep's role sees; this package holds the server schema (``schema``, versioned migrations),
provisioning (``provision``), the wire protocol (``protocol``: idempotent push, pull after
a transaction-id horizon), what of the book travels (``spec``, ``project``), how pulled
rows land in the book (``apply``) and the sync that ties them together (``sync``).

Nothing here assumes one server process: no session state survives a transaction (works
behind pgbouncer in transaction mode), pulls may read from a streaming replica (its snapshot
horizon covers only what it replayed; older row versions are ignored), and the shared tables
lead their keys with ``team_id`` (a distribution column, should Citus ever be used: the pull
horizon would then have to come from the team's worker — not built, see the README).
"""
