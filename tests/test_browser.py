"""The quick run's site in a real browser, served over HTTP and opened from disk: every page
loads, every chart draws, nothing is fetched from any other host, and the console stays clean.

Chromium is driven by Playwright from the system's own Chromium (never a downloaded one).
Under CI (CI=true) this test must run: a missing browser fails it. Elsewhere it skips, saying why.
"""

from __future__ import annotations

import functools
import os
import shutil
import threading
from collections.abc import Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from conftest import REPO

from kryptonite_n.report.pages import PAGES

pytestmark = pytest.mark.browser

ARTIFACTS = REPO / "test-artifacts"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
CHROMIUM_CANDIDATES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
#: Schemes that never leave the page's host.
LOCAL_SCHEMES = {"data", "blob", "about"}
CHARTS_DRAWN = """() => [...document.querySelectorAll('div.vega-chart')].every(
    c => c.querySelector('svg.marks, canvas.marks') || c.classList.contains('vega-chart--failed'))"""


def unavailable(reason: str) -> None:
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"the browser test must run under CI, but {reason}")
    pytest.skip(reason)


@pytest.fixture(scope="module")
def chromium() -> str:
    """The system Chromium's path (KRYPTONITE_CHROMIUM overrides the search)."""
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        unavailable("Playwright is not installed (pip install playwright)")
    candidates = [os.environ.get("KRYPTONITE_CHROMIUM"), "/usr/bin/chromium",
                  *(shutil.which(name) for name in CHROMIUM_CANDIDATES)]
    for candidate in candidates:
        if candidate and Path(candidate).is_file() and os.access(candidate, os.X_OK):
            return candidate
    unavailable("no Chromium found (apt-get install chromium, or set KRYPTONITE_CHROMIUM)")
    raise AssertionError("unreachable")


class QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def served_site(quick_run) -> Iterator[tuple[str, Path]]:
    """The quick run's site/ served on 127.0.0.1 at a free port."""
    site = quick_run.directory / "site"
    assert (site / "index.html").exists(), "the quick run built no site"
    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(QuietHandler, directory=str(site)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/", site
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def test_every_page_renders_offline(served_site, chromium, tmp_path):
    from playwright.sync_api import sync_playwright

    base, site = served_site
    origin = urlsplit(base).netloc
    pages = sorted(path.name for path in site.glob("*.html") if path.name != "404.html")
    assert {f"{page}.html" for page in PAGES} <= set(pages)
    errors: list[str] = []
    foreign: list[str] = []
    charts: dict[str, int] = {}
    failed: dict[str, list[str]] = {}

    def request(req) -> None:
        url = urlsplit(req.url)
        if url.scheme not in LOCAL_SCHEMES and url.netloc != origin:
            foreign.append(req.url)

    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            str(tmp_path / "profile"), executable_path=chromium, headless=True, args=CHROMIUM_ARGS,
            viewport={"width": 1280, "height": 900})
        try:
            context.on("request", request)
            page = context.new_page()
            page.on("console", lambda message: errors.append(f"{page.url}: {message.text}")
                    if message.type == "error" else None)
            page.on("pageerror", lambda error: errors.append(f"{page.url}: {error}"))
            for name in pages:
                response = page.goto(base + name, wait_until="networkidle")
                assert response is not None and response.ok, (name, response and response.status)
                page.wait_for_function(CHARTS_DRAWN, timeout=60_000)
                containers = page.locator("div.vega-chart")
                charts[name] = containers.count()
                failed[name] = [containers.nth(i).get_attribute("id") for i in range(charts[name])
                                if containers.nth(i).locator("svg.marks, canvas.marks").count() == 0]
                if name in ("index.html", "robustness.html"):
                    page.screenshot(path=str(ARTIFACTS / f"{Path(name).stem}.png"), full_page=True)
                # Every selector (n, attacked features) redraws its chart without error.
                for select in page.locator("div.vega-chart select").all():
                    for option in select.locator("option").all_inner_texts():
                        select.select_option(label=option)
                page.wait_for_function(CHARTS_DRAWN, timeout=30_000)
        finally:
            context.close()
    assert not foreign, f"requests left the host: {foreign}"
    assert not errors, f"console errors: {errors}"
    assert not any(failed.values()), f"charts not drawn: {failed}"
    # The quick run produces every stage, so every page has charts.
    assert all(charts[f"{page}.html"] > 0 for page in PAGES), charts


def test_pages_opened_from_disk_draw_every_chart(quick_run, chromium, tmp_path):
    """The site also works without a server (file://), where browsers refuse fetch()."""
    from playwright.sync_api import sync_playwright

    site = quick_run.directory / "site"
    errors: list[str] = []
    foreign: list[str] = []
    failed: dict[str, list[str]] = {}
    with sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            str(tmp_path / "profile"), executable_path=chromium, headless=True, args=CHROMIUM_ARGS)
        try:
            context.on("request", lambda req: foreign.append(req.url)
                       if urlsplit(req.url).scheme not in LOCAL_SCHEMES | {"file"} else None)
            page = context.new_page()
            page.on("console", lambda message: errors.append(f"{page.url}: {message.text}")
                    if message.type == "error" else None)
            page.on("pageerror", lambda error: errors.append(f"{page.url}: {error}"))
            for name in PAGES:
                page.goto((site / f"{name}.html").as_uri(), wait_until="load")
                page.wait_for_function(CHARTS_DRAWN, timeout=60_000)
                containers = page.locator("div.vega-chart")
                failed[name] = [containers.nth(i).get_attribute("id") for i in range(containers.count())
                                if containers.nth(i).locator("svg.marks, canvas.marks").count() == 0]
                assert containers.count() > 0, name
        finally:
            context.close()
    assert not foreign, f"requests left the disk: {foreign}"
    assert not errors, f"console errors: {errors}"
    assert not any(failed.values()), f"charts not drawn: {failed}"
