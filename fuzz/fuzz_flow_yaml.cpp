// Any bytes as a flow file: must load or report errors, never crash, hang or leak. A flow
// that does load is also run for a few simulated seconds with fake digits, so engine paths
// reachable from a valid file get fuzzed too.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "flow/flow_loader.h"
#include "flow/scripted_flow.h"

namespace {

using namespace atende;

// Runs posted work at once (the fuzzer drives one flow on one thread).
class InlineExecutor : public Executor {
 public:
  void post(std::function<void()> fn) override { fn(); }
};

class NullLeg : public Leg {
 public:
  const LegInfo& info() const override { return info_; }
  Executor& executor() override { return executor_; }
  void start() override {}
  void set_listener(LegListener*) override {}
  int sample_rate() const override { return 8000; }
  void play(ClipPtr clip) override { queued_ += clip->pcm.size(); }
  void play_frame(const AudioFrame&) override {}
  void flush() override { queued_ = 0; }
  bool playing() const override { return queued_ > 0; }
  void send_dtmf(char) override {}
  void hangup(std::string_view) override { hung_up = true; }
  bool advance() {
    if (queued_ == 0) return false;
    queued_ -= queued_ < 160 ? queued_ : 160;
    return queued_ == 0;
  }
  bool hung_up = false;

 private:
  size_t queued_ = 0;
  LegInfo info_{"fuzz", "fuzz", LegDirection::kInbound, "sip:caller@fuzz", "sip:flow@fuzz"};
  InlineExecutor executor_;
};

class ToneSource : public speech::PhraseSource {
 public:
  // Odd-length texts miss the cache, so the fetch path runs too, with the callback on the
  // caller's thread and the host posting inline: the re-entrant worst case.
  ClipPtr cached(const speech::Phrase& p) override {
    return p.text.size() % 2 ? nullptr : prepare(p);
  }
  void fetch(const speech::Phrase& p, speech::ClipCallback done) override { done(prepare(p)); }
  ClipPtr prepare(const speech::Phrase& p) override {
    auto clip = std::make_shared<Clip>();
    clip->pcm.resize(p.text.size() * 8);  // 1 ms per character
    return clip;
  }
};

class Host : public flow::FlowHost {
 public:
  Leg& leg() override { return leg_; }
  const flow::CallInfo& call() const override { return info_; }
  speech::PhraseSource& phrases() override { return phrases_; }
  void post(std::function<void()> fn) override { fn(); }
  void record_event(std::string_view, std::string_view) override {}
  void record_digits(std::string_view) override {}
  NullLeg leg_;

 private:
  ToneSource phrases_;
  flow::CallInfo info_;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  flow::LoadResult r = flow::load_flow_text(text, "fuzz.yaml");
  if (!r.ok()) return 0;
  Host host;
  flow::ScriptedFlow f(r.flow, host);
  MonoTime now{};
  f.start(now);
  static constexpr char kDigits[] = "0123456789*#ABCD";
  for (int tick = 0; tick < 3000 && !host.leg_.hung_up; ++tick) {
    now += Millis(20);
    if (host.leg_.advance()) f.on_playout_idle(now);
    f.on_frame(AudioFrame::silence(), now);
    if (tick % 37 == 5) f.on_dtmf(kDigits[(tick / 37 + size) % 16], now);
  }
  return 0;
}
