"""Thought summaries in the dev page's own client, in a real Chromium: shown as a reasoning
workflow that is collapsed once the answer comes, and absent from the answer bubble."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
from playwright.sync_api import BrowserContext, expect

from services.gateway.dev_page.page import CHATKIT_SCRIPT_URL
from services.gemini_emulator.thoughts import THOUGHT_SUMMARY
from tests.conftest import Backends
from tests.e2e.conftest import System, running_system

pytestmark = pytest.mark.browser

THOUGHT_WORDS = "Weighing the request"
assert THOUGHT_WORDS in THOUGHT_SUMMARY

# Every reasoning workflow the client puts on the page, as it was when put there: whether it was
# open and what its summary line said. Observed per DOM change, so no timing is involved.
RECORD_OPEN_THOUGHTS = """
window.shownThoughts = [];
new MutationObserver((records) => {
  for (const record of records) for (const node of record.addedNodes) {
    if (node instanceof HTMLDetailsElement && node.classList.contains("reasoning")) {
      window.shownThoughts.push({ open: node.open, label: node.querySelector("summary").textContent,
                                  text: node.querySelector("ul").textContent });
    }
  }
}).observe(document, { subtree: true, childList: true });
"""


@pytest.fixture(scope="module")
def thinking_system(
    backends: Backends, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[System]:
    # Paced: a thought sent in one burst reaches the worker as one joined chunk and shows whole;
    # at 40 words a second it arrives in steps, and the page must show it growing.
    settings = {"GEMINI_INCLUDE_THOUGHTS": "true", "EMULATOR_TOKENS_PER_S": "40"}
    with running_system(backends, tmp_path_factory, "browser-thoughts", settings) as running:
        yield running


def test_the_thought_shows_as_a_collapsed_workflow_not_as_the_answer(
    context: BrowserContext, thinking_system: System
) -> None:
    token = thinking_system.token(f"u-{uuid.uuid4().hex[:8]}")
    context.route(CHATKIT_SCRIPT_URL, lambda route: route.abort("internetdisconnected"))
    context.add_init_script(f"sessionStorage.setItem('taskchat-token', {token!r});")
    context.add_init_script(RECORD_OPEN_THOUGHTS)
    page = context.new_page()
    page.goto(f"{thinking_system.gateway_url}/")
    expect(page.locator("body")).to_have_attribute("data-client", "fallback")
    page.fill("#composer", "hello, what can you do?")
    page.click("#send")
    expect(page.locator(".message.assistant")).to_have_count(1, timeout=30_000)
    expect(page.locator("#messages")).to_have_attribute("data-idle", "true", timeout=30_000)

    thought = page.locator("details.workflow.reasoning")
    expect(thought).to_have_count(1)
    expect(thought).to_contain_text(THOUGHT_WORDS)  # in the DOM, behind its summary line
    expect(thought).not_to_have_attribute("open", "")  # collapsed now that the answer is here
    expect(thought.locator("summary")).to_have_text("Thought about it")
    expect(thought.locator("li")).not_to_be_visible()
    answer = page.locator(".message.assistant")
    expect(answer).not_to_contain_text(THOUGHT_WORDS)
    expect(answer).not_to_contain_text("thought>")
    # While the model was thinking, the thought was open and growing.
    shown = page.evaluate("window.shownThoughts")
    thinking = [s for s in shown if s["label"] == "Thinking..."]
    assert thinking and all(s["open"] for s in thinking), shown
    assert any(0 < len(s["text"]) < len(THOUGHT_SUMMARY) for s in thinking), shown
    # The thought comes before the answer, as it was thought.
    order = page.locator("#messages > *").evaluate_all(
        "(nodes) => nodes.map((n) => n.classList.contains('reasoning') ? 'thought' : n.className)"
    )
    assert order.index("thought") < order.index("message assistant"), order
