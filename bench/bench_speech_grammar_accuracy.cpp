// Grammar mode as a caller meets it: right answers, wrong answers and false accepts of the
// embedded recogniser (SphinxRecognizer) on espeak-ng callers, with this build's settings
// against main's before the second opinion (the baseline, kBaseline), on the same audio in
// the same run.
//
// Case file (bench/grammar_cases/*.txt, the syntax of tools/sttcheck): `grammar:` the
// answers of one flow step (`|` between answers, `/` between phrases of one answer),
// `carriers:` the kind of step (name, number, choice, yesno), `say: TEXT => PHRASE` (or
// `=> -`: unrelated speech, must be rejected). Every line is spoken by every voice at 8 kHz,
// through a G.711 u-law round trip, with 0.2 s of silence before and 0.8 s after (as the
// turn detector hands a turn over).
//
// Voices: the tuning voices (carriers and thresholds were chosen on them, with
// bench/grammar_cases/tuning.txt) are kTuningVoices; the default run uses kHeldOutVoices and
// bench/grammar_cases/heldout.txt, neither of which was looked at while tuning.
//
// Usage: bench_speech_grammar_accuracy [--cases FILE] [--voices en-us:165,...] [--out DIR]
//                                       [--name grammar_accuracy] [--config LABEL:k=v,k=v]...
// Each --config is one recogniser (engine parameters as in the config file, e.g.
// `wide:noise_band=wide,reject=log`); all decode the same audio side by side. Default:
// main's settings before the second opinion (kBaseline) and this build's defaults.
// `reject=log` keeps every check's measure in the JSON (Recognition::detail) and rejects
// only turns with no answer: bench/grammar_tune.py picks thresholds from such a run.
// Writes DIR/NAME.json and DIR/NAME.md (DIR defaults to bench/results of the source).
#include <spdlog/spdlog.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <ctime>
#include <fstream>
#include <future>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "rtp/codec.h"
#include "speech/answer_carriers.h"
#include "speech/espeak_synthesizer.h"
#include "speech/sphinx_recognizer.h"

extern "C" const char* __lsan_default_suppressions() {
  return "leak:libsphinxbase.so\nleak:libpocketsphinx.so\n";
}

namespace {

using namespace atende;
using json = nlohmann::json;

constexpr const char* kTuningVoices = "en-us:165,en:140,en-us:130,en-us:200,en+f3:165,en-us+m7:150";
constexpr const char* kHeldOutVoices =
    "en-gb-scotland:160,en+f2:150,en-us+m3:175,en-029:155,en-gb-x-rp+f4:170,en-us-nyc+m5:140";

// main's settings before the second opinion (d44f7cf): the defaults of that build, spelled
// out so that the baseline stays put when the defaults move.
constexpr const char* kBaseline =
    "before:second_opinion=off,noise_band=narrow,decode_rate=16000,beam=1e-80,wbeam=1e-60,"
    "reject_answer_margin=6,reject_answer_gap=30,reject_phone_loop_gap=55,"
    "reject_max_gap_seconds=0.5,reject_min_coverage=0.5";
constexpr const char* kThisBranch = "this branch:";

std::string trim(std::string s) {
  size_t a = s.find_first_not_of(" \t"), b = s.find_last_not_of(" \t\r");
  return a == std::string::npos ? "" : s.substr(a, b - a + 1);
}

std::vector<std::string> split(const std::string& s, char sep) {
  std::vector<std::string> out;
  std::stringstream in(s);
  std::string part;
  while (std::getline(in, part, sep))
    if (part = trim(part); !part.empty()) out.push_back(part);
  return out;
}

struct Step {
  std::string name;  // the comment line before `grammar:`
  std::vector<std::string> phrases;
  std::vector<int> answer_of;
  std::string kind;  // carriers: name, number, choice, yesno
};

struct Case {
  size_t step = 0;
  std::string text;
  int answer = -1;  // -1: must be rejected
};

bool load_cases(const std::string& path, std::vector<Step>& steps, std::vector<Case>& cases) {
  std::ifstream in(path);
  if (!in) return false;
  std::string line, comment;
  while (std::getline(in, line)) {
    if (line.rfind("# ", 0) == 0) comment = trim(line.substr(2));
    line = trim(line.substr(0, line.find('#')));
    if (line.rfind("grammar:", 0) == 0) {
      Step s;
      s.name = comment;
      const auto answers = split(line.substr(8), '|');
      for (size_t a = 0; a < answers.size(); ++a)
        for (const auto& p : split(answers[a], '/')) {
          s.phrases.push_back(p);
          s.answer_of.push_back(static_cast<int>(a));
        }
      steps.push_back(std::move(s));
    } else if (line.rfind("carriers:", 0) == 0 && !steps.empty()) {
      steps.back().kind = trim(line.substr(9));
    } else if (line.rfind("say:", 0) == 0 && !steps.empty()) {
      const auto arrow = line.find("=>");
      Case c{steps.size() - 1, trim(line.substr(4, arrow - 4)), -1};
      const std::string wanted = arrow == std::string::npos ? "-" : trim(line.substr(arrow + 2));
      const Step& s = steps.back();
      auto it = std::find(s.phrases.begin(), s.phrases.end(), wanted);
      if (wanted != "-") {
        if (it == s.phrases.end()) {
          std::fprintf(stderr, "%s: '%s' is no phrase of its grammar\n", path.c_str(),
                       wanted.c_str());
          return false;
        }
        c.answer = s.answer_of[static_cast<size_t>(it - s.phrases.begin())];
      }
      cases.push_back(std::move(c));
    }
  }
  return true;
}

const std::string& first_phrase_of(const Step& s, int answer) {
  const auto it = std::find(s.answer_of.begin(), s.answer_of.end(), answer);
  return s.phrases[static_cast<size_t>(it - s.answer_of.begin())];
}

speech::Carriers carriers_of(const std::string& kind) {
  using K = speech::AnswerKind;
  if (kind == "name") return speech::default_carriers(K::kName, "en-us");
  if (kind == "number") return speech::default_carriers(K::kNumber, "en-us");
  if (kind == "choice") return speech::default_carriers(K::kChoice, "en-us");
  if (kind == "yesno") return speech::default_carriers(K::kYesNo, "en-us");
  return {};
}

struct Tally {
  int right = 0, wrong = 0, lost = 0, in_grammar = 0, false_accepts = 0, unrelated = 0;
  int second_decodes = 0;                            // turns the second opinion decoded again
  double audio_seconds = 0, processing_seconds = 0;  // totals only
  json to_json() const {
    return {{"audio_seconds", audio_seconds},
            {"processing_seconds", processing_seconds},
            {"right", right},
            {"wrong", wrong},
            {"lost", lost},
            {"in_grammar", in_grammar},
            {"false_accepts", false_accepts},
            {"unrelated", unrelated},
            {"second_decodes", second_decodes}};
  }
};

std::string pct(int n, int d) {
  char b[32];
  std::snprintf(b, sizeof b, "%d/%d (%.1f %%)", n, d, d ? 100.0 * n / d : 0.0);
  return b;
}

// Decode time per second of audio (requests go one at a time per setting, so there is no
// queueing; both settings decode at once on a shared machine: compare them, not runs).
std::string fixed(double processing, double audio) {
  char b[32];
  std::snprintf(b, sizeof b, "%.3f", audio > 0 ? processing / audio : 0.0);
  return b;
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
  std::string cases_path = std::string(ATENDE_SOURCE_DIR) + "/bench/grammar_cases/heldout.txt";
  std::string voices_arg = kHeldOutVoices, name = "grammar_accuracy";
  std::vector<std::string> config_args;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--out" && i + 1 < argc)
      out_dir = argv[++i];
    else if (a == "--cases" && i + 1 < argc)
      cases_path = argv[++i];
    else if (a == "--voices" && i + 1 < argc)
      voices_arg = argv[++i];
    else if (a == "--tuning-voices")
      voices_arg = kTuningVoices;
    else if (a == "--name" && i + 1 < argc)
      name = argv[++i];
    else if (a == "--config" && i + 1 < argc)
      config_args.push_back(argv[++i]);
    else {
      std::fprintf(stderr,
                   "usage: %s [--cases FILE] [--voices LIST | --tuning-voices] [--out DIR] "
                   "[--name NAME] [--config LABEL:k=v,k=v]...\n",
                   argv[0]);
      return 2;
    }
  }
  spdlog::set_level(spdlog::level::err);
  std::vector<Step> steps;
  std::vector<Case> cases;
  if (!load_cases(cases_path, steps, cases)) {
    std::fprintf(stderr, "cannot read cases from %s\n", cases_path.c_str());
    return 1;
  }
  std::vector<speech::Voice> voices;
  for (const auto& v : split(voices_arg, ',')) {
    const auto colon = v.find(':');
    voices.push_back(
        {v.substr(0, colon), colon == std::string::npos ? 165 : std::stoi(v.substr(colon + 1))});
  }
  const std::string load_before = loadavg();

  // One decoder each, working side by side on the same audio.
  if (config_args.empty()) config_args = {kBaseline, kThisBranch};
  struct Config {
    std::string label;
    speech::RecognizerParams params;
    std::unique_ptr<speech::SphinxRecognizer> stt;
  };
  std::vector<Config> configs;
  for (const std::string& arg : config_args) {
    const auto colon = arg.find(':');
    Config c{arg.substr(0, colon), {{"max_queued", "100000"}}, nullptr};
    if (colon != std::string::npos)
      for (const auto& kv : split(arg.substr(colon + 1), ',')) {
        const auto eq = kv.find('=');
        if (eq == std::string::npos) {
          std::fprintf(stderr, "--config %s: '%s' is not key=value\n", arg.c_str(), kv.c_str());
          return 2;
        }
        c.params[trim(kv.substr(0, eq))] = trim(kv.substr(eq + 1));
      }
    try {
      c.stt = std::make_unique<speech::SphinxRecognizer>(speech::sphinx_options_from(c.params));
    } catch (const std::exception& e) {
      std::fprintf(stderr, "--config %s: %s\n", arg.c_str(), e.what());
      return 2;
    }
    configs.push_back(std::move(c));
  }

  speech::EspeakSynthesizer tts;
  struct Pending {
    size_t case_index, voice_index, config;
    std::future<speech::Recognition> result;
  };
  std::vector<Pending> pending;
  for (size_t ci = 0; ci < cases.size(); ++ci) {
    const Case& c = cases[ci];
    const Step& s = steps[c.step];
    for (size_t vi = 0; vi < voices.size(); ++vi) {
      ClipPtr clip = tts.synthesize({c.text, voices[vi], 8000});
      if (!clip) {
        std::fprintf(stderr, "cannot synthesise '%s' in %s\n", c.text.c_str(),
                     voices[vi].name.c_str());
        return 1;
      }
      auto pcm = std::make_shared<std::vector<int16_t>>(1600, 0);
      for (int16_t x : clip->pcm) pcm->push_back(rtp::ulaw_to_linear(rtp::linear_to_ulaw(x)));
      pcm->insert(pcm->end(), 6400, 0);
      for (size_t k = 0; k < configs.size(); ++k) {
        speech::RecognitionRequest req;
        req.pcm = pcm;
        req.expected = s.phrases;
        req.answer_of = s.answer_of;
        req.carriers = carriers_of(s.kind);
        req.language = "en-us";
        req.tag = c.text;
        auto promise = std::make_shared<std::promise<speech::Recognition>>();
        pending.push_back({ci, vi, k, promise->get_future()});
        configs[k].stt->recognize(
            std::move(req), [promise](speech::Recognition r) { promise->set_value(std::move(r)); });
      }
      // One utterance at a time (both settings side by side): processing time is then the
      // decode itself, not a queue.
      for (size_t j = pending.size() - configs.size(); j < pending.size(); ++j)
        pending[j].result.wait();
    }
  }

  std::vector<Tally> totals(configs.size());
  std::vector<std::map<std::string, Tally>> by_step(configs.size());
  std::vector<std::map<std::string, Tally>> by_voice(configs.size());
  json rows = json::array();
  std::vector<json> row_of(cases.size() * voices.size());
  for (Pending& p : pending) {
    const speech::Recognition r = p.result.get();
    const Case& c = cases[p.case_index];
    const Step& s = steps[c.step];
    const bool accepted = r.ok && !r.rejected && r.matched_index >= 0;
    const int got = accepted ? s.answer_of[static_cast<size_t>(r.matched_index)] : -1;
    std::string verdict;
    totals[p.config].audio_seconds += r.audio_seconds;
    totals[p.config].processing_seconds += r.processing_seconds;
    for (Tally* t : {&totals[p.config], &by_step[p.config][s.name],
                     &by_voice[p.config][voices[p.voice_index].name]}) {
      t->second_decodes += r.detail.find("; second:") != std::string::npos;
      if (c.answer < 0) {
        ++t->unrelated;
        t->false_accepts += accepted;
        verdict = accepted ? "false accept" : "rejected";
      } else {
        ++t->in_grammar;
        if (got == c.answer)
          ++t->right, verdict = "right";
        else if (accepted)
          ++t->wrong, verdict = "wrong";
        else
          ++t->lost, verdict = "lost";
      }
    }
    json& row = row_of[p.case_index * voices.size() + p.voice_index];
    if (row.is_null())
      row = {{"step", s.name},
             {"said", c.text},
             {"voice",
              voices[p.voice_index].name + ":" + std::to_string(voices[p.voice_index].rate_wpm)},
             {"wanted", c.answer < 0 ? "-" : first_phrase_of(s, c.answer)},
             {"wanted_answer", c.answer}};
    row["results"][configs[p.config].label] = {{"heard", r.text},
                                               {"answer", got},
                                               {"matched", r.matched},
                                               {"verdict", verdict},
                                               {"detail", r.detail},
                                               {"audio_seconds", r.audio_seconds},
                                               {"processing_seconds", r.processing_seconds}};
  }
  for (auto& row : row_of) rows.push_back(std::move(row));

  utsname u{};
  uname(&u);
  char when[32];
  const std::time_t now = std::time(nullptr);
  std::strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&now));
  json result{{"machine", {{"host", u.nodename}, {"kernel", u.release}, {"when", when}}},
              {"loadavg_before", load_before},
              {"loadavg_after", loadavg()},
              {"cases", cases_path.substr(cases_path.rfind("bench/") == std::string::npos
                                              ? 0
                                              : cases_path.rfind("bench/"))},
              {"voices", voices_arg},
              {"configs", json::array()},
              {"utterances", rows}};
  std::ostringstream md;
  md << "# Grammar mode: right answers and false accepts (pocketsphinx, espeak-ng callers)\n\n"
     << when << ", " << u.nodename << "; load " << load_before << ". Written by "
     << "bench/bench_speech_grammar_accuracy.cpp.\n\n"
     << "Cases: `" << result["cases"].get<std::string>() << "`; voices: `" << voices_arg
     << "`. Every phrase spoken by every voice at 8 kHz through G.711 u-law. "
     << "*right*: the answer wanted; *wrong*: another answer; *lost*: rejected or nothing "
     << "(the flow asks again); *false accepts*: unrelated speech taken as an answer.\n\n"
     << "| settings | right | wrong | lost | false accepts | decode s / audio s | decode ms / "
        "utterance | decoded twice |\n"
     << "|---|---|---|---|---|---|---|---|\n";
  for (size_t k = 0; k < configs.size(); ++k) {
    const Tally& t = totals[k];
    const int turns = t.in_grammar + t.unrelated;
    md << "| " << configs[k].label << " | " << pct(t.right, t.in_grammar) << " | "
       << pct(t.wrong, t.in_grammar) << " | " << pct(t.lost, t.in_grammar) << " | "
       << pct(t.false_accepts, t.unrelated) << " | " << fixed(t.processing_seconds, t.audio_seconds)
       << " | " << fixed(1000 * t.processing_seconds, turns) << " | "
       << pct(t.second_decodes, turns) << " |\n";
    json cj = {{"label", configs[k].label}, {"params", configs[k].params}, {"total", t.to_json()}};
    for (const auto& [step, st] : by_step[k]) cj["by_step"][step] = st.to_json();
    for (const auto& [voice, vt] : by_voice[k]) cj["by_voice"][voice] = vt.to_json();
    result["configs"].push_back(std::move(cj));
  }
  md << "\nSettings:\n\n";
  for (const Config& c : configs) {
    md << "- " << c.label << ":";
    for (const auto& [k, v] : c.params)
      if (k != "max_queued") md << " `" << k << "=" << v << "`";
    md << (c.params.size() <= 1 ? " the defaults\n" : "\n");
  }
  // Per step and per voice: right, wrong answers and false accepts of every setting.
  auto breakdown = [&](const char* title, const std::vector<std::map<std::string, Tally>>& by) {
    md << "\n" << title << " (right / wrong / false accepts):\n\n| |";
    for (const Config& c : configs) md << " " << c.label << " |";
    md << "\n|---|";
    for (size_t k = 0; k < configs.size(); ++k) md << "---|";
    md << "\n";
    for (const auto& [key, unused] : by[0]) {
      md << "| " << key << " |";
      for (size_t k = 0; k < configs.size(); ++k) {
        const Tally& t = by[k].at(key);
        md << " " << pct(t.right, t.in_grammar) << " / " << t.wrong << " / "
           << pct(t.false_accepts, t.unrelated) << " |";
      }
      md << "\n";
    }
  };
  breakdown("By step", by_step);
  breakdown("By voice", by_voice);
  md << "\nEvery utterance, with what each setting heard, is in " << name << ".json.\n";
  std::ofstream(out_dir + "/" + name + ".json") << result.dump(2) << "\n";
  std::ofstream(out_dir + "/" + name + ".md") << md.str();
  std::printf("%s\nwritten: %s/%s.{json,md}\n", md.str().c_str(), out_dir.c_str(), name.c_str());
  return 0;
}
