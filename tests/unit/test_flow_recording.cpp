// A flow's `recording:` (docs/recording.md): parsed into its switches, refused when wrong.
#include <gtest/gtest.h>

#include "flow/flow_loader.h"

namespace atende::flow {
namespace {

const std::string kFlow = R"(
name: rec
start: bye
steps:
  bye: {type: hangup}
)";

TEST(FlowRecording, SwitchesParsed) {
  auto r = load_flow_text(kFlow + "recording: {audio: true}\n", "rec.yaml");
  ASSERT_TRUE(r.ok()) << r.error_text();
  EXPECT_EQ(r.flow->recording.audio, std::optional<bool>(true));
  EXPECT_FALSE(r.flow->recording.transcript.has_value());
  auto plain = load_flow_text(kFlow, "rec.yaml");
  ASSERT_TRUE(plain.ok());
  EXPECT_FALSE(plain.flow->recording.audio.has_value());
}

TEST(FlowRecording, BadShapesAreLoadErrors) {
  for (const char* bad :
       {"recording: true\n", "recording: {audio: maybe}\n", "recording: {sound: true}\n"}) {
    auto r = load_flow_text(kFlow + bad, "rec.yaml");
    EXPECT_FALSE(r.ok()) << bad;
    EXPECT_NE(r.error_text().find("recording"), std::string::npos) << r.error_text();
  }
}

}  // namespace
}  // namespace atende::flow
