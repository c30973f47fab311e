"""`/api/tasks`: the task tools as a REST resource, documented in the gateway's OpenAPI schema.

Each route turns its path and body into the tool's arguments and runs the catalog operation, so
REST answers what the agent and MCP clients get. Every bad input is a 422 with a JSON body
naming the problem; another user's task is a 404, exactly like a task that does not exist.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from litestar import Controller, MediaType, Request, Response, delete, get, patch, post, put
from litestar.datastructures import State
from litestar.di import NamedDependency
from litestar.exceptions import (
    ClientException,
    HTTPException,
    NotAuthorizedException,
    NotFoundException,
    ValidationException,
)
from litestar.params import FromPath, FromQuery, JSONBody
from pydantic import BaseModel

from services.gateway.resources import GatewayResources
from shared.errors import InvalidInputError
from shared.request_context import RequestContext
from shared.tasks.operations.arguments import CreateTaskArgs, TaskChanges, TaskIdsArgs
from shared.tasks.operations.catalog import (
    BULK_COMPLETE_TASKS,
    BULK_DELETE_TASKS,
    COMPLETE_TASK,
    CREATE_TASK,
    DELETE_TASK,
    LIST_TASKS,
    UPDATE_TASK,
    TaskOperation,
)
from shared.tasks.operations.results import (
    BulkCompleteResult,
    BulkDeleteResult,
    DeletedResult,
    TaskListResult,
    TaskOut,
    TaskResult,
    TaskSearchResult,
)
from shared.tasks.repository import SEARCH_MAX_RESULTS, TaskRepository
from shared.tasks.validation import TaskStatus

ResultT = TypeVar("ResultT", bound=BaseModel)
UNPROCESSABLE = 422


async def _run(
    operation: TaskOperation[Any],
    result_type: type[ResultT],
    resources: NamedDependency[GatewayResources],
    context: RequestContext,
    arguments: Mapping[str, Any],
) -> ResultT:
    try:
        outcome = await operation.run(TaskRepository(resources.pool), context.user_id, arguments)
    except InvalidInputError as exc:
        raise HTTPException(status_code=UNPROCESSABLE, detail=exc.detail) from exc
    assert isinstance(outcome.result, result_type)
    return outcome.result


def _invalid_request(
    _: Request[object, object, State], exc: Exception
) -> Response[dict[str, object]]:
    # Litestar reports a body or query parameter that does not fit its schema as a 400; on this
    # API it is a 422, like every other validation failure, with the first problem spelt out.
    assert isinstance(exc, ValidationException)
    errors = exc.extra if isinstance(exc.extra, list) else []
    first = errors[0] if errors and isinstance(errors[0], dict) else {}
    where = ".".join(str(part) for part in (first.get("source"), first.get("key")) if part)
    detail = f"Invalid request: {where}: {first.get('message')}" if first else exc.detail
    return Response(
        content={"status_code": UNPROCESSABLE, "detail": detail, "errors": errors},
        status_code=UNPROCESSABLE,
        media_type=MediaType.JSON,
    )


class UnprocessableInputException(ClientException):
    """Documents the 422 every route answers for invalid input (see `_invalid_request`)."""

    status_code = UNPROCESSABLE


# What the OpenAPI schema lists as each route's error answers.
DOCUMENTED_ERRORS: list[type[HTTPException]] = [
    NotAuthorizedException,
    NotFoundException,
    UnprocessableInputException,
]


class TaskController(Controller):
    path = "/api/tasks"
    tags = ["tasks"]
    security = [{"BearerToken": []}]
    exception_handlers = {ValidationException: _invalid_request}

    @get(
        "/",
        summary="List tasks, newest first (at most 50, with a note when there are more)",
        raises=DOCUMENTED_ERRORS,
    )
    async def list_tasks(
        self,
        resources: NamedDependency[GatewayResources],
        request_context: NamedDependency[RequestContext],
        status: FromQuery[TaskStatus] = "all",
    ) -> TaskListResult:
        return await _run(
            LIST_TASKS, TaskListResult, resources, request_context, {"status": status}
        )

    @get(
        "/search",
        summary="The caller's tasks whose title contains `q`, pending first (for @-mentions)",
        raises=DOCUMENTED_ERRORS,
    )
    async def search_tasks(
        self,
        resources: NamedDependency[GatewayResources],
        request_context: NamedDependency[RequestContext],
        q: FromQuery[str] = "",
        limit: FromQuery[int] = SEARCH_MAX_RESULTS,
    ) -> TaskSearchResult:
        try:
            found = await TaskRepository(resources.pool).search(request_context.user_id, q, limit)
        except InvalidInputError as exc:
            raise HTTPException(status_code=UNPROCESSABLE, detail=exc.detail) from exc
        return TaskSearchResult(query=q, tasks=[TaskOut.of(task) for task in found])

    @post("/", summary="Create a task", raises=DOCUMENTED_ERRORS)
    async def create_task(
        self,
        data: JSONBody[CreateTaskArgs],
        resources: NamedDependency[GatewayResources],
        request_context: NamedDependency[RequestContext],
    ) -> TaskOut:
        arguments = data.model_dump(exclude_unset=True)
        result = await _run(CREATE_TASK, TaskResult, resources, request_context, arguments)
        return result.task

    @get("/{task_id:int}", summary="One task", raises=DOCUMENTED_ERRORS)
    async def get_task(
        self,
        task_id: FromPath[int],
        resources: NamedDependency[GatewayResources],
        request_context: NamedDependency[RequestContext],
    ) -> TaskOut:
        task = await TaskRepository(resources.pool).get(request_context.user_id, task_id)
        return TaskOut.of(task)

    @put(
        "/{task_id:int}",
        summary="Replace a task's fields (fields left out become empty)",
        raises=DOCUMENTED_ERRORS,
    )
    async def replace_task(
        self,
        task_id: FromPath[int],
        data: JSONBody[CreateTaskArgs],
        resources: NamedDependency[GatewayResources],
        request_context: NamedDependency[RequestContext],
    ) -> TaskOut:
        given = data.model_dump(exclude_none=True)
        cleared = [name for name in ("description", "due_date", "priority") if name not in given]
        arguments = {**given, "task_id": task_id, "clear": cleared}
        result = await _run(UPDATE_TASK, TaskResult, resources, request_context, arguments)
        return result.task

    @patch("/{task_id:int}", summary="Change some of a task's fields", raises=DOCUMENTED_ERRORS)
    async def change_task(
        self,
        task_id: FromPath[int],
        data: JSONBody[TaskChanges],
        resources: NamedDependency[GatewayResources],
        request_context: NamedDependency[RequestContext],
    ) -> TaskOut:
        arguments = {**data.model_dump(exclude_unset=True), "task_id": task_id}
        result = await _run(UPDATE_TASK, TaskResult, resources, request_context, arguments)
        return result.task

    @delete("/{task_id:int}", status_code=200, summary="Delete a task", raises=DOCUMENTED_ERRORS)
    async def delete_task(
        self,
        task_id: FromPath[int],
        resources: NamedDependency[GatewayResources],
        request_context: NamedDependency[RequestContext],
    ) -> DeletedResult:
        arguments = {"task_id": task_id}
        return await _run(DELETE_TASK, DeletedResult, resources, request_context, arguments)

    @post(
        "/{task_id:int}/complete",
        status_code=200,
        summary="Mark a task completed",
        raises=DOCUMENTED_ERRORS,
    )
    async def complete_task(
        self,
        task_id: FromPath[int],
        resources: NamedDependency[GatewayResources],
        request_context: NamedDependency[RequestContext],
    ) -> TaskOut:
        arguments = {"task_id": task_id}
        result = await _run(COMPLETE_TASK, TaskResult, resources, request_context, arguments)
        return result.task

    @post(
        "/bulk/complete",
        status_code=200,
        summary="Complete up to 100 tasks at once",
        raises=DOCUMENTED_ERRORS,
    )
    async def bulk_complete_tasks(
        self,
        data: JSONBody[TaskIdsArgs],
        resources: NamedDependency[GatewayResources],
        request_context: NamedDependency[RequestContext],
    ) -> BulkCompleteResult:
        arguments = data.model_dump()
        return await _run(
            BULK_COMPLETE_TASKS, BulkCompleteResult, resources, request_context, arguments
        )

    @post(
        "/bulk/delete",
        status_code=200,
        summary="Delete up to 100 tasks at once",
        raises=DOCUMENTED_ERRORS,
    )
    async def bulk_delete_tasks(
        self,
        data: JSONBody[TaskIdsArgs],
        resources: NamedDependency[GatewayResources],
        request_context: NamedDependency[RequestContext],
    ) -> BulkDeleteResult:
        arguments = data.model_dump()
        return await _run(
            BULK_DELETE_TASKS, BulkDeleteResult, resources, request_context, arguments
        )
