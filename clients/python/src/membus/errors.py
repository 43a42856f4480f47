"""The one error type of membus, with the codes of ``ErrorCodes`` in @membus/contracts."""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from .models import ErrorCode

# ErrorCode (the contract's codes) is generated into models.py from the contract.
# code -> (category, retryable by default), as packages/contracts/src/errors.ts. A test checks
# the codes against the contract's error body (schema/operations.json).
ERROR_CODES: dict[str, tuple[str, bool]] = {
    "INVALID_MESSAGE": ("user", False),
    "INVALID_TENANT": ("user", False),
    "LIMIT_EXCEEDED": ("user", False),
    "NOT_FOUND": ("user", False),
    "CONFLICT": ("user", False),
    "DIMENSION_MISMATCH": ("user", False),
    "UNAVAILABLE": ("system", True),
    "TIMEOUT": ("system", True),
    "INTERNAL": ("system", False),
    "EMBEDDING_FAILED": ("third-party", True),
    "BACKEND_FAILED": ("third-party", True),
}


class MembusError(Exception):
    """A membus failure: a stable ``code``, whose fault it is (``category``), whether the same
    call may succeed later (``retryable``) and JSON-only ``details``."""

    def __init__(
        self,
        code: ErrorCode | str,
        message: str,
        *,
        retryable: bool | None = None,
        details: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        category, default_retryable = ERROR_CODES.get(code, ERROR_CODES["INTERNAL"])
        self.code = code
        self.message = message
        self.category = category
        self.retryable = default_retryable if retryable is None else retryable
        self.details = details

    def __repr__(self) -> str:
        return f"MembusError({self.code!r}, {self.message!r}, retryable={self.retryable})"

    def __str__(self) -> str:
        return f"{self.code}: {self.message}"


def error_from_body(body: dict[str, Any]) -> MembusError:
    """An ``{ code, message, retryable, details? }`` error body as a MembusError."""
    return MembusError(
        body.get("code", "INTERNAL"),
        body.get("message", "failed"),
        retryable=body.get("retryable"),
        details=body.get("details"),
    )


# Pydantic error types of a size bound (zod's `too_big`): LIMIT_EXCEEDED, as the TS client.
_TOO_BIG = {"string_too_long", "too_long", "less_than", "less_than_equal"}


def validation_error(error: ValidationError) -> MembusError:
    """A validation failure as INVALID_MESSAGE (or LIMIT_EXCEEDED when a size bound was hit)."""
    issues = [
        {"path": ".".join(str(part) for part in issue["loc"]), "message": issue["msg"]}
        for issue in error.errors()[:10]
    ]
    too_big = any(issue["type"] in _TOO_BIG for issue in error.errors())
    first = issues[0] if issues else None
    summary = f"{first['path'] or '(root)'}: {first['message']}" if first else "invalid message"
    return MembusError(
        "LIMIT_EXCEEDED" if too_big else "INVALID_MESSAGE", summary, details={"issues": issues}
    )
