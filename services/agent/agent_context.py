"""What a tool sees while it runs: the thread, the user, and the task repository."""

from __future__ import annotations

from typing import Annotated

from chatkit.agents import AgentContext
from pydantic import SkipValidation

from shared.request_context import RequestContext
from shared.tasks.repository import TaskRepository


class TaskAgentContext(AgentContext[RequestContext]):
    tasks: Annotated[TaskRepository, SkipValidation]
    tool_calls: int = 0
    """Task tool calls made in this turn, stored with the turn's usage."""

    @property
    def user_id(self) -> str:
        """The authenticated user of the turn: tools never take it from the model."""
        return self.request_context.user_id
