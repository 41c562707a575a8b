"""The drivers' own small exception tree: foreign errors (openstacksdk, kubernetes ``ApiException``,
ansible-runner statuses) are translated at the boundary, and every message is safe to show and log:
it names what failed and why, never a credential."""

from __future__ import annotations

from inventory.errors import ExternalError


class DriverError(ExternalError):
    """A driver call failed; ``str(exc)`` is a safe, readable reason."""


class NotFoundError(DriverError):
    """A named resource (flavor, image, server, namespace …) does not exist."""


class QuotaExceededError(DriverError):
    """The platform refused for lack of quota."""


class UnreachableError(DriverError):
    """The cloud, API server or host could not be reached or refused the credentials."""


class StepTimeoutError(DriverError):
    """A resource did not reach the wanted state in time."""


class AlreadyExistsError(DriverError):
    """A create lost a race: the named resource was made by someone else first (HTTP 409)."""
