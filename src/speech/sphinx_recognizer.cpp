#include "speech/sphinx_recognizer.h"

#include <pocketsphinx.h>
#include <spdlog/spdlog.h>
#include <sphinxbase/err.h>

#include <algorithm>
#include <chrono>
#include <fstream>
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
void add_noise_floor(std::vector<int16_t>& pcm, int amplitude, uint32_t seed) {
  uint32_t x = seed;
  const uint32_t span = 2 * static_cast<uint32_t>(amplitude) + 1;
  for (int16_t& s : pcm) {
    x = x * 1103515245u + 12345u;
    const int v = s + static_cast<int>((x >> 16) % span) - amplitude;
    s = static_cast<int16_t>(std::clamp(v, -32768, 32767));
  }
}

}  // namespace

// One pocketsphinx decoder with its searches: the grammars (LRU), the phone loop.
struct SphinxRecognizer::Engine {
  ps_decoder_t* ps = nullptr;
  cmd_ln_t* config = nullptr;
  std::list<std::string> grammar_lru;  // search names, most recent first
  bool has_phone_loop = false;
  std::vector<std::string> args;  // the decoder's arguments; `config` points into them

  ~Engine() {
    if (ps) ps_free(ps);
    if (config) cmd_ln_free_r(config);
  }
};

// A worker's decoders: one per decode rate its front ends use (16 kHz always).
struct SphinxRecognizer::Decoder {
  std::unique_ptr<Engine> wide;    // 16 kHz
  std::unique_ptr<Engine> narrow;  // 8 kHz front end, if a front end asks for it
  bool has_lm = false;
};

std::unique_ptr<SphinxRecognizer::Engine> SphinxRecognizer::make_engine(
    const SphinxOptions& o, int rate, bool phone_loop, const std::vector<ExtraWord>& extra) {
  auto e = std::make_unique<Engine>();
  // The phone-loop check (sphinx_rejection.h) needs every senone scored in every frame
  // (-compallsen), so that the grammar pass and the phone loop are normalised alike, and a
  // loop of context-independent phones (-allphone_ci: the triphone loop costs RTF ~2).
  const char* yes_if_loop = phone_loop ? "yes" : "no";
  e->args = {"-hmm",        o.model_dir, "-dict",        o.dictionary, "-logfn", "/dev/null",
             "-compallsen", yes_if_loop, "-allphone_ci", yes_if_loop,  "-beam",  o.beam,
             "-pbeam",      o.beam,      "-wbeam",       o.wbeam};
  if (!o.warp.empty()) {
    for (const char* a : {"-warp_type", "inverse_linear", "-warp_params"}) e->args.emplace_back(a);
    e->args.push_back(o.warp);
  }
  if (rate == 8000) {
    // 8 kHz straight into the 16 kHz model: an 8 kHz FFT and the model's own feature
    // parameters, but a filterbank that stops below the Nyquist frequency (feat.params
    // says 6800 Hz). They are given here and feat.params is not read: pocketsphinx lets
    // the model's file override what the caller set.
    std::ifstream params(o.model_dir + "/feat.params");
    std::string key, value;
    auto known = [](const std::string& k) {  // feat.params may name training-only keys
      for (const arg_t* a = ps_args(); a->name; ++a)
        if (k == a->name) return true;
      return false;
    };
    while (params >> key >> value) {
      if (!known(key)) continue;
      if (key == "-upperf") value = "3500";
      e->args.push_back(key);
      e->args.push_back(value);
    }
    for (const char* a : {"-featparams", "/dev/null", "-samprate", "8000", "-nfft", "256"})
      e->args.emplace_back(a);
  }
  std::vector<char*> argv;
  for (std::string& a : e->args) argv.push_back(a.data());
  e->config =
      cmd_ln_parse_r(nullptr, ps_args(), static_cast<int32>(argv.size()), argv.data(), TRUE);
  if (!e->config) throw std::runtime_error("sphinx: bad model paths " + o.model_dir);
  e->ps = ps_init(e->config);
  if (!e->ps) throw std::runtime_error("sphinx: cannot load model " + o.model_dir);
  for (const ExtraWord& w : extra) {
    const std::string word(w.word), phones(w.phones);
    if (ps_add_word(e->ps, word.c_str(), phones.c_str(), FALSE) < 0)
      throw std::runtime_error("sphinx: cannot add the word " + word);
  }
  if (phone_loop) {
    // No phone language model: every phone may follow every other.
    if (ps_set_allphone(e->ps, kPhoneLoopSearch, nullptr) != 0)
      throw std::runtime_error("sphinx: cannot set up the phone loop");
    e->has_phone_loop = true;
  }
  return e;
}

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
  const auto& r = options_.rejection;
  const bool phone_loop = options_.log_only || (r.enabled && r.max_phone_loop_gap > 0) ||
                          (options_.second_opinion && options_.agreed.enabled &&
                           options_.agreed.max_phone_loop_gap > 0);
  const bool second = options_.second_opinion && !options_.log_only;
  const bool needs_narrow =
      options_.front_end.rate == 8000 || (second && options_.second_front_end.rate == 8000);
  for (int i = 0; i < options_.workers; ++i) {
    auto d = std::make_unique<Decoder>();
    d->wide = make_engine(options_, kModelRate, phone_loop, extra);
    if (needs_narrow) d->narrow = make_engine(options_, 8000, phone_loop, extra);
    if (options_.free_speech_lm) {
      if (ps_set_lm_file(d->wide->ps, kLmSearch, options_.lm.c_str()) != 0)
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
bool SphinxRecognizer::select_grammar(Engine& e, const Grammar& grammar, std::string& name) {
  name = "g" + std::to_string(std::hash<std::string>{}(grammar.key));
  auto it = std::find(e.grammar_lru.begin(), e.grammar_lru.end(), name);
  if (it != e.grammar_lru.end()) {
    e.grammar_lru.splice(e.grammar_lru.begin(), e.grammar_lru, it);
    return true;
  }
  if (ps_set_jsgf_string(e.ps, name.c_str(), grammar.jsgf.c_str()) != 0) return false;
  e.grammar_lru.push_front(name);
  if (e.grammar_lru.size() > options_.grammars_per_decoder) {
    ps_unset_search(e.ps, e.grammar_lru.back().c_str());
    e.grammar_lru.pop_back();
  }
  return true;
}

std::optional<int64_t> SphinxRecognizer::runner_up_score(Engine& e, const RecognitionRequest& req,
                                                         int winner,
                                                         const std::vector<int16_t>& pcm) {
  const auto others = competing_phrases(req.expected, req.answer_of, static_cast<size_t>(winner));
  if (others.empty()) return std::nullopt;
  std::vector<std::string> phrases;
  phrases.reserve(others.size());
  for (size_t i : others) phrases.push_back(req.expected[i]);
  auto grammar = grammar_for(phrases, req.carriers);
  std::string name;
  if (grammar->empty() || !select_grammar(e, *grammar, name)) return std::nullopt;
  Pass p = run_search(e.ps, name.c_str(), pcm);
  // No path through the other answers reached the grammar's end. With pocketsphinx's
  // default beams that happened for 91 of 504 tuning turns (hence the wider beams,
  // SphinxOptions::beam); with them, for a few, mostly unrelated speech (answer_margin).
  if (!p.ok || p.hyp.empty()) return std::nullopt;
  return p.score;
}

SphinxRecognizer::Engine& SphinxRecognizer::engine_for(Decoder& d, const FrontEnd& front_end) {
  return front_end.rate == 8000 && d.narrow ? *d.narrow : *d.wide;
}

namespace {

// The caller's audio as `front_end` hears it: the noise floor (SphinxOptions::noise_floor)
// added before or after converting to the decode rate.
std::vector<int16_t> prepare(std::span<const int16_t> in, int in_rate, const FrontEnd& front_end,
                             int noise_floor) {
  const int rate = front_end.rate == 8000 ? 8000 : kModelRate;
  std::vector<int16_t> pcm(in.begin(), in.end());
  // A fixed seed: the same audio always decodes the same way.
  if (noise_floor > 0 && !front_end.wide_noise) add_noise_floor(pcm, noise_floor, front_end.seed);
  if (in_rate != rate) pcm = audio::Resampler::convert(pcm, in_rate, rate);
  if (front_end.fold > 0 && in_rate * 2 <= rate) {
    // (-1)^n shifts the spectrum by half the sample rate: f -> rate/2 - f.
    for (size_t i = 0; i < pcm.size(); ++i) {
      const double mirrored = (i & 1 ? -1.0 : 1.0) * pcm[i] * front_end.fold;
      pcm[i] = static_cast<int16_t>(std::clamp(pcm[i] + mirrored, -32768.0, 32767.0));
    }
  }
  if (noise_floor > 0 && front_end.wide_noise) add_noise_floor(pcm, noise_floor, front_end.seed);
  return pcm;
}

// `o` with the checks after `stage` turned off (1: segmentation, 2: + phone loop, 3: all).
RejectionOptions up_to(RejectionOptions o, int stage) {
  if (stage < 3) o.min_answer_margin = 0;
  if (stage < 2) o.max_phone_loop_gap = 0, o.max_answer_gap = 0;
  return o;
}

}  // namespace

struct SphinxRecognizer::Measured {
  bool ok = false;
  std::string hyp;
  TurnMeasures m;
};

SphinxRecognizer::Measured SphinxRecognizer::measure(Decoder& d, const FrontEnd& front_end,
                                                     const RecognitionRequest& req,
                                                     const Grammar& grammar,
                                                     std::span<const int16_t> audio,
                                                     const RejectionOptions& limits,
                                                     const RejectionOptions* also, bool all) {
  Measured out;
  Engine& e = engine_for(d, front_end);
  std::string search;
  if (!select_grammar(e, grammar, search)) return out;
  const std::vector<int16_t> pcm = prepare(audio, req.sample_rate, front_end, options_.noise_floor);
  Pass main = run_search(e.ps, search.c_str(), pcm);
  if (!main.ok) return out;
  out.ok = true;
  out.hyp = main.hyp;
  TurnMeasures& m = out.m;
  const Grammar::Reading reading = grammar.read(main.hyp);
  m.phrase = reading.phrase;
  m.carriers = reading.words_before > 0 || reading.words_after > 0;
  const RejectionVerdict seg = judge_segments(main.segments, RejectionOptions{.enabled = false});
  m.has_words = std::any_of(main.segments.begin(), main.segments.end(),
                            [](const SphinxSegment& s) { return !is_filler_word(s.word); });
  m.max_gap_seconds = seg.max_gap_seconds;
  m.coverage = seg.coverage;
  // Both sets of thresholds reject what is measured so far: later checks cannot help.
  auto hopeless = [&](int stage) {
    if (all) return false;
    if (judge_turn(m, up_to(limits, stage)).accept) return false;
    return !also || !judge_turn(m, up_to(*also, stage)).accept;
  };
  auto wanted = [&](auto on) { return all || on(limits) || (also && on(*also)); };
  if (m.phrase < 0 || hopeless(1)) return out;
  if (e.has_phone_loop &&
      wanted([](const RejectionOptions& o) { return o.enabled && o.max_phone_loop_gap > 0; })) {
    // Same features, second search. With -compallsen for both, the turn costs RTF ~0.065
    // instead of ~0.013 (docs/stt.md "Cost").
    Pass loop = run_search(e.ps, kPhoneLoopSearch, pcm);
    if (!loop.ok) {
      spdlog::warn("sphinx: the phone-loop pass failed");
      return out;
    }
    const RejectionOptions none{.enabled = false};
    m.phone_loop_gap = judge_phone_loop(main.segments, loop.ascr, none).phone_loop_gap;
    if (m.carriers) {
      // Carriers let the decoder explain other speech with words it knows, so a turn read
      // through them must fit better: the answer's own frames against the loop.
      const RejectionVerdict a = judge_answer(main.segments, loop.segments, reading.words_before,
                                              reading.words_after, none);
      if (a.phone_loop_gap != 0) m.answer_gap = a.phone_loop_gap;
    }
    if (hopeless(2)) return out;
  }
  m.competitors =
      !competing_phrases(req.expected, req.answer_of, static_cast<size_t>(m.phrase)).empty();
  const int frames = answer_frames(main.segments, reading.words_before, reading.words_after);
  if (frames <= 0) m.competitors = false;  // nothing to compare per frame
  if (m.competitors &&
      wanted([](const RejectionOptions& o) { return o.enabled && o.min_answer_margin > 0; })) {
    // Last, because it costs a third search: only for turns every other check accepted,
    // and only when another answer exists.
    const auto runner_up = runner_up_score(e, req, m.phrase, pcm);
    m.margin_measured = true;
    m.margin = answer_margin(main.score, runner_up, frames);
  }
  return out;
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

  if (req.expected.empty()) {
    if (!d.has_lm) {
      r.error = "sphinx: free speech needs expected phrases (or the http engine)";
      return r;
    }
    Pass lm =
        run_search(d.wide->ps, kLmSearch, prepare(span, req.sample_rate, {}, options_.noise_floor));
    if (!lm.ok) {
      r.error = "sphinx: decoding failed";
      return r;
    }
    r.ok = true;
    r.text = lm.hyp;
    r.confidence = 1;
    r.rejected = r.text.empty();
    return r;
  }
  auto grammar = grammar_for(req.expected, req.carriers);
  if (grammar->empty()) {
    r.error = "sphinx: none of the expected phrases can be pronounced (not in the dictionary)";
    return r;
  }
  const RejectionOptions& strict = options_.rejection;
  const bool second = options_.second_opinion && !options_.log_only;
  const RejectionOptions* agreed = second ? &options_.agreed : nullptr;
  const Measured first =
      measure(d, options_.front_end, req, *grammar, span, strict, agreed, options_.log_only);
  if (!first.ok) {
    r.error = "sphinx: decoding failed";
    return r;
  }
  r.ok = true;
  r.text = first.hyp;
  TurnVerdict verdict = judge_turn(first.m, strict);
  r.detail = describe(first.m);
  const auto answer = [&](int phrase) {
    return answer_id(req.expected, req.answer_of, static_cast<size_t>(phrase));
  };
  if (second && first.m.phrase >= 0 &&
      (verdict.accept ? options_.veto : judge_turn(first.m, *agreed).accept)) {
    // A second decode of differently prepared audio: a close call both decodes name the
    // same answer is taken with the looser thresholds; with the veto, an accepted answer
    // the second decode reads as another is asked again.
    // The veto needs only the second decode's reading: its grammar search alone.
    const RejectionOptions reading_only{.enabled = false};
    const Measured other = measure(d, options_.second_front_end, req, *grammar, span,
                                   verdict.accept ? reading_only : *agreed, nullptr, false);
    const bool same =
        other.ok && other.m.phrase >= 0 && answer(other.m.phrase) == answer(first.m.phrase);
    r.detail += "; second: " + (other.ok ? describe(other.m) : std::string("failed"));
    if (verdict.accept && other.ok && other.m.phrase >= 0 && !same) {
      verdict = {false, "the second opinion reads another answer"};
    } else if (!verdict.accept && same && judge_turn(other.m, *agreed).accept) {
      verdict = {true, ""};
      r.detail += "; accepted: the second opinion agrees";
    }
  }
  if (options_.log_only) {
    if (!verdict.accept) r.detail += "; would reject: " + verdict.reason;
    verdict.accept = first.m.phrase >= 0;
  }
  if (verdict.accept) {
    r.matched_index = first.m.phrase;
    r.matched = req.expected[static_cast<size_t>(first.m.phrase)];
    r.confidence = static_cast<float>(std::min(1.0, first.m.coverage));
  } else {
    r.rejected = true;
    if (!verdict.reason.empty()) r.detail += "; rejected: " + verdict.reason;
  }
  spdlog::debug("sphinx: tag={} hyp='{}' rejected={} {}", req.tag, r.text, r.rejected, r.detail);
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
        if (value != "on" && value != "off" && value != "log") throw std::invalid_argument("");
        o.rejection.enabled = value != "off";
        o.log_only = value == "log";
      } else if (key == "beam" || key == "wbeam") {
        const double b = std::stod(value);  // a probability ratio: 1e-80
        if (!(b > 0 && b < 1)) throw std::invalid_argument("");
        (key == "beam" ? o.beam : o.wbeam) = value;
      } else if (key.rfind("reject_", 0) == 0 || key.rfind("agree_", 0) == 0) {
        const bool agree = key[0] == 'a';
        RejectionOptions& r = agree ? o.agreed : o.rejection;
        const std::string check = key.substr(agree ? 6 : 7);
        const double v = std::stod(value);
        if (check == "max_gap_seconds")
          r.max_gap_seconds = v;
        else if (check == "min_coverage")
          r.min_coverage = v;
        else if (check == "phone_loop_gap")
          r.max_phone_loop_gap = v;
        else if (check == "answer_gap")
          r.max_answer_gap = v;
        else if (check == "answer_margin")
          r.min_answer_margin = v;
        else
          throw std::invalid_argument("sphinx: unknown parameter '" + key + "'");
        if (!(v >= 0 && v <= 10000)) throw std::invalid_argument("");
      } else if (key == "fold") {
        o.front_end.fold = std::stod(value);
        if (!(o.front_end.fold >= 0 && o.front_end.fold <= 1)) throw std::invalid_argument("");
      } else if (key == "warp") {
        const double w = std::stod(value);
        if (!(w >= 0.7 && w <= 1.3)) throw std::invalid_argument("");
        o.warp = value;
      } else if (key == "noise_band") {
        if (value != "narrow" && value != "wide") throw std::invalid_argument("");
        o.front_end.wide_noise = value == "wide";
      } else if (key == "second_opinion") {
        if (value != "off" && value != "narrow_noise" && value != "wide_noise" && value != "8k")
          throw std::invalid_argument("");
        o.second_opinion = value != "off";
        o.second_front_end = {.rate = value == "8k" ? 8000 : 16000,
                              .wide_noise = value == "wide_noise"};
      } else if (key == "noise_seed") {
        const unsigned long seed = std::stoul(value);
        if (seed > 0xffffffffUL) throw std::invalid_argument("");
        o.front_end.seed = static_cast<uint32_t>(seed);
      } else if (key == "decode_rate") {
        if (value != "16000" && value != "8000") throw std::invalid_argument("");
        o.front_end.rate = std::stoi(value);
      } else if (key == "veto") {
        if (value != "on" && value != "off") throw std::invalid_argument("");
        o.veto = value == "on";
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
  o.agreed.enabled = o.rejection.enabled;
  // The second decode's noise floor: the first's seed, or another one when the two front
  // ends are otherwise the same (the same audio would decode the same way twice).
  FrontEnd same = o.second_front_end;
  same.seed = o.front_end.seed;
  o.second_front_end.seed =
      same == o.front_end ? (o.front_end.seed == 54321u ? 12345u : 54321u) : o.front_end.seed;
  return o;
}

std::unique_ptr<Recognizer> make_sphinx_recognizer(const RecognizerParams& params) {
  return std::make_unique<SphinxRecognizer>(sphinx_options_from(params));
}

}  // namespace atende::speech
