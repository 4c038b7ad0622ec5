"""The quick run's site in a real browser, served over HTTP and opened from disk (file://):
every page loads, every chart draws data (at least one data mark, no Vega warning), its
selectors redraw it, it has an accessible description and a working CSV link, search finds
pages from disk, charts follow the light and dark palettes, and nothing is fetched from any
other host.

Chromium is driven by Playwright from the system's own Chromium (never a downloaded one).
Under CI (CI=true) these tests must run: a missing browser fails them. Elsewhere they skip,
saying why; that every chart has data is also checked without a browser, from the figure files
(tests/test_published.py::test_every_chart_on_every_page_has_data_without_a_browser).
"""

from __future__ import annotations

import base64
import functools
import os
import shutil
import threading
from collections.abc import Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from conftest import REPO, unavailable

from kryptonite_n.plan.catalogue import PAGES

pytestmark = pytest.mark.browser

ARTIFACTS = REPO / "test-artifacts"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
CHROMIUM_CANDIDATES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
#: Schemes that never leave the page's host.
LOCAL_SCHEMES = {"data", "blob", "about"}
CHARTS_DRAWN = """() => [...document.querySelectorAll('div.vega-chart')].every(
    c => c.dataset.embedded === 'done' || c.classList.contains('vega-chart--failed'))"""
#: Per chart: its id, how many data marks it drew (items of marks whose role is "mark": not
#: axes, legends or titles), the container's accessible name (Vega sets it to the spec's
#: description), the spec's description and the caption the container is described by.
CHART_FACTS = """() => [...document.querySelectorAll('div.vega-chart')].map(c => {
    let marks = 0;
    const visit = node => {
        if (!node) return;
        if (node.marktype && node.marktype !== 'group' && node.role === 'mark') {
            marks += (node.items || []).length;
        }
        (node.items || []).forEach(item => (item.items || []).forEach(visit));
    };
    if (c.vegaView) visit(c.vegaView.scenegraph().root);
    const spec = (window.kryptoniteSpecs || {})[c.dataset.name] || {};
    const caption = document.getElementById(c.getAttribute('aria-describedby') || '');
    return {id: c.id, marks: marks, failed: c.classList.contains('vega-chart--failed'),
            label: c.getAttribute('aria-label') || '', description: spec.description || '',
            caption: caption ? caption.textContent : ''};
})"""
#: The colour of one pixel of a PNG (decoded by the browser itself: no imaging library needed).
PIXEL = """async ([png, x, y]) => {
    const image = new Image();
    image.src = 'data:image/png;base64,' + png;
    await image.decode();
    const canvas = document.createElement('canvas');
    canvas.width = image.width; canvas.height = image.height;
    const context = canvas.getContext('2d');
    context.drawImage(image, 0, 0);
    return Array.from(context.getImageData(x, y, 1, 1).data.slice(0, 3));
}"""
#: The colours of the first chart's axis labels, titles and facet headers (Vega's SVG text).
CHART_TEXT = """() => [...new Set([...document.querySelector('div.vega-chart svg.marks').querySelectorAll(
    '.role-axis-label text, .role-axis-title text, .role-title-text text')].map(
    t => getComputedStyle(t).fill))].map(c => c.match(/\\d+(\\.\\d+)?/g).slice(0, 3).map(Number))"""
PAGE_BACKGROUND = """() => {
    const m = getComputedStyle(document.body).backgroundColor.match(/\\d+(\\.\\d+)?/g).map(Number);
    return m.slice(0, 3);
}"""


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


class Browser:
    """One Chromium context that records console errors, warnings and requests off the disk/host."""

    def __init__(self, playwright, chromium: str, profile: Path, local) -> None:
        self.context = playwright.chromium.launch_persistent_context(
            str(profile), executable_path=chromium, headless=True, args=CHROMIUM_ARGS,
            viewport={"width": 1280, "height": 900}, color_scheme="light")
        self.errors: list[str] = []
        self.warnings: list[str] = []
        self.foreign: list[str] = []
        self.context.on("request", lambda req: None if local(urlsplit(req.url))
                        else self.foreign.append(req.url))
        self.page = self.context.new_page()
        self.page.on("console", self._console)
        self.page.on("pageerror", lambda error: self.errors.append(f"{self.page.url}: {error}"))

    def _console(self, message) -> None:
        if message.type == "error":
            self.errors.append(f"{self.page.url}: {message.text}")
        elif message.type == "warning":
            self.warnings.append(f"{self.page.url}: {message.text}")

    def charts(self) -> list[dict]:
        self.page.wait_for_function(CHARTS_DRAWN, timeout=60_000)
        return self.page.evaluate(CHART_FACTS)

    def assert_clean(self) -> None:
        assert not self.foreign, f"requests left the site: {self.foreign}"
        assert not self.errors, f"console errors: {self.errors}"
        # Vega warns, e.g. "Infinite extent", when a chart's data is empty or not numbers.
        assert not self.warnings, f"console warnings: {self.warnings}"


def check_charts(name: str, charts: list[dict]) -> None:
    for chart in charts:
        assert not chart["failed"], (name, chart)
        assert chart["marks"] > 0, f"{name}: chart {chart['id']} drew no data mark"
        assert len(chart["description"].strip()) > 20, f"{name}: chart {chart['id']} has no description"
        assert chart["label"] == chart["description"], f"{name}: chart {chart['id']} is not named by it"
        assert chart["caption"].strip(), f"{name}: chart {chart['id']} has no caption to describe it"


def change_every_selector(page) -> int:
    """Pick another value in each chart's selectors; wait until the chart redraws. Returns how many."""
    changed = 0
    for container in page.locator("div.vega-chart").all():
        for select in container.locator("select").all():
            options = select.locator("option").all_inner_texts()
            if len(options) < 2:
                continue
            before = container.locator("svg.marks").inner_html()
            current = select.input_value()
            other = next(o for o in options if o != current)
            select.select_option(label=other)
            container.locator("svg.marks").evaluate(
                "(svg, before) => new Promise((resolve, reject) => {"
                "  const start = Date.now();"
                "  (function poll() { if (svg.innerHTML !== before) resolve(); "
                "    else if (Date.now() - start > 10000) reject(new Error('the chart did not change')); "
                "    else requestAnimationFrame(poll); })(); })", before)
            changed += 1
    return changed


def test_every_page_renders_served(served_site, chromium, tmp_path):
    from playwright.sync_api import sync_playwright

    base, site = served_site
    origin = urlsplit(base).netloc
    pages = sorted(path.name for path in site.glob("*.html") if path.name != "404.html")
    assert {f"{page}.html" for page in PAGES} <= set(pages)
    charts: dict[str, int] = {}
    with sync_playwright() as playwright:
        browser = Browser(playwright, chromium, tmp_path / "profile",
                          lambda url: url.scheme in LOCAL_SCHEMES or url.netloc == origin)
        try:
            for name in pages:
                response = browser.page.goto(base + name, wait_until="networkidle")
                assert response is not None and response.ok, (name, response and response.status)
                facts = browser.charts()
                check_charts(name, facts)
                charts[name] = len(facts)
                change_every_selector(browser.page)
                check_charts(name, browser.charts())
        finally:
            browser.context.close()
    browser.assert_clean()
    # The quick run produces every stage, so every page has charts.
    assert all(charts[f"{page}.html"] > 0 for page in PAGES), charts


def test_pages_opened_from_disk_draw_describe_and_link_their_data(quick_run, chromium, tmp_path):
    """The site also works without a server (file://), where browsers refuse fetch()."""
    from playwright.sync_api import sync_playwright

    site = quick_run.directory / "site"
    changed = 0
    with sync_playwright() as playwright:
        browser = Browser(playwright, chromium, tmp_path / "profile",
                          lambda url: url.scheme in LOCAL_SCHEMES | {"file"})
        try:
            page = browser.page
            for name in PAGES:
                page.goto((site / f"{name}.html").as_uri(), wait_until="load")
                facts = browser.charts()
                assert facts, f"{name}: no chart"
                check_charts(name, facts)
                changed += change_every_selector(page)
                # Every chart links the CSV it was drawn from, relative, readable from disk.
                # Clicking it hands the reader the file (Chromium downloads a CSV).
                links = page.locator("a[href$='.csv']")
                assert links.count() == len(facts), name
                for link in links.all():
                    href = link.get_attribute("href")
                    assert not href.startswith(("/", "http")), href
                    with page.expect_download() as download:
                        link.click()
                    assert Path(download.value.path()).read_bytes() == (site / href).read_bytes(), href
        finally:
            browser.context.close()
    browser.assert_clean()
    assert changed > 0, "no chart had a selector to change"


def test_search_works_from_disk(quick_run, chromium, tmp_path):
    from playwright.sync_api import sync_playwright

    site = quick_run.directory / "site"
    with sync_playwright() as playwright:
        browser = Browser(playwright, chromium, tmp_path / "profile",
                          lambda url: url.scheme in LOCAL_SCHEMES | {"file"})
        try:
            page = browser.page
            page.goto((site / "index.html").as_uri(), wait_until="load")
            query = page.locator("input.md-search__input")
            query.click()
            # Typed key by key, as a reader does: Material searches on keyboard input.
            query.press_sequentially("parity", delay=50)
            page.wait_for_function(
                "() => document.querySelectorAll('.md-search-result__item').length > 0", timeout=30_000)
            meta = page.locator(".md-search-result__meta").inner_text()
            assert "Initializing" not in meta, meta
            results = page.locator(".md-search-result__item a").evaluate_all(
                "links => links.map(a => a.getAttribute('href'))")
            assert any(href.split("#")[0].endswith(".html") for href in results), results
        finally:
            browser.context.close()
    browser.assert_clean()


def test_charts_follow_the_light_and_dark_palettes(quick_run, chromium, tmp_path):
    """The toggle switches the page to dark; the chart is redrawn on the page's own background."""
    from playwright.sync_api import sync_playwright

    site = quick_run.directory / "site"
    ARTIFACTS.mkdir(exist_ok=True)
    seen = {}
    with sync_playwright() as playwright:
        browser = Browser(playwright, chromium, tmp_path / "profile",
                          lambda url: url.scheme in LOCAL_SCHEMES | {"file"})
        try:
            page = browser.page
            page.goto((site / "index.html").as_uri(), wait_until="load")
            browser.charts()
            chart = page.locator("div.vega-chart svg.marks").first
            for scheme, toggle in (("light", "Switch to dark mode"), ("dark", "Switch to light mode")):
                page.wait_for_function(
                    "s => [...document.querySelectorAll('div.vega-chart')].every("
                    "c => c.dataset.scheme === s && c.dataset.embedded === 'done')",
                    arg=scheme, timeout=30_000)
                chart = page.locator("div.vega-chart svg.marks").first
                png = chart.screenshot(path=str(ARTIFACTS / f"chart-{scheme}.png"))
                page.screenshot(path=str(ARTIFACTS / f"index-{scheme}.png"), full_page=True)
                corner = page.evaluate(PIXEL, [base64.b64encode(png).decode(), 2, 2])
                background = page.evaluate(PAGE_BACKGROUND)
                assert all(abs(a - b) <= 2 for a, b in zip(corner, background, strict=True)), (
                    scheme, corner, background)
                # Text keeps its contrast: dark on the light page, light on the dark one.
                text = page.evaluate(CHART_TEXT)
                assert text, scheme
                for colour in text:
                    assert abs(sum(colour) - sum(background)) > 3 * 128, (scheme, colour, background)
                seen[scheme] = background
                page.get_by_title(toggle).first.click()
        finally:
            browser.context.close()
    browser.assert_clean()
    assert seen["light"] != seen["dark"], seen
    assert sum(seen["dark"]) < sum(seen["light"]), seen
