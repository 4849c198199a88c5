"""WAV analysis without numpy (Debian's python3 here has none): RMS envelopes in 20 ms
frames, and a normalised cross-correlation of envelopes to find a phrase in a recording.
Envelope matching is coarse but robust to G.711 and to the echo's delay; the finer
check uses tools/audiotool when it is built."""
import array
import json
import math
import os
import shutil
import subprocess
import wave

FRAME_MS = 20


def read_wav(path):
    """(samples as array('h') of mono, sample_rate). Stereo is averaged."""
    with wave.open(str(path), "rb") as w:
        if w.getsampwidth() != 2:
            raise ValueError(f"{path}: only 16-bit PCM is supported")
        rate, channels = w.getframerate(), w.getnchannels()
        data = array.array("h", w.readframes(w.getnframes()))
    if channels > 1:
        data = array.array("h", (sum(data[i:i + channels]) // channels
                                 for i in range(0, len(data), channels)))
    return data, rate


def envelope(samples, rate, frame_ms=FRAME_MS):
    """RMS of each frame."""
    n = rate * frame_ms // 1000
    out = []
    for i in range(0, len(samples) - n + 1, n):
        chunk = samples[i:i + n]
        out.append(math.sqrt(sum(s * s for s in chunk) / n))
    return out


def rms(samples):
    return math.sqrt(sum(s * s for s in samples) / len(samples)) if samples else 0.0


def window_rms(samples, rate, start_s, end_s):
    return rms(samples[int(start_s * rate):int(end_s * rate)])


def active_fraction(env, threshold):
    return sum(1 for v in env if v > threshold) / len(env) if env else 0.0


def _normalised(values):
    mean = sum(values) / len(values)
    centred = [v - mean for v in values]
    norm = math.sqrt(sum(v * v for v in centred))
    return centred, norm


def find_envelope(needle_env, haystack_env):
    """(best_offset_frames, score in [-1, 1]): where needle's loudness contour best matches."""
    if len(needle_env) < 2 or len(haystack_env) < len(needle_env):
        return 0, 0.0
    needle, nnorm = _normalised(needle_env)
    best = (0, -1.0)
    m = len(needle)
    for off in range(0, len(haystack_env) - m + 1):
        window, wnorm = _normalised(haystack_env[off:off + m])
        if nnorm == 0 or wnorm == 0:
            continue
        score = sum(a * b for a, b in zip(needle, window)) / (nnorm * wnorm)
        if score > best[1]:
            best = (off, score)
    return best


def find_phrase(needle_wav, haystack_wav, audiotool=None, mode=None):
    """{"offset_s", "score", "method"}: where the needle's speech appears in the haystack.

    Prefers audiotool (sample-level), falls back to envelope correlation. `mode`
    ("envelope", "waveform") is audiotool's; waveform is for the very samples of the
    needle played back (a recording), envelope (its default) for another rendering."""
    if audiotool and os.access(audiotool, os.X_OK):
        cmd = [audiotool, "find", "--needle", str(needle_wav), "--haystack", str(haystack_wav)]
        if mode:
            cmd += ["--mode", mode]
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
        if proc.returncode == 0:
            result = json.loads(proc.stdout)
            result["method"] = "audiotool"
            return result
    needle, nrate = read_wav(needle_wav)
    hay, hrate = read_wav(haystack_wav)
    off, score = find_envelope(trim_silence_env(envelope(needle, nrate)), envelope(hay, hrate))
    return {"offset_s": off * FRAME_MS / 1000.0, "score": score, "method": "envelope"}


def trim_silence_env(env, threshold=100.0):
    """Drop leading/trailing quiet frames so padding does not dominate the correlation."""
    idx = [i for i, v in enumerate(env) if v > threshold]
    return env[idx[0]:idx[-1] + 1] if idx else env


def make_speech_wav(text, out_path, *, rate=8000, pad_before_s=0.0, pad_after_s=0.0,
                    voice="en-us"):
    """Synthesises text with espeak-ng and writes 16-bit mono WAV at rate, padded with
    silence (baresip's aufile hangs up when its file ends)."""
    if not shutil.which("espeak-ng") or not shutil.which("sox"):
        raise RuntimeError("espeak-ng and sox are needed (scripts/install-deps)")
    raw = str(out_path) + ".espeak.wav"
    subprocess.run(["espeak-ng", "-v", voice, "-w", raw, text], check=True, timeout=30)
    subprocess.run(["sox", raw, "-r", str(rate), "-c", "1", "-b", "16", str(out_path),
                    "pad", str(pad_before_s), str(pad_after_s)], check=True, timeout=30)
    os.unlink(raw)
    return out_path


def make_silence_wav(out_path, seconds, rate=8000):
    with wave.open(str(out_path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(b"\0\0" * int(seconds * rate))
    return out_path


def speech_segments(samples, rate, threshold, *, merge_gap_s=0.8, frame_ms=FRAME_MS):
    """[(start_s, end_s)] of the stretches whose frames are louder than threshold (RMS),
    stretches closer than merge_gap_s joined: pauses between words and sentences of one
    utterance do not split it."""
    env = envelope(samples, rate, frame_ms)
    step = frame_ms / 1000.0
    segments = []
    for i, v in enumerate(env):
        if v <= threshold:
            continue
        start, end = i * step, (i + 1) * step
        if segments and start - segments[-1][1] < merge_gap_s:
            segments[-1] = (segments[-1][0], end)
        else:
            segments.append((start, end))
    return segments


def wav_seconds(path):
    with wave.open(str(path), "rb") as w:
        return w.getnframes() / w.getframerate()


def server_speech_wav(text, out_path, audiotool=None, *, wpm=165, voice="en-us", rate=8000):
    """text as the server says it: tools/audiotool renders it through the server's own
    synthesis path (espeak-ng library, leading silence trimmed); without audiotool the
    espeak-ng program at the same speed is close (same engine, a few ms apart)."""
    if audiotool and os.access(audiotool, os.X_OK):
        subprocess.run([str(audiotool), "say", "--voice", voice, "--wpm", str(wpm), "--rate",
                        str(rate), "--text", text, "--out", str(out_path)], check=True,
                       timeout=30)
        return out_path
    raw = str(out_path) + ".espeak.wav"
    subprocess.run(["espeak-ng", "-v", voice, "-s", str(wpm), "-w", raw, text], check=True,
                   timeout=30)
    subprocess.run(["sox", raw, "-r", str(rate), "-c", "1", "-b", "16", str(out_path)],
                   check=True, timeout=30)
    os.unlink(raw)
    return out_path


def place_wavs(out_path, placements, total_s, rate=8000):
    """A mono WAV of total_s seconds of silence with each (start_s, wav_path) of placements
    written in from start_s (16-bit, same rate): a caller's microphone on a timeline."""
    out = array.array("h", bytes(2 * int(total_s * rate)))
    for start_s, path in placements:
        samples, r = read_wav(path)
        if r != rate:
            raise ValueError(f"{path}: {r} Hz, want {rate}")
        at = int(start_s * rate)
        n = min(len(samples), len(out) - at)
        out[at:at + n] = samples[:n]
    return write_wav(out_path, out, rate)


def write_wav(out_path, samples, rate):
    """samples (array('h') or a list of ints) as a 16-bit mono WAV."""
    with wave.open(str(out_path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(array.array("h", samples).tobytes())
    return out_path


# -- tones (a peer's "fingerprint" on a bridged call) ------------------------------------

def make_tone_wav(out_path, freq_hz, seconds, *, rate=8000, amplitude=8000,
                  pad_before_s=0.0, pad_after_s=0.0):
    """A sine of freq_hz for seconds (16-bit mono), with silence around it. As a baresip
    microphone, pad_after_s keeps aufile from ending the call when the tone ends."""
    n = int(seconds * rate)
    tone = [int(amplitude * math.sin(2 * math.pi * freq_hz * i / rate)) for i in range(n)]
    before = [0] * int(pad_before_s * rate)
    after = [0] * int(pad_after_s * rate)
    return write_wav(out_path, before + tone + after, rate)


def goertzel_share(samples, rate, freq_hz):
    """Share (0..1) of the block's energy at freq_hz: ~1 for a pure tone of that frequency,
    ~0 for silence, other tones and speech. Bin width is rate/len(samples)."""
    n = len(samples)
    if n == 0:
        return 0.0
    k = round(n * freq_hz / rate)
    coeff = 2 * math.cos(2 * math.pi * k / n)
    s1 = s2 = 0.0
    energy = 0.0
    for x in samples:
        s0 = x + coeff * s1 - s2
        s2, s1 = s1, s0
        energy += x * x
    power = s1 * s1 + s2 * s2 - coeff * s1 * s2
    return min(1.0, 2 * power / (n * energy)) if energy else 0.0


def tone_blocks(path, freq_hz, *, block_s=0.1, min_share=0.6, min_rms=100.0):
    """[(start_s, share)] of the blocks of a WAV where freq_hz dominates (share >= min_share
    and the block is louder than min_rms)."""
    samples, rate = read_wav(path)
    n = int(block_s * rate)
    out = []
    for i in range(0, len(samples) - n + 1, n):
        block = samples[i:i + n]
        if rms(block) < min_rms:
            continue
        share = goertzel_share(block, rate, freq_hz)
        if share >= min_share:
            out.append((i / rate, share))
    return out


def tone_seconds(path, freq_hz, **kwargs):
    """How many seconds of the WAV carry freq_hz (see tone_blocks)."""
    block_s = kwargs.get("block_s", 0.1)
    return len(tone_blocks(path, freq_hz, **kwargs)) * block_s


def has_tone(path, freq_hz, *, min_seconds=0.5, **kwargs):
    """True if the WAV carries freq_hz for at least min_seconds in total: "the tone side A
    played arrived at side B". Use frequencies >= 100 Hz apart (e.g. 600 and 1000 Hz)."""
    return tone_seconds(path, freq_hz, **kwargs) >= min_seconds
