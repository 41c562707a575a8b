"""Shangyun's one error tree: every error a person sees derives from ``ShangyunError``.

An error carries its message (from ``msg_format`` and keyword parameters, or given whole), the HTTP
status the API answers with, and optionally the input ``field`` it is about. The API's one exception
handler and the CLI's one wrapper map errors by class, never by message text:

=====================  ======  =================================================================
class                  status  meaning
=====================  ======  =================================================================
``NotFoundError``      404     the record asked for does not exist (or is not the caller's)
``ConflictError``      409     the record's state does not allow the action
``InvalidInputError``  422     the input is wrong; ``field`` names which part (413: too large)
``PermissionDenied``   403     the caller's role may not do it
``ExternalError``      502     a foreign system (cloud, cluster, Ansible host) failed
``UnavailableError``   503     Shangyun itself cannot serve yet (schema out of date, disabled)
=====================  ======  =================================================================

Messages are safe to show: they name what is wrong, never a credential.
"""

from __future__ import annotations

from typing import Any, ClassVar


class ShangyunError(Exception):
    """Base of every error shown to a person."""

    msg_format: ClassVar[str] = "{message}"
    status: ClassVar[int] = 400

    def __init__(self, message: str | None = None, *, field: str | None = None, status: int | None = None,
                 **params: Any) -> None:
        self.field = field
        self.params = params
        if status is not None:
            self.status = status  # type: ignore[misc]
        super().__init__(message if message is not None else self.msg_format.format(**params))

    @property
    def message(self) -> str:
        return str(self)


class NotFoundError(ShangyunError):
    msg_format = "no {what} {key!r}"
    status = 404


class ConflictError(ShangyunError):
    status = 409


class InvalidInputError(ShangyunError):
    status = 422


class PermissionDenied(ShangyunError):  # noqa: N818 (a state, like Python's PermissionError)
    status = 403


class ExternalError(ShangyunError):
    status = 502


class UnavailableError(ShangyunError):
    status = 503
