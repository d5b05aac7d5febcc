"""Where everything lives and the constants every stage shares.

The project root is derived from this file's location, so paths work from any
working directory (notebooks, Makefile, tests). Nothing else builds paths.
"""

from __future__ import annotations

import os
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[2]

# Where a run writes models, figures and reports. The committed full run lives
# in the project root; a quick run (CI, tests) points SER_OUTPUT_DIR elsewhere so
# it never overwrites it.
OUTPUT_ENV_VAR = "SER_OUTPUT_DIR"
OUTPUT_ROOT = Path(os.environ.get(OUTPUT_ENV_VAR) or PROJECT_ROOT).expanduser().resolve()

DATA_DIR = PROJECT_ROOT / "data"
RAW_DIR = DATA_DIR / "raw"
FEATURES_DIR = DATA_DIR / "features"  # a cache keyed by its inputs: safe to share
SAMPLES_DIR = DATA_DIR / "samples"
MODELS_DIR = OUTPUT_ROOT / "models"
RUNS_DIR = MODELS_DIR / "runs"  # every trained model's predictions and curves
FIGURES_DIR = OUTPUT_ROOT / "figures"
REPORTS_DIR = OUTPUT_ROOT / "reports"

# --- RAVDESS -----------------------------------------------------------------
RAVDESS_FOLDER_NAME = "Audio_Speech_Actors_01-24"
RAVDESS_URL = "https://zenodo.org/record/1188976/files/Audio_Speech_Actors_01-24.zip?download=1"
RAVDESS_MD5 = "bc696df654c87fed845eb13823edef8a"  # published by Zenodo for the zip
RAVDESS_ENV_VAR = "RAVDESS_DIR"

N_ACTORS = 24
CLIPS_PER_ACTOR = 60
N_CLIPS = N_ACTORS * CLIPS_PER_ACTOR

# Emotion code in the file name -> name. Order defines the model's class index.
EMOTIONS: dict[int, str] = {
    1: "neutral",
    2: "calm",
    3: "happy",
    4: "sad",
    5: "angry",
    6: "fearful",
    7: "disgust",
    8: "surprised",
}
EMOTION_NAMES: list[str] = list(EMOTIONS.values())
INTENSITIES: dict[int, str] = {1: "normal", 2: "strong"}
STATEMENTS: dict[int, str] = {
    1: "Kids are talking by the door",
    2: "Dogs are sitting by the door",
}

# File suffixes the loader is expected to read (anything libsndfile reads works).
AUDIO_SUFFIXES = (".wav", ".flac", ".ogg", ".aiff", ".aif", ".mp3")

# --- Audio and features ----------------------------------------------------------
SAMPLE_RATE = 22_050  # librosa's default; the original project's MFCCs use it
N_MFCC = 40
N_FFT = 2048
HOP_LENGTH = 512
N_FRAMES = 174  # 174 frames x 512 hop / 22,050 Hz = 4.04 s
N_MELS = 64  # log-mel bands (our model)
LOGMEL_N_FFT = 1024  # 46 ms windows
LOGMEL_FMAX = 8000.0  # Hz: the band that carries speech

# --- Prediction on user uploads ------------------------------------------------
MAX_UPLOAD_SECONDS = 60.0  # longer recordings are refused, with this cap in the message
MAX_UPLOAD_BYTES = 20 * 1024 * 1024
WINDOW_HOP_FRACTION = 0.5  # long clips: windows overlap by half, probabilities averaged


def ravdess_dir() -> Path:
    """The folder of RAVDESS clips: ``$RAVDESS_DIR`` if set, else ``data/raw/...``."""
    override = os.environ.get(RAVDESS_ENV_VAR, "").strip()
    if override:
        return Path(override).expanduser().resolve()
    return RAW_DIR / RAVDESS_FOLDER_NAME
