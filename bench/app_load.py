"""The app page under load: kernels and memory after many visits, and many users at once.

    .venv/bin/python bench/app_load.py [--loads 100] [--users 8] [--max-users 4]

Starts ``python -m ser.app.server`` (what ``make demo`` runs) on a free port, then:
1. ``--loads`` plain page loads one after another (a crawler: each would start a
   kernel and never connect to it). Prints the kernels alive and the RSS of the
   server plus its kernels right after, and again once the orphan timeout and
   the cull interval have passed.
2. ``--users`` users at once, each in its own headless Chromium page (Debian's
   Chromium with Playwright), uploading a sample clip. A user told "busy"
   retries every 5 s. Prints how many got an answer, the median and 95th
   percentile time from opening the page to the emotion on screen, the time
   from upload to answer, and the peak RSS.
Stops everything it started. Targets (issue 16): after the loads at most cap + 1
kernels once culled, under 2 GB; every user answered, p95 within 5 s.
"""

from __future__ import annotations

import argparse
import contextlib
import statistics
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

import psutil

from ser.app.server import CHROMIUM, CHROMIUM_ARGS, KernelLimits, running_app

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "data" / "samples" / "03-01-05-02-01-01-01.flac"


def kernels(server: psutil.Process) -> list[psutil.Process]:
    """Kernel processes alive under the server (a culled one may linger as a zombie)."""
    alive = []
    for process in server.children(recursive=True):
        try:
            if "ipykernel_launcher" in " ".join(process.cmdline()):
                alive.append(process)
        except (psutil.ZombieProcess, psutil.NoSuchProcess):
            continue
    return alive


def rss_mb(server: psutil.Process) -> float:
    total = 0
    for process in [server, *server.children(recursive=True)]:
        with contextlib.suppress(psutil.NoSuchProcess):
            total += process.memory_info().rss
    return total / 2**20


def wait_for_pool(server: psutil.Process, seconds: float = 60) -> None:
    """Until Voila's preheated kernel is up (so the runs start from the same state)."""
    deadline = time.monotonic() + seconds
    while not kernels(server) and time.monotonic() < deadline:
        time.sleep(0.5)
    time.sleep(3)


def page_loads(url: str, count: int) -> dict[int, int]:
    """HTTP status counts of ``count`` page loads, one after another."""
    statuses: dict[int, int] = {}
    for _ in range(count):
        try:
            with urllib.request.urlopen(url, timeout=120) as response:
                response.read()
                status = response.status
        except urllib.error.HTTPError as error:
            status = error.code
        statuses[status] = statuses.get(status, 0) + 1
    return statuses


def settle(server: psutil.Process, limits: KernelLimits, cap_plus_one: int) -> tuple[int, float]:
    """Kernels alive and RSS once culling has had its time (polled until at most cap + 1)."""
    deadline = time.monotonic() + limits.orphan_timeout + 3 * limits.cull_interval + 30
    time.sleep(limits.orphan_timeout + limits.cull_interval)
    while len(kernels(server)) > cap_plus_one and time.monotonic() < deadline:
        time.sleep(2)
    return len(kernels(server)), rss_mb(server)


def one_user(url: str, results: list, index: int) -> None:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        start, busy = time.perf_counter(), 0
        try:
            while time.perf_counter() - start < 300:
                page = browser.new_page()
                response = page.goto(url, timeout=120_000)
                if response is not None and response.status == 503:
                    busy += 1
                    page.close()
                    time.sleep(5)
                    continue
                page.locator(".ser-upload").first.wait_for(timeout=120_000)
                uploaded = time.perf_counter()
                with page.expect_file_chooser(timeout=120_000) as chooser:
                    page.locator(".ser-upload").first.click()
                chooser.value.set_files(str(SAMPLE))
                page.locator(".ser-emotion").first.wait_for(timeout=120_000)
                done = time.perf_counter()
                results[index] = {"total": done - start, "upload": done - uploaded, "busy": busy}
                page.close(run_before_unload=True)  # the page leaves: Voila shuts its kernel
                return
        except Exception as error:  # one user failing is a result, not a crash of the bench
            results[index] = {"error": f"{type(error).__name__}: {error}", "busy": busy}
        finally:
            browser.close()


def concurrent_users(url: str, server: psutil.Process, count: int) -> tuple[list, float]:
    results: list = [None] * count
    threads = [threading.Thread(target=one_user, args=(url, results, i)) for i in range(count)]
    peak = 0.0
    for thread in threads:
        thread.start()
    while any(thread.is_alive() for thread in threads):
        peak = max(peak, rss_mb(server))
        time.sleep(0.5)
    return results, peak


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--loads", type=int, default=100)
    parser.add_argument("--users", type=int, default=8)
    parser.add_argument("--max-users", type=int, default=KernelLimits().max_users)
    parser.add_argument("--orphan-timeout", type=int, default=KernelLimits().orphan_timeout)
    parser.add_argument("--cull-interval", type=int, default=KernelLimits().cull_interval)
    args = parser.parse_args()
    limits = KernelLimits(max_users=args.max_users, orphan_timeout=args.orphan_timeout,
                          cull_interval=args.cull_interval)  # fmt: skip
    print(f"app: {limits.describe()}")
    with running_app(limits) as (server_process, url):
        server = psutil.Process(server_process.pid)
        wait_for_pool(server)
        if args.loads:
            start = time.perf_counter()
            statuses = page_loads(url, args.loads)
            seconds = time.perf_counter() - start
            print(f"{args.loads} page loads in {seconds:.0f} s: HTTP {statuses}")
            print(f"  right after: {len(kernels(server))} kernels alive, server + kernels "
                  f"{rss_mb(server):.0f} MB RSS")  # fmt: skip
            alive, rss = settle(server, limits, args.max_users + 1)
            print(f"  after the orphan timeout and cull interval: {alive} kernels alive "
                  f"(target <= cap + 1 = {args.max_users + 1}), {rss:.0f} MB RSS (target < 2048)")  # fmt: skip
        if args.users:
            results, peak = concurrent_users(url, server, args.users)
            answered = [r for r in results if r and "total" in r]
            print(f"{args.users} users at once, each uploading {SAMPLE.name}: "
                  f"{len(answered)} answered; {sum(r['busy'] for r in results if r)} 'busy' pages "
                  f"(then retried)")  # fmt: skip
            if answered:
                totals = [r["total"] for r in answered]
                uploads = [r["upload"] for r in answered]
                print(f"  opening the page to the answer: median {statistics.median(totals):.1f} s, "
                      f"p95 {percentile(totals, 0.95):.1f} s (retries included)")  # fmt: skip
                print(f"  upload to the answer: median {statistics.median(uploads):.1f} s, "
                      f"p95 {percentile(uploads, 0.95):.1f} s (target <= 5 s)")  # fmt: skip
            for r in results:
                if r and "error" in r:
                    print(f"  failed: {r['error'][:200]}")
            print(f"  peak RSS of server + kernels: {peak:.0f} MB")
        print(f"cores: {psutil.cpu_count()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
