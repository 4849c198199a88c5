// Call recording's parts without a call: the ring between the media thread and the writer,
// the writer's files (stereo and mixed, header finalised), the repair of what a crash left
// and the retention sweep.
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <thread>

#include "recording/recorder.h"
#include "recording/stereo_ring.h"
#include "recording/wav_file.h"

namespace fs = std::filesystem;
using namespace atende;
using namespace atende::recording;

namespace {

fs::path temp_dir(const std::string& name) {
  fs::path d =
      fs::temp_directory_path() / ("atende_rec_" + name + "_" + std::to_string(::getpid()));
  fs::remove_all(d);
  fs::create_directories(d);
  return d;
}

std::vector<uint8_t> read_file(const fs::path& p) {
  std::ifstream f(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(f), {}};
}

uint32_t u32(const std::vector<uint8_t>& b, size_t at) {
  return b[at] | b[at + 1] << 8 | b[at + 2] << 16 | uint32_t(b[at + 3]) << 24;
}

AudioFrame frame(int rate, int16_t value) {
  AudioFrame f = AudioFrame::silence(rate);
  std::fill_n(f.pcm.begin(), f.samples, value);
  return f;
}

}  // namespace

TEST(StereoRing, KeepsOrderInterleavesAndDropsWhenFull) {
  StereoRing ring(3, 4);
  const int16_t l1[4] = {1, 2, 3, 4}, r1[4] = {-1, -2, -3, -4};
  EXPECT_TRUE(ring.push(l1, r1, 4));
  EXPECT_TRUE(ring.push(l1, nullptr, 4));  // nothing sent: silence on the right
  EXPECT_TRUE(ring.push(nullptr, r1, 9));  // cut to a block
  EXPECT_FALSE(ring.push(l1, r1, 4));      // full: dropped, nothing overwritten
  size_t n = 0;
  const int16_t* b = ring.front(n);
  ASSERT_NE(b, nullptr);
  EXPECT_EQ(n, 4u);
  EXPECT_EQ(b[0], 1);
  EXPECT_EQ(b[1], -1);
  EXPECT_EQ(b[6], 4);
  EXPECT_EQ(b[7], -4);
  ring.pop();
  b = ring.front(n);
  EXPECT_EQ(b[1], 0);
  ring.pop();
  b = ring.front(n);
  EXPECT_EQ(b[0], 0);
  EXPECT_EQ(b[1], -1);
  ring.pop();
  EXPECT_EQ(ring.front(n), nullptr);
  EXPECT_TRUE(ring.push(l1, r1, 4));  // room again
}

TEST(StereoRing, OneProducerOneConsumerLoseNothingWhenKeptUp) {
  StereoRing ring(8, 160);
  constexpr int kTicks = 20000;
  std::atomic<int> dropped{0};
  std::thread producer([&] {
    int16_t l[160], r[160];
    for (int t = 0; t < kTicks; ++t) {
      std::fill_n(l, 160, int16_t(t));
      std::fill_n(r, 160, int16_t(-t));
      while (!ring.push(l, r, 160)) {
        ++dropped;  // counted and retried here, so the consumer's check stays exact
        std::this_thread::yield();
      }
    }
  });
  int expect = 0;
  while (expect < kTicks) {
    size_t n = 0;
    if (const int16_t* b = ring.front(n)) {
      ASSERT_EQ(n, 160u);
      ASSERT_EQ(b[0], int16_t(expect));
      ASSERT_EQ(b[319], int16_t(-expect));
      ring.pop();
      ++expect;
    }
  }
  producer.join();
}

TEST(WavFile, HeaderIsFinalisedAndRepairKeepsWhatReachedTheFile) {
  const fs::path dir = temp_dir("wav");
  const std::string path = (dir / "a.wav").string();
  {
    WavFile f;
    std::string error;
    ASSERT_TRUE(f.open(path, 16000, 2, &error)) << error;
    const int16_t pcm[8] = {1, 2, 3, 4, 5, 6, 7, 8};
    ASSERT_TRUE(f.append(pcm, sizeof pcm));
    EXPECT_EQ(f.finish(), 16u);
  }
  auto bytes = read_file(path);
  ASSERT_EQ(bytes.size(), 44u + 16u);
  EXPECT_EQ(u32(bytes, 4), 36u + 16u);
  EXPECT_EQ(u32(bytes, 40), 16u);
  EXPECT_EQ(u32(bytes, 24), 16000u);

  // A crash: header with placeholder sizes and a cut sample frame at the end.
  const std::string crashed = (dir / "b.wav").string();
  {
    WavFile f;
    ASSERT_TRUE(f.open(crashed, 8000, 2, nullptr));
    const int16_t pcm[5] = {1, 2, 3, 4, 5};  // 2.5 stereo frames
    ASSERT_TRUE(f.append(pcm, sizeof pcm));
    // destroyed without finish(): as after kill -9
  }
  EXPECT_EQ(u32(read_file(crashed), 40), 0u);
  std::string error;
  EXPECT_EQ(repair_wav(crashed, &error), 8) << error;
  bytes = read_file(crashed);
  EXPECT_EQ(bytes.size(), 44u + 8u);
  EXPECT_EQ(u32(bytes, 40), 8u);
  EXPECT_EQ(u32(bytes, 4), 44u);

  std::ofstream(dir / "junk.wav") << "not a wav at all, but long enough to have a header........";
  EXPECT_EQ(repair_wav((dir / "junk.wav").string(), &error), -1);
  EXPECT_FALSE(error.empty());
  fs::remove_all(dir);
}

TEST(Recorder, WritesStereoMovesToTheDayAndReportsIt) {
  const fs::path dir = temp_dir("rec");
  std::vector<FinishedRecording> done;
  std::mutex mu;
  MetricsRegistry metrics;
  Recorder rec({.dir = dir.string(), .poll = std::chrono::milliseconds(5)}, &metrics,
               [&](const FinishedRecording& f) {
                 std::lock_guard lock(mu);
                 done.push_back(f);
               });
  rec.start();
  const auto started =
      std::chrono::sys_days{std::chrono::year{2026} / 12 / 5} + std::chrono::hours(13);
  auto r = rec.begin("call-1", 16000, started);
  ASSERT_NE(r, nullptr);
  const AudioFrame caller = frame(16000, 1000), atende = frame(16000, -2000);
  for (int i = 0; i < 10; ++i) {
    r->on_media(caller, &atende);
    r->on_media(caller, nullptr);
    std::this_thread::sleep_for(std::chrono::milliseconds(2));  // let the writer keep up
  }
  r->end();
  EXPECT_EQ(rec.begin("../etc/passwd", 8000, started), nullptr);
  rec.stop();
  ASSERT_EQ(done.size(), 1u);
  EXPECT_EQ(done[0].call_id, "call-1");
  EXPECT_EQ(done[0].path, "2026/12/05/call-1.wav");
  const auto bytes = read_file(dir / done[0].path);
  // 20 ticks of 320 samples, two channels.
  ASSERT_EQ(bytes.size(), 44u + 20u * 320u * 4u);
  EXPECT_EQ(done[0].bytes, bytes.size());
  EXPECT_EQ(u32(bytes, 40), 20u * 320u * 4u);
  const auto sample = [&](size_t i) { return int16_t(bytes[44 + 2 * i] | bytes[45 + 2 * i] << 8); };
  EXPECT_EQ(sample(0), 1000);   // caller, left
  EXPECT_EQ(sample(1), -2000);  // atende, right
  EXPECT_EQ(sample(641), 0);    // second tick: nothing sent
  EXPECT_TRUE(fs::is_empty(dir / "partial"));
  fs::remove_all(dir);
}

TEST(Recorder, MixedMonoAndDropsCountedWhenTheWriterFallsBehind) {
  const fs::path dir = temp_dir("mix");
  MetricsRegistry metrics;
  std::vector<FinishedRecording> done;
  // A writer that only wakes at stop(): the ring (4 ticks) fills.
  Recorder rec(
      {.dir = dir.string(), .stereo = false, .poll = std::chrono::hours(1), .ring_ticks = 4},
      &metrics, [&](const FinishedRecording& f) { done.push_back(f); });
  rec.start();
  auto r = rec.begin("c2", 8000, std::chrono::system_clock::now());
  const AudioFrame a = frame(8000, 30000), b = frame(8000, 30000);
  for (int i = 0; i < 10; ++i) r->on_media(a, &b);
  r->end();
  rec.stop();
  ASSERT_EQ(done.size(), 1u);
  const auto bytes = read_file(dir / done[0].path);
  ASSERT_EQ(bytes.size(), 44u + 4u * 160u * 2u);          // the 4 that fitted, one channel
  EXPECT_EQ(int16_t(bytes[44] | bytes[45] << 8), 32767);  // mixed and clipped
  EXPECT_NE(metrics.render().find("atende_recording_dropped_frames_total 6"), std::string::npos)
      << metrics.render();
  fs::remove_all(dir);
}

TEST(Recorder, RepairsPartialsAtStartAndSweepsOldDays) {
  const fs::path dir = temp_dir("repair");
  fs::create_directories(dir / "partial");
  // Today's (the start-up sweep must keep it, whatever the date the test runs on).
  const auto day = std::chrono::floor<std::chrono::days>(std::chrono::system_clock::now());
  std::string stamp = day_path(day);
  std::replace(stamp.begin(), stamp.end(), '/', '-');
  {
    WavFile f;
    ASSERT_TRUE(f.open((dir / "partial" / (stamp + "_crashed.wav")).string(), 8000, 2, nullptr));
    const int16_t pcm[640] = {};
    ASSERT_TRUE(f.append(pcm, sizeof pcm));
  }
  fs::create_directories(dir / "2020" / "01" / "02");
  std::ofstream(dir / "2020" / "01" / "02" / "old.wav") << "x";
  std::vector<FinishedRecording> done;
  std::vector<WallTime> swept;
  Recorder rec(
      {.dir = dir.string(), .retention_days = 30}, nullptr,
      [&](const FinishedRecording& f) { done.push_back(f); },
      [&](WallTime before) { swept.push_back(before); });
  rec.start();
  rec.stop();
  ASSERT_EQ(done.size(), 1u);
  EXPECT_EQ(done[0].call_id, "crashed");
  EXPECT_EQ(done[0].path, day_path(day) + "/crashed.wav");
  EXPECT_EQ(done[0].bytes, 44u + sizeof(int16_t) * 640);
  EXPECT_EQ(u32(read_file(dir / done[0].path), 40), 1280u);
  EXPECT_FALSE(fs::exists(dir / "2020" / "01" / "02"));
  ASSERT_EQ(swept.size(), 1u);
  // A sweep "now" far ahead deletes the repaired day too; one within retention keeps it.
  EXPECT_EQ(rec.sweep(day + std::chrono::days(30)), 0u);
  EXPECT_TRUE(fs::exists(dir / done[0].path));
  EXPECT_EQ(rec.sweep(day + std::chrono::days(32)), 1u);
  EXPECT_FALSE(fs::exists(dir / done[0].path));
  fs::remove_all(dir);
}
