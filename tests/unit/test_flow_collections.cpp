// The collections (cobrança) and triage flows as shipped, driven through the engine with
// real speech audio (espeak-ng through the real VAD and turn detector), a scripted
// recogniser and the keypad: identity check by caller number or account, the debt read in
// words, options, a promise to pay with a resolved date, transfers to queues.
#include <gtest/gtest.h>

#include <ctime>

#include "flow/flow_loader.h"
#include "flow/scripted_flow.h"
#include "test_flow_fakes.h"
#include "test_flow_speech.h"

namespace atende::flow::testing {
namespace {

void settle(Harness& h) {
  // Prompts with {slots} are synthesised on demand: let the "worker" deliver them.
  for (int i = 0; i < 3; ++i) {
    h.phrases.complete_all();
    h.host.run_posted();
    h.tick();
  }
}

void say(Harness& h, const std::string& text) {
  say_then_silence(h, text, Millis(1500));
  settle(h);
}

// Plays everything queued, including prompts synthesised on demand along the way.
void listen(Harness& h) {
  for (int i = 0; i < 6 && h.call_up(); ++i) {
    settle(h);
    h.play_out();
  }
}

// Wednesday 2026-11-25, noon, local time: "friday" is the 27th.
std::chrono::system_clock::time_point noon_2026_11_25() {
  std::tm t{};
  t.tm_year = 2026 - 1900;
  t.tm_mon = 10;
  t.tm_mday = 25;
  t.tm_hour = 12;
  t.tm_isdst = -1;
  return std::chrono::system_clock::from_time_t(std::mktime(&t));
}

std::string event_detail(const Harness& h, std::string_view kind) {
  for (auto& [k, v] : h.host.events)
    if (k == kind) return v;
  return "";
}

bool heard_text(const Harness& h, std::string_view text) {
  for (auto& c : h.leg.clips)
    if (c->label == text) return true;
  return false;
}

void contains(const std::string& json, const std::string& part) {
  EXPECT_NE(json.find(part), std::string::npos) << part << " not in " << json;
}

TEST(FlowCollections, KnownCallerBySpeechPromisesToPayOnFriday) {
  Harness h;
  h.host.info.from = "sip:+15550100@10.0.0.7";
  h.host.wall = noon_2026_11_25();
  h.host.stt.script = {"four three two one", "pay in full", "friday", "yes"};
  ASSERT_TRUE(h.start(shipped_flows(), "collections"));
  listen(h);
  EXPECT_TRUE(h.host.has("slot", "debtor_name=Mary Jones"));
  say(h, "four three two one");
  EXPECT_TRUE(h.host.has("slot", "document=***"));  // checked, and masked in the record
  for (auto& [kind, detail] : h.host.events) EXPECT_EQ(detail.find("4321"), std::string::npos);
  ASSERT_FALSE(event_detail(h, "identity_verified").empty());
  listen(h);
  EXPECT_TRUE(heard_text(h,
                         "Thank you, Mary Jones. Your balance is one thousand two hundred "
                         "thirty-four dollars and fifty-six cents, due on Thursday, December "
                         "tenth."));
  say(h, "pay in full");
  EXPECT_TRUE(h.host.has("slot", "option=full"));
  listen(h);
  say(h, "friday");
  EXPECT_TRUE(h.host.has("slot", "promise_date=2026-11-27"));
  listen(h);
  EXPECT_TRUE(
      heard_text(h, "So you will pay in full, on Friday, November twenty-seventh. Is that right?"));
  say(h, "yes");
  listen(h);
  std::string promise = event_detail(h, "promise_to_pay");
  contains(promise, "\"promise_date\":\"2026-11-27\"");
  contains(promise, "\"option\":\"full\"");
  contains(promise, "\"debtor_account\":\"40021\"");
  // Only the fields the step names: never the document the caller was checked against.
  EXPECT_EQ(promise.find("document"), std::string::npos) << promise;
  EXPECT_EQ(event_detail(h, "identity_verified"),
            "{\"caller\":\"+15550100\",\"debtor_account\":\"40021\",\"debtor_name\":\"Mary "
            "Jones\"}");
  ASSERT_EQ(h.leg.hangups.size(), 1u);
  EXPECT_EQ(h.leg.hangups[0], "flow: thanks");
}

TEST(FlowCollections, WrongDigitsThreeTimesEndPolitelyAndAreRecorded) {
  Harness h;
  h.host.info.from = "sip:+15550101@10.0.0.7";  // John Smith, document 8765
  ASSERT_TRUE(h.start(shipped_flows(), "collections"));
  listen(h);
  for (int i = 0; i < 3; ++i) {
    h.press("1111");
    listen(h);
  }
  EXPECT_EQ(h.host.count("mismatch"), 3);
  EXPECT_FALSE(h.host.has("slot", "document=1111"));  // a wrong answer is never stored
  EXPECT_TRUE(h.host.has("failure", "verify"));
  EXPECT_FALSE(event_detail(h, "identity_failed").empty());
  EXPECT_TRUE(event_detail(h, "identity_verified").empty());
  ASSERT_EQ(h.leg.hangups.size(), 1u);
  EXPECT_EQ(h.leg.hangups[0], "flow: identity_goodbye");
}

TEST(FlowCollections, UnknownCallerByAccountAsksForAnAgent) {
  Harness h;  // from sip:alice@...: not in the table
  ASSERT_TRUE(h.start(shipped_flows(), "collections"));
  listen(h);
  EXPECT_TRUE(h.host.has("lookup_missing", "find_by_phone alice"));
  h.press("99999#");  // no such account: asked once more
  listen(h);
  EXPECT_TRUE(h.host.has("lookup_missing", "find_by_account 99999"));
  h.press("40022#");
  listen(h);
  EXPECT_TRUE(h.host.has("slot", "debtor_name=John Smith"));
  h.press("8765");
  listen(h);
  EXPECT_TRUE(heard_text(h,
                         "Thank you, John Smith. Your balance is eighty-nine dollars and ninety "
                         "cents, due on Monday, November thirtieth."));
  h.press('3');
  listen(h);
  std::string transfer = event_detail(h, "transfer_request");
  contains(transfer, "\"transfer_extension\":\"2005\"");
  contains(transfer, "\"option\":\"agent\"");
  EXPECT_TRUE(heard_text(h, "Please hold, I am transferring you to Collections."));
  // The collections queue is dialled and the caller connected with the agent.
  ASSERT_EQ(h.host.dials.size(), 1u);
  EXPECT_EQ(h.host.dials[0].request.to, "2005");
  h.host.finish_dial("answered", 200, "leg-2");
  listen(h);
  ASSERT_EQ(h.host.bridges.size(), 1u);
  EXPECT_EQ(h.host.bridges[0].leg_id, "leg-2");
  EXPECT_FALSE(h.host.bridges[0].keep_flow);
  EXPECT_TRUE(h.leg.hangups.empty());
}

TEST(FlowCollections, CobrancaInPortugueseByKeypad) {
  Harness h;
  h.host.info.from = "sip:+5511987654321@operadora";
  h.host.wall = noon_2026_11_25();
  ASSERT_TRUE(h.start(shipped_flows(), "cobranca"));
  listen(h);
  h.press("1357");
  listen(h);
  EXPECT_TRUE(heard_text(h,
                         "Obrigado, Maria Souza. O seu débito é de mil duzentos e trinta e quatro "
                         "reais e cinquenta e seis centavos, com vencimento em sábado, cinco de "
                         "dezembro."));
  h.press('2');
  listen(h);
  h.press("10#");
  listen(h);
  EXPECT_TRUE(h.host.has("slot", "promise_date=2026-12-10"));
  h.press('1');
  listen(h);
  std::string promise = event_detail(h, "promise_to_pay");
  contains(promise, "\"promise_date\":\"2026-12-10\"");
  contains(promise, "\"option\":\"installments\"");
  EXPECT_EQ(h.leg.hangups.size(), 1u);
  ASSERT_FALSE(h.host.digits.empty());
  EXPECT_EQ(h.host.digits.back(), "xxxx210#1");  // the document's digits are not kept
}

TEST(FlowCollections, ImpossibleDayIsAskedAgainThenDisputeIsRecorded) {
  Harness h;
  h.host.info.from = "sip:+5511987654321@operadora";
  h.host.wall = noon_2026_11_25();
  ASSERT_TRUE(h.start(shipped_flows(), "cobranca"));
  listen(h);
  h.press("1357");
  listen(h);
  h.press('1');
  listen(h);
  h.press("45#");  // no day 45
  listen(h);
  EXPECT_TRUE(h.host.has("no_match", "promise_date"));
  h.press("7#");
  listen(h);
  EXPECT_TRUE(h.host.has("slot", "promise_date=2026-12-07"));
  h.press('2');  // not right: back to the options
  listen(h);
  h.press('4');
  listen(h);
  EXPECT_FALSE(event_detail(h, "dispute").empty());
  EXPECT_TRUE(event_detail(h, "promise_to_pay").empty());
}

TEST(FlowTriage, SpokenReasonGoesToItsQueue) {
  Harness h;
  h.host.stt.script = {"billing"};
  ASSERT_TRUE(h.start(shipped_flows(), "triage"));
  listen(h);
  say(h, "billing");
  listen(h);
  std::string transfer = event_detail(h, "transfer_request");
  contains(transfer, "\"queue_extension\":\"2001\"");
  contains(transfer, "\"reason\":\"billing\"");
  EXPECT_TRUE(heard_text(h, "Please hold, I am transferring you to Billing."));
  ASSERT_EQ(h.host.dials.size(), 1u);
  EXPECT_EQ(h.host.dials[0].request.to, "2001");
  h.host.finish_dial("no_answer", 408);  // nobody in the queue picks up
  listen(h);
  EXPECT_TRUE(
      heard_text(h, "Sorry, nobody can take your call now. Please call again later. Goodbye."));
  ASSERT_EQ(h.leg.hangups.size(), 1u);
  EXPECT_EQ(h.leg.hangups[0], "flow: goodbye");
}

TEST(FlowTriage, UnknownReasonTwiceGoesToTheGeneralQueue) {
  Harness h;
  ASSERT_TRUE(h.start(shipped_flows(), "triagem"));
  listen(h);
  h.press('9');
  listen(h);
  EXPECT_EQ(h.host.count("invalid"), 1);
  h.press('9');
  listen(h);
  std::string transfer = event_detail(h, "transfer_request");
  contains(transfer, "\"queue_extension\":\"2000\"");
  EXPECT_EQ(transfer.find("\"reason\""), std::string::npos) << transfer;
  ASSERT_EQ(h.host.dials.size(), 1u);
  EXPECT_EQ(h.host.dials[0].request.to, "2000");
  h.host.finish_dial("answered", 200, "leg-2");
  listen(h);
  EXPECT_EQ(h.host.bridges.size(), 1u);
}

std::string load_errors(const std::string& yaml) {
  return load_flow_text(yaml, "test.yaml").error_text();
}

TEST(FlowCollections, LoaderChecksFormatsExpectAndDates) {
  auto flow = [](const std::string& a, const std::string& b) {
    return "start: a\nsteps:\n  a:\n" + a + "  b:\n" + b;
  };
  const std::string hangup = "    type: hangup\n    text: \"On {a:date}, from {caller}.\"\n";
  EXPECT_EQ(
      load_errors(flow("    type: ask\n    prompt: When\n    match: date\n    next: b\n", hangup)),
      "");
  EXPECT_NE(load_errors(flow("    type: say\n    text: \"{caller:currency}\"\n    next: b\n",
                             "    type: hangup\n"))
                .find("unknown format in {caller:currency}"),
            std::string::npos);
  EXPECT_NE(load_errors(flow("    type: ask\n    prompt: Digits\n    match: digits\n"
                             "    expect: \"{pin}\"\n    next: b\n",
                             "    type: hangup\n"))
                .find("{pin} but no collect, ask or lookup step stores it"),
            std::string::npos);
  EXPECT_NE(load_errors(flow("    type: record\n    event: x\n    fields: [caller, pin]\n"
                             "    next: b\n",
                             "    type: hangup\n"))
                .find("step 'a': fields names 'pin' but no collect, ask or lookup step stores it"),
            std::string::npos);
  EXPECT_NE(load_errors(flow("    type: record\n    event: x\n    fields: []\n    next: b\n",
                             "    type: hangup\n"))
                .find("expected a list of 1 to 64 slot names"),
            std::string::npos);
  EXPECT_NE(load_errors(flow("    type: ask\n    prompt: Month\n    match: month\n    next: b\n",
                             "    type: hangup\n"))
                .find("(choices, digits, list, date)"),
            std::string::npos);
}

}  // namespace
}  // namespace atende::flow::testing
