"""Mapping every failure to an HTTP status and a JSON body, in one place."""

from __future__ import annotations

import logging

import asyncpg
from chatkit.store import NotFoundError as ChatKitNotFoundError
from litestar import MediaType, Request, Response
from litestar.datastructures import State
from litestar.exceptions import HTTPException
from litestar.types import ExceptionHandlersMap
from pydantic import ValidationError
from redis.exceptions import RedisError

from shared.errors import TaskChatError, TooManyRequestsError, UnauthorizedError

logger = logging.getLogger(__name__)


def _json(
    status_code: int, detail: str, headers: dict[str, str] | None = None
) -> Response[dict[str, object]]:
    return Response(
        content={"status_code": status_code, "detail": detail},
        status_code=status_code,
        media_type=MediaType.JSON,
        headers=headers,
    )


def _domain(_: Request[object, object, State], exc: Exception) -> Response[dict[str, object]]:
    assert isinstance(exc, TaskChatError)
    headers: dict[str, str] = {}
    if isinstance(exc, TooManyRequestsError):
        headers["Retry-After"] = str(exc.retry_after_s)
    elif isinstance(exc, UnauthorizedError):
        headers["WWW-Authenticate"] = "Bearer"
    return _json(exc.status_code, exc.detail, headers)


def _not_found(_: Request[object, object, State], exc: Exception) -> Response[dict[str, object]]:
    return _json(404, str(exc) or "Not found.")


def _invalid(_: Request[object, object, State], exc: Exception) -> Response[dict[str, object]]:
    assert isinstance(exc, ValidationError)
    first = exc.errors(include_url=False, include_input=False)[:1]
    where = ".".join(str(p) for p in first[0]["loc"]) if first else ""
    return _json(400, f"Invalid request: {where}: {first[0]['msg']}" if first else "Invalid.")


def _http(_: Request[object, object, State], exc: Exception) -> Response[dict[str, object]]:
    assert isinstance(exc, HTTPException)
    return _json(exc.status_code, exc.detail)


# The messages of the two below are written for developers (they name internal functions,
# item ids or values the code saw): logged, never sent. `TaskChatError.detail` is the only text
# a client reads from an exception.


def _unsupported(_: Request[object, object, State], exc: Exception) -> Response[dict[str, object]]:
    # chatkit raises NotImplementedError for features a server has not switched on.
    logger.info("unsupported request: %s", exc)
    return _json(400, "This server does not support that request.")


def _rejected(_: Request[object, object, State], exc: Exception) -> Response[dict[str, object]]:
    # chatkit raises ValueError for requests that do not fit the thread (e.g. a sync action
    # whose sender is not a widget); so may any library below it.
    logger.info("request rejected: %s: %s", type(exc).__name__, exc)
    return _json(400, "The request does not fit this thread or its items.")


def _unavailable(_: Request[object, object, State], exc: Exception) -> Response[dict[str, object]]:
    # PostgreSQL or Redis is down or restarting: the pools reconnect on the next request.
    logger.warning("backing service unavailable: %s: %s", type(exc).__name__, exc)
    response = _json(503, "The service is temporarily unavailable. Please try again shortly.")
    response.headers["Retry-After"] = "2"
    return response


def _unstorable(_: Request[object, object, State], exc: Exception) -> Response[dict[str, object]]:
    # Postgres refuses NUL characters in text and jsonb; that is bad input, not a server fault.
    return _json(400, "The request contains text that cannot be stored (a NUL character).")


def _unexpected(_: Request[object, object, State], exc: Exception) -> Response[dict[str, object]]:
    logger.exception("unhandled error", exc_info=exc)
    return _json(500, "Internal server error.")


EXCEPTION_HANDLERS: ExceptionHandlersMap = {
    TaskChatError: _domain,
    ChatKitNotFoundError: _not_found,
    ValidationError: _invalid,
    HTTPException: _http,
    NotImplementedError: _unsupported,
    ValueError: _rejected,
    # Connection failures: refused or reset sockets (OSError), PostgreSQL shutting down or
    # starting (OperatorInterventionError), a connection lost mid-query, Redis unreachable.
    OSError: _unavailable,
    asyncpg.PostgresConnectionError: _unavailable,
    asyncpg.exceptions.OperatorInterventionError: _unavailable,
    RedisError: _unavailable,
    asyncpg.CharacterNotInRepertoireError: _unstorable,
    asyncpg.UntranslatableCharacterError: _unstorable,
    Exception: _unexpected,
}
