// audiotool: the server's own audio code on WAV files, for tests and operators.
//
//   audiotool say  --text "press one for sales" --out menu.wav [--voice en-us] [--rate 8000]
//                  [--wpm 165] [--data-path DIR] [--no-trim]
//       Synthesises exactly as the server does (espeak-ng, leading silence trimmed,
//       resampled with speexdsp) and writes PCM16 mono.
//   audiotool find --needle a.wav --haystack b.wav [--mode envelope|waveform] [--no-trim]
//       Where does a.wav occur in b.wav? Prints {"offset_s":..,"score":..,"mode":".."}.
//       envelope (default) compares 10 ms loudness envelopes: right for a separate rendering
//       of the same words (espeak-ng never renders a phrase twice the same) and for audio
//       that went through G.711; waveform is sample-exact Pearson correlation. The needle's
//       leading/trailing silence is trimmed first unless --no-trim; a needle at another rate
//       is resampled to the haystack's.
//   audiotool rms FILE.wav [--window-ms 100]
//       Prints {"seconds":..,"sample_rate":..,"dbfs":overall,"window_ms":..,"windows":[...]}.
//
// Exit status: 0 success, 1 failure (message on stderr), 2 bad usage.
#include <cstdio>
#include <cstdlib>
#include <map>
#include <span>
#include <string>
#include <vector>

#include "audio/correlation.h"
#include "audio/levels.h"
#include "audio/resampler.h"
#include "audio/wav.h"
#include "speech/espeak_synthesizer.h"

namespace {

using namespace atende;

constexpr int kEnvelopeHopMs = 10;
// A 10 ms window quieter than this (about -50 dBFS) counts as silence when trimming.
constexpr double kTrimRms = 100.0;

int usage() {
  std::fputs(
      "usage:\n"
      "  audiotool say --text TEXT --out FILE.wav [--voice en-us] [--rate 8000] [--wpm 165]\n"
      "                [--data-path DIR] [--no-trim]\n"
      "  audiotool find --needle A.wav --haystack B.wav [--mode envelope|waveform] [--no-trim]\n"
      "  audiotool rms FILE.wav [--window-ms 100]\n",
      stderr);
  return 2;
}

int fail(const std::string& message) {
  std::fprintf(stderr, "audiotool: %s\n", message.c_str());
  return 1;
}

// --name value pairs, bare --flags (value "1") and positional arguments.
struct Args {
  std::map<std::string, std::string> options;
  std::vector<std::string> positional;
  bool bad = false;

  std::string get(const std::string& name, const std::string& fallback = {}) const {
    auto it = options.find(name);
    return it == options.end() ? fallback : it->second;
  }
  bool has(const std::string& name) const { return options.count(name) != 0; }
  int get_int(const std::string& name, int fallback) {
    if (!has(name)) return fallback;
    char* end = nullptr;
    const std::string text = get(name);  // keep it alive: `end` points into it
    const long v = std::strtol(text.c_str(), &end, 10);
    if (!end || *end != '\0' || v < 1 || v > 1000000) {
      bad = true;
      return fallback;
    }
    return static_cast<int>(v);
  }
};

Args parse(int argc, char** argv, std::initializer_list<const char*> flags) {
  Args args;
  for (int i = 2; i < argc; ++i) {
    std::string a = argv[i];
    if (a.rfind("--", 0) != 0) {
      args.positional.push_back(a);
      continue;
    }
    bool is_flag = false;
    for (const char* f : flags) is_flag |= (a == f);
    if (is_flag) {
      args.options[a] = "1";
    } else if (i + 1 < argc) {
      args.options[a] = argv[++i];
    } else {
      args.bad = true;
    }
  }
  return args;
}

std::string json_number(double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.4f", v);
  return buf;
}

int say(int argc, char** argv) {
  Args args = parse(argc, argv, {"--no-trim"});
  speech::Phrase phrase;
  phrase.text = args.get("--text");
  phrase.voice.name = args.get("--voice", "en-us");
  phrase.voice.rate_wpm = args.get_int("--wpm", phrase.voice.rate_wpm);
  phrase.sample_rate = args.get_int("--rate", 8000);
  const std::string out = args.get("--out");
  if (args.bad || phrase.text.empty() || out.empty()) return usage();

  speech::EspeakOptions options;
  options.data_path = args.get("--data-path");
  options.trim_leading_silence = !args.has("--no-trim");
  try {
    speech::EspeakSynthesizer tts(options);
    ClipPtr clip = tts.synthesize(phrase);
    if (!clip) return fail("synthesis failed (unknown voice '" + phrase.voice.name + "'?)");
    std::string error;
    if (!audio::write_wav_file(out, clip->pcm, clip->sample_rate, &error)) return fail(error);
  } catch (const std::exception& e) {
    return fail(e.what());
  }
  return 0;
}

// The part of `pcm` between its first and last non-silent 10 ms window.
std::span<const int16_t> trim_silence(std::span<const int16_t> pcm, int rate) {
  const size_t hop = static_cast<size_t>(rate * kEnvelopeHopMs / 1000);
  if (hop == 0 || pcm.size() < hop) return pcm;
  size_t first = pcm.size(), last = 0;
  for (size_t i = 0; i + hop <= pcm.size(); i += hop) {
    if (audio::rms(pcm.subspan(i, hop)) > kTrimRms) {
      first = std::min(first, i);
      last = i + hop;
    }
  }
  if (first >= last) return pcm;  // all quiet: leave it, the score will say so
  return pcm.subspan(first, last - first);
}

int find(int argc, char** argv) {
  Args args = parse(argc, argv, {"--no-trim"});
  const std::string mode = args.get("--mode", "envelope");
  if (args.bad || !args.has("--needle") || !args.has("--haystack") ||
      (mode != "envelope" && mode != "waveform")) {
    return usage();
  }
  audio::WavResult needle = audio::read_wav_file(args.get("--needle"));
  if (!needle.ok()) return fail(needle.error);
  audio::WavResult haystack = audio::read_wav_file(args.get("--haystack"));
  if (!haystack.ok()) return fail(haystack.error);

  const int rate = haystack.clip.sample_rate;
  std::vector<int16_t> needle_pcm = std::move(needle.clip.pcm);
  if (needle.clip.sample_rate != rate) {
    needle_pcm = audio::Resampler::convert(needle_pcm, needle.clip.sample_rate, rate);
  }
  std::span<const int16_t> wanted = needle_pcm;
  if (!args.has("--no-trim")) wanted = trim_silence(wanted, rate);

  audio::ClipMatch match;
  if (mode == "waveform") {
    match = audio::find_clip(wanted, haystack.clip.pcm);
  } else {
    match = audio::find_clip_envelope(wanted, haystack.clip.pcm, rate);
  }
  std::printf("{\"offset_s\": %s, \"score\": %s, \"mode\": \"%s\"}\n",
              json_number(double(match.offset) / rate).c_str(), json_number(match.score).c_str(),
              mode.c_str());
  return 0;
}

int rms(int argc, char** argv) {
  Args args = parse(argc, argv, {});
  const int window_ms = args.get_int("--window-ms", 100);
  if (args.bad || args.positional.size() != 1) return usage();
  audio::WavResult wav = audio::read_wav_file(args.positional[0]);
  if (!wav.ok()) return fail(wav.error);

  const std::span<const int16_t> pcm = wav.clip.pcm;
  const size_t window = std::max<size_t>(1, size_t(wav.clip.sample_rate) * window_ms / 1000);
  std::string windows;
  for (size_t i = 0; i < pcm.size(); i += window) {
    if (!windows.empty()) windows += ", ";
    windows += json_number(audio::dbfs(pcm.subspan(i, std::min(window, pcm.size() - i))));
  }
  std::printf(
      "{\"seconds\": %s, \"sample_rate\": %d, \"dbfs\": %s, \"window_ms\": %d, \"windows\": "
      "[%s]}\n",
      json_number(wav.clip.seconds()).c_str(), wav.clip.sample_rate,
      json_number(audio::dbfs(pcm)).c_str(), window_ms, windows.c_str());
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) return usage();
  const std::string command = argv[1];
  if (command == "say") return say(argc, argv);
  if (command == "find") return find(argc, argv);
  if (command == "rms") return rms(argc, argv);
  return usage();
}
