// The AudioSocket frame codec (src/audiosocket/frame.h): messages split anywhere across
// reads, the rate table, and every way a hostile stream must stop the reader.
#include <gtest/gtest.h>

#include <vector>

#include "audiosocket/frame.h"

namespace atende::audiosocket {
namespace {

std::vector<uint8_t> msg(uint8_t type, std::vector<uint8_t> payload) {
  std::vector<uint8_t> out(kHeaderSize + payload.size());
  EXPECT_EQ(write_frame(out, type, payload), out.size());
  return out;
}

TEST(AudioSocketFrame, WritesHeaderBigEndian) {
  std::vector<uint8_t> payload(320, 0x7f);
  auto m = msg(0x10, payload);
  EXPECT_EQ(m[0], 0x10);
  EXPECT_EQ(m[1], 0x01);  // 320 = 0x0140
  EXPECT_EQ(m[2], 0x40);
  EXPECT_EQ(m.size(), 323u);
  EXPECT_EQ(msg(0x00, {}), (std::vector<uint8_t>{0, 0, 0}));
}

TEST(AudioSocketFrame, RateTableMatchesAsterisk) {
  EXPECT_EQ(audio_rate(0x10), 8000);
  EXPECT_EQ(audio_rate(0x11), 12000);
  EXPECT_EQ(audio_rate(0x12), 16000);
  EXPECT_EQ(audio_rate(0x13), 24000);
  EXPECT_EQ(audio_rate(0x14), 32000);
  EXPECT_EQ(audio_rate(0x15), 44100);
  EXPECT_EQ(audio_rate(0x16), 48000);
  EXPECT_EQ(audio_rate(0x17), 96000);
  EXPECT_EQ(audio_rate(0x18), 192000);
  EXPECT_EQ(audio_rate(0x19), 0);
  EXPECT_EQ(audio_rate(0x03), 0);
  EXPECT_EQ(audio_kind_for_rate(16000), 0x12);
  EXPECT_EQ(audio_kind_for_rate(11025), 0);
  EXPECT_EQ(kind_name(0x12), "audio16000");
  EXPECT_EQ(kind_name(0x42), "0x42");
}

TEST(AudioSocketFrame, ReadsMessagesSplitAtEveryByte) {
  std::vector<uint8_t> stream;
  auto add = [&](std::vector<uint8_t> m) { stream.insert(stream.end(), m.begin(), m.end()); };
  std::vector<uint8_t> uuid(16);
  for (int i = 0; i < 16; ++i) uuid[i] = static_cast<uint8_t>(i);
  add(msg(0x01, uuid));
  add(msg(0x10, std::vector<uint8_t>(320, 1)));
  add(msg(0x03, {'5'}));
  add(msg(0x00, {}));
  FrameReader r;
  std::vector<uint8_t> types;
  for (uint8_t b : stream) {
    ASSERT_EQ(r.append({&b, 1}), 1u);
    Frame f;
    ReadStatus s;
    while ((s = r.next(f)) == ReadStatus::kFrame) {
      types.push_back(f.type);
      if (f.type == 0x01) {
        EXPECT_EQ(uuid_to_string(f.payload), "00010203-0405-0607-0809-0a0b0c0d0e0f");
      }
      if (f.type == 0x03) {
        EXPECT_EQ(f.payload[0], '5');
      }
      if (f.type == 0x10) {
        EXPECT_EQ(f.payload.size(), 320u);
      }
    }
    ASSERT_EQ(s, ReadStatus::kNeedMore);
  }
  EXPECT_EQ(types, (std::vector<uint8_t>{0x01, 0x10, 0x03, 0x00}));
  EXPECT_EQ(r.pending(), 0u);
}

TEST(AudioSocketFrame, TruncatedHeaderAndPayloadStayPending) {
  FrameReader r;
  const uint8_t head[] = {0x10, 0x01};
  r.append(head);
  Frame f;
  EXPECT_EQ(r.next(f), ReadStatus::kNeedMore);
  EXPECT_EQ(r.pending(), 2u);  // at EOF: a truncated message
  const uint8_t rest[] = {0x40, 1, 2, 3};
  r.append(rest);
  EXPECT_EQ(r.next(f), ReadStatus::kNeedMore);
  EXPECT_EQ(r.pending(), 6u);
}

TEST(AudioSocketFrame, OversizedFrameFailsOnItsHeader) {
  FrameReader r;
  const uint8_t head[] = {0x10, 0xff, 0xff};  // 65,535 bytes announced
  r.append(head);
  Frame f;
  EXPECT_EQ(r.next(f), ReadStatus::kTooLong);
  EXPECT_TRUE(r.failed());
  EXPECT_EQ(r.next(f), ReadStatus::kTooLong);  // stays failed
}

TEST(AudioSocketFrame, UnknownTypeFails) {
  FrameReader r;
  const uint8_t head[] = {0x42, 0x00, 0x01, 0x00};
  r.append(head);
  Frame f;
  EXPECT_EQ(r.next(f), ReadStatus::kUnknown);
}

TEST(AudioSocketFrame, ImpossibleLengthsFail) {
  for (auto m : {std::vector<uint8_t>{0x01, 0x00, 0x0f}, std::vector<uint8_t>{0x03, 0x00, 0x02},
                 std::vector<uint8_t>{0x10, 0x00, 0x03}, std::vector<uint8_t>{0x12, 0x00, 0x00}}) {
    FrameReader r;
    r.append(m);
    Frame f;
    EXPECT_EQ(r.next(f), ReadStatus::kBadLength) << int(m[0]);
  }
}

TEST(AudioSocketFrame, LargestFrameFitsAndBufferNeverGrows) {
  FrameReader r;
  auto big = msg(0x18, std::vector<uint8_t>(kMaxPayload, 3));
  size_t frames = 0;
  for (int round = 0; round < 10; ++round) {
    size_t off = 0;
    while (off < big.size()) {
      auto room = r.space();
      ASSERT_FALSE(room.empty());
      size_t n = std::min(room.size(), big.size() - off);
      std::copy_n(big.begin() + off, n, room.begin());
      r.commit(n);
      off += n;
      Frame f;
      while (r.next(f) == ReadStatus::kFrame) ++frames;
    }
  }
  EXPECT_EQ(frames, 10u);
  std::vector<uint8_t> too_big(kMaxPayload + 1);
  std::vector<uint8_t> out(kMaxFrameSize + 10);
  EXPECT_EQ(write_frame(out, 0x10, too_big), 0u);
}

TEST(AudioSocketFrame, UuidText) {
  std::array<uint8_t, kUuidSize> u{};
  ASSERT_TRUE(uuid_from_string("F40F92BE-d719-4862-9ccf-07fe330ff272", u));
  EXPECT_EQ(uuid_to_string(u), "f40f92be-d719-4862-9ccf-07fe330ff272");
  EXPECT_FALSE(uuid_from_string("f40f92be-d719-4862-9ccf-07fe330ff27", u));
  EXPECT_FALSE(uuid_from_string("f40f92bed719-4862-9ccf-07fe330ff2722", u));
  EXPECT_FALSE(uuid_from_string("g40f92be-d719-4862-9ccf-07fe330ff272", u));
}

}  // namespace
}  // namespace atende::audiosocket
