// sttcheck: how the embedded recogniser hears a set of espeak-ng utterances against one
// grammar, exactly as a flow step would ask it (SphinxRecognizer, 8 kHz telephone audio
// upsampled, out-of-grammar rejection on). For measuring grammar shapes and thresholds
// (docs/stt.md), not a test.
//
//   sttcheck CASES.txt [--voices en-us:165,en:140] [--reject on|off] [--param KEY=VALUE]
//            [--verbose]
//
// CASES.txt, one directive per line ('#' starts a comment):
//   grammar: John Smith | Mary Jones | Mary | Jones      the expected phrases
//   grammar: sales | support/help                          '/': phrases of one answer
//   say: John Smith => John Smith                          utterance => wanted phrase
//   say: what is the weather like today => -               '-': should be rejected
//   carriers: name                 the words a flow step of that kind allows around the
//                                  answer (choice, name, number, yesno; off: none)
// A `grammar:` or `carriers:` line applies to the `say:` lines after it; `grammar:` resets
// the carriers to none. The wanted phrase may name any phrase of the grammar that stands
// for the same answer: `=> John Smith | John`.
//
// Prints one line per utterance and voice, then totals: right, wrong phrase, rejected
// (in-grammar speech lost), false accepts (out-of-grammar speech taken as a phrase), and
// the recogniser's time per second of audio (RTF; one utterance at a time, so no queueing).
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <future>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "speech/answer_carriers.h"
#include "speech/espeak_synthesizer.h"
#include "speech/sphinx_recognizer.h"

namespace {

using namespace atende;

std::string trim(std::string s) {
  size_t a = s.find_first_not_of(" \t"), b = s.find_last_not_of(" \t\r");
  return a == std::string::npos ? "" : s.substr(a, b - a + 1);
}

std::vector<std::string> split(const std::string& s, char sep) {
  std::vector<std::string> out;
  std::stringstream in(s);
  std::string part;
  while (std::getline(in, part, sep)) {
    part = trim(part);
    if (!part.empty()) out.push_back(part);
  }
  return out;
}

struct Totals {
  int right = 0, wrong = 0, lost = 0, in_grammar = 0;
  int false_accepts = 0, out_of_grammar = 0;
  double audio_seconds = 0, processing_seconds = 0;
};

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fputs(
        "usage: sttcheck CASES.txt [--voices en-us:165,en:140] [--reject on|off] [--verbose]\n",
        stderr);
    return 2;
  }
  std::string voices_arg = "en-us:165,en:140";
  speech::RecognizerParams params;
  bool verbose = false;
  for (int i = 2; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--voices" && i + 1 < argc) {
      voices_arg = argv[++i];
    } else if (a == "--reject" && i + 1 < argc) {
      params["reject"] = argv[++i];
    } else if (a == "--param" && i + 1 < argc) {  // any engine key: --param noise_floor=0
      std::string kv = argv[++i];
      auto eq = kv.find('=');
      params[kv.substr(0, eq)] = eq == std::string::npos ? "" : kv.substr(eq + 1);
    } else if (a == "--verbose") {  // also the recogniser's own verdicts (gaps) on stderr
      verbose = true;
      spdlog::set_level(spdlog::level::debug);
    } else {
      std::fprintf(stderr, "sttcheck: unknown argument %s\n", a.c_str());
      return 2;
    }
  }
  std::vector<speech::Voice> voices;
  for (const auto& v : split(voices_arg, ',')) {
    auto colon = v.find(':');
    voices.push_back(
        {v.substr(0, colon), colon == std::string::npos ? 165 : std::stoi(v.substr(colon + 1))});
  }
  std::ifstream in(argv[1]);
  if (!in) {
    std::fprintf(stderr, "sttcheck: cannot read %s\n", argv[1]);
    return 1;
  }
  speech::SphinxRecognizer stt(speech::sphinx_options_from(params));
  speech::EspeakSynthesizer tts;
  std::vector<std::string> grammar;
  std::vector<int> answer_of;
  speech::Carriers carriers;
  Totals t;
  std::string line;
  while (std::getline(in, line)) {
    line = trim(line.substr(0, line.find('#')));
    if (line.rfind("grammar:", 0) == 0) {
      // `support/help`: two phrases of one answer (RecognitionRequest::answer_of).
      grammar.clear();
      answer_of.clear();
      const auto answers = split(line.substr(8), '|');
      for (size_t a = 0; a < answers.size(); ++a)
        for (const auto& phrase : split(answers[a], '/')) {
          grammar.push_back(phrase);
          answer_of.push_back(static_cast<int>(a));
        }
      carriers = {};
      continue;
    }
    if (line.rfind("carriers:", 0) == 0) {
      const std::string kind = trim(line.substr(9));
      carriers = {};
      if (kind == "choice") carriers = speech::default_carriers(speech::AnswerKind::kChoice, "en");
      if (kind == "name") carriers = speech::default_carriers(speech::AnswerKind::kName, "en");
      if (kind == "number") carriers = speech::default_carriers(speech::AnswerKind::kNumber, "en");
      if (kind == "yesno") carriers = speech::default_carriers(speech::AnswerKind::kYesNo, "en");
      continue;
    }
    if (line.rfind("say:", 0) != 0) continue;
    auto arrow = line.find("=>");
    std::string text = trim(line.substr(4, arrow - 4));
    std::vector<std::string> wanted = arrow == std::string::npos
                                          ? std::vector<std::string>{}
                                          : split(line.substr(arrow + 2), '|');
    bool reject_wanted = wanted.empty() || wanted[0] == "-";
    for (const auto& voice : voices) {
      ClipPtr clip = tts.synthesize({text, voice, 8000});
      if (!clip) {
        std::fprintf(stderr, "sttcheck: cannot synthesise '%s'\n", text.c_str());
        return 1;
      }
      // As the turn detector hands it over: ~200 ms before, ~800 ms after (end silence
      // plus post-roll).
      auto pcm = std::make_shared<std::vector<int16_t>>(1600, 0);
      pcm->insert(pcm->end(), clip->pcm.begin(), clip->pcm.end());
      pcm->insert(pcm->end(), 6400, 0);
      std::promise<speech::Recognition> done;
      speech::RecognitionRequest req;
      req.pcm = pcm;
      req.expected = grammar;
      req.carriers = carriers;
      req.answer_of = answer_of;
      req.language = "en-us";
      req.tag = "sttcheck";
      stt.recognize(std::move(req),
                    [&done](speech::Recognition r) { done.set_value(std::move(r)); });
      speech::Recognition r = done.get_future().get();
      t.audio_seconds += r.audio_seconds;
      t.processing_seconds += r.processing_seconds;
      const char* verdict;
      if (reject_wanted) {
        ++t.out_of_grammar;
        bool accepted = r.ok && !r.rejected;
        t.false_accepts += accepted;
        verdict = accepted ? "FALSE-ACCEPT" : "ok-rejected";
      } else {
        ++t.in_grammar;
        // Right: the phrase it read stands for the same answer as a wanted phrase.
        auto answer_of_phrase = [&](const std::string& p) {
          auto it = std::find(grammar.begin(), grammar.end(), p);
          if (it == grammar.end()) return -1;
          size_t i = static_cast<size_t>(it - grammar.begin());
          return answer_of.empty() ? static_cast<int>(i) : answer_of[i];
        };
        const int got = r.matched_index >= 0 ? answer_of_phrase(r.matched) : -2;
        bool right = r.ok && !r.rejected &&
                     std::any_of(wanted.begin(), wanted.end(),
                                 [&](const std::string& w) { return answer_of_phrase(w) == got; });
        if (right) {
          ++t.right;
          verdict = "ok";
        } else if (r.ok && !r.rejected) {
          ++t.wrong;
          verdict = "WRONG";
        } else {
          ++t.lost;
          verdict = "LOST";
        }
      }
      if (verbose || (std::string(verdict) != "ok" && std::string(verdict) != "ok-rejected"))
        std::printf("%-12s %-6s %-40s hyp='%s' matched='%s'%s\n", verdict, voice.name.c_str(),
                    text.c_str(), r.text.c_str(), r.matched.c_str(), r.ok ? "" : r.error.c_str());
    }
  }
  std::printf("in-grammar: %d/%d right, %d wrong phrase, %d lost (rejected or nothing)\n", t.right,
              t.in_grammar, t.wrong, t.lost);
  std::printf("out-of-grammar: %d/%d false accepts\n", t.false_accepts, t.out_of_grammar);
  std::printf("cost: %.2f s recognising %.1f s of audio (RTF %.3f)\n", t.processing_seconds,
              t.audio_seconds, t.audio_seconds > 0 ? t.processing_seconds / t.audio_seconds : 0);
  return 0;
}
