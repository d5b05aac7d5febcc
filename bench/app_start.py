"""How soon the demo app page is usable, in Debian's headless Chromium.

    .venv/bin/python bench/app_start.py [--visits 3]

Starts ``python -m ser.app.server`` (Voila with a preheated kernel) on a free port, then:
- first visit: from starting the server to the upload button on screen, and from
  opening the page to the upload button (the kernel was preheated meanwhile);
- later visits: opening the page again (Voila refills its pool in the background);
- the first answer: from choosing a sample clip to the predicted emotion on screen.
Target (issue 9): usable within a few seconds of opening the page.
"""

from __future__ import annotations

import argparse
import sys
import time

from ser.app.server import CHROMIUM, CHROMIUM_ARGS, running_app


def open_page(browser, url: str) -> tuple[float, object]:
    page = browser.new_page()
    start = time.perf_counter()
    page.goto(url, timeout=120_000)
    page.locator(".ser-upload").first.wait_for(timeout=120_000)
    return time.perf_counter() - start, page


def main() -> None:
    from playwright.sync_api import sync_playwright

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--visits", type=int, default=3)
    args = parser.parse_args()
    started = time.perf_counter()
    with running_app() as (_, url), sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        seconds, page = open_page(browser, url)
        print(f"server start to usable page: {time.perf_counter() - started:.1f} s "
              f"(opening the page: {seconds:.1f} s)")  # fmt: skip
        start = time.perf_counter()
        page.locator("select").first.select_option(index=1)
        page.locator(".ser-emotion").first.wait_for(timeout=120_000)
        print(f"first answer (a sample clip, chosen to emotion on screen): "
              f"{time.perf_counter() - start:.2f} s")  # fmt: skip
        for visit in range(2, args.visits + 1):
            time.sleep(15)  # Voila refills its preheated kernel in the background
            seconds, page = open_page(browser, url)
            print(f"visit {visit}, 15 s after the previous one: usable after {seconds:.1f} s")
        browser.close()
    print(f"python {sys.version.split()[0]}")


if __name__ == "__main__":
    main()
