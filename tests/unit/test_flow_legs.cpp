// Steps that use more than one leg (dial, bridge, transfer), `inputs`, flow_finished and
// lookup's `also`, driven through the fake host: the test decides how every dial, child
// flow, bridge and transfer ends (test_flow_fakes.h). No threads, no sleeps.
#include <gtest/gtest.h>

#include "flow/flow_loader.h"
#include "flow/scripted_flow.h"
#include "test_flow_fakes.h"

namespace atende::flow::testing {
namespace {

// A dial with a child flow, tried twice, with its own no-answer branch.
const std::string kDialFlow = R"(
name: legs
inputs: [ext]
max_duration: 2m
start: call
steps:
  call:
    type: dial
    to: "{ext}"
    flow: child
    tries: 2
    ring_timeout: 10s
    prompt: Please wait.
    next: by_decision
    on_no_answer: nobody
    on_failure: failed
  by_decision:
    type: route
    routes:
      - {when: {decision: authorised}, goto: welcome}
    next: refused
  welcome: {type: hangup, text: Welcome.}
  refused: {type: hangup, text: Refused.}
  nobody: {type: hangup, text: Nobody answered.}
  failed: {type: hangup, text: "Could not call: {call}."}
)";

// A dial that parks the answered leg, then a bridge; `bridge_next` adds `next` to it.
std::string bridge_flow(bool bridge_next) {
  return std::string(R"(
name: bridging
start: call
steps:
  call:
    type: dial
    to: "2001"
    trunk: pbx
    caller_id: "+15550000"
    next: connect
    on_failure: sorry
  connect:
    type: bridge
    prompt: Connecting you now.
)") + (bridge_next ? "    next: after\n" : "") +
         "    on_failure: sorry\n" +
         (bridge_next ? "  after: {type: hangup, text: The agent hung up. Goodbye.}\n" : "") +
         "  sorry: {type: hangup, text: Sorry.}\n";
}

const std::string kTransferFlow = R"(
name: xfer
inputs: [who]
start: xfer
steps:
  xfer:
    type: transfer
    to: "sip:{who}@pbx.example"
    prompt: Transferring you.
    on_failure: sorry
  sorry: {type: hangup, text: "Transfer failed: {transfer_status}."}
)";

struct LegsHarness : Harness {
  LegsHarness() { host.info.variables = {{"ext", "2104"}, {"who", "bob"}}; }
  // Settles prompts synthesised during the call (templates), then plays them out.
  void hear() {
    for (int i = 0; i < 4 && call_up(); ++i) {
      phrases.complete_all();
      host.run_posted();
      play_out();
    }
  }
  std::string slot(const std::string& name) const {
    auto& vars = static_cast<ScriptedFlow&>(*flow).variables();
    auto it = vars.find(name);
    return it == vars.end() ? "(none)" : it->second;
  }
};

TEST(FlowDial, AnsweredRunsTheChildFlowAndMergesItsSlots) {
  LegsHarness h;
  ASSERT_TRUE(h.start_text(kDialFlow)) << h.errors;
  ASSERT_EQ(h.host.dials.size(), 1u);
  EXPECT_EQ(h.host.dials[0].request.to, "2104");  // from `inputs`
  EXPECT_EQ(h.host.dials[0].request.ring_timeout, Millis(10000));
  EXPECT_EQ(h.last_label(), "Please wait.");
  h.host.finish_dial("answered", 200, "leg-2");
  ASSERT_EQ(h.host.child_flows.size(), 1u);  // at once, the prompt still playing
  EXPECT_EQ(h.host.child_flows[0].leg_id, "leg-2");
  EXPECT_EQ(h.host.child_flows[0].flow, "child");
  EXPECT_EQ(h.host.child_flows[0].variables.at("ext"), "2104");
  EXPECT_EQ(h.host.child_flows[0].variables.at("call"), "answered");
  EXPECT_EQ(h.host.child_flows[0].variables.at("call_status"), "200");
  // The caller's keys do nothing meanwhile (they are only logged).
  h.hear();
  h.press('1');
  h.run_for(Millis(3000));
  EXPECT_EQ(h.last_label(), "Please wait.");
  EXPECT_TRUE(h.call_up());
  h.host.end_child_flow({{"decision", "authorised"}, {"caller", "2104"}});
  EXPECT_TRUE(h.host.has("slot", "decision=authorised"));
  EXPECT_EQ(h.slot("caller"), "alice");  // ours, not the dialled leg's
  EXPECT_TRUE(h.host.has("route", "welcome"));
  h.hear();
  ASSERT_EQ(h.leg.hangups.size(), 1u);
  EXPECT_EQ(h.leg.hangups[0], "flow: welcome");
  EXPECT_TRUE(h.host.hung_up_legs.empty());  // its leg ended with the child flow
  ASSERT_EQ(h.host.finished_slots.size(), 1u);
  EXPECT_EQ(h.host.finished_slots[0].at("decision"), "authorised");
}

TEST(FlowDial, BusyIsTriedAgainThenAnswered) {
  LegsHarness h;
  ASSERT_TRUE(h.start_text(kDialFlow)) << h.errors;
  h.host.finish_dial("busy", 486);
  ASSERT_EQ(h.host.dials.size(), 2u);
  EXPECT_TRUE(h.host.has("dial", "2104 try 2 of 2"));
  h.host.finish_dial("answered", 200, "leg-3");
  ASSERT_EQ(h.host.child_flows.size(), 1u);
  EXPECT_EQ(h.host.child_flows[0].leg_id, "leg-3");
  h.host.end_child_flow({{"decision", "denied"}});
  h.hear();
  EXPECT_EQ(h.leg.hangups, std::vector<std::string>{"flow: refused"});
}

TEST(FlowDial, NoAnswerTakesItsOwnBranchAfterThePrompt) {
  LegsHarness h;
  ASSERT_TRUE(h.start_text(kDialFlow)) << h.errors;
  h.host.finish_dial("no_answer", 408);
  h.host.finish_dial("no_answer", 408);
  EXPECT_EQ(h.host.dials.size(), 2u);
  EXPECT_EQ(h.last_label(), "Please wait.");  // not cut off
  h.hear();
  EXPECT_TRUE(h.host.has("slot", "call=no_answer"));
  EXPECT_TRUE(h.host.has("slot", "call_status=408"));
  EXPECT_EQ(h.leg.hangups, std::vector<std::string>{"flow: nobody"});
}

TEST(FlowDial, BusyWithoutItsBranchAndOtherFailuresGoToOnFailure) {
  {
    LegsHarness h;
    ASSERT_TRUE(h.start_text(kDialFlow)) << h.errors;
    h.host.finish_dial("busy", 486);
    h.host.finish_dial("busy", 486);
    h.hear();
    EXPECT_TRUE(h.host.has("slot", "call=busy"));
    EXPECT_EQ(h.leg.hangups, std::vector<std::string>{"flow: failed"});
  }
  {
    LegsHarness h;
    ASSERT_TRUE(h.start_text(kDialFlow)) << h.errors;
    h.host.finish_dial("rejected", 603);
    EXPECT_EQ(h.host.dials.size(), 1u);  // not tried again
    h.hear();
    EXPECT_TRUE(h.host.has("slot", "call=rejected"));
    EXPECT_EQ(h.leg.hangups, std::vector<std::string>{"flow: failed"});
  }
  {
    LegsHarness h;  // the child flow cannot run (no such flow): the leg is hung up
    h.host.child_flow_ok = false;
    ASSERT_TRUE(h.start_text(kDialFlow)) << h.errors;
    h.host.finish_dial("answered", 200, "leg-2");
    EXPECT_EQ(h.host.hung_up_legs, std::vector<std::string>{"leg-2"});
    h.hear();
    EXPECT_TRUE(h.host.has("slot", "call=failed"));
    EXPECT_EQ(h.leg.hangups, std::vector<std::string>{"flow: failed"});
  }
  {
    LegsHarness h;  // nothing to dial
    h.host.info.variables.clear();
    ASSERT_TRUE(h.start_text(kDialFlow)) << h.errors;
    EXPECT_TRUE(h.host.dials.empty());
    h.hear();
    EXPECT_EQ(h.leg.hangups, std::vector<std::string>{"flow: failed"});
  }
}

TEST(FlowDial, CallerHangingUpWhileDiallingHangsUpTheDialledLeg) {
  {
    LegsHarness h;  // still ringing: the leg is hung up as soon as it answers
    ASSERT_TRUE(h.start_text(kDialFlow)) << h.errors;
    h.caller_hangup("remote_bye");
    EXPECT_EQ(h.host.finished_slots.size(), 1u);
    h.host.finish_dial("answered", 200, "leg-2");
    EXPECT_EQ(h.host.hung_up_legs, std::vector<std::string>{"leg-2"});
    EXPECT_TRUE(h.host.child_flows.empty());
  }
  {
    LegsHarness h;  // the child flow is running on it
    ASSERT_TRUE(h.start_text(kDialFlow)) << h.errors;
    h.host.finish_dial("answered", 200, "leg-2");
    h.caller_hangup("remote_bye");
    EXPECT_EQ(h.host.hung_up_legs, std::vector<std::string>{"leg-2"});
    h.host.end_child_flow({{"decision", "authorised"}});  // too late: nothing happens
    EXPECT_FALSE(h.host.has("slot", "decision=authorised"));
  }
}

TEST(FlowDial, CallerHangingUpDuringThePromptHangsUpAnAnsweredParkedLeg) {
  LegsHarness g;
  ASSERT_TRUE(g.start_text(R"(
name: parked
start: call
steps:
  call:
    type: dial
    to: "2001"
    prompt: Please hold while I connect you to somebody.
    next: connect
    on_failure: sorry
  connect: {type: bridge, on_failure: sorry}
  sorry: {type: hangup, text: Sorry.}
)")) << g.errors;
  g.host.finish_dial("answered", 200, "leg-7");
  EXPECT_TRUE(g.host.bridges.empty());  // the prompt is still playing
  g.caller_hangup("remote_bye");
  EXPECT_EQ(g.host.hung_up_legs, std::vector<std::string>{"leg-7"});
}

TEST(FlowDial, MaxDurationStillAppliesWhileTheChildFlowRuns) {
  LegsHarness h;
  ASSERT_TRUE(h.start_text(kDialFlow)) << h.errors;
  h.host.finish_dial("answered", 200, "leg-2");
  h.run_for(Millis(121000));
  EXPECT_TRUE(h.host.has("timeout", "max_duration"));
  EXPECT_EQ(h.host.hung_up_legs, std::vector<std::string>{"leg-2"});
  EXPECT_EQ(h.leg.hangups, std::vector<std::string>{"flow: max duration"});
}

TEST(FlowBridge, WithNextTheCallerComesBackWhenTheAgentHangsUp) {
  LegsHarness h;
  ASSERT_TRUE(h.start_text(bridge_flow(true))) << h.errors;
  ASSERT_EQ(h.host.dials.size(), 1u);
  EXPECT_EQ(h.host.dials[0].request.trunk, "pbx");
  EXPECT_EQ(h.host.dials[0].request.caller_id, "+15550000");
  EXPECT_EQ(h.host.dials[0].request.ring_timeout, Millis(30000));
  h.host.finish_dial("answered", 200, "leg-2");
  EXPECT_EQ(h.last_label(), "Connecting you now.");
  EXPECT_TRUE(h.host.bridges.empty());  // after the prompt
  h.hear();
  ASSERT_EQ(h.host.bridges.size(), 1u);
  EXPECT_EQ(h.host.bridges[0].leg_id, "leg-2");
  EXPECT_TRUE(h.host.bridges[0].keep_flow);
  h.host.end_bridge("callee");
  h.hear();
  EXPECT_EQ(h.last_label(), "The agent hung up. Goodbye.");
  EXPECT_EQ(h.leg.hangups, std::vector<std::string>{"flow: after"});
  EXPECT_TRUE(h.host.hung_up_legs.empty());
}

TEST(FlowBridge, WithoutNextTheFlowIsOverOnceBridged) {
  LegsHarness h;
  ASSERT_TRUE(h.start_text(bridge_flow(false))) << h.errors;
  h.host.finish_dial("answered", 200, "leg-2");
  h.hear();
  ASSERT_EQ(h.host.bridges.size(), 1u);
  EXPECT_FALSE(h.host.bridges[0].keep_flow);
  EXPECT_TRUE(static_cast<ScriptedFlow&>(*h.flow).ended());
  EXPECT_EQ(h.host.finished_slots.size(), 1u);
  EXPECT_TRUE(h.leg.hangups.empty());  // the session ends the call with the other side
  EXPECT_TRUE(h.host.hung_up_legs.empty());
}

TEST(FlowBridge, RefusedOrNothingToBridgeGoesToOnFailure) {
  {
    LegsHarness h;
    h.host.bridge_ok = false;
    ASSERT_TRUE(h.start_text(bridge_flow(false))) << h.errors;
    h.host.finish_dial("answered", 200, "leg-2");
    h.hear();
    EXPECT_TRUE(h.host.has("bridge_failed", "refused"));
    EXPECT_EQ(h.leg.hangups, std::vector<std::string>{"flow: sorry"});
    EXPECT_EQ(h.host.hung_up_legs, std::vector<std::string>{"leg-2"});  // as the flow ends
  }
  {
    LegsHarness h;
    ASSERT_TRUE(h.start_text(R"(
name: lonely
start: connect
steps:
  connect: {type: bridge, on_failure: sorry}
  sorry: {type: hangup, text: Sorry.}
)")) << h.errors;
    EXPECT_TRUE(h.host.bridges.empty());
    EXPECT_TRUE(h.host.has("bridge_failed", "no answered leg"));
    h.hear();
    EXPECT_EQ(h.leg.hangups, std::vector<std::string>{"flow: sorry"});
  }
}

TEST(FlowTransfer, SuccessEndsTheFlowAndFailureTakesOnFailure) {
  for (int status : {200, 202}) {
    LegsHarness h;
    ASSERT_TRUE(h.start_text(kTransferFlow)) << h.errors;
    EXPECT_TRUE(h.host.transfers.empty());  // after the prompt
    h.hear();
    ASSERT_EQ(h.host.transfers.size(), 1u);
    EXPECT_EQ(h.host.transfers[0].to, "sip:bob@pbx.example");
    h.host.finish_transfer(status);
    EXPECT_TRUE(static_cast<ScriptedFlow&>(*h.flow).ended());
    EXPECT_TRUE(h.host.has("hangup", "flow: transferred"));
    EXPECT_TRUE(h.leg.hangups.empty());  // the session hangs the leg up
    ASSERT_EQ(h.host.finished_slots.size(), 1u);
    EXPECT_EQ(h.host.finished_slots[0].at("transfer_status"), std::to_string(status));
  }
  LegsHarness h;
  ASSERT_TRUE(h.start_text(kTransferFlow)) << h.errors;
  h.hear();
  h.host.finish_transfer(486);
  EXPECT_TRUE(h.host.has("slot", "transfer_status=486"));
  h.hear();
  EXPECT_EQ(h.last_label(), "Transfer failed: 4 8 6.");
  EXPECT_EQ(h.leg.hangups, std::vector<std::string>{"flow: sorry"});
}

TEST(FlowInputs, VariablesBecomeSlotsBounded) {
  LegsHarness h;
  for (int i = 0; i < 100; ++i) h.host.info.variables["v" + std::to_string(1000 + i)] = "x";
  h.host.info.variables["ext"] = std::string(5000, '7');
  ASSERT_TRUE(h.start_text(kDialFlow)) << h.errors;
  auto& vars = static_cast<ScriptedFlow&>(*h.flow).variables();
  EXPECT_LE(vars.size(), ScriptedFlow::kMaxInputs + 2);  // + caller, set by the flow
  EXPECT_EQ(vars.at("ext").size(), ScriptedFlow::kMaxInputChars);
  EXPECT_EQ(vars.at("caller"), "alice");
}

std::string errors_of(const std::string& yaml) {
  return load_flow_text(yaml, "test.yaml").error_text();
}

TEST(FlowLegsLoader, ChecksDialBridgeTransferAndInputs) {
  auto with = [](const std::string& steps) {
    return "start: a\nsteps:\n" + steps + "  z: {type: hangup}\n";
  };
  EXPECT_EQ(errors_of(with("  a: {type: dial, to: \"2001\", next: z, on_failure: z}\n")), "");
  EXPECT_NE(errors_of(with("  a: {type: dial, to: \"2001\", next: z}\n"))
                .find("step 'a': missing 'on_failure'"),
            std::string::npos);
  EXPECT_NE(errors_of(with("  a: {type: dial, next: z, on_failure: z}\n")).find("missing 'to'"),
            std::string::npos);
  EXPECT_NE(errors_of(with("  a: {type: dial, to: \"1\", tries: 9, next: z, on_failure: z}\n"))
                .find("tries: expected a whole number from 1 to 5, got '9'"),
            std::string::npos);
  EXPECT_NE(errors_of(with("  a: {type: dial, to: \"1\", flow: Bad Name, next: z, "
                           "on_failure: z}\n"))
                .find("is not a valid name"),
            std::string::npos);
  EXPECT_NE(errors_of(with("  a: {type: dial, to: \"1\", on_busy: nowhere, next: z, "
                           "on_failure: z}\n"))
                .find("no step named 'nowhere'"),
            std::string::npos);
  EXPECT_NE(errors_of(with("  a: {type: bridge}\n  b: {type: hangup}\n"))
                .find("step 'a': missing 'on_failure'"),
            std::string::npos);
  EXPECT_NE(errors_of(with("  a: {type: transfer, to: \"1\", next: z, on_failure: z}\n"))
                .find("unknown key 'next'"),
            std::string::npos);
  EXPECT_NE(errors_of(with("  a: {type: transfer, on_failure: z}\n")).find("missing 'to'"),
            std::string::npos);
  // `to` may only name slots some step (or `inputs`) stores.
  const std::string uses_ext = "  a: {type: dial, to: \"{ext}\", next: z, on_failure: z}\n";
  EXPECT_NE(errors_of(with(uses_ext)).find("text uses {ext}"), std::string::npos);
  EXPECT_EQ(errors_of("inputs: [ext]\n" + with(uses_ext)), "");
  EXPECT_NE(errors_of("inputs: ext\n" + with(uses_ext)).find("inputs: expected a list"),
            std::string::npos);
  // The dial's outcome slots may be read later.
  EXPECT_EQ(errors_of(with("  a: {type: dial, to: \"1\", into: r, next: b, on_failure: z}\n"
                           "  b: {type: hangup, text: \"{r} {r_status}\"}\n")),
            "");
}

TEST(FlowLegsLoader, LookupAlsoNeedsAKnownColumn) {
  const std::string file = shipped_flows() + "/test.yaml";
  auto lookup = [&](const std::string& also) {
    return load_flow_text(
               "inputs: [name, apt]\nstart: a\nsteps:\n"
               "  a:\n    type: lookup\n    table: data/residents.csv\n"
               "    column: name\n    value: \"{name}\"\n" +
                   also + "    next: z\n    on_missing: z\n  z: {type: hangup}\n",
               file)
        .error_text();
  };
  EXPECT_EQ(lookup("    also: {apartment: \"{apt}\"}\n"), "");
  EXPECT_NE(lookup("    also: {floor: \"{apt}\"}\n").find("table has no column 'floor'"),
            std::string::npos);
  EXPECT_NE(lookup("    also: {apartment: \"{unit}\"}\n").find("text uses {unit}"),
            std::string::npos);
  EXPECT_NE(lookup("    also: {apartment: \"1\", name: x}\n").find("expected one {column: value}"),
            std::string::npos);
}

TEST(FlowLookup, AlsoPicksTheRowMatchingBothColumns) {
  const std::string yaml = R"(
name: who
inputs: [name, apt]
start: find
steps:
  find:
    type: lookup
    table: data/residents.csv
    column: name
    value: "{name}"
    also: {apartment: "{apt}"}
    into: resident
    next: found
    on_missing: missing
  found: {type: hangup, text: "Found {resident_name} at {resident_extension}."}
  missing: {type: hangup, text: Missing.}
)";
  {
    LegsHarness h;
    h.host.info.variables = {{"name", "anna lee"}, {"apt", "01204"}};
    ASSERT_TRUE(h.start_text(yaml, shipped_flows() + "/who.yaml")) << h.errors;
    EXPECT_TRUE(h.host.has("slot", "resident_name=Anna Lee"));
    EXPECT_TRUE(h.host.has("slot", "resident_extension=2105"));
  }
  {
    LegsHarness h;
    h.host.info.variables = {{"name", "Anna Lee"}, {"apt", "302"}};
    ASSERT_TRUE(h.start_text(yaml, shipped_flows() + "/who.yaml")) << h.errors;
    EXPECT_TRUE(h.host.has("lookup_missing", "find Anna Lee 302"));
  }
}

}  // namespace
}  // namespace atende::flow::testing
