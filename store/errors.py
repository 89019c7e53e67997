"""One tree for everything that can go wrong below the desk, saying the one
thing a caller must decide: try again later, or tell the person.

  CrashdeskError
  ├── Transient   the job runner retries it with backoff (a busy or
  │               unreachable database, object storage down, a full disk)
  └── Refused     the person is told, in their language, and can act on it
                  (nothing is retried: the same input fails the same way)

``StoreError`` (store.db) is a CrashdeskError whose kind says which."""

from __future__ import annotations


class CrashdeskError(Exception):
    retryable = False


class Transient(CrashdeskError):
    """Worth trying again: nothing about the input was wrong."""

    retryable = True


class Refused(CrashdeskError):
    """The input or the request cannot be served as it is; ``key`` names the
    desk text that says why (handlers.texts), ``fields`` fill it in."""

    def __init__(self, key: str, **fields):
        super().__init__(key)
        self.key = key
        self.fields = fields
