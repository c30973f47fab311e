"""`GET /`: a development page that loads ChatKit against this gateway.

ChatKit's script comes from OpenAI's CDN, so the page works when the browser can reach it (the
gateway itself never fetches it). The page talks to `/chatkit` on the same origin; the session
cookie goes along (`credentials: "include"`), or a token pasted into the page is sent as a Bearer
header, which is handy with `taskchat token --user alice`.
"""

from __future__ import annotations

import json

from litestar import Response, get
from litestar.di import NamedDependency

from services.gateway.resources import GatewayResources

CHATKIT_SCRIPT_URL = "https://cdn.platform.openai.com/deployments/chatkit/chatkit.js"
CHATKIT_PATH = "/chatkit"

PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>TaskChat (development page)</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<script src="__SCRIPT__" async></script>
<style>
  body { font-family: system-ui, sans-serif; margin: 0; display: flex; flex-direction: column;
         height: 100vh; }
  header { padding: 8px 12px; border-bottom: 1px solid #ddd; font-size: 14px; }
  header input { width: 28em; }
  #chat { flex: 1; min-height: 0; }
  #offline { display: none; padding: 12px; color: #a00; }
</style>
</head>
<body>
<header>
  TaskChat dev page &middot; token (from <code>taskchat token --user alice</code>; empty = use the
  cookie): <input id="token" type="password" autocomplete="off">
  <button id="use">Use token</button>
</header>
<p id="offline">ChatKit's script could not be loaded from __SCRIPT__
(no internet access?). The gateway itself works: try <code>taskchat chat --user alice</code>.</p>
<div id="chat"></div>
<script>
const config = __CONFIG__;
const tokenInput = document.getElementById("token");
tokenInput.value = sessionStorage.getItem("taskchat-token") || "";
document.getElementById("use").onclick = () => {
  sessionStorage.setItem("taskchat-token", tokenInput.value.trim());
  location.reload();
};
function authFetch(input, init) {
  const headers = new Headers((init && init.headers) || {});
  const token = sessionStorage.getItem("taskchat-token");
  if (token) headers.set("Authorization", "Bearer " + token);
  return fetch(input, { ...init, headers, credentials: "include" });
}
async function mount() {
  try {
    await customElements.whenDefined("openai-chatkit");
  } catch (error) {
    document.getElementById("offline").style.display = "block";
    return;
  }
  const chatkit = document.createElement("openai-chatkit");
  chatkit.setOptions({
    api: {
      url: new URL(config.apiPath, location.href).toString(),
      domainKey: config.domainKey,
      fetch: authFetch,
      uploadStrategy: { type: "two_phase" },
    },
  });
  chatkit.style.height = "100%";
  document.getElementById("chat").append(chatkit);
}
setTimeout(() => {
  if (!customElements.get("openai-chatkit")) {
    document.getElementById("offline").style.display = "block";
  }
}, 5000);
mount();
</script>
</body>
</html>
"""


def render_dev_page(domain_key: str) -> str:
    config = json.dumps({"apiPath": CHATKIT_PATH, "domainKey": domain_key})
    # `</` cannot end the inline script early: json.dumps leaves `<` alone, so escape it.
    config = config.replace("<", "\\u003c")
    return PAGE.replace("__SCRIPT__", CHATKIT_SCRIPT_URL).replace("__CONFIG__", config)


@get("/", sync_to_thread=False)
def dev_page(resources: NamedDependency[GatewayResources]) -> Response[str]:
    return Response(
        render_dev_page(resources.settings.gateway.chatkit_domain_key), media_type="text/html"
    )
