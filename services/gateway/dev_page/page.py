"""`GET /`: a development page that loads ChatKit against this gateway.

ChatKit's script comes from OpenAI's CDN, so ChatKit.js works when the browser can reach it (the
gateway itself never fetches it). When it cannot load, the page falls back to our own small
client (`static/fallback-client.js`), which speaks the same protocol. Either way requests go
through `static/turn-fetch.js` (stop cancels the turn, a dropped connection re-joins it) to
`/chatkit` on the same origin; the session cookie goes along (`credentials: "include"`), or a
token pasted into the page is sent as a Bearer header (`taskchat token --user alice`).
"""

from __future__ import annotations

import json
from pathlib import Path

from litestar import Response, Router, get
from litestar.di import NamedDependency
from litestar.static_files import create_static_files_router

from services.gateway.resources import GatewayResources

CHATKIT_SCRIPT_URL = "https://cdn.platform.openai.com/deployments/chatkit/chatkit.js"
CHATKIT_PATH = "/chatkit"

STATIC_PATH = "/dev/static"
STATIC_DIR = Path(__file__).parent / "static"
CHATKIT_WAIT_MS = 5000
"""How long the page waits for ChatKit.js before it falls back to our own client."""

PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>TaskChat (development page)</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="stylesheet" href="__STATIC__/fallback.css">
</head>
<body>
<header>
  TaskChat dev page &middot; token (from <code>taskchat token --user alice</code>; empty = use the
  cookie): <input id="token" type="password" autocomplete="off">
  <button id="use">Use token</button>
</header>
<p id="offline" hidden>ChatKit's script could not be loaded from __SCRIPT__ (no internet
access?), so this page uses TaskChat's own small client instead.</p>
<div id="chat"></div>
<script type="module">
import { createTurnFetch } from "__STATIC__/turn-fetch.js";
import { mountFallback } from "__STATIC__/fallback-client.js";

const config = __CONFIG__;
const tokenInput = document.getElementById("token");
tokenInput.value = sessionStorage.getItem("taskchat-token") || "";
document.getElementById("use").onclick = () => {
  sessionStorage.setItem("taskchat-token", tokenInput.value.trim());
  location.reload();
};
const apiUrl = new URL(config.apiPath, location.href).toString();
// Stop cancels the turn; a dropped connection re-joins it (see turn-fetch.js).
window.taskchatTurnEvents = [];
const turnFetch = createTurnFetch({
  headers: () => {
    const token = sessionStorage.getItem("taskchat-token");
    return token ? { Authorization: "Bearer " + token } : {};
  },
  onEvent: (event) => window.taskchatTurnEvents.push(event),
});
const chat = document.getElementById("chat");
let mounted = false;

function useChatKit() {
  if (mounted) return;
  mounted = true;
  const chatkit = document.createElement("openai-chatkit");
  chatkit.setOptions({
    api: {
      url: apiUrl,
      domainKey: config.domainKey,
      fetch: turnFetch,
      uploadStrategy: { type: "two_phase" },
    },
  });
  chatkit.style.height = "100%";
  chat.append(chatkit);
}

function useFallback() {
  if (mounted) return;
  mounted = true;
  document.getElementById("offline").hidden = false;
  document.body.dataset.client = "fallback";
  mountFallback(chat, { apiUrl, fetch: turnFetch });
}

const script = document.createElement("script");
script.src = config.chatkitScript;
script.async = true;
script.onerror = useFallback;
document.head.append(script);
customElements.whenDefined("openai-chatkit").then(useChatKit);
setTimeout(useFallback, config.chatkitWaitMs);
</script>
</body>
</html>
"""


def render_dev_page(domain_key: str) -> str:
    config = json.dumps(
        {
            "apiPath": CHATKIT_PATH,
            "domainKey": domain_key,
            "chatkitScript": CHATKIT_SCRIPT_URL,
            "chatkitWaitMs": CHATKIT_WAIT_MS,
        }
    )
    # `</` cannot end the inline script early: json.dumps leaves `<` alone, so escape it.
    config = config.replace("<", "\\u003c")
    return (
        PAGE.replace("__SCRIPT__", CHATKIT_SCRIPT_URL)
        .replace("__STATIC__", STATIC_PATH)
        .replace("__CONFIG__", config)
    )


@get("/", sync_to_thread=False)
def dev_page(resources: NamedDependency[GatewayResources]) -> Response[str]:
    return Response(
        render_dev_page(resources.settings.gateway.chatkit_domain_key), media_type="text/html"
    )


def dev_static_files() -> Router:
    """The page's browser modules (also bundled by the web package), under `/dev/static`."""
    return create_static_files_router(
        path=STATIC_PATH, directories=[STATIC_DIR], include_in_schema=False
    )
