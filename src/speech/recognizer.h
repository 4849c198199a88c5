// Speech to text as the agent sees it. Engines register by name (baresip style) and the
// flow's config picks one: "sphinx" (embedded pocketsphinx, grammar mode), "http"
// (OpenAI-compatible /v1/audio/transcriptions), or a streaming engine used one-shot
// ("openai_realtime_stt", "ws_stream": streaming_recognizer.h).
//
// recognize() never blocks: the work runs on the engine's own bounded worker (a decoder
// thread, or the HTTP client's thread) and `done` runs there, exactly once. The agent
// posts the result back to its media thread. When the engine's queue is full `done` runs
// at once on the calling thread with ok == false (the only case it does).
//
// Example (config → engine):
//   auto registry = speech::RecognizerRegistry::with_builtins();
//   auto stt = registry.create("sphinx", {{"workers", "2"}});
//   stt->recognize({pcm, 8000, {"sales", "support", "operator"}, "en-us"},
//                  [host](speech::Recognition r) { host->post([r] { ... }); });
#pragma once
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

namespace atende::speech {

// Words that may come before or after an answer ("i'm here to see" John Smith "please"),
// never an answer themselves. A grammar engine listens for them around the expected
// phrases and reads the answer from between them (speech/grammar.h).
struct Carriers {
  std::vector<std::string> before;
  std::vector<std::string> after;
  bool empty() const { return before.empty() && after.empty(); }
};

struct RecognitionRequest {
  std::shared_ptr<const std::vector<int16_t>> pcm;  // mono PCM16, the caller's turn
  int sample_rate = 8000;
  // Phrases expected at this step (menu words, "yes"/"no", names, "101"). Non-empty: the
  // engine may listen with a grammar of exactly these (sphinx must). Empty: free speech.
  std::vector<std::string> expected;
  std::string language = "en";  // BCP 47-ish: "en", "en-us", "pt-br"
  std::string tag;              // for logs (the call id)
  Carriers carriers;            // words allowed around an expected phrase
  // Which answer each expected phrase stands for (same size as `expected`), so that two
  // phrases of one answer ("service", "repair") never count as a close call between
  // answers (speech/answer_margin.h). Empty: identical phrases are one answer.
  std::vector<int> answer_of;
};

struct Recognition {
  bool ok = false;   // false: engine error (see error); nothing was understood
  std::string text;  // what was said, lowercase words for grammar engines
  // With a grammar: the expected phrase (as given in the request) that `text` reads as,
  // and its index in RecognitionRequest::expected; "" / -1 if none or free speech.
  std::string matched;
  int matched_index = -1;
  float confidence = 0;   // 0..1, engine-specific; 1 when the engine gives none
  bool rejected = false;  // ok, but out of grammar / noise / silence: treat as no-match
  std::string error;      // why !ok
  double audio_seconds = 0;
  double processing_seconds = 0;  // from recognize() to done, queueing included
  std::string engine;             // "sphinx", "http"
  // Engine-specific measures behind the verdict, for logs and benches (sphinx: every
  // check's measure, turn_verdict.h describe()); "" if the engine has none.
  std::string detail;
  bool cancelled = false;  // a stream ended by cancel() (streaming_recognizer.h)
};

using RecognitionCallback = std::function<void(Recognition)>;

class Recognizer {
 public:
  virtual ~Recognizer() = default;
  virtual void recognize(RecognitionRequest request, RecognitionCallback done) = 0;
  // True if it honours RecognitionRequest::expected as a grammar (sphinx), false if
  // `expected` is at most a hint (http).
  virtual bool uses_grammar() const = 0;
};

// Engine parameters from the config, as strings: {"base_url": "...", "workers": "2"}.
using RecognizerParams = std::map<std::string, std::string>;
// Throws std::invalid_argument with a readable message for bad or unknown parameters.
using RecognizerFactory = std::function<std::unique_ptr<Recognizer>(const RecognizerParams&)>;

// Defined by the engines (sphinx_recognizer.cpp, http_stt.cpp).
std::unique_ptr<Recognizer> make_sphinx_recognizer(const RecognizerParams& params);
std::unique_ptr<Recognizer> make_http_recognizer(const RecognizerParams& params);
// The streaming WebSocket engines behind this one-shot interface (streaming_recognizer.h,
// StreamingAsOneShot): no partials, the audio is sent when the turn has ended.
std::unique_ptr<Recognizer> make_openai_realtime_stt_oneshot(const RecognizerParams& params);
std::unique_ptr<Recognizer> make_ws_stream_oneshot(const RecognizerParams& params);

class RecognizerRegistry {
 public:
  static RecognizerRegistry with_builtins() {
    RecognizerRegistry r;
    r.add("sphinx", &make_sphinx_recognizer);
    r.add("http", &make_http_recognizer);
    r.add("openai_realtime_stt", &make_openai_realtime_stt_oneshot);
    r.add("ws_stream", &make_ws_stream_oneshot);
    return r;
  }
  void add(const std::string& name, RecognizerFactory factory) {
    factories_[name] = std::move(factory);
  }
  bool has(const std::string& name) const { return factories_.count(name) != 0; }
  // Throws std::invalid_argument for an unknown engine or bad parameters.
  std::unique_ptr<Recognizer> create(const std::string& name,
                                     const RecognizerParams& params = {}) const {
    auto it = factories_.find(name);
    if (it == factories_.end()) {
      std::string known;
      for (const auto& [n, f] : factories_) known += (known.empty() ? "" : ", ") + n;
      throw std::invalid_argument("unknown speech recogniser '" + name + "' (known: " + known +
                                  ")");
    }
    return it->second(params);
  }

 private:
  std::map<std::string, RecognizerFactory> factories_;
};

}  // namespace atende::speech
