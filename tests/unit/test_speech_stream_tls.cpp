// The streaming recognisers over wss:// (net/ws_connection's TLS): the same engines and
// wire formats as test_speech_stream_engines.cpp, against the fake's TLS listener with a
// CA made at test time (the `ca_file` parameter); a server the system does not trust is an
// error that says so.
#include <gtest/gtest.h>

#include <chrono>
#include <future>

#include "speech/openai_stt.h"
#include "speech/ws_stream_stt.h"
#include "test_net_tls_certs.h"
#include "test_speech_fake_stream.h"

namespace atende::speech {
namespace {

using nlohmann::json;
using testing::FakeStreamStt;
using testing::TestCerts;

TestCerts& certs() {
  static TestCerts c;
  return c;
}
FakeStreamStt& fake() {
  static FakeStreamStt f(certs().server_cert(), certs().server_key());
  return f;
}

Recognition recognise(WsStreamRecognizer& engine) {
  std::promise<Recognition> final;
  auto s = engine.start({.sample_rate = 8000},
                        {.on_final = [&final](Recognition r) { final.set_value(std::move(r)); }});
  std::vector<int16_t> frame(160);
  for (size_t i = 0; i < frame.size(); ++i) frame[i] = static_cast<int16_t>((i % 20) * 500);
  for (int t = 0; t < 600; t += 20) s->push(frame);
  s->finish();
  auto f = final.get_future();
  EXPECT_EQ(f.wait_for(std::chrono::seconds(30)), std::future_status::ready);
  return f.get();
}

TEST(StreamTls, OpenAiTranscriptionOverWss) {
  fake().reset();
  fake().script({{"streams", {{{"final", "a table for two"}}}}});
  auto engine = make_openai_stt(
      openai_stt_options_from({{"url", fake().wss_url("/v1/realtime?intent=transcription")},
                               {"ca_file", certs().ca()},
                               {"api_key", "sk-tls"}}));
  const Recognition r = recognise(*engine);
  EXPECT_TRUE(r.ok) << r.error;
  EXPECT_EQ(r.text, "a table for two");
  const json seen = fake().received();
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0]["authorization"], "Bearer sk-tls");
}

TEST(StreamTls, DeepgramOverWss) {
  fake().reset();
  fake().script({{"streams", {{{"final", "book a table"}}}}});
  auto engine = make_deepgram_stt(ws_stream_stt_options_from(
      {{"url", fake().wss_url("/v1/listen")}, {"ca_file", certs().ca()}, {"api_key", "dg"}}));
  const Recognition r = recognise(*engine);
  EXPECT_TRUE(r.ok) << r.error;
  EXPECT_EQ(r.text, "book a table");
}

TEST(StreamTls, AnUntrustedServerIsAnErrorThatSaysSo) {
  auto engine = make_openai_stt(
      openai_stt_options_from({{"url", fake().wss_url("/v1/realtime?intent=transcription")}}));
  const Recognition r = recognise(*engine);
  EXPECT_FALSE(r.ok);
  EXPECT_NE(r.error.find("tls: certificate rejected"), std::string::npos) << r.error;
}

}  // namespace
}  // namespace atende::speech
