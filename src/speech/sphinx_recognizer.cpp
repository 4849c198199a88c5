#include "speech/sphinx_recognizer.h"

#include <pocketsphinx.h>
#include <spdlog/spdlog.h>
#include <sphinxbase/err.h>

#include <algorithm>
#include <chrono>
#include <list>

#include "audio/resampler.h"
#include "speech/answer_margin.h"
#include "speech/extra_words.h"

namespace atende::speech {
namespace {

constexpr const char* kLmSearch = "lm";
constexpr const char* kPhoneLoopSearch = "phone_loop";
constexpr int kModelRate = 16000;  // the en-us acoustic model

double now_seconds() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

// pocketsphinx and sphinxbase log every step to stderr by default; the library-wide log
// target is global, so silence it once for the process.
void silence_sphinx_logging() {
  static std::once_flag once;
  std::call_once(once, [] { err_set_logfp(nullptr); });
}

// Uniform white noise of peak `amplitude`, from a fixed-seed LCG (no shared RNG state:
// decoders run on several threads).
void add_noise_floor(std::vector<int16_t>& pcm, int amplitude) {
  uint32_t x = 12345;
  const uint32_t span = 2 * static_cast<uint32_t>(amplitude) + 1;
  for (int16_t& s : pcm) {
    x = x * 1103515245u + 12345u;
    const int v = s + static_cast<int>((x >> 16) % span) - amplitude;
    s = static_cast<int16_t>(std::clamp(v, -32768, 32767));
  }
}

}  // namespace

struct SphinxRecognizer::Decoder {
  ps_decoder_t* ps = nullptr;
  cmd_ln_t* config = nullptr;
  std::list<std::string> grammar_lru;  // search names, most recent first
  bool has_lm = false;
  bool has_phone_loop = false;

  ~Decoder() {
    if (ps) ps_free(ps);
    if (config) cmd_ln_free_r(config);
  }
};

SphinxRecognizer::SphinxRecognizer(SphinxOptions options) : options_(std::move(options)) {
  silence_sphinx_logging();
  if (options_.workers < 1 || options_.workers > 16)
    throw std::invalid_argument("sphinx: workers must be 1..16");
  auto dictionary = PronouncingDictionary::load(options_.dictionary);
  std::vector<ExtraWord> extra;  // those the file lacks
  if (options_.extra_words) {
    for (const ExtraWord& w : builtin_extra_words()) {
      if (!dictionary.contains(w.word)) extra.push_back(w), dictionary.add(w.word);
    }
  }
  dictionary_ = std::make_shared<const PronouncingDictionary>(std::move(dictionary));
  // The phone-loop check (sphinx_rejection.h) needs every senone scored in every frame
  // (-compallsen), so that the grammar pass and the phone loop are normalised alike, and a
  // loop of context-independent phones (-allphone_ci: the triphone loop costs RTF ~2).
  const bool phone_loop = options_.rejection.enabled && options_.rejection.max_phone_loop_gap > 0;
  const char* yes_if_loop = phone_loop ? "yes" : "no";
  for (int i = 0; i < options_.workers; ++i) {
    auto d = std::make_unique<Decoder>();
    d->config =
        cmd_ln_init(nullptr, ps_args(), TRUE, "-hmm", options_.model_dir.c_str(), "-dict",
                    options_.dictionary.c_str(), "-logfn", "/dev/null", "-compallsen", yes_if_loop,
                    "-allphone_ci", yes_if_loop, "-beam", options_.beam.c_str(), "-pbeam",
                    options_.beam.c_str(), "-wbeam", options_.wbeam.c_str(), nullptr);
    if (!d->config) throw std::runtime_error("sphinx: bad model paths " + options_.model_dir);
    d->ps = ps_init(d->config);
    if (!d->ps) throw std::runtime_error("sphinx: cannot load model " + options_.model_dir);
    for (const ExtraWord& w : extra) {
      const std::string word(w.word), phones(w.phones);
      if (ps_add_word(d->ps, word.c_str(), phones.c_str(), FALSE) < 0)
        throw std::runtime_error("sphinx: cannot add the word " + word);
    }
    if (phone_loop) {
      // No phone language model: every phone may follow every other.
      if (ps_set_allphone(d->ps, kPhoneLoopSearch, nullptr) != 0)
        throw std::runtime_error("sphinx: cannot set up the phone loop");
      d->has_phone_loop = true;
    }
    if (options_.free_speech_lm) {
      if (ps_set_lm_file(d->ps, kLmSearch, options_.lm.c_str()) != 0)
        throw std::runtime_error("sphinx: cannot load language model " + options_.lm);
      d->has_lm = true;
    }
    decoders_.push_back(std::move(d));
  }
  for (auto& d : decoders_) threads_.emplace_back([this, p = d.get()] { worker(p); });
}

SphinxRecognizer::~SphinxRecognizer() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  cv_.notify_all();
  for (auto& t : threads_) t.join();
}

void SphinxRecognizer::recognize(RecognitionRequest request, RecognitionCallback done) {
  {
    std::lock_guard lock(mutex_);
    if (!stopping_ && queue_.size() < options_.max_queued) {
      queue_.push_back({std::move(request), std::move(done), now_seconds()});
      cv_.notify_one();
      return;
    }
  }
  Recognition r;
  r.engine = "sphinx";
  r.error = "sphinx: busy (queue full)";
  done(std::move(r));
}

std::shared_ptr<const Grammar> SphinxRecognizer::grammar_for(
    const std::vector<std::string>& expected, const Carriers& carriers) {
  auto g =
      std::make_shared<Grammar>(build_grammar(expected, *dictionary_, options_.garbage, carriers));
  std::lock_guard lock(grammar_mutex_);
  auto [it, inserted] = grammars_.try_emplace(g->key, g);
  if (inserted) {
    for (const auto& p : g->dropped)
      spdlog::warn("sphinx: phrase '{}' dropped from the grammar: a word is not in the dictionary",
                   p);
    if (grammars_.size() > 4 * options_.grammars_per_decoder) {
      // Many distinct phrase lists (e.g. per-call data): start over rather than grow.
      grammars_.clear();
      grammars_.emplace(g->key, g);
    }
  }
  return it != grammars_.end() && !inserted ? it->second : g;
}

void SphinxRecognizer::worker(Decoder* decoder) {
  for (;;) {
    Job job;
    {
      std::unique_lock lock(mutex_);
      cv_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
      if (queue_.empty()) return;
      job = std::move(queue_.front());
      queue_.pop_front();
      if (stopping_) {
        lock.unlock();
        Recognition r;
        r.engine = "sphinx";
        r.error = "sphinx: shutting down";
        job.done(std::move(r));
        continue;
      }
    }
    Recognition r;
    try {
      r = decode(*decoder, job.request);
    } catch (const std::exception& e) {
      r = {};
      r.error = std::string("sphinx: ") + e.what();
    }
    r.engine = "sphinx";
    r.processing_seconds = now_seconds() - job.queued_at;
    job.done(std::move(r));
  }
}

namespace {

// Runs one search over the whole utterance; returns the hypothesis (may be "") and its
// path score, the number of frames decoded and the best path's segments.
struct Pass {
  std::string hyp;
  std::vector<SphinxSegment> segments;  // the first 256
  int64_t ascr = 0;                     // acoustic score of the whole path
  int32 score = 0;
  int frames = 0;
  bool ok = false;
};

Pass run_search(ps_decoder_t* ps, const char* search, const std::vector<int16_t>& pcm) {
  Pass p;
  if (ps_set_search(ps, search) != 0) return p;
  if (ps_start_utt(ps) < 0) return p;
  // full_utt = TRUE: the whole turn is here, so cepstral mean normalisation uses all of it.
  if (ps_process_raw(ps, pcm.data(), pcm.size(), FALSE, TRUE) < 0) {
    ps_end_utt(ps);
    return p;
  }
  ps_end_utt(ps);
  const char* hyp = ps_get_hyp(ps, &p.score);
  p.hyp = hyp ? hyp : "";
  p.frames = ps_get_n_frames(ps);
  // The word segmentation of the best path: what out-of-grammar rejection judges.
  for (ps_seg_t* it = ps_seg_iter(ps); it; it = ps_seg_next(it)) {
    int sf = 0, ef = 0;
    int32 ascr = 0, lscr = 0, lback = 0;
    ps_seg_frames(it, &sf, &ef);
    ps_seg_prob(it, &ascr, &lscr, &lback);
    p.ascr += ascr;
    const char* word = ps_seg_word(it);
    if (p.segments.size() < 256) p.segments.push_back({word ? word : "", ef - sf + 1, ascr, sf});
  }
  p.ok = true;
  return p;
}

}  // namespace

// Makes `grammar` a search of the decoder (compiled once, kept in an LRU) and names it.
bool SphinxRecognizer::select_grammar(Decoder& d, const Grammar& grammar, std::string& name) {
  name = "g" + std::to_string(std::hash<std::string>{}(grammar.key));
  auto it = std::find(d.grammar_lru.begin(), d.grammar_lru.end(), name);
  if (it != d.grammar_lru.end()) {
    d.grammar_lru.splice(d.grammar_lru.begin(), d.grammar_lru, it);
    return true;
  }
  if (ps_set_jsgf_string(d.ps, name.c_str(), grammar.jsgf.c_str()) != 0) return false;
  d.grammar_lru.push_front(name);
  if (d.grammar_lru.size() > options_.grammars_per_decoder) {
    ps_unset_search(d.ps, d.grammar_lru.back().c_str());
    d.grammar_lru.pop_back();
  }
  return true;
}

std::optional<int64_t> SphinxRecognizer::runner_up_score(Decoder& d, const RecognitionRequest& req,
                                                         int winner,
                                                         const std::vector<int16_t>& pcm) {
  const auto others = competing_phrases(req.expected, req.answer_of, static_cast<size_t>(winner));
  if (others.empty()) return std::nullopt;
  std::vector<std::string> phrases;
  phrases.reserve(others.size());
  for (size_t i : others) phrases.push_back(req.expected[i]);
  auto grammar = grammar_for(phrases, req.carriers);
  std::string name;
  if (grammar->empty() || !select_grammar(d, *grammar, name)) return std::nullopt;
  Pass p = run_search(d.ps, name.c_str(), pcm);
  // No path through the other answers reached the grammar's end. With pocketsphinx's
  // default beams that happened for 91 of 504 tuning turns (hence the wider beams,
  // SphinxOptions::beam); with them, for a few, mostly unrelated speech (judge_margin).
  if (!p.ok || p.hyp.empty()) return std::nullopt;
  return p.score;
}

Recognition SphinxRecognizer::decode(Decoder& d, const RecognitionRequest& req) {
  Recognition r;
  if (!req.pcm || req.sample_rate < 8000 || req.sample_rate > 48000) {
    r.error = "sphinx: no audio or unsupported sample rate";
    return r;
  }
  const auto& in = *req.pcm;
  const size_t max_in = static_cast<size_t>(options_.max_audio_seconds * req.sample_rate);
  std::span<const int16_t> span(in.data(), std::min(in.size(), max_in));
  r.audio_seconds = static_cast<double>(span.size()) / req.sample_rate;
  std::vector<int16_t> pcm;
  if (options_.noise_floor > 0) {
    // A fixed seed: the same audio always decodes the same way.
    std::vector<int16_t> noisy(span.begin(), span.end());
    add_noise_floor(noisy, options_.noise_floor);
    pcm = req.sample_rate == kModelRate
              ? std::move(noisy)
              : audio::Resampler::convert(noisy, req.sample_rate, kModelRate);
  } else {
    pcm = req.sample_rate == kModelRate
              ? std::vector<int16_t>(span.begin(), span.end())
              : audio::Resampler::convert(span, req.sample_rate, kModelRate);
  }

  std::shared_ptr<const Grammar> grammar;
  const char* search = nullptr;
  std::string search_name;
  if (req.expected.empty()) {
    if (!d.has_lm) {
      r.error = "sphinx: free speech needs expected phrases (or the http engine)";
      return r;
    }
    search = kLmSearch;
  } else {
    grammar = grammar_for(req.expected, req.carriers);
    if (grammar->empty()) {
      r.error = "sphinx: none of the expected phrases can be pronounced (not in the dictionary)";
      return r;
    }
    if (!select_grammar(d, *grammar, search_name)) {
      r.error = "sphinx: the grammar did not compile";
      return r;
    }
    search = search_name.c_str();
  }

  Pass main = run_search(d.ps, search, pcm);
  if (!main.ok) {
    r.error = "sphinx: decoding failed";
    return r;
  }
  r.ok = true;
  r.text = main.hyp;
  r.confidence = 1;
  Grammar::Reading reading;
  if (grammar) {
    reading = grammar->read(main.hyp);
    r.matched_index = reading.phrase;
    if (r.matched_index >= 0) r.matched = req.expected[static_cast<size_t>(r.matched_index)];
    if (r.matched_index < 0) r.rejected = true;
  }
  if (r.text.empty()) r.rejected = true;
  std::string why;
  if (grammar && !r.rejected) {
    const RejectionVerdict v = judge_segments(main.segments, options_.rejection);
    r.confidence = static_cast<float>(std::min(1.0, v.coverage));
    why = fmt::format("silence {:.2f} s, coverage {:.2f}", v.max_gap_seconds, v.coverage);
    if (v.reject) {
      r.rejected = true;
      why = v.reason;
    }
  }
  if (grammar && !r.rejected && d.has_phone_loop) {
    // Same features, second search. With -compallsen for both, the turn costs RTF ~0.065
    // instead of ~0.013 (docs/stt.md "Cost").
    Pass loop = run_search(d.ps, kPhoneLoopSearch, pcm);
    if (!loop.ok) {
      spdlog::warn("sphinx: the phone-loop pass failed; keeping the grammar's answer");
    } else {
      const RejectionVerdict v = judge_phone_loop(main.segments, loop.ascr, options_.rejection);
      why += v.reason.empty() ? fmt::format(", phone-loop gap {:.0f}", v.phone_loop_gap)
                              : ", " + v.reason;
      if (v.reject) r.rejected = true;
      if (!r.rejected && (reading.words_before || reading.words_after)) {
        // Carriers let the decoder explain other speech with words it knows, so a turn
        // read through them must fit better: both gaps under the answer threshold.
        RejectionOptions strict = options_.rejection;
        strict.max_phone_loop_gap = strict.max_answer_gap;
        const RejectionVerdict a = judge_answer(main.segments, loop.segments, reading.words_before,
                                                reading.words_after, strict);
        const RejectionVerdict whole = judge_phone_loop(main.segments, loop.ascr, strict);
        why += a.reason.empty() ? fmt::format(", answer gap {:.0f}", a.phone_loop_gap)
                                : ", " + a.reason;
        if (a.reject || whole.reject) r.rejected = true;
      }
    }
  }
  if (grammar && !r.rejected && options_.rejection.enabled &&
      options_.rejection.min_answer_margin > 0) {
    // Last, because it costs a third search: only for turns every other check accepted,
    // and only when another answer exists.
    const bool others =
        !competing_phrases(req.expected, req.answer_of, static_cast<size_t>(reading.phrase))
             .empty();
    const auto runner_up = others ? runner_up_score(d, req, reading.phrase, pcm) : std::nullopt;
    const MarginVerdict m =
        !others
            ? MarginVerdict{}
            : judge_margin(main.score, runner_up,
                           answer_frames(main.segments, reading.words_before, reading.words_after),
                           options_.rejection.min_answer_margin);
    why += m.reject ? ", " + m.reason : fmt::format(", margin {:.1f}", m.margin);
    if (m.reject) r.rejected = true;
  }
  if (r.rejected) {
    r.confidence = 0;
    r.matched.clear();
    r.matched_index = -1;
  }
  spdlog::debug("sphinx: tag={} hyp='{}' rejected={} {}", req.tag, r.text, r.rejected, why);
  return r;
}

SphinxOptions sphinx_options_from(const RecognizerParams& params) {
  SphinxOptions o;
  for (const auto& [key, value] : params) {
    try {
      if (key == "model_dir")
        o.model_dir = value;
      else if (key == "dictionary")
        o.dictionary = value;
      else if (key == "lm")
        o.lm = value;
      else if (key == "free_speech") {
        if (value != "off" && value != "lm") throw std::invalid_argument("");
        o.free_speech_lm = value == "lm";
      } else if (key == "workers")
        o.workers = std::stoi(value);
      else if (key == "max_queued")
        o.max_queued = std::stoul(value);
      else if (key == "garbage") {
        if (value != "on" && value != "off") throw std::invalid_argument("");
        o.garbage = value == "on";
      } else if (key == "reject") {
        if (value != "on" && value != "off") throw std::invalid_argument("");
        o.rejection.enabled = value == "on";
      } else if (key == "reject_max_gap_seconds")
        o.rejection.max_gap_seconds = std::stod(value);
      else if (key == "reject_min_coverage")
        o.rejection.min_coverage = std::stod(value);
      else if (key == "reject_answer_gap") {
        o.rejection.max_answer_gap = std::stod(value);
        if (!(o.rejection.max_answer_gap >= 0 && o.rejection.max_answer_gap <= 10000))
          throw std::invalid_argument("");
      } else if (key == "beam" || key == "wbeam") {
        const double b = std::stod(value);  // a probability ratio: 1e-80
        if (!(b > 0 && b < 1)) throw std::invalid_argument("");
        (key == "beam" ? o.beam : o.wbeam) = value;
      } else if (key == "reject_answer_margin") {
        o.rejection.min_answer_margin = std::stod(value);
        if (!(o.rejection.min_answer_margin >= 0 && o.rejection.min_answer_margin <= 10000))
          throw std::invalid_argument("");
      } else if (key == "reject_phone_loop_gap") {
        o.rejection.max_phone_loop_gap = std::stod(value);
        if (!(o.rejection.max_phone_loop_gap >= 0 && o.rejection.max_phone_loop_gap <= 10000))
          throw std::invalid_argument("");
      } else if (key == "noise_floor") {
        o.noise_floor = std::stoi(value);
        if (o.noise_floor < 0 || o.noise_floor > 2000) throw std::invalid_argument("");
      } else if (key == "extra_words") {
        if (value != "on" && value != "off") throw std::invalid_argument("");
        o.extra_words = value == "on";
      } else if (key == "max_audio_seconds")
        o.max_audio_seconds = std::stod(value);
      else
        throw std::invalid_argument("sphinx: unknown parameter '" + key + "'");
    } catch (const std::invalid_argument& e) {
      if (std::string(e.what()).rfind("sphinx:", 0) == 0) throw;
      throw std::invalid_argument("sphinx: bad value '" + value + "' for " + key);
    } catch (const std::out_of_range&) {
      throw std::invalid_argument("sphinx: bad value '" + value + "' for " + key);
    }
  }
  return o;
}

std::unique_ptr<Recognizer> make_sphinx_recognizer(const RecognizerParams& params) {
  return std::make_unique<SphinxRecognizer>(sphinx_options_from(params));
}

}  // namespace atende::speech
