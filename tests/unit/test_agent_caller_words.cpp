// The agent with a streaming recogniser (agent/caller_words.h): the caller's words arrive
// while they speak, end the turn sooner, start the speculative answer without a request,
// and decide barge-in; the final transcript is the turn's. Fake clock: frame counts only.
#include "test_agent_loop_fixture.h"

namespace atende::agent {
namespace {

// A streaming recogniser run by a script per stream: partials once enough audio was
// pushed, the final at finish(). Calls back on the pushing thread (the agent posts them).
speech::Recognition failure(std::string why) {
  speech::Recognition r;
  r.error = std::move(why);
  return r;
}

class ScriptedStreams : public speech::StreamingRecognizer {
 public:
  struct Script {
    std::vector<std::pair<int, std::string>> partials;  // (ms of audio pushed, hypothesis)
    std::string final_text;
    bool refuse = false;  // the connection fails at once
  };
  std::deque<Script> scripts;
  int started = 0, finished = 0, cancelled = 0;

  std::unique_ptr<speech::RecognitionStream> start(speech::StreamRequest request,
                                                   speech::StreamHandlers handlers) override {
    ++started;
    Script script = scripts.empty() ? Script{} : scripts.front();
    if (!scripts.empty()) scripts.pop_front();
    auto stream = std::make_unique<Stream>(*this, std::move(script), std::move(handlers),
                                           request.sample_rate);
    if (stream->script.refuse) stream->end(failure("connection refused"));
    return stream;
  }
  bool uses_grammar() const override { return false; }
  const char* name() const override { return "scripted_stream"; }

 private:
  struct Stream : speech::RecognitionStream {
    Stream(ScriptedStreams& owner, Script s, speech::StreamHandlers h, int rate)
        : owner(owner), script(std::move(s)), handlers(std::move(h)), rate(rate) {}
    ~Stream() override { cancel(); }
    void push(std::span<const int16_t> pcm) override {
      if (ended) return;
      samples += pcm.size();
      while (next < script.partials.size() &&
             samples * 1000 >= size_t(script.partials[next].first) * size_t(rate)) {
        handlers.on_partial(script.partials[next++].second);
      }
    }
    void finish() override {
      if (ended) return;
      ++owner.finished;
      speech::Recognition r;
      r.ok = true;
      r.text = script.final_text;
      end(std::move(r));
    }
    void cancel() override {
      if (ended) return;
      ++owner.cancelled;
      speech::Recognition r = failure("cancelled");
      r.cancelled = true;
      end(std::move(r));
    }
    uint64_t dropped_samples() const override { return 0; }
    void end(speech::Recognition r) {
      ended = true;
      handlers.on_final(std::move(r));
    }
    ScriptedStreams& owner;
    Script script;
    speech::StreamHandlers handlers;
    int rate;
    size_t samples = 0;
    size_t next = 0;
    bool ended = false;
  };
};

// About 3.3 s as the fake leg plays it (10 ms a character): longer than the caller's
// 1.6 s over it.
const std::string kLongAnswer =
    "Our menu today has many dishes. There is soup and there is fish and there is a very "
    "long list of desserts that I will now read to you one by one, slowly and carefully, "
    "starting with the chocolate cake, then the lemon tart, then the apple pie and the "
    "rice pudding, and finally the ice cream in seven flavours.";

struct CallerWordsTest : AgentTest {
  ScriptedStreams streams;

  void start_streaming() {
    stream_stt = &streams;
    start(settings());
  }
};

TEST_F(CallerWordsTest, AClosedQuestionInThePartialsEndsTheTurnSoonerWithoutARequest) {
  fake.script({{"chat", {{{"content", "We open at nine."}}}}});
  streams.scripts = {{.partials = {{200, "what time"}, {500, "what time do you open?"}},
                      .final_text = "What time do you open?"}};
  start_streaming();
  play_out();
  ticks(30, tone_frame());
  const int frames = frames_until_turn_ends();
  EXPECT_GT(frames, 0);
  EXPECT_LE(frames, 200 / 20 + 2);  // end_silence_complete, not the 600 ms default
  ASSERT_TRUE(wait_for([&] { return leg.clips.size() >= 2; }));
  play_out();
  EXPECT_EQ(leg.labels(), (std::vector<std::string>{"Hello.", "We open at nine."}));
  EXPECT_EQ(stt.requests, 0);  // no one-shot recognition: the stream had the words
  EXPECT_EQ(streams.started, 1);
  EXPECT_EQ(streams.finished, 1);
  ASSERT_EQ(turns.size(), 2u);
  EXPECT_EQ(turns[1].user_text, "What time do you open?");  // the final, not the partial
  // Asked on the newest partial at the end of the turn, while the final was on its way;
  // the final said the same words, so that answer was the turn's.
  auto reqs = fake.requests();
  ASSERT_EQ(reqs.size(), 1u);
  EXPECT_EQ(reqs[0]["json"]["messages"].back()["content"], "what time do you open?");
  ASSERT_EQ(reports.size(), 1u);
  EXPECT_TRUE(reports[0].used);
  EXPECT_FALSE(reports[0].recognition);
}

TEST_F(CallerWordsTest, ASpeculationOnThePartialIsAdoptedWhenTheFinalSaysTheSame) {
  fake.script({{"chat", {{{"content", "A table for four, done."}}}}});
  streams.scripts = {{.partials = {{300, "book a table for four people"}},
                      .final_text = "Book a table for four people."}};
  start_streaming();
  play_out();
  ticks(30, tone_frame());
  EXPECT_GT(frames_until_turn_ends(), 200 / 20);  // an unclosed sentence: the longer wait
  ASSERT_TRUE(wait_for([&] { return leg.clips.size() >= 2; }));
  play_out();
  EXPECT_EQ(leg.labels(), (std::vector<std::string>{"Hello.", "A table for four, done."}));
  EXPECT_EQ(stt.requests, 0);
  EXPECT_EQ(fake.requests().size(), 1u);  // asked at the pause, adopted at the end
  ASSERT_EQ(reports.size(), 1u);
  EXPECT_TRUE(reports[0].used);
  EXPECT_FALSE(reports[0].recognition);  // no recognition request was made for it
  EXPECT_TRUE(reports[0].chat);
  ASSERT_EQ(turns.size(), 2u);
  EXPECT_EQ(turns[1].user_text, "Book a table for four people.");
}

TEST_F(CallerWordsTest, CallerWhoGoesOnDropsTheSpeculationAndTheFinalIsAnswered) {
  fake.script({{"chat",
                {{{"content", "This answer is never heard."}, {"delay_first_ms", 10000}},
                 {{"content", "Booked for four."}}}}});
  streams.scripts = {{.partials = {{200, "i'd like to book a table for"},
                                   {1000, "i'd like to book a table for four people"}},
                      .final_text = "I'd like to book a table for four people."}};
  start_streaming();
  play_out();
  ticks(30, tone_frame());
  ticks(12);  // past the short pause: a speculation on "... for"
  ASSERT_TRUE(wait_for([&] { return fake.requests().size() == 1; }));
  EXPECT_EQ(agent->state(), AgentLoop::State::kListening);  // "for" waits longer
  ticks(25, tone_frame());                                  // "... four people"
  ASSERT_TRUE(wait_for([&] { return fake.requests()[0].value("aborted", false); }));
  ticks(40);
  ASSERT_TRUE(wait_for([&] { return leg.clips.size() >= 2; }));
  play_out();
  EXPECT_EQ(leg.labels(), (std::vector<std::string>{"Hello.", "Booked for four."}));
  EXPECT_EQ(stt.requests, 0);
  EXPECT_EQ(streams.started, 1);  // one utterance, one stream, through the pause
  // The second pause speculated on the newer partial; the final said the same words.
  auto reqs = fake.requests();
  ASSERT_EQ(reqs.size(), 2u);
  EXPECT_EQ(reqs[1]["json"]["messages"].back()["content"],
            "i'd like to book a table for four people");
  ASSERT_EQ(reports.size(), 2u);
  EXPECT_FALSE(reports[0].used);
  EXPECT_FALSE(reports[0].recognition);
  EXPECT_TRUE(reports[1].used);
  ASSERT_EQ(turns.size(), 2u);  // one answer, after the whole sentence
  EXPECT_EQ(turns[1].user_text, "I'd like to book a table for four people.");  // the final
}

TEST_F(CallerWordsTest, AFinalThatDiffersFromTheSpeculationsWordsIsAskedAgain) {
  // By what was asked: the speculative request may be cancelled before it reaches the fake.
  fake.script({{"chat",
                {{{"user_contains", "fork"}, {"content", "Wrong guess."}},
                 {{"user_contains", "four"}, {"content", "Right answer."}}}}});
  streams.scripts = {
      {.partials = {{300, "book a table for fork"}}, .final_text = "Book a table for four."}};
  start_streaming();
  play_out();
  ticks(30, tone_frame());
  EXPECT_GT(frames_until_turn_ends(), 0);
  ASSERT_TRUE(wait_for([&] { return last_label() == "Right answer."; }))
      << ::testing::PrintToString(leg.labels());
  play_out();
  EXPECT_EQ(leg.labels(), (std::vector<std::string>{"Hello.", "Right answer."}));
  ASSERT_EQ(turns.size(), 2u);
  EXPECT_EQ(turns[1].user_text, "Book a table for four.");
  ASSERT_EQ(reports.size(), 1u);
  EXPECT_FALSE(reports[0].used);
}

TEST_F(CallerWordsTest, BackchannelPartialsNeverInterruptAndTheUtteranceIsDropped) {
  fake.script({{"chat", {{{"content", kLongAnswer}}}}});
  streams.scripts = {
      {.partials = {{200, "what is on the menu"}}, .final_text = "what is on the menu"},
      {.partials = {{100, "okay"}, {600, "okay okay sure"}, {1200, "okay okay sure okay right"}},
       .final_text = "okay okay sure okay right"}};
  start_streaming();
  play_out();
  say();
  ASSERT_TRUE(wait_for([&] { return leg.clips.size() >= 3; }));
  ticks(10);
  ASSERT_TRUE(leg.playing());
  EXPECT_EQ(frames_until_flushed(80), -1);  // 1.6 s: the length rule alone stops at 700 ms
  ticks(40);
  play_out();
  EXPECT_EQ(leg.flushes, 0);
  EXPECT_EQ(stt.requests, 0);  // the words came from the stream, not from requests
  EXPECT_EQ(streams.started, 2);
  EXPECT_EQ(streams.finished, 1);
  EXPECT_EQ(streams.cancelled, 1);  // not a turn: its stream was closed, never finished
  ASSERT_TRUE(wait_for([&] {        // the completion's end may still be on its way
    tick();
    return turns.size() >= 2;
  }));
  ASSERT_EQ(turns.size(), 2u);
  EXPECT_FALSE(turns[1].interrupted);
}

TEST_F(CallerWordsTest, StopInAPartialInterruptsAtOnce) {
  fake.script({{"chat", {{{"content", kLongAnswer}}, {{"content", "Okay."}}}}});
  streams.scripts = {
      {.partials = {{200, "what is on the menu"}}, .final_text = "what is on the menu"},
      {.partials = {{200, "stop"}}, .final_text = "Stop."}};
  start_streaming();
  play_out();
  say();
  ASSERT_TRUE(wait_for([&] { return leg.clips.size() >= 3; }));
  ticks(10);
  const int frames = frames_until_flushed(80);
  EXPECT_GT(frames, 0);
  EXPECT_LE(frames, 300 / 20 + 2);  // at min_speech, not the 700 ms length rule
  ticks(40);
  ASSERT_TRUE(wait_for([&] { return last_label() == "Okay."; }));
  EXPECT_EQ(stt.requests, 0);
  play_out();
  ASSERT_GE(turns.size(), 3u);
  EXPECT_TRUE(turns[1].interrupted);
  EXPECT_EQ(turns[2].user_text, "Stop.");  // the final; the pause asked on the partial
  auto reqs = fake.requests();
  ASSERT_EQ(reqs.size(), 2u);
  EXPECT_EQ(reqs[1]["json"]["messages"].back()["content"], "stop");
}

TEST_F(CallerWordsTest, AStreamThatCannotConnectFallsBackToOneShotRecognition) {
  fake.script({{"chat", {{{"content", "Hi there."}}}}});
  ScriptedStreams::Script refused;
  refused.refuse = true;
  streams.scripts = {refused};
  stt.texts = {"hello"};
  start_streaming();
  play_out();
  say();
  ASSERT_TRUE(wait_for([&] { return last_label() == "Hi there."; }));
  play_out();
  EXPECT_GE(stt.requests, 1);
  ASSERT_EQ(turns.size(), 2u);
  EXPECT_EQ(turns[1].user_text, "hello");
}

}  // namespace
}  // namespace atende::agent
