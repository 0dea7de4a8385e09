"""One exception tree for modelward; each class maps to one exit code and one HTTP status.

Every error carries a stable ``code`` (documented in docs/errors.md), a message that says what
was wrong, and a ``hint`` that says what to do about it.
"""

from __future__ import annotations

from typing import ClassVar

# Exit codes, documented in docs/cli.md. Usage errors (2) come from Typer/Click itself.
EXIT_OK = 0
EXIT_INTERNAL = 1
EXIT_USAGE = 2
EXIT_INVALID = 3
EXIT_NOT_FOUND = 4
EXIT_CONFLICT = 5
EXIT_REFUSED = 6
EXIT_UNAVAILABLE = 7


class ModelwardError(Exception):
    """Base of every error modelward raises on purpose."""

    code: ClassVar[str] = "INTERNAL_ERROR"
    exit_code: ClassVar[int] = EXIT_INTERNAL
    http_status: ClassVar[int] = 500

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return f"{self.message} ({self.hint})" if self.hint else self.message

    def __reduce__(self) -> tuple[object, ...]:
        # Subclasses take their own constructor arguments; rebuild from the state instead, so
        # every error survives the trip back from a worker process unchanged.
        return (_restore, (type(self), self.args, self.__dict__.copy()))

    def to_dict(self) -> dict[str, object]:
        """The error as a JSON-ready body."""
        body: dict[str, object] = {"error": self.message, "code": self.code}
        if self.hint:
            body["hint"] = self.hint
        return body


def _restore(
    cls: type[ModelwardError], args: tuple[object, ...], state: dict[str, object]
) -> ModelwardError:
    error = cls.__new__(cls)
    Exception.__init__(error, *args)
    error.__dict__.update(state)
    return error


# --- bad input -------------------------------------------------------------------------------
class InvalidInputError(ModelwardError):
    """The caller gave something modelward cannot use."""

    code = "INVALID_INPUT"
    exit_code = EXIT_INVALID
    http_status = 400


class InvalidReferenceError(InvalidInputError):
    code = "INVALID_REFERENCE"


class InvalidNameError(InvalidInputError):
    code = "INVALID_NAME"


class UnknownFlavorError(InvalidInputError):
    code = "UNKNOWN_FLAVOR"


class InvalidModelError(InvalidInputError):
    """A file or object that no flavor can read or save."""

    code = "INVALID_MODEL"


class InvalidSignatureError(InvalidInputError):
    """A signature definition that is malformed."""

    code = "INVALID_SIGNATURE"


class SignatureViolationError(InvalidInputError):
    """Input data that breaks the model's signature; ``problems`` lists every one of them."""

    code = "SIGNATURE_VIOLATION"
    http_status = 422

    def __init__(self, problems: list[str], *, hint: str | None = None) -> None:
        self.problems = list(problems)
        lines = "\n".join(f"  - {p}" for p in self.problems)
        super().__init__(
            f"input does not match the model signature ({len(self.problems)} problem"
            f"{'s' if len(self.problems) != 1 else ''}):\n{lines}",
            hint=hint or "fix the input data or register a version with a matching signature",
        )

    def to_dict(self) -> dict[str, object]:
        body = super().to_dict()
        body["problems"] = self.problems
        return body


class InvalidDataError(InvalidInputError):
    """A data file that cannot be read (format, encoding, columns)."""

    code = "INVALID_DATA"


class PayloadTooLargeError(InvalidInputError):
    """A request body over the server's limit."""

    code = "PAYLOAD_TOO_LARGE"
    http_status = 413


class UnsupportedContentTypeError(InvalidInputError):
    """A request body in a format the endpoint does not read."""

    code = "UNSUPPORTED_CONTENT_TYPE"
    http_status = 415


class MissingDependencyError(InvalidInputError):
    """A flavor needs an optional package that is not installed."""

    code = "MISSING_DEPENDENCY"


class InvalidPolicyError(InvalidInputError):
    """A governance policy file or dict that does not parse: unknown key, wrong type or value."""

    code = "INVALID_POLICY"


class MethodNotAllowedError(InvalidInputError):
    """An HTTP method the route does not answer (the ``Allow`` header lists those it does)."""

    code = "METHOD_NOT_ALLOWED"
    http_status = 405


# --- not found -------------------------------------------------------------------------------
class NotFoundError(ModelwardError):
    code = "NOT_FOUND"
    exit_code = EXIT_NOT_FOUND
    http_status = 404


class ModelNotFoundError(NotFoundError):
    code = "MODEL_NOT_FOUND"


class VersionNotFoundError(NotFoundError):
    code = "VERSION_NOT_FOUND"


class AliasNotFoundError(NotFoundError):
    code = "ALIAS_NOT_FOUND"


class ArtifactNotFoundError(NotFoundError):
    code = "ARTIFACT_NOT_FOUND"


class UserNotFoundError(NotFoundError):
    code = "USER_NOT_FOUND"


class TokenNotFoundError(NotFoundError):
    code = "TOKEN_NOT_FOUND"


# --- conflicts with current state -------------------------------------------------------------
class ConflictError(ModelwardError):
    code = "CONFLICT"
    exit_code = EXIT_CONFLICT
    http_status = 409


class AlreadyExistsError(ConflictError):
    code = "ALREADY_EXISTS"


class AliasInUseError(ConflictError):
    """A version cannot be deleted or archived while an alias points at it."""

    code = "ALIAS_IN_USE"


class ArchivedVersionError(ConflictError):
    code = "VERSION_ARCHIVED"


class PolicyViolationError(ConflictError):
    """A lifecycle move the version's policy does not allow yet; the message names what is missing."""

    code = "POLICY_VIOLATION"


class StaleDigestError(ConflictError):
    """An approval for an artifact digest that is not (or no longer) the version's."""

    code = "STALE_DIGEST"


# --- integrity and security refusals ----------------------------------------------------------
class RefusedError(ModelwardError):
    code = "REFUSED"
    exit_code = EXIT_REFUSED
    http_status = 403


class UntrustedContentError(RefusedError):
    """Loading this could run code or reach outside the file (pickle, untrusted skops types,
    XML entity and DTD declarations)."""

    code = "UNTRUSTED_CONTENT"


class UnsafePathError(RefusedError):
    """A user-supplied name, path or URI that would escape its root."""

    code = "UNSAFE_PATH"
    http_status = 400


class ArtifactIntegrityError(RefusedError):
    """An artifact whose bytes no longer match its recorded sha256."""

    code = "ARTIFACT_INTEGRITY"
    http_status = 500


class SelfApprovalError(RefusedError):
    """Segregation of duties: the author of a version, or anyone who changed it, may not decide on it."""

    code = "SELF_APPROVAL"


class ApproverRoleError(RefusedError):
    """The acting role is not one whose approvals the version's policy counts."""

    code = "APPROVER_ROLE"


class AuthenticationError(RefusedError):
    """No API token, or one that is malformed, unknown, expired or revoked, or whose user is
    disabled."""

    code = "UNAUTHENTICATED"
    http_status = 401


class PermissionDeniedError(RefusedError):
    """The caller's role lacks the permission an operation needs; ``permission`` names it."""

    code = "PERMISSION_DENIED"

    def __init__(self, permission: str, message: str, *, hint: str | None = None) -> None:
        super().__init__(message, hint=hint)
        self.permission = permission

    def to_dict(self) -> dict[str, object]:
        body = super().to_dict()
        body["permission"] = self.permission
        return body


class AuditChainBrokenError(RefusedError):
    """The audit chain no longer verifies: ``seq`` is the first event whose link is broken."""

    code = "AUDIT_CHAIN_BROKEN"
    http_status = 500

    def __init__(self, seq: int, problem: str, *, hint: str | None = None) -> None:
        self.seq = seq
        self.problem = problem
        super().__init__(
            f"audit chain broken at event {seq}: {problem}",
            hint=hint
            or "the audit trail was changed outside modelward; compare with an earlier "
            "'modelward audit export' and see docs/audit.md",
        )

    def to_dict(self) -> dict[str, object]:
        body = super().to_dict()
        body["seq"] = self.seq
        return body


# --- the outside world ------------------------------------------------------------------------
class UnavailableError(ModelwardError):
    code = "UNAVAILABLE"
    exit_code = EXIT_UNAVAILABLE
    http_status = 503


class StoreUnavailableError(UnavailableError):
    code = "STORE_UNAVAILABLE"


class ArtifactStoreUnavailableError(UnavailableError):
    code = "ARTIFACT_STORE_UNAVAILABLE"


class WorkerUnavailableError(UnavailableError):
    """A model's worker crashed, timed out or is restarting; retrying shortly will work."""

    code = "WORKER_UNAVAILABLE"


class OverloadedError(UnavailableError):
    """Too many requests are queued for a model; retry later (backpressure)."""

    code = "OVERLOADED"


class ModelNotReadyError(UnavailableError):
    """A served model is still loading, or failed to load."""

    code = "MODEL_NOT_READY"


class ModelFailedError(ModelwardError):
    """The model itself raised while scoring (its worker keeps running)."""

    code = "MODEL_FAILED"


class ConfigurationError(ModelwardError):
    """A setting that cannot work (bad URL scheme, unwritable home)."""

    code = "CONFIGURATION"
    exit_code = EXIT_INVALID
    http_status = 500


def all_error_classes() -> list[type[ModelwardError]]:
    """Every error class in the tree, base included (used by the docs test)."""
    seen: list[type[ModelwardError]] = []
    stack: list[type[ModelwardError]] = [ModelwardError]
    while stack:
        cls = stack.pop()
        if cls not in seen:
            seen.append(cls)
            stack.extend(cls.__subclasses__())
    return seen
