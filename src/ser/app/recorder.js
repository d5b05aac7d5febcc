// Microphone recorder for the demo (anywidget): captures PCM with the Web Audio API and
// sends a 16-bit mono WAV to Python. MediaRecorder is not used: it writes WebM/Opus,
// which libsndfile cannot read.

function encodeWav(chunks, rate) {
  const length = chunks.reduce((total, chunk) => total + chunk.length, 0);
  const buffer = new ArrayBuffer(44 + 2 * length);
  const view = new DataView(buffer);
  const text = (offset, value) => [...value].forEach((c, i) => view.setUint8(offset + i, c.charCodeAt(0)));
  text(0, "RIFF");
  view.setUint32(4, 36 + 2 * length, true);
  text(8, "WAVE");
  text(12, "fmt ");
  view.setUint32(16, 16, true);
  view.setUint16(20, 1, true); // PCM
  view.setUint16(22, 1, true); // mono
  view.setUint32(24, rate, true);
  view.setUint32(28, 2 * rate, true);
  view.setUint16(32, 2, true);
  view.setUint16(34, 16, true);
  text(36, "data");
  view.setUint32(40, 2 * length, true);
  let offset = 44;
  for (const chunk of chunks) {
    for (const sample of chunk) {
      const clipped = Math.max(-1, Math.min(1, sample));
      view.setInt16(offset, clipped < 0 ? clipped * 0x8000 : clipped * 0x7fff, true);
      offset += 2;
    }
  }
  return buffer;
}

function deniedMessage(error) {
  if (error && (error.name === "NotAllowedError" || error.name === "SecurityError")) {
    return "Microphone access was denied. Allow the microphone for this page in the browser's " +
      "site settings and press Record again, or upload a recording instead.";
  }
  if (error && error.name === "NotFoundError") {
    return "No microphone was found. Connect one and press Record again, or upload a recording.";
  }
  return `Could not open the microphone (${error && error.message ? error.message : error}).`;
}

export default {
  render({ model, el }) {
    el.classList.add("ser-recorder");
    const button = document.createElement("button");
    button.className = "ser-record-button";
    button.textContent = "● Record";
    const timer = document.createElement("span");
    timer.className = "ser-timer";
    timer.textContent = "0.0 s";
    const meter = document.createElement("div");
    meter.className = "ser-meter";
    meter.title = "input level";
    const level = document.createElement("div");
    level.className = "ser-level";
    meter.appendChild(level);
    const message = document.createElement("div");
    message.className = "ser-mic-message";
    el.append(button, meter, timer, message);

    let stream = null, context = null, processor = null, source = null;
    let chunks = [], samples = 0, recording = false;

    const setStatus = (status) => {
      model.set("status", status);
      model.save_changes();
    };

    async function start() {
      message.textContent = "";
      message.classList.remove("ser-mic-error");
      if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) {
        message.textContent = "This browser cannot record here: microphone access needs a page " +
          "served from localhost or over https. Upload a recording instead.";
        message.classList.add("ser-mic-error");
        setStatus("unavailable");
        return;
      }
      try {
        stream = await navigator.mediaDevices.getUserMedia({
          audio: { channelCount: 1, echoCancellation: false, noiseSuppression: false, autoGainControl: false },
        });
      } catch (error) {
        message.textContent = deniedMessage(error);
        message.classList.add("ser-mic-error");
        setStatus("denied");
        return;
      }
      context = new AudioContext();
      source = context.createMediaStreamSource(stream);
      processor = context.createScriptProcessor(4096, 1, 1);
      chunks = [];
      samples = 0;
      const limit = model.get("max_seconds");
      processor.onaudioprocess = (event) => {
        if (!recording) return;
        const data = new Float32Array(event.inputBuffer.getChannelData(0));
        chunks.push(data);
        samples += data.length;
        let sum = 0;
        for (const value of data) sum += value * value;
        const rms = Math.sqrt(sum / data.length);
        const db = 20 * Math.log10(rms + 1e-9);
        level.style.width = `${Math.max(0, Math.min(100, (db + 60) * (100 / 60)))}%`;
        const seconds = samples / context.sampleRate;
        timer.textContent = `${seconds.toFixed(1)} s`;
        if (seconds >= limit) stop();
      };
      source.connect(processor);
      processor.connect(context.destination);
      recording = true;
      button.textContent = "■ Stop";
      button.classList.add("ser-recording");
      setStatus("recording");
    }

    function stop() {
      if (!recording) return;
      recording = false;
      processor.disconnect();
      source.disconnect();
      stream.getTracks().forEach((track) => track.stop());
      const rate = context.sampleRate;
      context.close();
      button.textContent = "● Record";
      button.classList.remove("ser-recording");
      level.style.width = "0%";
      if (samples === 0) {
        message.textContent = "Nothing was recorded.";
        setStatus("empty");
        return;
      }
      message.textContent = `Recorded ${(samples / rate).toFixed(1)} s; analysing…`;
      model.set("wav", new DataView(encodeWav(chunks, rate)));
      model.set("status", "recorded");
      model.save_changes();
    }

    model.on("change:status", () => {
      if (model.get("status") === "analysed") message.textContent = "";
    });
    button.addEventListener("click", () => (recording ? stop() : start()));
    return () => {
      if (recording) stop();
    };
  },
};
