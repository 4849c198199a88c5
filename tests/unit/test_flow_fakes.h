// Fakes for driving a flow without SIP, speech or threads: a leg that "plays" clips in
// 20 ms steps, a phrase source making tone clips whose length follows the text, a host
// whose post() queue the test runs, and a harness that ticks a fake clock.
#pragma once
#include <cmath>
#include <deque>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "flow/flow_host.h"
#include "flow/flow_library.h"

namespace atende::flow::testing {

// Runs posted work when the test says so (run_all), on the test's thread. Its timers run
// when the harness says (after each frame, as the media worker runs them after the ticks).
class FakeExecutor : public Executor {
 public:
  void post(std::function<void()> fn) override { work.push_back(std::move(fn)); }
  TimerQueue* timers() override { return &timer_queue; }
  TimerQueue timer_queue;
  void run_all() {
    while (!work.empty()) {
      auto batch = std::move(work);
      work.clear();
      for (auto& fn : batch) fn();
    }
  }
  std::vector<std::function<void()>> work;
};

class FakeLeg : public Leg {
 public:
  const LegInfo& info() const override { return info_; }
  Executor& executor() override { return shared_executor ? *shared_executor : executor_; }
  void start() override { started = true; }
  void set_listener(LegListener* l) override { listener = l; }
  int sample_rate() const override { return 8000; }
  void play(ClipPtr clip) override {
    ++calls;
    clips.push_back(clip);
    queued_samples += clip->pcm.size() * 8000 / clip->sample_rate;
  }
  void play_frame(const AudioFrame& frame) override {
    ++calls;
    ++frames_played;
    if (keep_frames) frames.push_back(frame);
  }
  void flush() override {
    ++calls;
    ++flushes;
    queued_samples = 0;
  }
  bool playing() const override { return queued_samples > 0; }
  void send_dtmf(char) override { ++calls; }
  void hangup(std::string_view reason) override {
    ++calls;
    hangups.emplace_back(reason);
    queued_at_hangup.push_back(queued_samples);
  }
  // One 20 ms slot of playout; true when this slot emptied the queue.
  bool advance() {
    if (queued_samples == 0) return false;
    queued_samples -= std::min<size_t>(queued_samples, 160);
    return queued_samples == 0;
  }
  std::vector<std::string> labels() const {
    std::vector<std::string> out;
    for (auto& c : clips) out.push_back(c->label);
    return out;
  }

  std::vector<ClipPtr> clips;
  std::vector<AudioFrame> frames;
  std::vector<std::string> hangups;
  std::vector<size_t> queued_at_hangup;  // what was still to be heard at each hang-up
  size_t queued_samples = 0;
  int flushes = 0;
  int frames_played = 0;
  bool keep_frames = true;  // off in allocation tests: storing frames would allocate
  int calls = 0;            // every call into the leg, to prove silence after a hang-up
  bool started = false;
  LegListener* listener = nullptr;
  LegInfo info_{"leg1", "fake", LegDirection::kInbound, "sip:caller@test", "sip:flow@test"};
  FakeExecutor executor_;
  Executor* shared_executor = nullptr;  // another leg's, as legs of one session share one
};

class FakePhrases : public speech::PhraseSource {
 public:
  // 10 ms of 440 Hz tone per character of text.
  static ClipPtr make_clip(const speech::Phrase& p) {
    auto clip = std::make_shared<Clip>();
    clip->sample_rate = p.sample_rate;
    clip->label = p.text;
    clip->pcm.resize(p.text.size() * p.sample_rate / 100);
    for (size_t i = 0; i < clip->pcm.size(); ++i) {
      clip->pcm[i] = static_cast<int16_t>(8000 * std::sin(2 * M_PI * 440 * i / p.sample_rate));
    }
    return clip;
  }
  ClipPtr cached(const speech::Phrase& p) override {
    auto it = cache.find(key(p));
    return it == cache.end() ? nullptr : it->second;
  }
  void fetch(const speech::Phrase& p, speech::ClipCallback done) override {
    ++fetches;
    pending.emplace_back(p, std::move(done));
  }
  ClipPtr prepare(const speech::Phrase& p) override {
    return cache[key(p)] = fail_all ? nullptr : make_clip(p);
  }
  // Runs the "worker": completes every pending fetch (its callback posts to the host).
  void complete_all() {
    auto work = std::move(pending);
    pending.clear();
    for (auto& [phrase, done] : work) done(fail_all ? nullptr : make_clip(phrase));
  }
  static std::string key(const speech::Phrase& p) {
    return p.voice.name + "|" + std::to_string(p.sample_rate) + "|" + p.text;
  }

  std::map<std::string, ClipPtr> cache;
  std::vector<std::pair<speech::Phrase, speech::ClipCallback>> pending;
  int fetches = 0;
  bool fail_all = false;
};

// A recogniser answering each request with the next scripted text, synchronously (the
// host's post queue still brings the result back "later"). Records what it was asked.
class FakeRecognizer : public speech::Recognizer {
 public:
  void recognize(speech::RecognitionRequest req, speech::RecognitionCallback done) override {
    requests.push_back(req);
    speech::Recognition r;
    r.ok = true;
    r.engine = "fake";
    if (!script.empty()) {
      r.text = script.front();
      script.pop_front();
    }
    r.rejected = r.text.empty();
    if (match && !r.rejected) r.matched = r.text;  // a phrase of the grammar
    done(std::move(r));
  }
  bool uses_grammar() const override { return true; }
  bool match = false;  // answers name the grammar phrase they matched, as sphinx does
  std::deque<std::string> script;
  std::vector<speech::RecognitionRequest> requests;
};

class FakeHost : public FlowHost {
 public:
  FakeHost(FakeLeg& leg, FakePhrases& phrases) : leg_(leg), phrases_(phrases) {}
  Leg& leg() override { return leg_; }
  const CallInfo& call() const override { return info; }
  speech::PhraseSource& phrases() override { return phrases_; }
  speech::Recognizer& recognizer() override { return stt; }
  void post(std::function<void()> fn) override { posted.push_back(std::move(fn)); }
  void record_event(std::string_view kind, std::string_view detail) override {
    events.emplace_back(std::string(kind), std::string(detail));
  }
  // Each change of the call record's digits (the store ignores a rewrite of the same value).
  void record_digits(std::string_view d) override {
    if (digits.empty() || digits.back() != d) digits.emplace_back(d);
  }
  void note_transcript(Speaker who, std::string_view text) override {
    transcript.emplace_back(who, std::string(text));
  }
  std::vector<std::pair<Speaker, std::string>> transcript;
  std::chrono::system_clock::time_point wall_now() const override { return wall; }

  // ---- more legs: every request is recorded; the test decides how each ends, by
  // calling the stored callback (finish_dial, end_child_flow, end_bridge, finish_transfer)
  // when it wants. No threads, no clock.
  struct Dial {
    DialRequest request;
    std::function<void(const DialResult&)> done;
  };
  struct ChildFlow {
    std::string leg_id, flow;
    std::map<std::string, std::string> variables;
    std::function<void(const std::map<std::string, std::string>&, std::string_view)> done;
  };
  struct BridgeCall {
    std::string leg_id;
    bool keep_flow = false;
    std::function<void(std::string_view)> done;
  };
  struct Transfer {
    std::string to;
    std::function<void(int)> done;
  };
  void dial(DialRequest request, std::function<void(const DialResult&)> done) override {
    dials.push_back({std::move(request), std::move(done)});
  }
  bool run_flow_on(const std::string& leg_id, const std::string& flow,
                   std::map<std::string, std::string> variables,
                   std::function<void(const std::map<std::string, std::string>&, std::string_view)>
                       done) override {
    if (!child_flow_ok) return false;
    child_flows.push_back({leg_id, flow, std::move(variables), std::move(done)});
    return true;
  }
  bool bridge(const std::string& leg_id, bool keep_flow,
              std::function<void(std::string_view)> done) override {
    bridges.push_back({leg_id, keep_flow, std::move(done)});
    return bridge_ok;
  }
  void hang_up_leg(const std::string& leg_id) override { hung_up_legs.push_back(leg_id); }
  void transfer(const std::string& to, std::function<void(int)> done) override {
    transfers.push_back({to, std::move(done)});
  }
  void flow_finished(const std::map<std::string, std::string>& slots) override {
    finished_slots.push_back(slots);
  }
  // Ends the latest dial: "answered" gets leg id `leg` (e.g. "leg-2").
  void finish_dial(std::string outcome, int sip_status, std::string leg = "") {
    auto done = std::move(dials.back().done);
    dials.back().done = nullptr;
    if (done) done(DialResult{std::move(outcome), sip_status, std::move(leg), ""});
  }
  void end_child_flow(const std::map<std::string, std::string>& slots,
                      std::string_view ended = "local_bye") {
    auto done = std::move(child_flows.back().done);
    child_flows.back().done = nullptr;
    if (done) done(slots, ended);
  }
  void end_bridge(std::string_view who) {
    auto done = std::move(bridges.back().done);
    bridges.back().done = nullptr;
    if (done) done(who);
  }
  void finish_transfer(int status) {
    auto done = std::move(transfers.back().done);
    transfers.back().done = nullptr;
    if (done) done(status);
  }

  void run_posted() {
    while (!posted.empty()) {
      auto fn = std::move(posted.front());
      posted.pop_front();
      fn();
    }
  }
  int count(std::string_view kind) const {
    int n = 0;
    for (auto& e : events) n += e.first == kind;
    return n;
  }
  bool has(std::string_view kind, std::string_view detail) const {
    for (auto& e : events) {
      if (e.first == kind && e.second == detail) return true;
    }
    return false;
  }

  CallInfo info{"call-1", "sip:alice@127.0.0.1", "sip:ivr@127.0.0.1", "ivr", {}};
  std::deque<std::function<void()>> posted;
  std::vector<std::pair<std::string, std::string>> events;
  std::vector<std::string> digits;
  std::chrono::system_clock::time_point wall{};
  FakeRecognizer stt;
  std::vector<Dial> dials;
  std::vector<ChildFlow> child_flows;
  std::vector<BridgeCall> bridges;
  std::vector<Transfer> transfers;
  std::vector<std::string> hung_up_legs;
  std::vector<std::map<std::string, std::string>> finished_slots;
  bool child_flow_ok = true;  // what run_flow_on answers
  bool bridge_ok = true;      // what bridge answers

 private:
  FakeLeg& leg_;
  FakePhrases& phrases_;
};

// Runs a flow against the fakes on a fake clock, 20 ms per tick.
struct Harness {
  FakeLeg leg;
  FakePhrases phrases;
  FakeHost host{leg, phrases};
  FlowLibrary library;
  std::unique_ptr<Flow> flow;
  MonoTime now{};
  bool caller_hung_up = false;

  // Loads `dir`, prepares every fixed phrase (so prompts are cached) and starts `name`.
  bool start(const std::string& dir, const std::string& name, bool prepare = true) {
    if (!library.load_dir(dir).empty()) return false;
    if (prepare) {
      for (auto& p : library.phrases(leg.sample_rate())) phrases.prepare(p);
    }
    flow = library.create(name, host);
    if (!flow) return false;
    flow->start(now);
    return true;
  }
  // Loads one flow from `yaml` (`file` names it, and tables are found next to it),
  // prepares its fixed phrases and starts it. The loader's errors are kept in `errors`.
  bool start_text(const std::string& yaml, const std::string& file = "test.yaml") {
    LoadResult r = load_flow_text(yaml, file);
    errors = r.error_text();
    if (!r.ok() || !library.add(r.flow).empty()) return false;
    for (auto& p : library.phrases(leg.sample_rate())) phrases.prepare(p);
    flow = library.create(r.flow->name, host);
    if (!flow) return false;
    flow->start(now);
    return true;
  }
  std::string errors;
  bool call_up() const { return leg.hangups.empty() && !caller_hung_up; }
  void tick(const AudioFrame& heard = AudioFrame::silence()) {
    if (!call_up()) return;
    now += Millis(20);
    bool idle = leg.advance();
    host.run_posted();
    if (idle) flow->on_playout_idle(now);
    flow->on_frame(heard, now);
    if (flow) leg.executor().timers()->run_due(now);
  }
  void run_for(Millis d) {
    for (Millis t{0}; t < d && call_up(); t += Millis(20)) tick();
  }
  // Ticks until what is queued now has been heard (and the flow told so), stopping early
  // if the flow queues something new in reaction.
  void play_out() {
    size_t clips_before = leg.clips.size();
    for (int i = 0; i < 100000 && leg.playing() && call_up(); ++i) {
      tick();
      if (leg.clips.size() != clips_before) return;
    }
    tick();
  }
  void press(char d) { flow->on_dtmf(d, now); }
  void press(std::string_view ds) {
    for (char d : ds) press(d);
  }
  void caller_hangup(std::string_view reason) {
    caller_hung_up = true;
    flow->on_hangup(reason);
  }
  std::string last_label() const { return leg.clips.empty() ? "" : leg.clips.back()->label; }
};

inline std::string shipped_flows() { return std::string(ATENDE_SOURCE_DIR) + "/flows"; }
inline std::string example_flows() { return std::string(ATENDE_SOURCE_DIR) + "/flows/examples"; }

}  // namespace atende::flow::testing
