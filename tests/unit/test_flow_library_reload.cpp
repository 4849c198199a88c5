// A reload swaps the whole flow set while calls run: what a call took before (its
// FlowSpecPtr) stays valid and unchanged, every later read sees the new set.
#include <gtest/gtest.h>

#include <string>

#include "flow/flow_library.h"
#include "flow/flow_loader.h"

namespace atende::flow {
namespace {

std::string flow_text(const std::string& name, const std::string& text) {
  return "name: " + name + "\nstart: hello\nsteps:\n  hello:\n    type: hangup\n    text: \"" +
         text + "\"\n";
}

FlowSpecPtr load(const std::string& name, const std::string& text) {
  LoadResult r = load_flow_text(flow_text(name, text), name + ".yaml");
  EXPECT_TRUE(r.ok()) << r.error_text();
  return r.flow;
}

TEST(FlowLibraryReload, CallsKeepTheirFlowLaterReadsSeeTheNewSet) {
  FlowLibrary live;
  ASSERT_TRUE(live.add(load("menu", "old menu")).empty());
  ASSERT_TRUE(live.add(load("echo", "echo")).empty());
  const FlowSpecPtr in_call = live.find("menu");  // what a call started with

  FlowLibrary fresh;
  ASSERT_TRUE(fresh.add(load("menu", "new menu")).empty());
  ASSERT_TRUE(fresh.add(load("ivr", "ivr")).empty());
  live.replace_with(fresh);

  EXPECT_EQ(in_call->steps[in_call->start].text, "old menu");  // still alive, unchanged
  EXPECT_EQ(live.find("menu")->steps[live.find("menu")->start].text, "new menu");
  EXPECT_EQ(live.find("echo"), nullptr);
  EXPECT_EQ(live.size(), 2u);
  EXPECT_EQ(live.resolve("anything"), "ivr");  // the default flow came with the new set
  EXPECT_EQ(live.names(), (std::vector<std::string>{"menu", "ivr"}));
}

TEST(FlowLibraryReload, ANameTakenTwiceIsStillRefused) {
  FlowLibrary lib;
  ASSERT_TRUE(lib.add(load("menu", "a")).empty());
  EXPECT_FALSE(lib.add(load("menu", "b")).empty());
  EXPECT_EQ(lib.size(), 1u);
}

}  // namespace
}  // namespace atende::flow
