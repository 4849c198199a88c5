// The agent loop's test fixture: a fake leg and clock, a scripted recogniser, tone
// "speech", a host whose post() queue the test drains, and the real ChatClient talking to
// tests/fake_openai (the one fake of the agent tests). Shared by test_agent_loop*.cpp.
#pragma once
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>

#include "agent/agent_loop.h"
#include "agent/agent_phrases.h"
#include "test_flow_fakes.h"
#include "test_level_vad.h"
#include "test_llm_fake_openai.h"

namespace atende::agent {
namespace {

using flow::testing::FakeLeg;
using flow::testing::FakePhrases;
// Loud frames are speech: the tests decide what the caller says, not a model.
using atende::testing::LevelVad;
using atende::testing::tone_frame;

// Every phrase is "cached": a tone clip 10 ms per character, ready at once.
class InstantPhrases : public FakePhrases {
 public:
  ClipPtr cached(const speech::Phrase& p) override { return make_clip(p); }
};

// Answers every request at once with the next scripted text ("" when none left).
class ScriptedStt : public speech::Recognizer {
 public:
  void recognize(speech::RecognitionRequest req, speech::RecognitionCallback done) override {
    ++requests;
    last_samples = req.pcm ? req.pcm->size() : 0;
    speech::Recognition r;
    r.ok = !fail;
    r.error = fail ? "boom" : "";
    r.engine = "scripted";
    // The same utterance heard again with more of it (a speculative or barge-in request,
    // then the final one) says the same: one scripted text per utterance.
    const bool same = repeat_same_utterance && req.pcm && !last_pcm.empty() &&
                      req.pcm->size() >= last_pcm.size() &&
                      std::equal(last_pcm.begin(), last_pcm.end(), req.pcm->begin());
    if (same) {
      r.text = last_text;
    } else if (!texts.empty()) {
      r.text = texts.front();
      texts.erase(texts.begin());
    }
    if (req.pcm) last_pcm = *req.pcm;
    last_text = r.text;
    done(std::move(r));
  }
  std::vector<int16_t> last_pcm;
  std::string last_text;
  bool repeat_same_utterance = true;  // false: every request takes the next text
  bool uses_grammar() const override { return false; }
  std::vector<std::string> texts;
  int requests = 0;
  size_t last_samples = 0;
  bool fail = false;
};

// post() is called from the HTTP thread: a locked queue the test drains.
class Host : public flow::FlowHost {
 public:
  Host(FakeLeg& leg, FakePhrases& phrases) : leg_(leg), phrases_(phrases) {}
  Leg& leg() override { return leg_; }
  const flow::CallInfo& call() const override { return info_; }
  speech::PhraseSource& phrases() override { return phrases_; }
  void post(std::function<void()> fn) override {
    std::lock_guard lock(mu_);
    posted_.push_back(std::move(fn));
  }
  void record_event(std::string_view kind, std::string_view detail) override {
    events.emplace_back(std::string(kind), std::string(detail));
  }
  void record_digits(std::string_view) override {}
  void note_transcript(Speaker who, std::string_view text) override {
    transcript.emplace_back(who, std::string(text));
  }
  std::vector<std::pair<Speaker, std::string>> transcript;
  size_t run_posted() {
    std::deque<std::function<void()>> work;
    {
      std::lock_guard lock(mu_);
      work.swap(posted_);
    }
    for (auto& fn : work) fn();
    return work.size();
  }
  bool has(std::string_view kind) const {
    for (auto& e : events) {
      if (e.first == kind) return true;
    }
    return false;
  }
  std::vector<std::pair<std::string, std::string>> events;

  // Multi-leg requests, answered by the test: complete_dial() runs the dial's callback.
  void dial(flow::DialRequest r, std::function<void(const flow::DialResult&)> done) override {
    dials.push_back(r.to);
    dial_done = std::move(done);
  }
  void complete_dial(flow::DialResult r) {
    auto done = std::move(dial_done);
    dial_done = nullptr;
    if (done) done(r);
  }
  bool bridge(const std::string& leg_id, bool keep_flow,
              std::function<void(std::string_view)>) override {
    bridged.push_back(leg_id);
    return bridge_ok;
  }
  void hang_up_leg(const std::string& leg_id) override { hung_up_legs.push_back(leg_id); }
  void transfer(const std::string& to, std::function<void(int)> done) override {
    transfers.push_back(to);
    transfer_done = std::move(done);
  }
  std::vector<std::string> dials, bridged, hung_up_legs, transfers;
  std::function<void(const flow::DialResult&)> dial_done;
  std::function<void(int)> transfer_done;
  bool bridge_ok = true;

 private:
  FakeLeg& leg_;
  FakePhrases& phrases_;
  flow::CallInfo info_{"call-1", "sip:alice@127.0.0.1", "sip:bot@127.0.0.1", "bot"};
  std::mutex mu_;
  std::deque<std::function<void()>> posted_;
};

struct AgentTest : ::testing::Test {
  testing::FakeOpenAi fake;
  net::HttpClient http;
  llm::ChatClient chat{http, [this] {
                         llm::ChatClientOptions o;
                         o.base_url = fake.base_url();
                         o.model = "test-model";
                         o.api_key = "k";
                         o.max_retries = 0;
                         return o;
                       }()};
  FakeLeg leg;
  InstantPhrases phrases;
  Host host{leg, phrases};
  ScriptedStt stt;
  MonoTime now{};
  std::vector<AgentTurn> turns;
  std::unique_ptr<AgentLoop> agent;
  speech::StreamingTts* stream_tts = nullptr;         // set before start() to stream answers
  speech::PhraseSource* tts = nullptr;                // set before start(): the persona's phrases
  llm::HttpToolRunner* tool_runner = nullptr;         // set before start() to run HTTP tools
  speech::StreamingRecognizer* stream_stt = nullptr;  // set before start(): words as spoken
  std::vector<SpeculationReport> reports;             // every speculation, used or wasted

  AgentSettings settings() {
    AgentSettings s;
    s.name = "tester";
    s.system_prompt = "You are a test.";
    s.greeting = "Hello.";
    s.tools = llm::builtin_tools();
    return s;
  }
  void start(AgentSettings s, bool with_chat = true) {
    AgentEngines e;
    e.stt = &stt;
    e.chat = with_chat ? &chat : nullptr;
    e.stream_tts = stream_tts;
    e.tts = tts;
    e.tools = tool_runner;
    e.stream_stt = stream_stt;
    e.on_speculation = [this](const SpeculationReport& r) { reports.push_back(r); };
    e.make_vad = [](int) { return std::make_unique<LevelVad>(); };
    e.on_turn = [this](const AgentTurn& t) { turns.push_back(t); };
    e.clock = [this] { return now; };
    agent = std::make_unique<AgentLoop>(host, std::move(s), std::move(e));
    agent->start(now);
  }
  bool up() const { return leg.hangups.empty(); }
  std::string last_label() const { return leg.clips.empty() ? "" : leg.clips.back()->label; }
  void tick(const AudioFrame& heard = AudioFrame::silence()) {
    if (!up()) return;
    now += Millis(20);
    bool idle = leg.advance();
    host.run_posted();
    if (idle) agent->on_playout_idle(now);
    agent->on_frame(heard, now);
    leg.executor().timers()->run_due(now);  // as the media worker: after the frame
  }
  void ticks(int n, const AudioFrame& heard = AudioFrame::silence()) {
    for (int i = 0; i < n; ++i) tick(heard);
  }
  // Real time passes (the HTTP thread works), the fake clock does not: no timed assertion.
  bool wait_for(const std::function<bool()>& pred) {
    for (int i = 0; i < 20000; ++i) {
      host.run_posted();
      if (pred()) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    return false;
  }
  void play_out() {
    for (int i = 0; i < 5000 && leg.playing() && up(); ++i) tick();
    tick();
  }
  int used() const {
    return int(std::count_if(reports.begin(), reports.end(), [](auto& r) { return r.used; }));
  }
  int wasted() const { return int(reports.size()) - used(); }
  // Silent frames until the agent leaves kListening (the turn ended): how many it took.
  int frames_until_turn_ends(int limit = 200) {
    for (int i = 1; i <= limit; ++i) {
      tick();
      host.run_posted();
      if (agent->state() != AgentLoop::State::kListening) return i;
    }
    return -1;
  }
  // Frames of caller speech until the answer is flushed (-1: it never was).
  int frames_until_flushed(int frames) {
    for (int i = 1; i <= frames; ++i) {
      tick(tone_frame());
      host.run_posted();
      if (leg.flushes > 0) return i;
    }
    return -1;
  }
  // The caller says something (tone) and then is silent long enough to end the turn.
  void say(int ms = 600) {
    ticks(ms / 20, tone_frame());
    ticks(40);
  }
};

}  // namespace
}  // namespace atende::agent
