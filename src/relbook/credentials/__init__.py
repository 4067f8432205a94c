"""Account passwords in the OS keyring (never in plain text); see ``store``."""

from relbook.credentials.store import (
    NO_KEYRING,
    KeyringSecretStore,
    SecretStore,
    SecretStoreError,
    SessionSecretStore,
    open_secret_store,
)

__all__ = [
    "NO_KEYRING",
    "KeyringSecretStore",
    "SecretStore",
    "SecretStoreError",
    "SessionSecretStore",
    "open_secret_store",
]
