"""The demo served by Voila, driven in Debian's headless Chromium with Playwright."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import soundfile as sf

from ser.artifacts import MODEL_FILE
from ser.config import MODELS_DIR, PROJECT_ROOT, SAMPLES_DIR

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic",
]  # fmt: skip
TIMEOUT_MS = 120_000


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def voila_url(tmp_path_factory):
    if not Path(CHROMIUM).exists():
        if os.environ.get("CI"):
            pytest.fail("Chromium is missing; .ci/run installs Debian's chromium package")
        pytest.skip("Debian's chromium is not installed")
    if not (MODELS_DIR / MODEL_FILE).exists():
        pytest.skip("no shipped model in models/")
    port = _free_port()
    log = tmp_path_factory.mktemp("voila") / "voila.log"
    with open(log, "w") as handle:
        server = subprocess.Popen(
            [sys.executable, "-m", "voila", str(PROJECT_ROOT / "notebooks" / "05_demo.ipynb"),
             "--no-browser", "--Voila.ip=127.0.0.1", f"--port={port}"],
            stdout=handle, stderr=subprocess.STDOUT, cwd=PROJECT_ROOT,
        )  # fmt: skip
    url = f"http://127.0.0.1:{port}/"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:  # listening is enough: a GET of the page would start a kernel
                socket.create_connection(("127.0.0.1", port), timeout=2).close()
                break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"voila did not start:\n{log.read_text()[-3000:]}")
                time.sleep(0.5)
        yield url
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()


@pytest.mark.slow
def test_upload_a_clip_then_a_text_file(voila_url, tmp_path):
    from playwright.sync_api import expect, sync_playwright

    clip = tmp_path / "angry_sample.wav"  # users upload WAV: convert a bundled FLAC sample
    samples, rate = sf.read(SAMPLES_DIR / "03-01-05-02-01-01-01.flac")
    sf.write(clip, samples, rate, subtype="PCM_16")
    text = tmp_path / "notes.wav"
    text.write_text("this is a text file, not audio\n" * 10)

    with sync_playwright() as playwright:
        # Playwright gives every launch a fresh temporary profile (its own --user-data-dir).
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page()
        page.goto(voila_url, timeout=TIMEOUT_MS)
        button = page.locator(".widget-upload").first
        button.wait_for(timeout=TIMEOUT_MS)
        output = page.locator(".widget-output").first

        with page.expect_file_chooser(timeout=TIMEOUT_MS) as chooser:
            button.click()
        chooser.value.set_files(str(clip))
        emotion = output.locator(".ser-emotion")
        expect(emotion).to_have_count(1, timeout=TIMEOUT_MS)
        assert emotion.inner_text().strip() in {
            "neutral", "calm", "happy", "sad", "angry", "fearful", "disgust", "surprised"
        }  # fmt: skip
        expect(output.locator(".ser-row")).to_have_count(8)
        expect(output.locator(".ser-bar")).to_have_count(8)
        expect(output).to_contain_text("angry_sample.wav")
        page.screenshot(path=str(tmp_path / "prediction.png"), full_page=True)

        with page.expect_file_chooser(timeout=TIMEOUT_MS) as chooser:
            button.click()
        chooser.value.set_files(str(text))
        error = output.locator(".ser-error")
        expect(error).to_have_count(1, timeout=TIMEOUT_MS)
        expect(error).to_contain_text("notes.wav")
        expect(error).to_contain_text("not a readable audio file")
        expect(output.locator(".ser-emotion")).to_have_count(0)
        browser.close()
