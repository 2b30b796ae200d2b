"""The browser demo (`memrpc demo`, memrpc/demo.py) in a real browser:
Debian's headless Chromium driven by Selenium with Debian's chromedriver
(tools/install-chromium; nothing downloaded at run time), against a memrpc
with its own Redis and its background jobs. The page sends turns and shows
the window and the running summary, a recalled memory with its distance, a
duplicate counted, an event appended by another client appearing live in the
log, pinning and deleting a memory, and an error on the page. Generous waits,
no timing asserts. Screenshots go to a temporary folder, or to
`MEMRPC_SCREENSHOTS` (`make screenshots`: docs/images/)."""

from __future__ import annotations

import asyncio
import json
import os
import socket
import subprocess
import urllib.error
import urllib.request
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from selenium import webdriver
from selenium.common.exceptions import TimeoutException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support.ui import WebDriverWait

from conftest import make_settings, running
from memrpc import demo
from memrpc.auth.credentials import Access
from memrpc.auth.keys import new_key
from memrpc.client import AsyncMemoryClient
from memrpc.embedded_redis import EmbeddedRedis
from memrpc.embedding import BatchingEmbedder
from support import skip_or_fail

ROOT = Path(__file__).resolve().parents[1]
SKIP = 77
# Seconds a wait for the page may take: the running summary waits for the
# background job's fold.
WAIT_S = 90
CHROMIUM, CHROMEDRIVER = "/usr/bin/chromium", "/usr/bin/chromedriver"
pytestmark = pytest.mark.timeout(900)


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[WebDriver]:
    """Headless Chromium, with a profile of its own and no network but loopback."""
    install = [str(ROOT / "tools/install-chromium")]
    done = subprocess.run(install, capture_output=True, text=True, timeout=900, check=False)
    if done.returncode == SKIP:
        skip_or_fail(f"browser: {done.stderr.strip()}")
    assert done.returncode == 0, done.stderr
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in (
        "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
        "--disable-quic", "--no-first-run", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--window-size=1400,1800",
        f"--user-data-dir={tmp_path_factory.mktemp('chromium')}",
    ):  # fmt: skip
        options.add_argument(flag)
    os.environ["SE_OFFLINE"] = "true"  # Selenium Manager: nothing to fetch
    driver = webdriver.Chrome(options=options, service=Service(CHROMEDRIVER))
    try:
        yield driver
    finally:
        driver.quit()


@pytest.fixture
async def page(
    own_redis: EmbeddedRedis, embedder: BatchingEmbedder
) -> AsyncIterator[tuple[str, str]]:
    """The demo's address and its memrpc's, the memrpc with its jobs (the
    running summary), on a Redis of its own."""
    settings = make_settings(own_redis.url, jobs=True)
    async with running(settings, embedder) as server:
        target = f"127.0.0.1:{server.port}"
        served = await demo.start(target, None, socket.create_server(("127.0.0.1", 0)))
        try:
            yield served.url, target
        finally:
            await served.stop()


def shots() -> Path | None:
    found = os.environ.get("MEMRPC_SCREENSHOTS")
    return Path(found) if found else None


class Page:
    """The demo page in the browser; every method blocks (run in a thread)."""

    def __init__(self, driver: WebDriver, folder: Path) -> None:
        self.driver = driver
        self.folder = folder

    def field(self, element_id: str, value: str) -> None:
        element = self.driver.find_element(By.ID, element_id)
        element.clear()
        element.send_keys(value)

    def choose(self, element_id: str, value: str) -> None:
        self.driver.execute_script(
            "const e = document.getElementById(arguments[0]); e.value = arguments[1];"
            "e.dispatchEvent(new Event('change'));",
            element_id,
            value,
        )

    def click(self, element_id: str) -> None:
        self.driver.find_element(By.ID, element_id).click()

    def send(self, turn: str, kind: str = "episodic", *, answered: bool = True) -> None:
        """Sends a turn; waits for the form to clear (a turn answered) unless not `answered`."""
        self.choose("kind", kind)
        self.field("turn", turn)
        self.click("send")
        if answered:
            self.until(lambda d: d.find_element(By.ID, "turn").get_attribute("value") == "", turn)

    def until(self, check: Callable[[WebDriver], Any], what: str) -> Any:
        """What `check` returns once truthy; fails with what the page shows otherwise."""
        try:
            return WebDriverWait(self.driver, WAIT_S, poll_frequency=0.2).until(check, what)
        except TimeoutException:
            self.shot("timed-out")
            shown = self.driver.find_element(By.TAG_NAME, "body").text
            pytest.fail(f"not within {WAIT_S} s: {what}; the page shows:\n{shown}")

    def texts(self, selector: str) -> list[str]:
        """The text of each element `selector` finds, read at once (the page
        re-renders its tables every few seconds)."""
        found: list[str] = self.driver.execute_script(
            "return [...document.querySelectorAll(arguments[0])].map(e => e.innerText);",
            selector,
        )
        return found

    def attribute(self, selector: str, name: str) -> str | None:
        found: str | None = self.driver.execute_script(
            "const e = document.querySelector(arguments[0]);"
            "return e ? e.getAttribute(arguments[1]) : null;",
            selector,
            name,
        )
        return found

    def press(self, selector: str) -> None:
        """Clicks the element `selector` finds, found and clicked at once."""
        self.driver.execute_script("document.querySelector(arguments[0]).click();", selector)

    def shot(self, name: str) -> None:
        for folder in (self.folder, shots()):
            if folder is not None:
                folder.mkdir(parents=True, exist_ok=True)
                self.driver.save_screenshot(str(folder / f"{name}.png"))


def open_page(shown: Page, url: str, ns: str) -> None:
    shown.driver.get(url)
    shown.until(lambda d: d.find_element(By.ID, "ns").is_displayed(), "the page")
    shown.field("ns", ns)
    shown.choose("ns", ns)
    shown.field("window-size", "3")
    shown.click("seed")
    shown.until(lambda d: len(shown.texts("tr.memory")) == 8, "eight seed memories listed")
    shown.field("goal-input", "Plan Alex's trip to Kyoto")
    shown.click("set-goal")
    shown.until(lambda d: shown.texts("#goal") == ["Plan Alex's trip to Kyoto"], "the goal")


def statements(shown: Page) -> None:
    for turn in (
        "We land in Osaka on the 2nd of April.",
        "Book a ryokan near the Philosopher's Path.",
        "Maya cannot eat peanuts, tell the restaurants.",
    ):
        shown.send(turn)


def recall_and_dedup(shown: Page) -> None:
    shown.send("Where should I sit on my long flight?", kind="semantic")
    within = shown.until(lambda d: shown.texts("#recalled tr.match.within"), "a recall")
    seats = [row for row in within if "window seats" in row]
    assert seats, within
    distance = float(seats[0].split()[0])
    assert 0 <= distance <= 0.55
    outcome = "#remembered"
    shown.until(lambda d: shown.attribute(outcome, "data-outcome") == "created", "remembered")
    shown.send("Where should I sit on my long flight?", kind="semantic")
    shown.until(lambda d: shown.attribute(outcome, "data-outcome") == "duplicate", "a duplicate")
    assert "hit count now 2" in shown.texts(outcome)[0]


def window_and_summary(shown: Page) -> None:
    # Five turns in a window of three: the first two leave it, and the
    # background job folds them into the running summary.
    shown.until(lambda d: len(shown.texts("#window li.turn")) == 3, "a window of three")
    summary = shown.until(lambda d: shown.texts("#summary")[0].strip(), "a summary")
    assert "Osaka" in summary
    assert "2 turns" in shown.texts("#summary-covers")[0]


def live_event_pin_delete_and_error(shown: Page) -> None:
    shown.until(lambda d: any("tool.called" in t for t in shown.texts("#events li")), "live")
    shown.shot("demo")
    first = shown.attribute("tr.memory", "data-id")
    row = f"tr.memory[data-id='{first}']"
    shown.press(f"{row} button.pin")
    shown.until(lambda d: shown.texts(f"{row} .pinned") == ["yes"], "pinned")
    listed = len(shown.texts("tr.memory"))
    shown.press(f"{row} button.delete")
    shown.until(lambda d: len(shown.texts("tr.memory")) == listed - 1, "deleted")
    shown.click("new-thread")
    shown.until(lambda d: shown.texts("#window li.turn") == [], "a new thread's empty window")
    shown.click("reset")
    shown.until(lambda d: shown.texts("tr.memory") == [], "the namespace reset")
    shown.field("ns", "not a namespace!")
    shown.send("hello", answered=False)
    error = shown.until(lambda d: shown.texts("#error:not([hidden])"), "an error on the page")
    assert "INVALID_ARGUMENT" in error[0]


async def test_the_demo_shows_memory_at_work_in_a_browser(
    browser: WebDriver, page: tuple[str, str], tmp_path: Path
) -> None:
    url, target = page
    ns = f"demo{uuid.uuid4().hex[:8]}"
    shown = Page(browser, tmp_path / "screenshots")
    await asyncio.to_thread(open_page, shown, url, ns)
    await asyncio.to_thread(statements, shown)
    await asyncio.to_thread(recall_and_dedup, shown)
    await asyncio.to_thread(window_and_summary, shown)
    # Another client appends to the thread: the live log shows it, no reload.
    async with AsyncMemoryClient(target, namespace=ns) as other:
        await other.append_events("thread-1", [("tool.called", {"tool": "flights.search"})])
    await asyncio.to_thread(live_event_pin_delete_and_error, shown)


def fetch(url: str, body: dict[str, Any] | None = None) -> tuple[int, dict[str, Any]]:
    """A call of the demo's JSON API: its HTTP status and body."""
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read())


async def test_behind_api_keys_the_demo_takes_a_key_and_says_what_is_wrong(
    tmp_path: Path, own_redis: EmbeddedRedis, embedder: BatchingEmbedder
) -> None:
    admin = new_key("demo", ["*"], access=Access.ADMIN)
    keys_file = tmp_path / "keys.toml"
    keys_file.write_text(admin.entry)
    async with running(make_settings(own_redis.url, auth_keys_file=keys_file), embedder) as server:
        target = f"127.0.0.1:{server.port}"
        for token, status, code in ((admin.token, 200, None), (None, 401, "UNAUTHENTICATED")):
            served = await demo.start(target, token, socket.create_server(("127.0.0.1", 0)))
            try:
                seed = {"ns": "keyed", "user": "alex"}
                found, body = await asyncio.to_thread(fetch, served.url + "api/seed", seed)
            finally:
                await served.stop()
            assert found == status, body
            if code is not None:
                assert body["error"]["code"] == code
                assert body["error"]["reason"] == "ERROR_REASON_CREDENTIAL_MISSING"
            else:
                assert len(body["results"]) == len(demo.SEED_MEMORIES)


async def test_with_memrpc_down_the_demo_answers_an_error_not_a_blank() -> None:
    unused = socket.create_server(("127.0.0.1", 0))
    target = f"127.0.0.1:{unused.getsockname()[1]}"
    unused.close()  # nothing listens there now
    served = await demo.start(target, None, socket.create_server(("127.0.0.1", 0)))
    try:
        page = await asyncio.to_thread(urllib.request.urlopen, served.url, None, 30)
        assert b'id="error"' in page.read()
        found, body = await asyncio.to_thread(fetch, served.url + "api/state?ns=n&thread=t")
    finally:
        await served.stop()
    assert (found, body["error"]["code"]) == (503, "UNAVAILABLE")
