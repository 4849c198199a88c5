// ScriptedFlow: the capture step (record what the caller says, e.g. their name, to play it
// back in a sentence: "{visitor_name:audio} is at the gate") and the spoken texts that
// hold such recordings. A capture listens as ask does (VAD, end of turn, barge-in on the
// prompt) but nothing is recognised: the utterance, trimmed of its silence and cut to
// max_length, is kept with the host (session-wide) under `into`.
#include <algorithm>
#include <cmath>

#include "flow/scripted_flow.h"
#include "flow/spoken_number.h"
#include "flow/template_text.h"

namespace atende::flow {

namespace {

// [first, last) samples of `pcm` that hold speech: windows of 10 ms louder than a tenth of
// the loudest one (and than a floor for line noise), with 60 ms kept on either side so
// the first and last sounds are not clipped. Empty when nothing is loud enough.
std::pair<size_t, size_t> speech_bounds(std::span<const int16_t> pcm, int rate) {
  const size_t window = static_cast<size_t>(std::max(rate / 100, 1));
  const size_t n = pcm.size() / window;
  if (n == 0) return {0, 0};
  auto rms = [&](size_t w) {
    double sum = 0;
    for (size_t i = w * window; i < (w + 1) * window; ++i) sum += double(pcm[i]) * pcm[i];
    return std::sqrt(sum / double(window));
  };
  double peak = 0;
  for (size_t w = 0; w < n; ++w) peak = std::max(peak, rms(w));
  constexpr double kFloor = 120.0;  // about -49 dBFS
  const double threshold = std::max(peak * 0.1, kFloor);
  if (peak < threshold) return {0, 0};
  size_t first = 0, last = n - 1;
  while (first < n && rms(first) < threshold) ++first;
  while (last > first && rms(last) < threshold) --last;
  const size_t pad = 6;  // windows: 60 ms
  size_t from = (first > pad ? first - pad : 0) * window;
  size_t to = std::min(n, last + 1 + pad) * window;
  return {from, to};
}

}  // namespace

bool ScriptedFlow::capture_full() const {
  if (!listener_->speaking()) return false;
  const auto limit = static_cast<size_t>(listener_->sample_rate()) *
                     static_cast<size_t>(step().max_length.count()) / 1000;
  // The pre-roll before the speech is not counted: it is trimmed away.
  const size_t pre_roll = static_cast<size_t>(listener_->sample_rate()) / 5;
  return listener_->utterance().size() >= limit + pre_roll;
}

void ScriptedFlow::capture_turn(MonoTime now) {
  const StepSpec& s = step();
  const int rate = listener_->sample_rate();
  auto pcm = listener_->utterance();
  auto [from, to] = speech_bounds(pcm, rate);
  const size_t limit = static_cast<size_t>(rate) * static_cast<size_t>(s.max_length.count()) / 1000;
  to = std::min(to, from + limit);
  if (to <= from) {
    listener_->reset();
    return retry("no_input", s.no_input, now);  // a turn without a sound loud enough
  }
  auto clip = std::make_shared<Clip>();
  clip->sample_rate = rate;
  clip->label = "(recorded " + s.into + ")";
  clip->pcm.assign(pcm.begin() + static_cast<std::ptrdiff_t>(from),
                   pcm.begin() + static_cast<std::ptrdiff_t>(to));
  listener_->reset();
  const long ms = static_cast<long>(clip->pcm.size() * 1000 / static_cast<size_t>(rate));
  host_.keep_clip(s.into, std::move(clip));
  host_.record_event("captured", s.into + " " + std::to_string(ms) + "ms");
  store(s.into, "(recorded)");
  enter(s.next, now);
}

std::vector<PromptPiece> ScriptedFlow::spoken_pieces() const {
  const StepSpec& s = step();
  std::vector<PromptPiece> out;
  if (!s.uses_variables) {
    out.push_back({s.text, nullptr});
    return out;
  }
  // A recording that is not there (the caller's capture step was not reached, or the
  // parent did not record one) reads as these words, so the sentence still makes sense.
  const std::string_view missing =
      language_of_voice(spec_->voice.name) == Language::kPortuguese ? "um visitante" : "a visitor";
  std::string pending;  // template text up to the next clip
  auto flush = [&] {
    std::string text = fill_spoken(pending);
    pending.clear();
    // A piece after a recording may start with the sentence's punctuation: not spoken.
    size_t a = text.find_first_not_of(" \t\n,.;:!?");
    if (a == std::string::npos) return;
    size_t b = text.find_last_not_of(" \t\n");
    out.push_back({text.substr(a, b - a + 1), nullptr});
  };
  for (const TemplatePart& part : split_clip_placeholders(s.text)) {
    if (!part.clip) {
      pending += part.text;
    } else if (ClipPtr c = host_.clip(part.text)) {
      flush();
      out.push_back({part.text, std::move(c)});
    } else {
      pending += missing;
    }
  }
  flush();
  return out;
}

}  // namespace atende::flow
