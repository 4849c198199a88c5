#include "agent/answer_voice.h"

#include <spdlog/spdlog.h>

#include <algorithm>

namespace atende::agent {

namespace {
// Streamed sentences synthesised at once per call: the one playing and the next.
constexpr size_t kMaxStreams = 2;
}  // namespace

AnswerVoice::AnswerVoice(flow::FlowHost& host, AnswerVoiceSettings settings,
                         speech::PhraseSource* tts, speech::StreamingTts* stream_tts,
                         AnswerVoiceEvents& events)
    : host_(host),
      leg_(host.leg()),
      settings_(std::move(settings)),
      tts_(tts),
      stream_tts_(stream_tts),
      events_(events),
      token_(host),
      played_(leg_.sample_rate()) {}

AnswerVoice::~AnswerVoice() {
  token_.cancel();
  for (auto& p : pending_) {
    if (p.tts) p.tts->cancel();
  }
}

template <class Arg, class Fn>
std::function<void(Arg)> AnswerVoice::back_on_media(Fn fn) {
  return token_.bind<Arg>([this, fn](Arg arg) mutable { fn(this, std::move(arg)); });
}

MonoTime AnswerVoice::now() const { return settings_.clock ? settings_.clock() : MonoClock::now(); }

speech::PhraseSource& AnswerVoice::phrases(bool embedded) {
  return tts_ && !embedded ? *tts_ : host_.phrases();
}

AnswerVoice::Pending* AnswerVoice::at(size_t slot) {
  if (slot < pending_base_ || slot >= pending_base_ + pending_.size()) return nullptr;
  return &pending_[slot - pending_base_];
}

void AnswerVoice::say(Sentence s, MonoTime now) {
  if (s.text.empty()) return;
  const int rate = leg_.sample_rate();
  if (!s.stream || !stream_tts_ || s.embedded ||
      phrases(false).cached({s.text, settings_.voice, rate})) {
    return say_clip(std::move(s));
  }
  StreamedSentenceLimits limits;
  limits.max_samples = size_t(rate) * 60;
  limits.low_water_samples = size_t(rate) * 2 / 5;  // 400 ms
  Pending p;
  p.stream = std::make_shared<StreamedSentence>(s.text, rate, limits);
  p.sentence = std::move(s);
  pending_.push_back(std::move(p));
  start_streams();
}

void AnswerVoice::say_clip(Sentence s) {
  speech::PhraseSource& tts = phrases(s.embedded);
  speech::Phrase phrase{s.text, settings_.voice, leg_.sample_rate()};
  const size_t slot = pending_base_ + pending_.size();
  Pending p;
  p.sentence = std::move(s);
  pending_.push_back(std::move(p));
  if (ClipPtr clip = tts.cached(phrase)) {
    on_clip(slot, std::move(clip));
    return;
  }
  ++requests_;
  tts.fetch(phrase, back_on_media<ClipPtr>([slot](AnswerVoice* self, ClipPtr clip) {
              self->on_clip(slot, std::move(clip));
            }));
}

// Starts the streams of the first sentences in speaking order, at most kMaxStreams at once:
// enough to have the next sentence ready when one ends, without a burst of requests per
// answer.
void AnswerVoice::start_streams() {
  size_t running = 0;
  for (size_t i = 0; i < pending_.size(); ++i) {
    Pending& p = pending_[i];
    if (!p.stream || p.stream->finished()) continue;
    if (p.tts) {
      ++running;
      continue;
    }
    if (running >= kMaxStreams) break;
    ++running;
    ++requests_;
    const size_t slot = pending_base_ + i;
    auto audio =
        back_on_media<std::vector<int16_t>>([slot](AnswerVoice* self, std::vector<int16_t> pcm) {
          self->on_stream_audio(slot, std::move(pcm));
        });
    auto done = back_on_media<speech::TtsResult>([slot](AnswerVoice* self, speech::TtsResult r) {
      self->on_stream_done(slot, std::move(r));
    });
    p.tts = stream_tts_->speak(
        {p.sentence.text, settings_.voice, leg_.sample_rate()},
        [audio](std::span<const int16_t> pcm) {
          audio(std::vector<int16_t>(pcm.begin(), pcm.end()));
        },
        [done](const speech::TtsResult& r) { done(r); });
  }
}

void AnswerVoice::on_stream_audio(size_t slot, std::vector<int16_t> pcm) {
  Pending* p = at(slot);
  if (!p || !p->stream || pcm.empty()) return;
  if (!p->stream->append(pcm) && p->tts) p->tts->cancel();  // over the bound: the rest is cut
  const MonoTime t = now();
  if (p->sentence.answer) events_.on_answer_audio(t);
  if (slot == pending_base_) pump(t);
}

void AnswerVoice::on_stream_done(size_t slot, speech::TtsResult result) {
  Pending* p = at(slot);
  if (!p || !p->stream) return;
  p->stream->finish(result.ok ? "" : (result.error.empty() ? "failed" : result.error));
  start_streams();
  pump(now());
}

void AnswerVoice::on_clip(size_t slot, ClipPtr clip) {
  Pending* p = at(slot);
  if (!p) return;
  p->clip = std::move(clip);
  p->ready = true;
  const MonoTime t = now();
  if (p->sentence.answer && p->clip) events_.on_answer_audio(t);
  pump(t);
}

void AnswerVoice::drop() {
  for (auto& p : pending_) {
    if (p.tts) p.tts->cancel();
  }
  token_.cancel();  // a clip already on its way back is dropped too
  token_ = AnswerToken(host_);
  pending_base_ += pending_.size();
  pending_.clear();
  starved_since_.reset();
  ++drops_;
}

bool AnswerVoice::has_audio() const {
  return std::any_of(pending_.begin(), pending_.end(), [](const Pending& p) {
    return (p.ready && p.clip) || (p.stream && p.stream->buffered() > 0);
  });
}

void AnswerVoice::count_played(size_t samples) {
  if (leg_.playing()) played_.advance(samples);
}

void AnswerVoice::tick(MonoTime now) { watch_stream(now); }

// Every frame: hands buffered audio of the streamed sentence at the head to the leg, and
// reports when it leaves the caller in silence too long (the provider stalled).
void AnswerVoice::watch_stream(MonoTime now) {
  if (held_) return;  // held, not stalled: nothing plays before the turn ends
  if (pending_.empty() || !pending_.front().stream) {
    starved_since_.reset();
    return;
  }
  pump(now);
  if (pending_.empty() || !pending_.front().stream) {
    starved_since_.reset();
    return;
  }
  const Pending& head = pending_.front();
  const StreamedSentence& s = *head.stream;
  if (leg_.playing() || s.buffered() > 0 || s.finished()) {
    starved_since_.reset();
    return;
  }
  if (!starved_since_) {
    starved_since_ = now;
  } else if (now - *starved_since_ >= settings_.stall_timeout) {
    starved_since_.reset();
    events_.on_voice_error({VoiceError::Kind::kStalled,
                            "no audio for " + std::to_string(settings_.stall_timeout.count()) +
                                " ms (\"" + s.text().substr(0, 60) + "\")",
                            head.queued_any},
                           now);
  }
}

// Plays the ready sentences at the head of the queue, in order; of a streamed sentence,
// what has arrived (StreamedSentence decides when the next piece goes).
void AnswerVoice::pump(MonoTime now) {
  if (held_) return;  // a speculative answer waits for the end of the turn
  const size_t drops = drops_;
  while (!pending_.empty()) {
    Pending& head = pending_.front();
    if (head.stream) {
      const size_t on_leg = leg_.playing() ? played_.total_samples() - played_.played_samples() : 0;
      if (ClipPtr piece = head.stream->take(on_leg)) {
        const size_t samples = piece->pcm.size();
        leg_.play(std::move(piece));
        const bool first = !head.queued_any;
        const size_t part = played_.parts();
        if (first) {
          host_.note_transcript(Speaker::kAgent, head.sentence.text);
          played_.queued(head.sentence.text, samples);
          head.queued_any = true;
        } else {
          played_.extend(samples);
        }
        events_.on_sentence_queued(head.sentence, first, part, now);
        if (drops_ != drops) return;
      }
      if (!head.stream->drained()) break;
      Pending p = std::move(head);
      pending_.pop_front();
      ++pending_base_;
      start_streams();
      if (const std::string& error = p.stream->error(); !error.empty()) {
        spdlog::warn("call={} agent: streamed speech of \"{}\": {}", host_.call().id,
                     p.sentence.text, error);
        events_.on_voice_error({VoiceError::Kind::kStreamFailed, error, p.queued_any}, now);
        if (drops_ != drops) return;
      }
      continue;
    }
    if (!head.ready) break;
    Pending p = std::move(head);
    pending_.pop_front();
    ++pending_base_;
    if (!p.clip || p.clip->pcm.empty()) {
      spdlog::warn("call={} agent: no audio for \"{}\"", host_.call().id, p.sentence.text);
      events_.on_voice_error({VoiceError::Kind::kClipFailed, "synthesis failed"}, now);
      if (drops_ != drops) return;
      continue;
    }
    const size_t samples =
        p.clip->pcm.size() * size_t(leg_.sample_rate()) / size_t(std::max(1, p.clip->sample_rate));
    leg_.play(p.clip);
    const size_t part = played_.parts();
    host_.note_transcript(Speaker::kAgent, p.sentence.text);
    played_.queued(p.sentence.text, samples);
    events_.on_sentence_queued(p.sentence, true, part, now);
    if (drops_ != drops) return;
  }
  events_.on_voice_drained(now);
}

}  // namespace atende::agent
