"""How heavy the report site is and how fast its pages draw, opened from disk in Chromium.

Prints the site's size on disk (and its figure files' share), every page's weight (the HTML and
every file the page loads: scripts, styles, chart specs, images; not the SVG and CSV files it
only links) and the time from navigation until the page's last chart is drawn (median of
``--repeats`` loads, each in a fresh browser profile: nothing cached).

Draw time is measured twice per load, in the same fresh profile. *Draw* is the reader's case:
the browser is already running (it has shown a blank tab for ``--settle`` seconds) and the page
is opened. *Cold* opens the page the moment the browser starts, so the browser's own start-up
(profile creation, its helper processes) competes with the page for the CPU; on a 2-core
machine that adds about 0.3 s and most of the spread between runs. The goal is judged on *draw*.

    python benchmarks/bench_site.py [--site site] [--repeats 5] [--settle 1]

Goal (issue 19): site <= 10 MB, no page > 3 MB, every page's charts drawn within 1 s.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import unquote, urlsplit

REPO = Path(__file__).resolve().parents[1]
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
#: Resolves once every chart of the page is drawn (or failed): the latest draw time, in ms
#: since navigation started (embed.js stamps each chart with performance.now()), and when the
#: page's own scripts had loaded (DOMContentLoaded): the difference is the charts' own work.
DRAWN_AT = """() => new Promise((resolve) => {
    (function poll() {
        const charts = [...document.querySelectorAll('div.vega-chart')];
        if (charts.every(c => c.dataset.embedded === 'done' || c.classList.contains('vega-chart--failed'))) {
            const drawn = charts.length ? Math.max(...charts.map(c => Number(c.dataset.drawnAt || 0))) : 0;
            const ready = performance.getEntriesByType('navigation')[0].domContentLoadedEventStart;
            resolve([drawn, ready]);
        } else {
            setTimeout(poll, 5);
        }
    })();
})"""


def megabytes(size: int) -> str:
    return f"{size / 1e6:.2f} MB"


def folder_size(folder: Path) -> int:
    return sum(path.stat().st_size for path in folder.rglob("*") if path.is_file())


def measure_page(playwright, chromium: str, page_file: Path, settle: float) -> tuple[int, float, int, float]:
    """(bytes loaded, ms until the last chart was drawn, charts, ms of that after the page's
    scripts loaded) for one load in a fresh profile, opened ``settle`` seconds after the
    browser started (0: at once)."""
    loaded: set[Path] = set()
    with tempfile.TemporaryDirectory() as profile:
        context = playwright.chromium.launch_persistent_context(
            profile, executable_path=chromium, headless=True, args=CHROMIUM_ARGS,
            viewport={"width": 1280, "height": 900})
        try:
            def request(req) -> None:
                url = urlsplit(req.url)
                if url.scheme == "file":
                    loaded.add(Path(unquote(url.path)))

            context.on("request", request)
            page = context.new_page()
            if settle > 0:
                page.goto("about:blank")
                time.sleep(settle)
            page.goto(page_file.as_uri(), wait_until="load")
            drawn_ms, ready_ms = (float(v) for v in page.evaluate(DRAWN_AT))
            charts = page.locator("div.vega-chart").count()
        finally:
            context.close()
    weight = sum(path.stat().st_size for path in loaded if path.is_file())
    return weight, drawn_ms, charts, max(drawn_ms - ready_ms, 0.0)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--site", type=Path, default=REPO / "site", help="the built site folder")
    parser.add_argument("--repeats", type=int, default=5, help="loads per page (median reported)")
    parser.add_argument("--settle", type=float, default=1.0,
                        help="seconds the browser runs before the page is opened (the draw column)")
    parser.add_argument("--chromium", default=os.environ.get("KRYPTONITE_CHROMIUM", "/usr/bin/chromium"))
    args = parser.parse_args()
    site = args.site.resolve()
    if not (site / "index.html").is_file():
        parser.error(f"{site}: no index.html (build the site first: make report)")
    from playwright.sync_api import sync_playwright

    figures = folder_size(site / "figures") if (site / "figures").is_dir() else 0
    total = folder_size(site)
    print(f"site: {site}")
    # Draw times are wall-clock: on a shared machine they grow with its load, so say what it was.
    print(f"load average (1 min) before: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    print(f"site size: {megabytes(total)} (figure files {megabytes(figures)})")
    largest = max((p for p in site.rglob("*") if p.is_file()), key=lambda p: p.stat().st_size)
    print(f"largest file: {largest.relative_to(site)} {megabytes(largest.stat().st_size)}")
    print(f"{'page':<24}{'charts':>7}{'weight':>12}{'draw (ms, median)':>20}{'min-max':>12}"
          f"{'after DOM ready':>17}{'cold (median)':>15}{'min-max':>12}")
    rows = []
    with sync_playwright() as playwright:
        for page_file in sorted(site.glob("*.html")):
            if page_file.name == "404.html":
                continue
            repeats = range(args.repeats)
            runs = [measure_page(playwright, args.chromium, page_file, args.settle) for _ in repeats]
            colds = [measure_page(playwright, args.chromium, page_file, 0)[1] for _ in repeats]
            weight = max(run[0] for run in runs)
            times = [run[1] for run in runs]
            rows.append((page_file.name, weight, statistics.median(times), statistics.median(colds)))
            after = statistics.median(run[3] for run in runs)
            print(f"{page_file.name:<24}{runs[0][2]:>7}{megabytes(weight):>12}{statistics.median(times):>20.0f}"
                  f"{f'{min(times):.0f}-{max(times):.0f}':>12}{after:>17.0f}{statistics.median(colds):>15.0f}"
                  f"{f'{min(colds):.0f}-{max(colds):.0f}':>12}")
    heaviest = max(rows, key=lambda row: row[1])
    slowest = max(rows, key=lambda row: row[2])
    slowest_cold = max(rows, key=lambda row: row[3])
    print(f"largest page weight: {heaviest[0]} {megabytes(heaviest[1])}")
    print(f"slowest page to draw: {slowest[0]} {slowest[2]:.0f} ms (median of {args.repeats}, "
          f"browser running {args.settle:g} s)")
    print(f"slowest page to draw, browser just started: {slowest_cold[0]} {slowest_cold[3]:.0f} ms")
    print(f"load average (1 min) after: {os.getloadavg()[0]:.1f}")
    met = total <= 10e6 and heaviest[1] <= 3e6 and slowest[2] <= 1000
    print(f"goal (site <= 10 MB, page <= 3 MB, draw <= 1 s): {'met' if met else 'NOT met'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
