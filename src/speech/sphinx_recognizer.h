// Embedded speech recognition with pocketsphinx 0.8 (Debian), grammar mode.
//
// Measured on Debian 12 (docs/stt.md, bench/results/stt.md): pocketsphinx is reliable when
// it listens for a closed set of phrases (JSGF) and poor in free language-model mode, and
// telephone audio does better upsampled to 16 kHz for the 16 kHz en-us model than with
// 8 kHz settings. So:
//  - every request carries the phrases expected at that step; they become a JSGF grammar
//    (speech/grammar.h), compiled once per decoder and cached by phrase list;
//  - 8 kHz input is upsampled to 16 kHz;
//  - noise and silence decode to nothing and come back rejected. Out-of-grammar speech is
//    forced onto the nearest phrase padded with long "silence": the best path's word
//    segmentation shows it and sphinx_rejection.h rejects it (measured: false accepts
//    10/30 -> 4/30, no loss of correct accepts; see docs/stt.md for what else was tried:
//    a filler-word loop, weighted or not, absorbs in-grammar words too; ps_get_prob is
//    always 1 for a grammar search; a language-model second pass costs ~0.5 RTF and is
//    wrong on telephone audio);
//  - what the segmentation lets through is compared with a phone loop (a second search
//    over the same features, context-independent phones, every senone scored so that both
//    are normalised alike): speech that is not the phrase scores much worse than the loop
//    (docs/stt.md "Phone-loop confidence"; the triphone loop costs RTF ~2, unusable);
//  - decoders are expensive (~0.3 s, tens of MB): one per worker thread, made up front.
//
// Config (engine "sphinx"): model_dir, dictionary, lm, free_speech ("off"|"lm"),
// workers (1), max_queued (32), garbage ("on"|"off"), max_audio_seconds (30),
// reject ("on"|"off"), reject_max_gap_seconds (0.5), reject_min_coverage (0.5),
// reject_phone_loop_gap (55, 0 = off), reject_answer_gap (30), reject_answer_margin (6,
// 0 = off), beam (1e-80), wbeam (1e-60), noise_floor (100, 0 = off), extra_words
// ("on"|"off": Portuguese menu/digit words), noise_band ("narrow"|"wide"), noise_seed,
// decode_rate (16000|8000), second_opinion ("off"|"narrow_noise"|"wide_noise"|"8k"), veto
// ("on"|"off"), agree_* (the reject_* thresholds used when the second opinion names the same
// answer), warp and fold (front-end experiments, off: docs/stt.md "Speaker and band
// normalisation").
#pragma once
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "speech/extra_words.h"
#include "speech/grammar.h"
#include "speech/recognizer.h"
#include "speech/sphinx_rejection.h"
#include "speech/turn_verdict.h"

namespace atende::speech {

// What the decoder hears: the caller's audio at `rate` (16000: upsampled for the en-us
// model; 8000: as it came, with an 8 kHz front end on the same model, since Debian's
// pocketsphinx-en-us ships no 8 kHz model), and where the noise floor goes: before
// upsampling (narrow: nothing above 4 kHz, as on the phone line) or after it (wide: the
// empty 4-8 kHz band, which the 16 kHz model's filterbank reads too, gets the floor).
// `seed` starts the noise floor's generator: another seed, another floor (a second opinion
// on the same audio with other noise under it).
struct FrontEnd {
  int rate = 16000;
  bool wide_noise = false;
  uint32_t seed = 12345;
  // Spectral folding (0: off): narrowband audio upsampled to 16 kHz has nothing above 4 kHz,
  // where the 16 kHz model looks for fricatives (/s/, /f/); add the 0-4 kHz band mirrored
  // into 4-8 kHz at this gain, the oldest artificial bandwidth extension.
  double fold = 0;
  bool operator==(const FrontEnd&) const = default;
};

struct SphinxOptions {
  std::string model_dir = "/usr/share/pocketsphinx/model/en-us/en-us";
  std::string dictionary = "/usr/share/pocketsphinx/model/en-us/cmudict-en-us.dict";
  std::string lm = "/usr/share/pocketsphinx/model/en-us/en-us.lm.bin";
  // Free speech (no expected phrases) with the n-gram model: poor, off by default (such a
  // request then fails with a clear error: use the http engine for free speech).
  bool free_speech_lm = false;
  int workers = 1;
  size_t max_queued = 32;
  bool garbage = false;              // filler-word loop in every grammar: see the header comment
  size_t grammars_per_decoder = 64;  // compiled grammars cached per decoder (LRU)
  double max_audio_seconds = 30;     // longer turns are cut (a grammar answer is short)
  // Out-of-grammar rejection (sphinx_rejection.h), with thresholds for audio that has the
  // noise floor below: the decoder then segments differently (less forced <sil>), and these
  // kept false accepts where they were while recognition went up (docs/stt.md).
  // The phone-loop gap (score units per word frame) was calibrated on the same synthetic
  // set: in-grammar answers scored up to 48, out-of-grammar speech mostly 60-350.
  //
  // Retuned with the answer margin (docs/stt.md "Answer margin"), on
  // bench/grammar_cases/tuning.txt and the tuning voices of bench_speech_grammar_accuracy:
  // the margin catches close calls between answers, a turn read through carriers must fit
  // the phone loop a little closer (answer gap 35 -> 30), and a pause before the last word
  // may be longer (0.3 -> 0.5 s) now that these judge the words. A lower phone-loop gap
  // (30) would cut false accepts further but rejects a bare "sales" (gap 45).
  RejectionOptions rejection{.enabled = true,
                             .max_gap_seconds = 0.5,
                             .min_coverage = 0.5,
                             .max_phone_loop_gap = 55,
                             .max_answer_gap = 30,
                             .min_answer_margin = 6};
  // Beams of the grammar search (pocketsphinx -beam/-pbeam and -wbeam; its defaults are
  // 1e-48 and 7e-29). Wider, so that the runner-up search without the winner's answer
  // (speech/answer_margin.h) still reaches the grammar's end; costs decode time.
  std::string beam = "1e-80";
  std::string wbeam = "1e-60";
  // Frequency warp of the front end's filterbank (pocketsphinx -warp_type inverse_linear,
  // -warp_params): "" is none. An experiment in speaker normalisation (docs/stt.md).
  std::string warp;
  // Peak of a deterministic white noise added to the caller's audio (PCM16 units; 0: off).
  // Telephone silence is often digital zero (a G.711 pause decodes to 0), which the
  // acoustic model never saw in training: measured, the decoder then lost or misplaced
  // whole two-word names (7/20 right) and did best with a floor of about +-100 (19/20;
  // docs/stt.md "Two-word names").
  int noise_floor = 100;
  // Teach the decoder the built-in Portuguese menu and digit words (speech/extra_words.h).
  bool extra_words = true;
  FrontEnd front_end;
  // Second opinion (docs/stt.md "Second opinion"): a turn the thresholds above reject, but
  // that passes the looser `agreed` ones, is decoded once more through `second_front_end`;
  // if that names the same answer and passes `agreed` too, it is accepted. Two decodes of
  // differently prepared audio rarely agree by chance on unrelated speech.
  // Off by default: the best rule on the tuning set (bench/grammar_tune.py; the second
  // decode hears the noise floor across the whole 16 kHz band, both decodes must pass the
  // usual thresholds except coverage 0.3 and margin 4) gained 3 right answers of 264 there
  // and, on the held-out voices, 1 of 228 for one more false accept (docs/stt.md "Second
  // opinion"): within the noise of the measurement, and over the false-accept budget.
  bool second_opinion = false;
  FrontEnd second_front_end{.rate = 16000, .wide_noise = true, .seed = 12345};
  RejectionOptions agreed{.enabled = true,
                          .max_gap_seconds = 0.5,
                          .min_coverage = 0.3,
                          .max_phone_loop_gap = 55,
                          .max_answer_gap = 30,
                          .min_answer_margin = 4};
  // With the second opinion: also decode every accepted turn a second time (its grammar
  // search only), and reject it when the second decode reads another answer. Off: on the
  // tuning set it cut one wrong answer of 8 for a second decode of 42 % of the turns.
  bool veto = false;
  // `reject: log`: measure every check and log it, reject only turns with no answer (to
  // calibrate the thresholds on real calls; benches read Recognition::detail).
  bool log_only = false;
};

class SphinxRecognizer : public Recognizer {
 public:
  // Loads the model once per worker. Throws std::runtime_error if it cannot.
  explicit SphinxRecognizer(SphinxOptions options = {});
  // Answers still-queued requests with ok == false (on the worker) and joins.
  ~SphinxRecognizer() override;
  SphinxRecognizer(const SphinxRecognizer&) = delete;
  SphinxRecognizer& operator=(const SphinxRecognizer&) = delete;

  void recognize(RecognitionRequest request, RecognitionCallback done) override;
  bool uses_grammar() const override { return true; }

  // The grammar a request's phrases turn into (cached): lets a flow check at load time
  // which of its phrases the decoder can say.
  std::shared_ptr<const Grammar> grammar_for(const std::vector<std::string>& expected,
                                             const Carriers& carriers = {});
  const PronouncingDictionary& dictionary() const { return *dictionary_; }

 private:
  struct Engine;
  struct Decoder;
  struct Measured;
  struct Job {
    RecognitionRequest request;
    RecognitionCallback done;
    double queued_at;
  };
  void worker(Decoder* decoder);
  Recognition decode(Decoder& d, const RecognitionRequest& request);
  static std::unique_ptr<Engine> make_engine(const SphinxOptions& o, int rate, bool phone_loop,
                                             const std::vector<ExtraWord>& extra);
  Engine& engine_for(Decoder& d, const FrontEnd& front_end);
  bool select_grammar(Engine& e, const Grammar& grammar, std::string& name);
  // The best path score of the turn through every answer but phrase `winner`'s, or none.
  std::optional<int64_t> runner_up_score(Engine& e, const RecognitionRequest& request, int winner,
                                         const std::vector<int16_t>& pcm);
  // One decode of the turn through `front_end`, measured check by check; stops after the
  // first check that both `limits` and `also` (if given) reject, unless `all`.
  Measured measure(Decoder& d, const FrontEnd& front_end, const RecognitionRequest& request,
                   const Grammar& grammar, std::span<const int16_t> audio,
                   const RejectionOptions& limits, const RejectionOptions* also, bool all);

  SphinxOptions options_;
  std::shared_ptr<const PronouncingDictionary> dictionary_;
  std::mutex grammar_mutex_;
  std::unordered_map<std::string, std::shared_ptr<const Grammar>> grammars_;
  std::mutex mutex_;
  std::condition_variable cv_;
  std::deque<Job> queue_;
  bool stopping_ = false;
  std::vector<std::unique_ptr<Decoder>> decoders_;
  std::vector<std::thread> threads_;
};

// Parses engine parameters (strings from the config) into options. Throws
// std::invalid_argument naming the bad key.
SphinxOptions sphinx_options_from(const RecognizerParams& params);

}  // namespace atende::speech
