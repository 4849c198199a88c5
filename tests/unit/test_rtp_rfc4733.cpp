// RFC 4733 telephone-events: payload bounds, one digit per key press whatever the network
// does to the redundant packets, and the sender's packet sequence fed back into a receiver.
#include <gtest/gtest.h>

#include <array>
#include <string>
#include <vector>

#include "rtp/rfc4733.h"

namespace atende::rtp {
namespace {

MonoTime at_ms(int64_t ms) { return MonoTime(std::chrono::milliseconds(ms)); }

std::array<uint8_t, 4> event_bytes(char digit, bool end, uint16_t duration) {
  std::array<uint8_t, 4> b{};
  TelephoneEvent ev;
  ev.event = static_cast<uint8_t>(digit_to_event(digit));
  ev.end = end;
  ev.volume = 10;
  ev.duration = duration;
  EXPECT_EQ(write_telephone_event(b, ev), 4u);
  return b;
}

// Feeds one key press the way a phone sends it: updates every 20 ms, then 3 end packets.
// `ends` limits how many of the end packets survive the network.
void press(DtmfReceiver& rx, char digit, uint32_t ts, int64_t& now_ms, int updates = 5,
           int ends = 3) {
  for (int i = 1; i <= updates; ++i, now_ms += 20)
    rx.on_packet(ts, event_bytes(digit, false, static_cast<uint16_t>(160 * i)), at_ms(now_ms));
  for (int i = 0; i < ends; ++i, now_ms += 20)
    rx.on_packet(ts, event_bytes(digit, true, static_cast<uint16_t>(160 * (updates + 1))),
                 at_ms(now_ms));
}

std::string drain(DtmfReceiver& rx) {
  std::string s;
  char d;
  while (rx.pop(d)) s.push_back(d);
  return s;
}

TEST(TelephoneEvent, ParseAndWriteRoundTrip) {
  const uint8_t raw[] = {11, 0x8A, 0x03, 0x20};  // '#', end, volume 10, duration 800
  TelephoneEvent ev;
  ASSERT_TRUE(parse_telephone_event(raw, ev));
  EXPECT_EQ(ev.event, 11);
  EXPECT_TRUE(ev.end);
  EXPECT_EQ(ev.volume, 10);
  EXPECT_EQ(ev.duration, 800);
  std::array<uint8_t, 4> out{};
  ASSERT_EQ(write_telephone_event(out, ev), 4u);
  EXPECT_EQ(out[0], raw[0]);
  EXPECT_EQ(out[1], raw[1]);
  EXPECT_EQ(out[2], raw[2]);
  EXPECT_EQ(out[3], raw[3]);
}

TEST(TelephoneEvent, ShortPayloadAndSmallBufferAreRefused) {
  const uint8_t raw[] = {1, 2, 3};
  TelephoneEvent ev;
  EXPECT_FALSE(parse_telephone_event(raw, ev));
  EXPECT_FALSE(parse_telephone_event({}, ev));
  std::array<uint8_t, 3> small{};
  EXPECT_EQ(write_telephone_event(small, ev), 0u);
}

TEST(TelephoneEvent, DigitMapping) {
  const std::string digits = "0123456789*#ABCD";
  for (size_t i = 0; i < digits.size(); ++i) {
    EXPECT_EQ(event_to_digit(static_cast<uint8_t>(i)), digits[i]);
    EXPECT_EQ(digit_to_event(digits[i]), static_cast<int>(i));
  }
  EXPECT_EQ(digit_to_event('a'), 12);
  EXPECT_EQ(event_to_digit(16), '\0');  // flash
  EXPECT_EQ(event_to_digit(255), '\0');
  EXPECT_EQ(digit_to_event('x'), -1);
  EXPECT_EQ(digit_to_event('\0'), -1);
}

TEST(DtmfReceiver, ThreeEndPacketsGiveOneDigit) {
  DtmfReceiver rx;
  int64_t now = 0;
  press(rx, '5', 1000, now);
  EXPECT_EQ(drain(rx), "5");
  for (int i = 0; i < 50; ++i) rx.on_tick(at_ms(now += 20));
  EXPECT_EQ(drain(rx), "");  // no second report later either
}

TEST(DtmfReceiver, SameDigitTwiceInARowGivesTwoDigits) {
  DtmfReceiver rx;
  int64_t now = 0;
  press(rx, '7', 1000, now);
  press(rx, '7', 3000, now);  // a new press: a new timestamp
  EXPECT_EQ(drain(rx), "77");
}

TEST(DtmfReceiver, LostEndPacketsAreRecoveredWhenTheNextPressStarts) {
  DtmfReceiver rx;
  int64_t now = 0;
  press(rx, '1', 1000, now, 5, /*ends=*/0);
  EXPECT_EQ(drain(rx), "");  // not finished yet as far as the receiver knows
  press(rx, '2', 3000, now);
  EXPECT_EQ(drain(rx), "12");
}

TEST(DtmfReceiver, LostEndPacketsAreRecoveredAfterSilence) {
  DtmfReceiver rx(Millis(500));
  int64_t now = 0;
  press(rx, '9', 1000, now, 5, /*ends=*/0);
  rx.on_tick(at_ms(now + 100));
  EXPECT_EQ(drain(rx), "");  // a long press may still be going on
  rx.on_tick(at_ms(now + 600));
  EXPECT_EQ(drain(rx), "9");
  rx.on_tick(at_ms(now + 2000));
  EXPECT_EQ(drain(rx), "");
}

TEST(DtmfReceiver, OnlyEndPacketsStillGiveOneDigit) {
  DtmfReceiver rx;
  int64_t now = 0;
  press(rx, '#', 1000, now, /*updates=*/0, /*ends=*/3);
  EXPECT_EQ(drain(rx), "#");
}

TEST(DtmfReceiver, LateEndOfPreviousPressIsNotANewDigit) {
  DtmfReceiver rx;
  int64_t now = 0;
  press(rx, '3', 1000, now, 5, 1);
  press(rx, '4', 3000, now, 2, 0);
  // The second and third end packets of '3' arrive late, behind '4'.
  rx.on_packet(1000, event_bytes('3', true, 960), at_ms(now));
  rx.on_packet(1000, event_bytes('3', true, 960), at_ms(now + 1));
  press(rx, '4', 3000, now, 0, 3);
  EXPECT_EQ(drain(rx), "34");
}

TEST(DtmfReceiver, MalformedAndNonDtmfEventsAreIgnored) {
  DtmfReceiver rx;
  const uint8_t short_payload[] = {5, 0x80};
  rx.on_packet(100, short_payload, at_ms(0));
  EXPECT_EQ(rx.malformed(), 1u);
  const uint8_t flash[] = {16, 0x80, 0, 160};
  rx.on_packet(200, flash, at_ms(20));
  rx.on_tick(at_ms(5000));
  EXPECT_EQ(drain(rx), "");
}

TEST(DtmfReceiver, ResetForgetsThePressInProgress) {
  DtmfReceiver rx;
  int64_t now = 0;
  press(rx, '8', 1000, now, 3, 0);
  rx.reset();
  rx.on_tick(at_ms(now + 5000));
  EXPECT_EQ(drain(rx), "");
}

TEST(DtmfSender, PacketSequenceForOneDigit) {
  DtmfSenderConfig cfg;  // 5 tone packets, 3 end packets, 160 per tick
  DtmfSender tx(cfg);
  ASSERT_TRUE(tx.queue('6'));
  std::vector<DtmfPacket> packets;
  std::vector<TelephoneEvent> events;
  uint32_t ts = 8000;
  for (int tick = 0; tick < 20; ++tick, ts += 160) {
    std::array<uint8_t, 16> buf{};
    DtmfPacket p;
    if (!tx.next(ts, buf, p)) continue;
    ASSERT_EQ(p.size, 4u);
    TelephoneEvent ev;
    ASSERT_TRUE(parse_telephone_event({buf.data(), p.size}, ev));
    packets.push_back(p);
    events.push_back(ev);
  }
  ASSERT_EQ(packets.size(), 8u);
  EXPECT_TRUE(packets[0].marker);
  for (size_t i = 1; i < packets.size(); ++i) EXPECT_FALSE(packets[i].marker) << i;
  for (const DtmfPacket& p : packets) EXPECT_EQ(p.timestamp, 8000u);  // the press's start
  for (size_t i = 0; i < 5; ++i) {
    EXPECT_EQ(events[i].event, 6);
    EXPECT_FALSE(events[i].end) << i;
    if (i > 0) {
      EXPECT_GT(events[i].duration, events[i - 1].duration);
    }
  }
  for (size_t i = 5; i < 8; ++i) {
    EXPECT_TRUE(events[i].end) << i;
    EXPECT_EQ(events[i].duration, events[5].duration);
    EXPECT_GE(events[i].duration, events[4].duration);
  }
  EXPECT_FALSE(tx.busy());
}

TEST(DtmfSender, RefusesNonDigitsAndBoundsTheQueue) {
  DtmfSender tx;
  EXPECT_FALSE(tx.queue('x'));
  int accepted = 0;
  for (int i = 0; i < 100; ++i) accepted += tx.queue('1') ? 1 : 0;
  EXPECT_GT(accepted, 0);
  EXPECT_LT(accepted, 100);
  tx.clear();
  EXPECT_FALSE(tx.busy());
  std::array<uint8_t, 3> too_small{};
  DtmfPacket p;
  ASSERT_TRUE(tx.queue('2'));
  EXPECT_FALSE(tx.next(0, too_small, p));  // never writes past the caller's buffer
}

TEST(DtmfSenderToReceiver, DigitStringSurvivesTheRoundTrip) {
  DtmfSender tx;
  DtmfReceiver rx;
  for (char d : std::string("123#*0")) ASSERT_TRUE(tx.queue(d));
  uint32_t ts = 0;
  int64_t now = 0;
  for (int tick = 0; tick < 200; ++tick, ts += 160, now += 20) {
    std::array<uint8_t, 4> buf{};
    DtmfPacket p;
    if (tx.next(ts, buf, p)) rx.on_packet(p.timestamp, {buf.data(), p.size}, at_ms(now));
    rx.on_tick(at_ms(now));
  }
  EXPECT_EQ(drain(rx), "123#*0");
}

}  // namespace
}  // namespace atende::rtp
