"""Browser tests: Debian's Chromium (/usr/bin/chromium) driven by Playwright against the whole
system. `playwright install` is never run: it downloads browsers, which these machines cannot.

Chromium resolves the test's host names to 127.0.0.1: the app at `app.taskchat.test`, the
gateway (behind a proxy whose connections a test can cut) at `api.taskchat.test`: one site, two
origins, as `app.example.com` and `api.example.com` would be. `evil.test` is another site;
`cross.test` is another site too, but one whose origin the gateway allows.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

import pytest
from playwright.sync_api import Browser, BrowserContext, Playwright, expect, sync_playwright

from tests.browser.app_server import AppServer
from tests.browser.cuttable_proxy import CuttableProxy
from tests.conftest import Backends
from tests.e2e.conftest import System, running_system
from tests.e2e.emulator_control import SLOW_MODEL_ENV

T = TypeVar("T")
CHROMIUM = os.environ.get("TEST_CHROMIUM", "/usr/bin/chromium")
APP_HOST = "app.taskchat.test"
API_HOST = "api.taskchat.test"
FOREIGN_HOST = "evil.test"
CROSS_SITE_HOST = "cross.test"
"""Another site whose origin the gateway allows: a cross-site frontend."""
COOKIE_NAME = "auth_token"
EXPECT_TIMEOUT_MS = 15_000
"""How long an `expect` waits for the page: Playwright's 5 s default is short for a page that
waits on the system while CI's two test workers and Chromium share two cores."""


# The driver, the browser, the app server, the system and its proxy are the browser tests' own,
# shared by their modules (package scope): one Chromium and one system, not one per module.


@pytest.fixture(scope="package")
def playwright(backends: Backends) -> Iterator[Playwright]:
    # Playwright's sync API keeps an event loop running in this thread while it is open: the
    # session's database (made with asyncio.run) must exist first, and the driver must stop with
    # this package, before other tests run theirs (see also `outside_the_loop`).
    expect.set_options(timeout=EXPECT_TIMEOUT_MS)
    with sync_playwright() as driver:
        yield driver


@pytest.fixture(scope="package")
def browser(playwright: Playwright) -> Iterator[Browser]:
    if not os.path.exists(CHROMIUM):
        pytest.fail(
            f"{CHROMIUM} is missing: apt-get install -y chromium (never playwright install)"
        )
    browser = playwright.chromium.launch(
        executable_path=CHROMIUM,
        args=[
            "--host-resolver-rules=MAP *.taskchat.test 127.0.0.1, "
            f"MAP {FOREIGN_HOST} 127.0.0.1, MAP {CROSS_SITE_HOST} 127.0.0.1"
        ],
    )
    yield browser
    browser.close()


@pytest.fixture(scope="package")
def app_server() -> Iterator[AppServer]:
    server = AppServer().start()
    yield server
    server.close()


@pytest.fixture(scope="package")
def system(
    backends: Backends, tmp_path_factory: pytest.TempPathFactory, app_server: AppServer
) -> Iterator[System]:
    """The emulator writes 25 tokens a second: an answer takes long enough to stop or cut.
    `ON_DISCONNECT` stays at its default, `continue`."""
    origins = ",".join(
        f"http://{host}:{app_server.port}" for host in (APP_HOST, CROSS_SITE_HOST, "localhost")
    )
    env = {**SLOW_MODEL_ENV, "ALLOWED_ORIGINS": origins}
    with running_system(backends, tmp_path_factory, "browser", env) as running:
        yield running


@pytest.fixture(scope="package")
def proxy(system: System) -> Iterator[CuttableProxy]:
    cuttable = CuttableProxy(int(system.env["GATEWAY_PORT"])).start()
    yield cuttable
    cuttable.close()


@pytest.fixture
def context(browser: Browser) -> Iterator[BrowserContext]:
    context = browser.new_context()
    yield context
    context.close()


def outside_the_loop(function: Callable[..., T], *args: object) -> T:
    """Call `function` (which runs asyncio itself) in a thread of its own."""
    with ThreadPoolExecutor(max_workers=1) as thread:
        return thread.submit(function, *args).result()


def gateway_origin(proxy: CuttableProxy) -> str:
    return f"http://{API_HOST}:{proxy.port}"


def app_url(app_server: AppServer, proxy: CuttableProxy, *, host: str = APP_HOST) -> str:
    return f"http://{host}:{app_server.port}/?gateway={gateway_origin(proxy)}"


def sign_in(context: BrowserContext, system: System, user_id: str) -> None:
    """What a sign-in service on the same site does: an httpOnly, SameSite=Lax session cookie
    for the gateway's host."""
    context.add_cookies(
        [
            {
                "name": COOKIE_NAME,
                "value": system.token(user_id),
                "domain": API_HOST,
                "path": "/",
                "httpOnly": True,
                "sameSite": "Lax",
            }
        ]
    )
