"""Where the fetch wrapper sends each kind of ChatKit request, checked in Chromium: dictation goes
to its own route (the only one whose body limit fits an audio clip), everything else where
ChatKit.js sent it."""

from __future__ import annotations

import pytest
from playwright.sync_api import BrowserContext

from tests.browser.conftest import gateway_origin
from tests.browser.cuttable_proxy import CuttableProxy

pytestmark = pytest.mark.browser

# The wrapper over a fetch that only records where it was asked to go.
ROUTES = """async () => {
  const { createTurnFetch } = await import("/dev/static/turn-fetch.js");
  const asked = [];
  const turnFetch = createTurnFetch({
    fetch: async (url) => { asked.push(String(url)); return new Response("{}"); },
  });
  const post = (url, type) => turnFetch(url, {
    method: "POST", body: JSON.stringify({ type, params: {} }),
  });
  await post("https://api.example.com/chatkit", "input.transcribe");
  await post("https://api.example.com/prefix/api/chatkit", "input.transcribe");
  await post("https://api.example.com/chatkit", "threads.list");
  await post("https://api.example.com/chatkit", "threads.create");
  return asked;
}"""


def test_dictation_goes_to_its_own_route_and_the_rest_where_chatkit_sent_it(
    context: BrowserContext, proxy: CuttableProxy
) -> None:
    page = context.new_page()
    page.goto(f"{gateway_origin(proxy)}/")  # the dev page: serves the wrapper it uses
    assert page.evaluate(ROUTES) == [
        "https://api.example.com/chatkit/transcribe",
        "https://api.example.com/prefix/chatkit/transcribe",
        "https://api.example.com/chatkit",
        "https://api.example.com/chatkit",
    ]
