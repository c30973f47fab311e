"""One error hierarchy for the domain; the gateway maps it to HTTP statuses in one place."""

from __future__ import annotations


class TaskChatError(Exception):
    """Base for errors whose `detail` is safe to show to the user."""

    status_code = 400

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


class InvalidInputError(TaskChatError):
    status_code = 400


class NotFoundError(TaskChatError):
    status_code = 404


class PayloadTooLargeError(TaskChatError):
    status_code = 413


class UnauthorizedError(TaskChatError):
    status_code = 401


class ServiceUnavailableError(TaskChatError):
    status_code = 503


class ForbiddenError(TaskChatError):
    status_code = 403


class UnsupportedMediaTypeError(TaskChatError):
    status_code = 415


class RequestTimeoutError(TaskChatError):
    status_code = 408


class TooManyRequestsError(TaskChatError):
    """A limit was reached; `retry_after_s` becomes the `Retry-After` header."""

    status_code = 429

    def __init__(self, detail: str, retry_after_s: int) -> None:
        super().__init__(detail)
        self.retry_after_s = max(1, retry_after_s)
