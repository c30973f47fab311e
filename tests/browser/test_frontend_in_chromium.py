"""Everything of ours that runs in a browser, in a real Chromium: cookie authentication from the
app's origin to the gateway's, CORS with credentials, an incrementally read stream, a foreign
origin refused, stop and a dropped connection told apart by the fetch wrapper, and the dev page's
own client driven end to end.

ChatKit.js itself is served only from OpenAI's CDN, which these machines cannot reach, so it is
not among what is tested here.
"""

from __future__ import annotations

import re
import time
import uuid
from typing import Any

import httpx
import pytest
from playwright.sync_api import BrowserContext, Page, expect

from services.chatkit_client.client import ChatKitClient
from services.gateway.dev_page.page import CHATKIT_SCRIPT_URL
from tests.browser.app_server import AppServer
from tests.browser.conftest import (
    APP_HOST,
    COOKIE_NAME,
    CROSS_SITE_HOST,
    FOREIGN_HOST,
    app_url,
    gateway_origin,
    outside_the_loop,
    sign_in,
)
from tests.browser.cuttable_proxy import CuttableProxy
from tests.e2e.conftest import System
from tests.e2e.emulator_control import LONG_MESSAGE, LONG_REPLY
from tests.e2e.seed import fetch_value

pytestmark = pytest.mark.browser

# Reads a streamed POST /chatkit with the session cookie and reports what the page could see.
READ_STREAM = """async ({ gateway, text }) => {
  const response = await fetch(gateway + "/chatkit", {
    method: "POST",
    credentials: "include",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ type: "threads.create", params: { input: {
      content: [{ type: "input_text", text }], attachments: [], inference_options: {} } } }),
  });
  const reader = response.body.getReader();
  const decoder = new TextDecoder();
  let body = "", reads = 0, readsBeforeFirstDelta = null;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    reads += 1;
    body += decoder.decode(value, { stream: true });
    if (readsBeforeFirstDelta === null && body.includes("text_delta")) {
      readsBeforeFirstDelta = reads;
    }
  }
  const events = body.split("\\n\\n").filter((f) => f.startsWith("id:") || f.startsWith("data:"))
    .map((f) => JSON.parse(f.slice(f.indexOf("data: ") + 6)));
  return { status: response.status, turnId: response.headers.get("X-Turn-Id"), reads,
           readsBeforeFirstDelta, types: events.map((e) => e.type) };
}"""


def new_user() -> str:
    return f"u-{uuid.uuid4().hex[:8]}"


def open_app(context: BrowserContext, url: str) -> Page:
    page = context.new_page()
    page.goto(url)
    page.wait_for_function("window.appReady === true")
    return page


def turn_status(system: System, turn_id: str) -> object:
    return outside_the_loop(
        fetch_value,
        system.env["DATABASE_URL"],
        "SELECT status FROM turns WHERE turn_id = $1",
        turn_id,
    )


def wait_for_turn_end(system: System, turn_id: str, timeout_s: float = 30) -> object:
    deadline = time.monotonic() + timeout_s
    status = turn_status(system, turn_id)
    while status in (None, "running") and time.monotonic() < deadline:
        time.sleep(0.1)
        status = turn_status(system, turn_id)
    return status


def stored_thread_items(system: System, user: str) -> list[dict[str, Any]]:
    chat = ChatKitClient(system.gateway_url, system.token(user))
    try:
        threads = chat.request({"type": "threads.list", "params": {"limit": 5}}).json()["data"]
        assert len(threads) == 1, threads
        listed = chat.request(
            {"type": "items.list", "params": {"thread_id": threads[0]["id"], "order": "asc"}}
        ).json()["data"]
        items: list[dict[str, Any]] = listed
        return items
    finally:
        chat.close()


def assistant_texts(items: list[dict[str, Any]]) -> list[str]:
    return [
        "".join(part["text"] for part in item["content"])
        for item in items
        if item["type"] == "assistant_message"
    ]


def test_cookie_cors_and_an_incrementally_read_stream(
    context: BrowserContext, system: System, app_server: AppServer, proxy: CuttableProxy
) -> None:
    sign_in(context, system, new_user())
    page = open_app(context, app_url(app_server, proxy))
    seen = page.evaluate(READ_STREAM, {"gateway": gateway_origin(proxy), "text": LONG_MESSAGE})
    assert seen["status"] == 200
    # X-Turn-Id is readable cross-origin only because the gateway exposes it.
    assert len(seen["turnId"] or "") == 32
    assert seen["types"][0] == "thread.created"  # as the user it signed in
    assert "thread.item.done" in seen["types"]
    # The answer arrived in pieces, the first words long before the last.
    assert seen["readsBeforeFirstDelta"] is not None
    assert seen["reads"] - seen["readsBeforeFirstDelta"] >= 5
    assert wait_for_turn_end(system, seen["turnId"]) == "completed"


def test_the_session_cookie_is_httponly_and_reaches_only_the_gateway(
    context: BrowserContext, system: System, app_server: AppServer, proxy: CuttableProxy
) -> None:
    sign_in(context, system, new_user())
    page = open_app(context, app_url(app_server, proxy))
    assert COOKIE_NAME not in page.evaluate("document.cookie")
    # The REST door answers the app's credentialed request (search for the @-mention list).
    found = page.evaluate(
        """async (gateway) => {
          const r = await fetch(gateway + "/api/tasks/search?q=milk", { credentials: "include" });
          return { status: r.status, body: await r.json() };
        }""",
        gateway_origin(proxy),
    )
    assert found == {"status": 200, "body": {"query": "milk", "tasks": []}}


def test_a_foreign_origin_is_refused(
    context: BrowserContext, system: System, app_server: AppServer, proxy: CuttableProxy
) -> None:
    user = new_user()
    sign_in(context, system, user)
    page = open_app(context, app_url(app_server, proxy, host=FOREIGN_HOST))
    outcome = page.evaluate(
        """async (gateway) => {
          try {
            const r = await fetch(gateway + "/chatkit", {
              method: "POST", credentials: "include",
              headers: { "Content-Type": "application/json" },
              body: JSON.stringify({ type: "threads.list", params: {} }) });
            return "read " + r.status;
          } catch (error) { return "refused: " + error.name; }
        }""",
        gateway_origin(proxy),
    )
    assert outcome == "refused: TypeError"  # CORS: the page may not read the answer
    # Nor did the request do anything in the user's name: the gateway refuses the origin even
    # when a browser sends the cookie along.
    forged = httpx.post(
        f"{system.gateway_url}/chatkit",
        json={"type": "threads.list", "params": {}},
        headers={"Origin": f"http://{FOREIGN_HOST}:{app_server.port}"},
        cookies={COOKIE_NAME: system.token(user)},
    )
    assert forged.status_code == 403
    preflight = httpx.options(
        f"{system.gateway_url}/chatkit",
        headers={
            "Origin": f"http://{FOREIGN_HOST}:{app_server.port}",
            "Access-Control-Request-Method": "POST",
        },
    )
    assert "access-control-allow-origin" not in preflight.headers
    allowed = httpx.options(
        f"{system.gateway_url}/chatkit",
        headers={
            "Origin": f"http://{APP_HOST}:{app_server.port}",
            "Access-Control-Request-Method": "POST",
        },
    )
    assert allowed.headers["access-control-allow-origin"] == f"http://{APP_HOST}:{app_server.port}"
    assert allowed.headers["access-control-allow-credentials"] == "true"


def test_a_cross_site_frontend_needs_a_bearer_token(
    context: BrowserContext, system: System, app_server: AppServer, proxy: CuttableProxy
) -> None:
    """What docs/frontend.md says about cross-site deployments, tried in Chromium."""
    user = new_user()
    sign_in(context, system, user)
    page = open_app(context, app_url(app_server, proxy, host=CROSS_SITE_HOST))
    list_threads = """async ({ gateway, token }) => {
      const headers = { "Content-Type": "application/json" };
      if (token) headers.Authorization = "Bearer " + token;
      const r = await fetch(gateway + "/chatkit", { method: "POST", credentials: "include",
        headers, body: JSON.stringify({ type: "threads.list", params: {} }) });
      return r.status;
    }"""
    gateway = gateway_origin(proxy)
    # The SameSite=Lax cookie does not go to another site's requests at all.
    assert page.evaluate(list_threads, {"gateway": gateway, "token": None}) == 401
    assert page.evaluate(list_threads, {"gateway": gateway, "token": system.token(user)}) == 200
    # Had a browser sent the cookie (SameSite=None), the gateway's cross-site rule refuses it.
    cross_site = httpx.post(
        f"{system.gateway_url}/chatkit",
        json={"type": "threads.list", "params": {}},
        headers={
            "Origin": f"http://{CROSS_SITE_HOST}:{app_server.port}",
            "Sec-Fetch-Site": "cross-site",
        },
        cookies={COOKIE_NAME: system.token(user)},
    )
    assert cross_site.status_code == 403


def test_a_samesite_none_cookie_does_not_make_a_cross_site_frontend_work(
    context: BrowserContext, system: System, app_server: AppServer, proxy: CuttableProxy
) -> None:
    """`SameSite=None; Secure` across sites, tried in Chromium. Secure cookies need a secure
    context, which over plain HTTP only `localhost` and `127.0.0.1` are: the app is on the
    former, the gateway on the latter, two sites."""
    user = new_user()
    context.add_cookies(
        [
            {
                "name": COOKIE_NAME,
                "value": system.token(user),
                "domain": "127.0.0.1",
                "path": "/",
                "httpOnly": True,
                "secure": True,
                "sameSite": "None",
            }
        ]
    )
    page = context.new_page()
    page.goto(f"http://localhost:{app_server.port}/?gateway=http://127.0.0.1:{proxy.port}")
    page.wait_for_function("window.appReady === true")
    status = page.evaluate(
        """async (gateway) => {
          const r = await fetch(gateway + "/chatkit", { method: "POST", credentials: "include",
            headers: { "Content-Type": "application/json" },
            body: JSON.stringify({ type: "threads.list", params: {} }) });
          return r.status;
        }""",
        f"http://127.0.0.1:{proxy.port}",
    )
    # 401: Chromium blocked the third-party cookie; 403: it sent it, the gateway refused it.
    assert status in (401, 403)


def start_long_answer(page: Page) -> None:
    page.fill("#composer", LONG_MESSAGE)
    page.click("#send")
    # Part of the answer is on the screen: the turn is running.
    expect(page.locator(".message.assistant")).to_contain_text("word5", timeout=30_000)


def test_stop_cancels_the_turn_on_the_server(
    context: BrowserContext, system: System, app_server: AppServer, proxy: CuttableProxy
) -> None:
    user = new_user()
    sign_in(context, system, user)
    page = open_app(context, app_url(app_server, proxy) + "#chat")
    start_long_answer(page)
    page.click("#stop")
    expect(page.locator("#status")).to_have_text("Stopped.")
    # The cancel request goes out after the page has seen the stop.
    page.wait_for_function("window.turnEvents.some((e) => e.type === 'stop')")
    stops = page.evaluate("window.turnEvents.filter((e) => e.type === 'stop')")
    assert len(stops) == 1 and stops[0]["status"] == 202, stops
    assert wait_for_turn_end(system, stops[0]["turnId"]) == "cancelled"
    # What was stored is a part of the answer, not all of it.
    stored = assistant_texts(stored_thread_items(system, user))
    assert len(stored) == 1 and LONG_REPLY.startswith(stored[0]) and stored[0] != LONG_REPLY


def test_a_dropped_connection_completes_the_answer_once(
    context: BrowserContext, system: System, app_server: AppServer, proxy: CuttableProxy
) -> None:
    user = new_user()
    sign_in(context, system, user)
    page = open_app(context, app_url(app_server, proxy) + "#chat")
    start_long_answer(page)
    assert proxy.cut() >= 1  # the network drops mid-answer
    expect(page.locator("#messages")).to_have_attribute("data-idle", "true", timeout=60_000)
    rejoins = page.evaluate("window.turnEvents.filter((e) => e.type === 'rejoin')")
    assert len(rejoins) >= 1, page.evaluate("window.turnEvents")
    assert page.locator("#status").text_content() == ""  # no error shown
    # The answer on the screen is the whole answer, once, and it is what was stored.
    shown = page.locator(".message.assistant").all_text_contents()
    assert shown == [LONG_REPLY]
    assert assistant_texts(stored_thread_items(system, user)) == [LONG_REPLY]
    assert wait_for_turn_end(system, rejoins[0]["turnId"]) == "completed"


def test_the_dev_page_falls_back_to_its_own_client(context: BrowserContext, system: System) -> None:
    """The gateway's `/` without OpenAI's CDN: the page's own client, driven end to end."""
    user = new_user()
    context.route(CHATKIT_SCRIPT_URL, lambda route: route.abort("internetdisconnected"))
    context.add_init_script(f"sessionStorage.setItem('taskchat-token', {system.token(user)!r});")
    page = context.new_page()
    page.goto(f"{system.gateway_url}/")
    expect(page.locator("body")).to_have_attribute("data-client", "fallback")
    expect(page.locator("#offline")).to_be_visible()
    page.fill("#composer", "add a task: buy oat milk")
    page.click("#send")
    # Tool activity: the workflow row of the call, then the answer.
    expect(page.locator(".workflow")).to_contain_text("buy oat milk", timeout=30_000)
    expect(page.locator("#progress")).to_have_attribute("data-last", re.compile("buy oat milk"))
    expect(page.locator(".message.assistant")).to_have_count(1, timeout=30_000)
    expect(page.locator("#messages")).to_have_attribute("data-idle", "true", timeout=30_000)
    # The thread list shows the new thread.
    expect(page.locator("#threads li")).to_have_count(1)
    page.fill("#composer", "list my tasks")
    page.click("#send")
    complete = page.locator(".widget button", has_text="Complete")
    expect(complete).to_have_count(1, timeout=30_000)
    complete.click()
    # The widget's button completed the task on the server, and the widget shows it.
    expect(page.locator(".widget button", has_text="Complete")).to_have_count(0, timeout=15_000)
    with httpx.Client(
        base_url=system.gateway_url, headers={"Authorization": f"Bearer {system.token(user)}"}
    ) as http:
        tasks = http.get("/api/tasks").json()["tasks"]
    assert [(t["title"], t["completed"]) for t in tasks] == [("buy oat milk", True)]
    # Reopening the thread from the list shows what was stored.
    page.reload()
    page.locator("#threads li button").first.click()
    expect(page.locator(".message.user")).to_have_count(2)
