#include "speech/sphinx_streaming.h"

#include <pocketsphinx.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <list>

#include "audio/resampler.h"
#include "speech/extra_words.h"

namespace atende::speech {

namespace {
constexpr int kModelRate = 16000;
constexpr auto kStep = std::chrono::milliseconds(20);
constexpr size_t kGrammarsCached = 16;
// A partial is decoded after every this much new audio, while the utterance is shorter
// than kMaxPartialSeconds (each pass decodes the utterance so far: the cost grows with
// its square, bounded here).
constexpr int kPartialEveryMs = 250;
constexpr double kMaxPartialSeconds = 8;
}  // namespace

// The partial decoder: one pocketsphinx instance, its grammar searches (LRU).
struct SphinxStreaming::Partial {
  ps_decoder_t* ps = nullptr;
  cmd_ln_t* config = nullptr;
  std::list<std::string> searches;  // most recent first
  bool busy = false;

  ~Partial() {
    if (ps) ps_free(ps);
    if (config) cmd_ln_free_r(config);
  }
};

// A stream the partial thread serves.
struct SphinxStreaming::Active {
  std::shared_ptr<StreamCore> core;
  std::vector<int16_t> utterance;  // all of it, for the final (reserved at adoption)
  size_t capacity = 0;
  bool has_decoder = false;
  std::unique_ptr<audio::Resampler> up;  // to 16 kHz, when the stream's rate differs
  std::vector<int16_t> in, model;        // per-step buffers
  std::vector<int16_t> heard;            // the utterance so far at 16 kHz, noise floor added
  size_t decoded = 0;                    // heard.size() at the last partial pass
  std::string search;                    // the grammar's search name on the decoder
  uint32_t noise = 12345;                // the noise floor's LCG state
  std::string last;
};

SphinxStreaming::SphinxStreaming(std::shared_ptr<SphinxRecognizer> finals, SphinxOptions options,
                                 bool partials)
    : finals_(std::move(finals)), options_(std::move(options)) {
  if (partials) {
    decoder_ = std::make_unique<Partial>();
    decoder_->config =
        cmd_ln_init(nullptr, ps_args(), TRUE, "-hmm", options_.model_dir.c_str(), "-dict",
                    options_.dictionary.c_str(), "-logfn", "/dev/null", nullptr);
    if (!decoder_->config)
      throw std::runtime_error("sphinx: bad model paths " + options_.model_dir);
    decoder_->ps = ps_init(decoder_->config);
    if (!decoder_->ps) throw std::runtime_error("sphinx: cannot load model " + options_.model_dir);
    if (options_.extra_words) {
      for (const ExtraWord& w : builtin_extra_words()) {
        const std::string word(w.word), phones(w.phones);
        if (char* known = ps_lookup_word(decoder_->ps, word.c_str())) {
          std::free(known);
          continue;
        }
        ps_add_word(decoder_->ps, word.c_str(), phones.c_str(), FALSE);
      }
    }
  }
  thread_ = std::thread([this] { run(); });
}

SphinxStreaming::~SphinxStreaming() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  thread_.join();
  auto end = [](const std::shared_ptr<StreamCore>& core) {
    Recognition r;
    r.error = "sphinx: shutting down";
    core->final(std::move(r), "sphinx");
  };
  for (auto& c : incoming_) end(c);
  for (auto& a : active_) end(a->core);
}

uint64_t SphinxStreaming::partials_given() const {
  std::lock_guard lock(mu_);
  return partials_given_;
}

std::unique_ptr<RecognitionStream> SphinxStreaming::start(StreamRequest request,
                                                          StreamHandlers handlers) {
  if (request.sample_rate < 8000 || request.sample_rate > 48000) {
    return failed_stream(handlers, "sphinx", "sphinx: unsupported sample rate");
  }
  if (request.expected.empty()) {
    return failed_stream(handlers, "sphinx",
                         "sphinx: free speech needs expected phrases (or a cloud engine)");
  }
  const auto capacity = static_cast<size_t>(options_.max_audio_seconds * request.sample_rate);
  auto core = std::make_shared<StreamCore>(std::move(request), std::move(handlers), capacity);
  {
    std::lock_guard lock(mu_);
    incoming_.push_back(core);
  }
  cv_.notify_one();
  return std::make_unique<CoreStream>(core);
}

void SphinxStreaming::run() {
  std::vector<std::shared_ptr<StreamCore>> adopted;
  for (;;) {
    {
      std::unique_lock lock(mu_);
      cv_.wait_for(lock, kStep, [this] { return stopping_ || !incoming_.empty(); });
      if (stopping_) return;
      adopted.swap(incoming_);
    }
    for (auto& core : adopted) {
      auto a = std::make_unique<Active>();
      a->capacity = core->request().sample_rate * static_cast<size_t>(options_.max_audio_seconds);
      a->utterance.reserve(a->capacity);
      a->in.resize(static_cast<size_t>(core->request().sample_rate) / 10);  // 100 ms per pop
      if (core->request().sample_rate != kModelRate) {
        a->up = std::make_unique<audio::Resampler>(core->request().sample_rate, kModelRate);
        a->model.resize(a->up->max_output(a->in.size()));
      }
      a->core = std::move(core);
      // The decoder goes to the first stream that finds it free.
      if (decoder_ && !decoder_->busy) {
        auto grammar =
            finals_->grammar_for(a->core->request().expected, a->core->request().carriers);
        if (!grammar->empty()) {
          const std::string name = "p" + std::to_string(std::hash<std::string>{}(grammar->key));
          auto& s = decoder_->searches;
          auto it = std::find(s.begin(), s.end(), name);
          bool ok = true;
          if (it != s.end()) {
            s.splice(s.begin(), s, it);
          } else if (ps_set_jsgf_string(decoder_->ps, name.c_str(), grammar->jsgf.c_str()) == 0) {
            s.push_front(name);
            if (s.size() > kGrammarsCached) {
              ps_unset_search(decoder_->ps, s.back().c_str());
              s.pop_back();
            }
          } else {
            ok = false;
          }
          if (ok) {
            decoder_->busy = true;
            a->has_decoder = true;
            a->search = name;
            a->heard.reserve(static_cast<size_t>(kMaxPartialSeconds * kModelRate));
          }
        }
      }
      active_.push_back(std::move(a));
    }
    adopted.clear();
    for (auto& a : active_) step(*a);
    std::erase_if(active_, [](const auto& a) { return a->core == nullptr; });
  }
}

void SphinxStreaming::step(Active& a) {
  StreamCore& core = *a.core;
  if (core.cancel_requested() || core.ended()) {
    release_decoder(a);
    core.final_cancelled("sphinx");
    a.core = nullptr;
    return;
  }
  for (;;) {
    const size_t n = core.pop(a.in.data(), a.in.size());
    if (n == 0) break;
    const size_t keep = std::min(n, a.capacity - a.utterance.size());
    a.utterance.insert(a.utterance.end(), a.in.begin(), a.in.begin() + keep);
    if (a.has_decoder) feed(a, {a.in.data(), n});
  }
  if (a.has_decoder && a.heard.size() - a.decoded >= kModelRate / 1000 * kPartialEveryMs) {
    decode_partial(a);
  }
  if (core.finish_requested() && core.queued() == 0) finish(a);
}

void SphinxStreaming::feed(Active& a, std::span<const int16_t> pcm) {
  // The same deterministic noise floor as the one-shot engine (sphinx_recognizer.h).
  if (options_.noise_floor > 0) {
    const uint32_t span = 2 * static_cast<uint32_t>(options_.noise_floor) + 1;
    for (size_t i = 0; i < pcm.size(); ++i) {
      a.noise = a.noise * 1103515245u + 12345u;
      const int v = pcm[i] + static_cast<int>((a.noise >> 16) % span) - options_.noise_floor;
      a.in[i] = static_cast<int16_t>(std::clamp(v, -32768, 32767));
    }
    pcm = {a.in.data(), pcm.size()};
  }
  if (a.up) {
    const auto r = a.up->process(pcm, a.model);
    pcm = {a.model.data(), r.written};
  }
  const size_t room = a.heard.capacity() - a.heard.size();
  a.heard.insert(a.heard.end(), pcm.begin(), pcm.begin() + std::min(room, pcm.size()));
}

void SphinxStreaming::decode_partial(Active& a) {
  // The whole utterance so far, as one batch (full_utt: cepstral means from all of it, as
  // the final's decode has): live normalisation was measured to give no hypothesis at all
  // for the first utterances after start-up.
  a.decoded = a.heard.size();
  ps_decoder_t* ps = decoder_->ps;
  if (ps_set_search(ps, a.search.c_str()) != 0 || ps_start_utt(ps) < 0) return release_decoder(a);
  const int rc = ps_process_raw(ps, a.heard.data(), a.heard.size(), FALSE, TRUE);
  ps_end_utt(ps);
  if (rc < 0) {
    spdlog::warn("sphinx: partial decoding failed; no more partials for tag={}",
                 a.core->request().tag);
    return release_decoder(a);
  }
  if (a.heard.size() == a.heard.capacity()) release_decoder(a);  // long enough: final only
  int32 score = 0;
  const char* hyp = ps_get_hyp(ps, &score);
  if (!hyp || !*hyp || a.last == hyp) return;
  a.last = hyp;
  {
    std::lock_guard lock(mu_);
    ++partials_given_;
  }
  a.core->partial(a.last);
}

void SphinxStreaming::finish(Active& a) {
  release_decoder(a);
  const auto& req = a.core->request();
  RecognitionRequest r{.pcm = std::make_shared<const std::vector<int16_t>>(std::move(a.utterance)),
                       .sample_rate = req.sample_rate,
                       .expected = req.expected,
                       .language = req.language,
                       .tag = req.tag,
                       .carriers = req.carriers,
                       .answer_of = req.answer_of};
  finals_->recognize(std::move(r), [core = a.core](Recognition result) {
    core->final(std::move(result), "sphinx");
  });
  a.core = nullptr;
}

void SphinxStreaming::release_decoder(Active& a) {
  if (!a.has_decoder) return;
  decoder_->busy = false;
  a.has_decoder = false;
}

std::unique_ptr<StreamingRecognizer> make_sphinx_streaming(const RecognizerParams& params) {
  RecognizerParams rest = params;
  bool partials = true;
  if (auto it = rest.find("partials"); it != rest.end()) {
    if (it->second != "on" && it->second != "off")
      throw std::invalid_argument("sphinx: partials must be on or off");
    partials = it->second == "on";
    rest.erase(it);
  }
  SphinxOptions options = sphinx_options_from(rest);
  auto finals = std::make_shared<SphinxRecognizer>(options);
  return std::make_unique<SphinxStreaming>(std::move(finals), std::move(options), partials);
}

}  // namespace atende::speech
