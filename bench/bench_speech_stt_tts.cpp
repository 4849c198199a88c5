// Embedded speech engines as the agent uses them, measured on a synthetic telephone test set:
//
//  STT (SphinxRecognizer): ~44 English utterances in 7 groups like the flows' steps (menu
//  words, yes/no, digit strings, apartment numbers and names as in the gate flow, visit
//  reasons, short sentences), synthesised by espeak-ng (en-us, 165 wpm) at 8 kHz, sent
//  through a G.711 u-law round trip (what a phone call delivers), with the 200 ms of
//  silence before and after that the turn detector keeps. Decoded in
//    - grammar mode, one grammar per group (what a flow step expects),
//    - grammar mode, one grammar of every phrase of the set (a harder closed set),
//    - language-model mode (free speech, en-us.lm.bin),
//    - language-model mode on clean 16 kHz audio (baseline: no telephone channel).
//  Per mode: real-time factor (decode time / audio duration; one request at a time, so no
//  queueing; each grammar compiled once before timing), word error rate against the words
//  spoken (S+D+I / N, Levenshtein on words), and for grammar modes the phrase accuracy.
//
//  TTS (espeak-ng): time to first audio for short, medium and long sentences, as
//    - the server gets it: EspeakSynthesizer::synthesize (synchronous C API, whole clip,
//      leading silence trimmed, resampled to 8 kHz); the agent plays a sentence only when
//      its clip is complete, so this is its first-audio time for an uncached sentence;
//    - the C API's own first chunk (AUDIO_OUTPUT_SYNCHRONOUS, 100 ms buffer, the mode the
//      server initialises): the floor a streaming integration could reach.
//  p50/p99 over repetitions against the 50 ms target.
//
// Usage: bench_speech_stt_tts [--out DIR] [--tts-repeats N] [--skip-lm]
// Writes DIR/stt_tts.json and DIR/stt_tts.md (DIR defaults to bench/results of the source).
#include <espeak-ng/speak_lib.h>
#include <spdlog/spdlog.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <fstream>
#include <future>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "audio/resampler.h"
#include "rtp/codec.h"
#include "speech/espeak_synthesizer.h"
#include "speech/sphinx_recognizer.h"

// pocketsphinx leaks a little per compiled grammar inside its own libraries (see the
// sphinx unit test); not ours, and a benchmark run is short.
extern "C" const char* __lsan_default_suppressions() {
  return "leak:libsphinxbase.so\nleak:libpocketsphinx.so\n";
}

namespace {

using namespace atende;
using Clock = std::chrono::steady_clock;
using json = nlohmann::json;

double seconds_since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

// One utterance: the words espeak-ng says, and the phrase of its group it should match.
struct Item {
  std::string said;
  std::string phrase;
};
struct Group {
  std::string name;
  std::vector<std::string> phrases;  // the grammar of the step
  std::vector<Item> items;
};

// Phrases are written as a flow author would ("302", "Mary Jones"); `said` is what the
// caller says, in words (the WER reference).
std::vector<Group> test_set() {
  return {
      {"menu",
       {"sales", "support", "billing", "operator", "reservations", "cancel", "repeat", "main menu"},
       {{"sales", "sales"},
        {"support", "support"},
        {"billing", "billing"},
        {"operator", "operator"},
        {"reservations", "reservations"},
        {"cancel", "cancel"},
        {"repeat", "repeat"},
        {"main menu", "main menu"}}},
      {"yes_no",
       {"yes", "no", "yes please", "no thank you", "correct", "that is wrong"},
       {{"yes", "yes"},
        {"no", "no"},
        {"yes please", "yes please"},
        {"no thank you", "no thank you"},
        {"correct", "correct"},
        {"that is wrong", "that is wrong"}}},
      {"digits",
       {"one two three four", "five five five one", "nine eight seven", "zero four two",
        "six one seven two", "three three eight"},
       {{"one two three four", "one two three four"},
        {"five five five one", "five five five one"},
        {"nine eight seven", "nine eight seven"},
        {"zero four two", "zero four two"},
        {"six one seven two", "six one seven two"},
        {"three three eight", "three three eight"}}},
      {"apartment",
       {"101", "202", "302", "405", "510", "1204"},
       {{"one oh one", "101"},
        {"two zero two", "202"},
        {"three zero two", "302"},
        {"four oh five", "405"},
        {"five ten", "510"},
        {"twelve oh four", "1204"}}},
      {"name",
       {"John Smith", "Mary Jones", "Peter Brown", "Anna Lee", "Robert Brown", "Linda Davis"},
       {{"John Smith", "John Smith"},
        {"Mary Jones", "Mary Jones"},
        {"Peter Brown", "Peter Brown"},
        {"Anna Lee", "Anna Lee"},
        {"Robert Brown", "Robert Brown"},
        {"Linda Davis", "Linda Davis"}}},
      {"reason",
       {"delivery", "visit", "package", "food", "friend"},
       {{"delivery", "delivery"}, {"visit", "visit"}, {"package", "package"}, {"food", "food"}}},
      {"sentence",
       {"I would like to book a table", "what time do you close", "can I speak to a person",
        "I want to cancel my order", "is the store open today", "my card was declined",
        "please call me back tomorrow", "I need to change my appointment"},
       {{"I would like to book a table", "I would like to book a table"},
        {"what time do you close", "what time do you close"},
        {"can I speak to a person", "can I speak to a person"},
        {"I want to cancel my order", "I want to cancel my order"},
        {"is the store open today", "is the store open today"},
        {"my card was declined", "my card was declined"},
        {"please call me back tomorrow", "please call me back tomorrow"},
        {"I need to change my appointment", "I need to change my appointment"}}},
  };
}

std::vector<std::string> words_of(const std::string& text) {
  std::vector<std::string> out;
  std::string w;
  for (char c : text) {
    const unsigned char u = static_cast<unsigned char>(c);
    if (std::isalnum(u) || c == '\'') {
      w += static_cast<char>(std::tolower(u));
    } else if (!w.empty()) {
      out.push_back(std::move(w));
      w.clear();
    }
  }
  if (!w.empty()) out.push_back(std::move(w));
  return out;
}

// Word-level Levenshtein distance (substitutions + deletions + insertions).
size_t word_errors(const std::vector<std::string>& ref, const std::vector<std::string>& hyp) {
  std::vector<size_t> prev(hyp.size() + 1), cur(hyp.size() + 1);
  for (size_t j = 0; j <= hyp.size(); ++j) prev[j] = j;
  for (size_t i = 1; i <= ref.size(); ++i) {
    cur[0] = i;
    for (size_t j = 1; j <= hyp.size(); ++j) {
      cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ref[i - 1] != hyp[j - 1])});
    }
    std::swap(prev, cur);
  }
  return prev[hyp.size()];
}

// The free-speech decoder's vocabulary has slurs, and on this audio it guesses: a
// hypothesis committed to the results must not carry one. Masked for display only (the
// word error count is computed before).
std::string masked(const std::string& text) {
  static const char* const kBlocked[] = {"nigger", "nigga", "faggot", "fag", "retard", "cunt"};
  std::string out;
  for (const auto& w : words_of(text)) {
    const bool bad = std::any_of(std::begin(kBlocked), std::end(kBlocked),
                                 [&](const char* b) { return w == b; });
    out += (out.empty() ? "" : " ") + (bad ? std::string("[masked]") : w);
  }
  return out;
}

// Caller audio: 200 ms silence, speech, 200 ms silence (the turn detector's pre/post roll).
std::vector<int16_t> padded(const std::vector<int16_t>& speech, int rate) {
  std::vector<int16_t> pcm(static_cast<size_t>(rate / 5), 0);
  pcm.insert(pcm.end(), speech.begin(), speech.end());
  pcm.insert(pcm.end(), static_cast<size_t>(rate / 5), 0);
  return pcm;
}

std::vector<int16_t> g711_round_trip(std::vector<int16_t> pcm) {
  for (auto& s : pcm) s = rtp::ulaw_to_linear(rtp::linear_to_ulaw(s));
  return pcm;
}

struct Audio {
  std::shared_ptr<const std::vector<int16_t>> phone;  // 8 kHz after G.711
  std::shared_ptr<const std::vector<int16_t>> wide;   // 16 kHz clean
};

speech::Recognition recognize(speech::SphinxRecognizer& stt, speech::RecognitionRequest req) {
  std::promise<speech::Recognition> p;
  auto f = p.get_future();
  stt.recognize(std::move(req), [&p](speech::Recognition r) { p.set_value(std::move(r)); });
  return f.get();
}

struct ModeResult {
  std::string mode;
  double audio_s = 0, decode_s = 0;
  size_t ref_words = 0, errors = 0, utterances = 0, phrase_right = 0, rejected = 0;
  json rows = json::array();
  json to_json() const {
    json j{{"mode", mode},
           {"utterances", utterances},
           {"audio_seconds", audio_s},
           {"decode_seconds", decode_s},
           {"rtf", audio_s > 0 ? decode_s / audio_s : 0},
           {"reference_words", ref_words},
           {"word_errors", errors},
           {"wer", ref_words ? double(errors) / double(ref_words) : 0},
           {"rejected", rejected},
           {"utterance_results", rows}};
    if (mode.rfind("grammar", 0) == 0) {
      j["phrase_accuracy"] = utterances ? double(phrase_right) / double(utterances) : 0;
      j["phrases_right"] = phrase_right;
    }
    return j;
  }
};

// One pass over the set. `expected_for` gives the grammar of a group (empty: LM mode).
template <class ExpectedFor>
ModeResult run_mode(speech::SphinxRecognizer& stt, const std::string& mode,
                    const std::vector<Group>& set, const std::map<std::string, Audio>& audio,
                    bool wide, ExpectedFor expected_for) {
  ModeResult m;
  m.mode = mode;
  // Compile each grammar before timing (a flow compiles its grammars once per decoder).
  for (const auto& g : set) {
    auto expected = expected_for(g);
    if (expected.empty()) break;
    recognize(stt, {std::make_shared<const std::vector<int16_t>>(4000, 0), 8000, expected, "en-us",
                    "warm-up"});
  }
  for (const auto& g : set) {
    const auto expected = expected_for(g);
    for (const auto& item : g.items) {
      const Audio& a = audio.at(item.said);
      const auto& pcm = wide ? a.wide : a.phone;
      const int rate = wide ? 16000 : 8000;
      const auto t0 = Clock::now();
      speech::Recognition r = recognize(stt, {pcm, rate, expected, "en-us", item.said});
      const double took = seconds_since(t0);
      const double audio_s = double(pcm->size()) / rate;
      const auto ref = words_of(item.said);
      const auto hyp = r.ok && !r.rejected ? words_of(r.text) : std::vector<std::string>{};
      const size_t errors = word_errors(ref, hyp);
      const bool phrase_ok = !expected.empty() && r.ok && !r.rejected && r.matched == item.phrase;
      m.audio_s += audio_s;
      m.decode_s += took;
      m.ref_words += ref.size();
      m.errors += errors;
      ++m.utterances;
      m.phrase_right += phrase_ok;
      m.rejected += r.ok && r.rejected;
      m.rows.push_back({{"group", g.name},
                        {"said", item.said},
                        {"heard", r.ok ? masked(r.text) : "ERROR " + r.error},
                        {"rejected", r.rejected},
                        {"matched", r.matched},
                        {"word_errors", errors},
                        {"rtf", took / audio_s}});
    }
  }
  std::fprintf(stderr, "%s: RTF %.3f, WER %.1f %%\n", mode.c_str(), m.decode_s / m.audio_s,
               100.0 * double(m.errors) / double(std::max<size_t>(1, m.ref_words)));
  return m;
}

double percentile(std::vector<double> v, double q) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const size_t i = std::min(v.size() - 1, size_t(q * double(v.size() - 1) + 0.5));
  return v[i];
}

// ---- TTS ----

struct FirstChunk {
  Clock::time_point start;
  double first_s = -1;
  size_t samples = 0;
};

int first_chunk_callback(short* wav, int count, espeak_EVENT* events) {
  auto* fc = events ? static_cast<FirstChunk*>(events->user_data) : nullptr;
  if (fc && wav && count > 0) {
    if (fc->first_s < 0) fc->first_s = seconds_since(fc->start);
    fc->samples += size_t(count);
  }
  return 0;
}

struct TtsCase {
  std::string label;
  std::string text;
};

std::vector<TtsCase> tts_cases() {
  return {
      {"short (2 words)", "Sure thing."},
      {"medium (1 sentence, 12 words)",
       "Your table for four is booked for eight o'clock tonight, see you then."},
      {"long (1 sentence, 30 words)",
       "Thanks for calling, I can help you with reservations, opening hours, our menu and "
       "delivery, and if you would rather talk to a person I can transfer you to the manager "
       "right now."},
      {"paragraph (4 sentences, 60 words)",
       "Thanks for calling Atende. We answer every call for small businesses, day and night, "
       "and we can book appointments, take orders and pass messages on to you. There is a "
       "free trial for thirty days, with no card needed. Would you like me to send you the "
       "details by text message so you can read them later?"},
  };
}

json tts_bench(int repeats, std::string& md) {
  speech::EspeakSynthesizer tts;
  json out = json::array();
  std::ostringstream table;
  table << "| text | audio s | server first audio p50 ms | p99 ms | max ms | C API first chunk "
           "p50 ms | p99 ms | target < 50 ms (server p99) |\n|---|---|---|---|---|---|---|---|\n";
  // The server's path: whole clip at 8 kHz.
  std::map<std::string, std::vector<double>> server_ms;
  std::map<std::string, double> audio_s;
  for (const auto& c : tts_cases()) {
    tts.synthesize({c.text, {"en-us", 165}, 8000});  // warm-up (voice load)
    for (int i = 0; i < repeats; ++i) {
      const auto t0 = Clock::now();
      ClipPtr clip = tts.synthesize({c.text, {"en-us", 165}, 8000});
      server_ms[c.label].push_back(1000.0 * seconds_since(t0));
      if (clip) audio_s[c.label] = clip->seconds();
    }
  }
  // The C API's first chunk, same mode (the engine is initialised by EspeakSynthesizer
  // above; from here on the callback is ours, so no EspeakSynthesizer use follows).
  espeak_SetSynthCallback(&first_chunk_callback);
  std::map<std::string, std::vector<double>> chunk_ms;
  for (const auto& c : tts_cases()) {
    for (int i = 0; i < repeats; ++i) {
      FirstChunk fc;
      espeak_SetVoiceByName("en-us");
      espeak_SetParameter(espeakRATE, 165, 0);
      fc.start = Clock::now();
      espeak_Synth(c.text.c_str(), c.text.size() + 1, 0, POS_CHARACTER, 0, espeakCHARS_UTF8,
                   nullptr, &fc);
      chunk_ms[c.label].push_back(1000.0 * fc.first_s);
    }
  }
  for (const auto& c : tts_cases()) {
    const auto& s = server_ms[c.label];
    const auto& k = chunk_ms[c.label];
    const double p99 = percentile(s, 0.99);
    json j{{"label", c.label},
           {"text", c.text},
           {"audio_seconds", audio_s[c.label]},
           {"repeats", repeats},
           {"server_first_audio_ms",
            {{"p50", percentile(s, 0.5)},
             {"p99", p99},
             {"max", *std::max_element(s.begin(), s.end())}}},
           {"c_api_first_chunk_ms", {{"p50", percentile(k, 0.5)}, {"p99", percentile(k, 0.99)}}},
           {"meets_50ms", p99 < 50.0}};
    out.push_back(j);
    char line[512];
    std::snprintf(line, sizeof line, "| %s | %.2f | %.1f | %.1f | %.1f | %.2f | %.2f | %s |\n",
                  c.label.c_str(), audio_s[c.label], percentile(s, 0.5), p99,
                  *std::max_element(s.begin(), s.end()), percentile(k, 0.5), percentile(k, 0.99),
                  p99 < 50.0 ? "met" : "**not met**");
    table << line;
  }
  md += table.str();
  return out;
}

std::string loadavg() {
  std::ifstream f("/proc/loadavg");
  std::string a, b, c;
  f >> a >> b >> c;
  return a + " " + b + " " + c;
}

}  // namespace

int main(int argc, char** argv) {
  std::string out_dir = std::string(ATENDE_SOURCE_DIR) + "/bench/results";
  int tts_repeats = 50;
  bool skip_lm = false;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--out" && i + 1 < argc) {
      out_dir = argv[++i];
    } else if (a == "--tts-repeats" && i + 1 < argc) {
      tts_repeats = std::clamp(std::atoi(argv[++i]), 1, 10000);
    } else if (a == "--skip-lm") {
      skip_lm = true;
    } else {
      std::fprintf(stderr, "usage: %s [--out DIR] [--tts-repeats N] [--skip-lm]\n", argv[0]);
      return 2;
    }
  }
  spdlog::set_level(spdlog::level::warn);
  const std::string load_before = loadavg();
  const auto set = test_set();

  // Synthesise the set once: 8 kHz through G.711, and clean 16 kHz for the baseline.
  std::map<std::string, Audio> audio;
  {
    speech::EspeakSynthesizer tts;
    for (const auto& g : set) {
      for (const auto& item : g.items) {
        auto narrow = tts.synthesize({item.said, {"en-us", 165}, 8000});
        auto wide = tts.synthesize({item.said, {"en-us", 165}, 16000});
        if (!narrow || !wide) {
          std::fprintf(stderr, "espeak-ng could not say '%s'\n", item.said.c_str());
          return 1;
        }
        audio[item.said] = {std::make_shared<const std::vector<int16_t>>(
                                g711_round_trip(padded(narrow->pcm, 8000))),
                            std::make_shared<const std::vector<int16_t>>(padded(wide->pcm, 16000))};
      }
    }
  }
  std::vector<std::string> all_phrases;
  for (const auto& g : set)
    all_phrases.insert(all_phrases.end(), g.phrases.begin(), g.phrases.end());

  json modes = json::array();
  {
    speech::SphinxOptions o;
    o.free_speech_lm = !skip_lm;
    speech::SphinxRecognizer stt(o);
    modes.push_back(
        run_mode(stt, "grammar per group, 8 kHz G.711", set, audio, false, [](const Group& g) {
          return g.phrases;
        }).to_json());
    modes.push_back(
        run_mode(stt, "grammar of all phrases, 8 kHz G.711", set, audio, false, [&](const Group&) {
          return all_phrases;
        }).to_json());
    if (!skip_lm) {
      modes.push_back(
          run_mode(stt, "language model, 8 kHz G.711", set, audio, false, [](const Group&) {
            return std::vector<std::string>{};
          }).to_json());
      modes.push_back(run_mode(stt, "language model, 16 kHz clean (baseline)", set, audio, true,
                               [](const Group&) { return std::vector<std::string>{}; })
                          .to_json());
    }
  }

  std::string tts_md;
  json tts = tts_bench(tts_repeats, tts_md);

  utsname u{};
  uname(&u);
  char when[32];
  const std::time_t now = std::time(nullptr);
  std::strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&now));
  const std::string load_after = loadavg();
  size_t utterances = 0;
  for (const auto& g : set) utterances += g.items.size();

  json result{{"machine",
               {{"host", u.nodename},
                {"cpus", sysconf(_SC_NPROCESSORS_ONLN)},
                {"kernel", u.release},
                {"when", when}}},
              {"loadavg_before", load_before},
              {"loadavg_after", load_after},
              {"voice", "espeak-ng en-us 165 wpm"},
              {"utterances", utterances},
              {"stt", modes},
              {"tts", tts}};

  std::ostringstream md;
  md << "# Embedded STT and TTS: pocketsphinx RTF and word accuracy, espeak-ng first audio\n\n"
     << when << ", " << u.nodename << ", " << sysconf(_SC_NPROCESSORS_ONLN) << " CPUs, kernel "
     << u.release << "; load average before " << load_before << ", after " << load_after
     << " (shared machine: RTF and times are noisy, accuracy is not).\n\n"
     << "## STT (pocketsphinx 0.8, en-us model, one decoder thread)\n\n"
     << "Test set: " << utterances
     << " utterances in 7 groups (menu words, yes/no, digit strings, apartment numbers, "
        "resident names, visit reasons, short sentences), espeak-ng en-us 165 wpm, 8 kHz, "
        "G.711 u-law round trip, 200 ms silence before and after. Generated at run time by "
        "bench/bench_speech_stt_tts.cpp.\n\n"
     << "| mode | utterances | audio s | decode s | RTF | WER | phrase accuracy | rejected |\n"
     << "|---|---|---|---|---|---|---|---|\n";
  for (const auto& m : modes) {
    char line[512];
    std::snprintf(line, sizeof line, "| %s | %zu | %.1f | %.2f | %.3f | %.1f %% | %s | %zu |\n",
                  m["mode"].get<std::string>().c_str(), m["utterances"].get<size_t>(),
                  m["audio_seconds"].get<double>(), m["decode_seconds"].get<double>(),
                  m["rtf"].get<double>(), 100.0 * m["wer"].get<double>(),
                  m.contains("phrase_accuracy")
                      ? (std::to_string(m["phrases_right"].get<size_t>()) + "/" +
                         std::to_string(m["utterances"].get<size_t>()))
                            .c_str()
                      : "-",
                  m["rejected"].get<size_t>());
    md << line;
  }
  md << "\nRTF = decode time / audio duration (request to answer, one at a time: no queueing; "
        "grammars compiled before timing). WER = (substitutions + deletions + insertions) / "
        "words said, against the words espeak-ng was given; a rejected utterance counts as "
        "all words deleted. Phrase accuracy: the recogniser's `matched` phrase is the one "
        "said (a number heard in another reading, e.g. \"three oh two\" for \"three zero "
        "two\", is still right). Per-utterance results are in stt_tts.json.\n\n"
     << "Per group, grammar per group (errors / words):\n\n| group | WER | phrases right |\n"
        "|---|---|---|\n";
  {
    std::map<std::string, std::array<size_t, 4>> per;  // errors, words, right, count
    const auto& rows = modes[0]["utterance_results"];
    for (const auto& g : set) {
      for (const auto& r : rows) {
        if (r["group"] != g.name) continue;
        auto& p = per[g.name];
        p[0] += r["word_errors"].get<size_t>();
        p[1] += words_of(r["said"].get<std::string>()).size();
        const Item* item = nullptr;
        for (const auto& it : g.items)
          if (it.said == r["said"]) item = &it;
        p[2] += item && r["matched"] == item->phrase && !r["rejected"].get<bool>();
        p[3] += 1;
      }
      const auto& p = per[g.name];
      char line[256];
      std::snprintf(line, sizeof line, "| %s | %.0f %% | %zu/%zu |\n", g.name.c_str(),
                    100.0 * double(p[0]) / double(std::max<size_t>(1, p[1])), p[2], p[3]);
      md << line;
    }
  }
  md << "\n## TTS (espeak-ng 1.51, en-us 165 wpm, " << tts_repeats << " runs per text)\n\n"
     << tts_md
     << "\nServer first audio = `EspeakSynthesizer::synthesize` to 8 kHz (synchronous C API, "
        "whole clip, silence trimmed, resampled): the agent plays a sentence when its clip is "
        "complete, so this is the time from a sentence of the LLM's answer to its first "
        "audio when it is not in the phrase cache (cached phrases are immediate). C API first "
        "chunk = `espeak_Synth` to the first samples in the synthesis callback (same "
        "AUDIO_OUTPUT_SYNCHRONOUS mode, 100 ms buffer): what streaming the clip chunk by "
        "chunk could reach. The agent splits answers into sentences, so the first clip is "
        "one sentence.\n";

  std::ofstream(out_dir + "/stt_tts.json") << result.dump(2) << "\n";
  std::ofstream(out_dir + "/stt_tts.md") << md.str();
  std::printf("%s\nwritten: %s/stt_tts.{json,md}\n", md.str().c_str(), out_dir.c_str());
  return 0;
}
