"""The demo app page (``make demo``), driven in Debian's headless Chromium with Playwright.

Covers upload, microphone recording (Chromium's fake capture device, fed by a
sample clip), the timeline of a long recording, a bad file and a denied microphone.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from ser.app.server import CHROMIUM, CHROMIUM_ARGS, KernelLimits, running_app
from ser.config import EMOTION_NAMES, MODELS_DIR, SAMPLES_DIR
from ser.models.artifacts import ONNX_FILE

TIMEOUT_MS = 120_000


@pytest.fixture(scope="module")
def voila_url(tmp_path_factory):
    if not Path(CHROMIUM).exists():
        if os.environ.get("CI"):
            pytest.fail("Chromium is missing; .ci/run installs Debian's chromium package")
        pytest.skip("Debian's chromium is not installed")
    if not (MODELS_DIR / ONNX_FILE).exists():
        pytest.skip("no shipped model in models/")
    log = tmp_path_factory.mktemp("voila") / "voila.log"
    # Closing a headless browser does not always tell Voila the page left, so the
    # module's visits would reach the default cap: give them room.
    with running_app(KernelLimits(max_users=16), log=log) as (_, url):
        yield url


def wav_of_sample(folder: Path, name: str, clips=("03-01-05-02-01-01-01.flac",)) -> Path:
    """Users upload WAV: the bundled FLAC samples, in a row, written as 16-bit WAV."""
    parts, rate = [], None
    for clip in clips:
        samples, rate = sf.read(SAMPLES_DIR / clip)
        parts.append(samples)
    path = folder / name
    sf.write(path, np.concatenate(parts), rate, subtype="PCM_16")
    return path


def open_app(playwright, url: str, extra_args=()):
    """A fresh browser (own temporary profile) on the app page, once its widgets are drawn."""
    browser = playwright.chromium.launch(
        executable_path=CHROMIUM, args=[*CHROMIUM_ARGS, *extra_args]
    )
    page = browser.new_page()
    page.goto(url, timeout=TIMEOUT_MS)
    page.locator(".ser-upload").first.wait_for(timeout=TIMEOUT_MS)
    return browser, page


def upload(page, path: Path) -> None:
    with page.expect_file_chooser(timeout=TIMEOUT_MS) as chooser:
        page.locator(".ser-upload").first.click()
    chooser.value.set_files(str(path))


@pytest.mark.slow
def test_upload_a_clip_then_a_text_file(voila_url, tmp_path):
    from playwright.sync_api import expect, sync_playwright

    clip = wav_of_sample(tmp_path, "angry_sample.wav")
    text = tmp_path / "notes.wav"
    text.write_text("this is a text file, not audio\n" * 10)

    with sync_playwright() as playwright:
        browser, page = open_app(playwright, voila_url)
        # An app, not a notebook: its title and what the model is; no notebook sections.
        expect(page.locator(".ser-title")).to_have_text("What emotion do you hear?")
        expect(page.locator(".ser-about")).to_contain_text("RAVDESS")
        assert "Parameters" not in page.content()
        output = page.locator(".widget-output").first

        upload(page, clip)
        emotion = output.locator(".ser-emotion")
        expect(emotion).to_have_count(1, timeout=TIMEOUT_MS)
        assert emotion.inner_text().strip() in EMOTION_NAMES
        expect(output.locator(".ser-row")).to_have_count(8)
        expect(output.locator(".ser-bar")).to_have_count(8)
        expect(output).to_contain_text("angry_sample.wav")
        page.screenshot(path=str(tmp_path / "prediction.png"), full_page=True)

        upload(page, text)
        error = output.locator(".ser-error")
        expect(error).to_have_count(1, timeout=TIMEOUT_MS)
        expect(error).to_contain_text("notes.wav")
        expect(error).to_contain_text("not a readable audio file")
        expect(output.locator(".ser-emotion")).to_have_count(0)
        browser.close()


@pytest.mark.slow
def test_a_long_recording_gets_a_timeline(voila_url, tmp_path):
    from playwright.sync_api import expect, sync_playwright

    clips = ("03-01-05-02-01-01-01.flac", "03-01-04-02-01-01-21.flac", "03-01-03-02-01-01-20.flac")
    long = wav_of_sample(tmp_path, "three_clips.wav", clips)
    with sync_playwright() as playwright:
        browser, page = open_app(playwright, voila_url)
        output = page.locator(".widget-output").first
        upload(page, long)
        expect(output.locator(".ser-emotion")).to_have_count(1, timeout=TIMEOUT_MS)
        windows = output.locator(".ser-window")
        expect(windows.first).to_be_visible(timeout=TIMEOUT_MS)
        assert windows.count() >= 5  # about 12 s in windows of 4 s that overlap by half
        expect(output.locator("img[alt^='Emotion over time']")).to_have_count(1)
        browser.close()


@pytest.mark.slow
def test_record_from_a_fake_microphone(voila_url, tmp_path):
    from playwright.sync_api import expect, sync_playwright

    voice = wav_of_sample(tmp_path, "microphone.wav")
    fake_microphone = [
        "--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream",
        f"--use-file-for-fake-audio-capture={voice}",
    ]  # fmt: skip
    with sync_playwright() as playwright:
        browser, page = open_app(playwright, voila_url, fake_microphone)
        button = page.locator(".ser-record-button")
        button.click()
        expect(button).to_have_text("■ Stop", timeout=TIMEOUT_MS)
        expect(page.locator(".ser-timer")).to_have_text(
            re.compile(r"^[3-9]\.\d s$"), timeout=TIMEOUT_MS
        )
        button.click()
        output = page.locator(".widget-output").first
        expect(output.locator(".ser-emotion")).to_have_count(1, timeout=TIMEOUT_MS)
        expect(output).to_contain_text("your recording")
        expect(page.locator(".ser-mic-message")).to_have_text("")
        assert output.locator(".ser-emotion").inner_text().strip() in EMOTION_NAMES
        browser.close()


@pytest.mark.slow
def test_a_denied_microphone_shows_a_message(voila_url):
    from playwright.sync_api import expect, sync_playwright

    with sync_playwright() as playwright:
        # A (fake) microphone, but no fake permission prompt: headless Chromium refuses the
        # permission request, as a user who says no.
        browser, page = open_app(playwright, voila_url, ["--use-fake-device-for-media-stream"])
        page.locator(".ser-record-button").click()
        message = page.locator(".ser-mic-message.ser-mic-error")
        expect(message).to_contain_text("denied", timeout=TIMEOUT_MS)
        expect(page.locator(".ser-record-button")).to_have_text("● Record")
        assert "Traceback" not in page.content()
        browser.close()


def hostile_files(folder: Path) -> list[tuple[Path, str | None]]:
    """Uploads a public page gets, each with the words its answer must show (None: an emotion)."""
    from .conftest import speech

    folder.mkdir(parents=True, exist_ok=True)
    cases = []
    huge = folder / "huge.wav"
    with open(huge, "wb") as handle:  # 200 MB, sparse: the browser must refuse it unread
        handle.truncate(200 * 2**20)
    cases.append((huge, "the limit is 20 MB"))
    sf.write(folder / "hour_of_silence.flac", np.zeros(3600 * 8_000, np.int16), 8_000)
    cases.append((folder / "hour_of_silence.flac", "the limit is 60 s"))
    nan = speech(2.0)
    nan[1000:2000] = np.nan
    sf.write(folder / "nan.wav", nan, 22_050, subtype="FLOAT")
    cases.append((folder / "nan.wav", "NaN"))
    sf.write(folder / "whole.wav", speech(2.0), 22_050)
    (folder / "truncated.wav").write_bytes((folder / "whole.wav").read_bytes()[:30])
    cases.append((folder / "truncated.wav", "not a readable audio file"))
    sf.write(folder / "eight_channels.wav", speech(2.0, 48_000, channels=8), 48_000)
    cases.append((folder / "eight_channels.wav", None))
    sf.write(folder / "hires_384k.wav", speech(2.0, 384_000), 384_000)
    cases.append((folder / "hires_384k.wav", None))
    (folder / "notes.wav").write_text("this is a text file, not audio\n" * 10)
    cases.append((folder / "notes.wav", "not a readable audio file"))
    noise = np.random.default_rng(0).normal(0, 0.1, 3 * 16_000).astype(np.float32)
    sf.write(folder / "static.wav", noise, 16_000)
    cases.append((folder / "static.wav", "No speech found"))
    html_name = folder / "<img src=x onerror=alert(1)>.wav"
    sf.write(html_name, speech(2.0), 22_050)
    cases.append((html_name, None))
    return cases


@pytest.mark.slow
def test_hostile_uploads_get_named_answers_and_the_page_keeps_working(voila_url, tmp_path):
    from playwright.sync_api import expect, sync_playwright

    with sync_playwright() as playwright:
        browser, page = open_app(playwright, voila_url)
        output = page.locator(".widget-output").first
        for path, words in hostile_files(tmp_path / "hostile"):
            upload(page, path)
            if words is None:  # readable speech: an emotion, and the name shown as text
                expect(output.locator(".ser-emotion")).to_have_count(1, timeout=TIMEOUT_MS)
                expect(output).to_contain_text(path.name, timeout=TIMEOUT_MS)
            else:
                expect(output).to_contain_text(words, timeout=TIMEOUT_MS)
                expect(output).to_contain_text(path.name)
                expect(output.locator(".ser-emotion")).to_have_count(0)
        assert output.locator("img[src='x']").count() == 0  # the name was escaped, not run
        upload(page, wav_of_sample(tmp_path, "after_all_that.wav"))
        expect(output.locator(".ser-emotion")).to_have_count(1, timeout=TIMEOUT_MS)
        expect(output).to_contain_text("after_all_that.wav")
        browser.close()
