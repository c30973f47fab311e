"""The fetch wrapper's stop, checked in Chromium over a stand-in fetch whose answers the test
releases when it chooses: the caller sees the abort at once, as with the browser's own fetch,
whatever the cancel request is doing; a stop that comes before the answer's headers still cancels
the turn once its id is known; a request stopped before it was made is not sent; a cancel that
never answers is given up and the connection closed."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import BrowserContext

from tests.browser.conftest import gateway_origin
from tests.browser.cuttable_proxy import CuttableProxy

pytestmark = pytest.mark.browser

# A stand-in for the browser's fetch: the turn's stream sends one event and stays open, and each
# answer (the turn's headers, the cancel's) waits until the test releases it (the cancel's, or
# until the wrapper gives up on it).
STAND_IN = """
const { createTurnFetch } = await import("/dev/static/turn-fetch.js");
const CANCEL_TIMEOUT_MS = 2000;
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const within = (promise, ms) => Promise.race([promise, sleep(ms).then(() => "still waiting")]);
const gate = () => {
  let open;
  const opened = new Promise((resolve) => { open = resolve; });
  return { open, opened };
};
const turnAnswer = gate(), cancelAnswer = gate();
const asked = [], events = [];
let connectionAborted = false;
const standIn = async (url, init) => {
  asked.push(`${init.method} ${url}`);
  if (String(url).endsWith("/cancel")) {
    const givenUp = new Promise((_, reject) => {
      init.signal.addEventListener("abort", () => reject(init.signal.reason));
    });
    await Promise.race([cancelAnswer.opened, givenUp]);
    return new Response(null, { status: 202 });
  }
  init.signal.addEventListener("abort", () => { connectionAborted = true; });
  await turnAnswer.opened;
  const first = new TextEncoder().encode('id: t1:1\\ndata: {"type":"progress_update"}\\n\\n');
  const body = new ReadableStream({ start(controller) { controller.enqueue(first); } });
  return new Response(body, {
    headers: { "Content-Type": "text/event-stream", "X-Turn-Id": "t1" },
  });
};
const turnFetch = createTurnFetch({
  fetch: standIn, onEvent: (event) => events.push(event), cancelTimeoutMs: CANCEL_TIMEOUT_MS,
});
const stop = new AbortController();
const request = turnFetch("https://api.example.com/chatkit", {
  method: "POST", body: "{}", signal: stop.signal,
});
const outcome = (promise) => within(promise.then(() => "went on", (error) => error.name), 1000);
// The turn's answer comes and its first event is read: the caller is reading a stream.
const streaming = async () => {
  turnAnswer.open();
  const reader = (await request).body.getReader();
  await reader.read();
  return reader;
};
"""

STOP_WHILE_READING = (
    "async () => {"
    + STAND_IN
    + """
  const next = (await streaming()).read();
  stop.abort();
  const read = await outcome(next);
  const abortedBeforeCancelAnswered = connectionAborted;
  cancelAnswer.open();
  await sleep(100);
  return { read, asked, abortedBeforeCancelAnswered, connectionAborted, events };
}"""
)

STOP_BEFORE_HEADERS = (
    "async () => {"
    + STAND_IN
    + """
  stop.abort();
  const answer = await outcome(request);
  const askedBeforeHeaders = [...asked];
  turnAnswer.open();  // the turn was queued: its headers arrive after the stop
  cancelAnswer.open();
  await sleep(100);
  return { answer, askedBeforeHeaders, asked, connectionAborted, events };
}"""
)

CANCEL = "POST https://api.example.com/chatkit/turns/t1/cancel"


def run(context: BrowserContext, proxy: CuttableProxy, script: str) -> dict[str, Any]:
    page = context.new_page()
    page.goto(f"{gateway_origin(proxy)}/")  # the dev page: serves the wrapper it uses
    result: dict[str, Any] = page.evaluate(script)
    return result


def test_a_stop_fails_the_read_at_once_while_the_cancel_is_still_on_its_way(
    context: BrowserContext, proxy: CuttableProxy
) -> None:
    result = run(context, proxy, STOP_WHILE_READING)
    assert result["read"] == "AbortError", result
    # The cancel went out, and the connection closed only after the server had it.
    assert result["asked"] == ["POST https://api.example.com/chatkit", CANCEL]
    assert not result["abortedBeforeCancelAnswered"]
    assert result["connectionAborted"]
    assert result["events"] == [{"type": "stop", "turnId": "t1", "status": 202}]


def test_a_stop_before_the_answer_came_still_cancels_the_turn(
    context: BrowserContext, proxy: CuttableProxy
) -> None:
    result = run(context, proxy, STOP_BEFORE_HEADERS)
    assert result["answer"] == "AbortError", result
    assert result["askedBeforeHeaders"] == ["POST https://api.example.com/chatkit"]
    # Once the turn's id is known, its cancel goes out, and then the connection closes.
    assert result["asked"] == ["POST https://api.example.com/chatkit", CANCEL]
    assert result["connectionAborted"]
    assert result["events"] == [{"type": "stop", "turnId": "t1", "status": 202}]


STOPPED_BEFORE_SENT = (
    "async () => {"
    + STAND_IN
    + """
  const late = new AbortController();
  late.abort();
  const before = asked.length;
  const answer = await outcome(turnFetch("https://api.example.com/chatkit", {
    method: "POST", body: "{}", signal: late.signal,
  }));
  return { answer, sent: asked.length - before };
}"""
)


def test_a_request_stopped_before_it_was_sent_is_not_sent(
    context: BrowserContext, proxy: CuttableProxy
) -> None:
    assert run(context, proxy, STOPPED_BEFORE_SENT) == {"answer": "AbortError", "sent": 0}


STOP_WITH_A_CANCEL_THAT_NEVER_ANSWERS = (
    "async () => {"
    + STAND_IN
    + """
  await streaming();
  stop.abort();
  await sleep(CANCEL_TIMEOUT_MS / 2);
  const abortedWhileWaiting = connectionAborted;
  await sleep(CANCEL_TIMEOUT_MS);
  return { abortedWhileWaiting, connectionAborted, events };
}"""
)


def test_a_cancel_that_never_answers_is_given_up_and_the_connection_closed(
    context: BrowserContext, proxy: CuttableProxy
) -> None:
    assert run(context, proxy, STOP_WITH_A_CANCEL_THAT_NEVER_ANSWERS) == {
        "abortedWhileWaiting": False,
        "connectionAborted": True,
        "events": [],
    }
