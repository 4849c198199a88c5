#include "recording/recorder.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <system_error>

namespace atende::recording {

namespace fs = std::filesystem;

namespace {

std::tm utc(WallTime t) {
  const std::time_t s = std::chrono::system_clock::to_time_t(t);
  std::tm tm{};
  gmtime_r(&s, &tm);
  return tm;
}

std::string day_stamp(WallTime t) {  // "2026-12-05"
  const std::tm tm = utc(t);
  char buf[16];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02d", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday);
  return buf;
}

// Midnight UTC of a "YYYY-MM-DD" / "YYYY/MM/DD" day; false when it is not one.
bool parse_day(std::string_view y, std::string_view m, std::string_view d, WallTime& out) {
  auto num = [](std::string_view s, int& v) {
    if (s.empty() || s.size() > 4) return false;
    v = 0;
    for (char c : s) {
      if (c < '0' || c > '9') return false;
      v = v * 10 + (c - '0');
    }
    return true;
  };
  int yy = 0, mm = 0, dd = 0;
  if (!num(y, yy) || !num(m, mm) || !num(d, dd) || y.size() != 4 || m.size() != 2 ||
      d.size() != 2 || mm < 1 || mm > 12 || dd < 1 || dd > 31) {
    return false;
  }
  const std::chrono::year_month_day ymd{std::chrono::year{yy}, std::chrono::month{unsigned(mm)},
                                        std::chrono::day{unsigned(dd)}};
  if (!ymd.ok()) return false;
  out = std::chrono::sys_days{ymd};
  return true;
}

WallTime floor_day(WallTime t) { return std::chrono::floor<std::chrono::days>(t); }

}  // namespace

std::string day_path(WallTime t) {
  std::string s = day_stamp(t);
  s[4] = '/';
  s[7] = '/';
  return s;
}

bool safe_file_stem(const std::string& id) {
  if (id.empty() || id.size() > 128 || id.front() == '.') return false;
  return std::all_of(id.begin(), id.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '_' || c == '.';
  });
}

// ---- CallRecording ----------------------------------------------------------------------

CallRecording::CallRecording(std::string call_id, int sample_rate, WallTime started,
                             size_t ring_ticks, Counter* dropped)
    : call_id_(std::move(call_id)),
      rate_(sample_rate),
      started_(started),
      ring_(ring_ticks, static_cast<size_t>(samples_per_frame(sample_rate))),
      dropped_(dropped) {}

void CallRecording::on_media(const AudioFrame& heard, const AudioFrame* sent) {
  const size_t n = ring_.block_samples();
  const int16_t* left =
      heard.sample_rate == rate_ && size_t(heard.samples) >= n ? heard.pcm.data() : nullptr;
  const int16_t* right =
      sent && sent->sample_rate == rate_ && size_t(sent->samples) >= n ? sent->pcm.data() : nullptr;
  if (!ring_.push(left, right, n) && dropped_) dropped_->inc();
}

// ---- Recorder ---------------------------------------------------------------------------

Recorder::Recorder(RecorderOptions options, MetricsRegistry* metrics, OnFinished on_finished,
                   std::function<void(WallTime)> on_swept)
    : options_(std::move(options)),
      on_finished_(std::move(on_finished)),
      on_swept_(std::move(on_swept)) {
  if (metrics) {
    dropped_ = &metrics->counter("atende_recording_dropped_frames_total",
                                 "20 ms ticks of call recordings dropped because the writer fell "
                                 "behind");
    finished_ = &metrics->counter("atende_recordings_total", "Call recordings by outcome",
                                  {{"result", "written"}});
    failed_ = &metrics->counter("atende_recordings_total", "Call recordings by outcome",
                                {{"result", "failed"}});
  }
  buffer_.reserve(options_.ring_ticks * 320 * 2);
}

Recorder::~Recorder() { stop(); }

void Recorder::start() {
  std::error_code ec;
  fs::create_directories(fs::path(options_.dir) / "partial", ec);
  if (ec) spdlog::error("recording: cannot create {}/partial: {}", options_.dir, ec.message());
  if (const size_t n = repair_partials()) {
    spdlog::warn("recording: repaired {} recordings left unfinished by a crash", n);
  }
  sweep(std::chrono::system_clock::now());
  thread_ = std::thread([this] { run(); });
}

void Recorder::stop() {
  {
    std::lock_guard lock(mu_);
    if (stopping_) return;
    stopping_ = true;
    for (auto& r : active_) r->end();  // the taps are gone with the legs by now
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

std::shared_ptr<CallRecording> Recorder::begin(const std::string& call_id, int sample_rate,
                                               WallTime started) {
  if (!safe_file_stem(call_id) || (sample_rate != 8000 && sample_rate != 16000)) {
    spdlog::warn("call={} recording: not recorded (unusable id or rate {})", call_id, sample_rate);
    return nullptr;
  }
  auto r =
      std::make_shared<CallRecording>(call_id, sample_rate, started, options_.ring_ticks, dropped_);
  std::lock_guard lock(mu_);
  if (stopping_) return nullptr;
  active_.push_back(r);
  return r;
}

void Recorder::run() {
  auto next_sweep = std::chrono::steady_clock::now() + options_.sweep_every;
  for (;;) {
    std::vector<std::shared_ptr<CallRecording>> work;
    bool stopping = false;
    {
      std::unique_lock lock(mu_);
      wake_.wait_for(lock, options_.poll, [this] { return stopping_; });
      stopping = stopping_;
      work = active_;
    }
    std::vector<CallRecording*> done;
    for (auto& r : work) {
      // Read `ended` first: the ticks pushed before it are in the ring when drained next.
      const bool ended = r->ended_.load(std::memory_order_acquire);
      drain(*r);
      if (ended && finish(*r)) done.push_back(r.get());
    }
    if (!done.empty()) {
      std::lock_guard lock(mu_);
      std::erase_if(active_, [&](const auto& r) {
        return std::find(done.begin(), done.end(), r.get()) != done.end();
      });
    }
    if (stopping) {
      std::lock_guard lock(mu_);
      if (active_.empty()) return;
      continue;  // every recording was ended by stop(): one more pass finishes them
    }
    if (std::chrono::steady_clock::now() >= next_sweep) {
      sweep(std::chrono::system_clock::now());
      next_sweep = std::chrono::steady_clock::now() + options_.sweep_every;
    }
  }
}

void Recorder::drain(CallRecording& r) {
  if (!r.file_.is_open() && !r.failed_) {
    r.partial_ =
        (fs::path(options_.dir) / "partial" / (day_stamp(r.started_) + "_" + r.call_id_ + ".wav"))
            .string();
    std::string error;
    if (!r.file_.open(r.partial_, r.rate_, options_.stereo ? 2 : 1, &error)) {
      spdlog::error("call={} recording: {}", r.call_id_, error);
      r.failed_ = true;
    }
  }
  buffer_.clear();
  size_t samples = 0;
  while (const int16_t* block = r.ring_.front(samples)) {
    if (options_.stereo) {
      buffer_.insert(buffer_.end(), block, block + 2 * samples);
    } else {
      for (size_t i = 0; i < samples; ++i) {  // both sides into one channel, clipped
        const int sum = int(block[2 * i]) + int(block[2 * i + 1]);
        buffer_.push_back(static_cast<int16_t>(std::clamp(sum, -32768, 32767)));
      }
    }
    r.ring_.pop();
  }
  if (r.failed_ || buffer_.empty()) return;
  // WAV is little-endian, as are the hosts we build for (x86-64, arm64).
  if (!r.file_.append(buffer_.data(), buffer_.size() * sizeof(int16_t))) {
    spdlog::error("call={} recording: write to {} failed; the rest is not recorded", r.call_id_,
                  r.partial_);
    r.failed_ = true;
  }
}

bool Recorder::finish(CallRecording& r) {
  if (!r.file_.is_open()) {
    if (failed_) failed_->inc();
    return true;
  }
  const uint64_t data = r.file_.finish();
  const std::string relative = day_path(r.started_) + "/" + r.call_id_ + ".wav";
  const fs::path final_path = fs::path(options_.dir) / relative;
  std::error_code ec;
  fs::create_directories(final_path.parent_path(), ec);
  if (!ec) fs::rename(r.partial_, final_path, ec);
  if (ec) {
    // Left in partial/: the next start-up moves it.
    spdlog::error("call={} recording: cannot move {} to {}: {}", r.call_id_, r.partial_,
                  final_path.string(), ec.message());
    if (failed_) failed_->inc();
    return true;
  }
  if (finished_) finished_->inc();
  if (on_finished_) on_finished_({r.call_id_, relative, data + kWavHeaderBytes, r.started_});
  return true;
}

size_t Recorder::repair_partials() {
  size_t repaired = 0;
  std::error_code ec;
  const fs::path partial = fs::path(options_.dir) / "partial";
  for (fs::directory_iterator it(partial, ec), end; !ec && it != end; it.increment(ec)) {
    const std::string name = it->path().filename().string();
    // "YYYY-MM-DD_<id>.wav"
    WallTime day;
    if (name.size() < 16 || name[10] != '_' || name.substr(name.size() - 4) != ".wav" ||
        !parse_day(std::string_view(name).substr(0, 4), std::string_view(name).substr(5, 2),
                   std::string_view(name).substr(8, 2), day)) {
      continue;
    }
    const std::string id = name.substr(11, name.size() - 15);
    if (!safe_file_stem(id)) continue;
    std::string error;
    const int64_t data = repair_wav(it->path().string(), &error);
    if (data < 0) {
      spdlog::warn("recording: {}: left as it is", error);
      continue;
    }
    const std::string relative = day_path(day) + "/" + id + ".wav";
    const fs::path final_path = fs::path(options_.dir) / relative;
    std::error_code e2;
    fs::create_directories(final_path.parent_path(), e2);
    if (!e2) fs::rename(it->path(), final_path, e2);
    if (e2) {
      spdlog::warn("recording: cannot move {}: {}", it->path().string(), e2.message());
      continue;
    }
    ++repaired;
    spdlog::info("call={} recording: repaired after a crash ({} bytes of audio)", id, data);
    if (on_finished_) {
      on_finished_({id, relative, static_cast<uint64_t>(data) + kWavHeaderBytes, day});
    }
  }
  return repaired;
}

size_t Recorder::sweep(WallTime now) {
  if (options_.retention_days <= 0) return 0;
  // A day directory goes when its last possible recording is past retention: every day
  // before the day that (now - retention) falls in.
  const WallTime keep_from = floor_day(now - std::chrono::days(options_.retention_days));
  size_t removed = 0;
  std::error_code ec;
  const fs::path root(options_.dir);
  for (fs::directory_iterator y(root, ec), end; !ec && y != end; y.increment(ec)) {
    const std::string yy = y->path().filename().string();
    std::error_code e2;
    if (yy.size() != 4 || !y->is_directory(e2)) continue;
    for (fs::directory_iterator m(y->path(), e2); !e2 && m != end; m.increment(e2)) {
      const std::string mm = m->path().filename().string();
      std::error_code e3;
      for (fs::directory_iterator d(m->path(), e3); !e3 && d != end; d.increment(e3)) {
        const std::string dd = d->path().filename().string();
        WallTime day;
        if (!parse_day(yy, mm, dd, day) || day >= keep_from) continue;
        std::error_code e4;
        const auto n = fs::remove_all(d->path(), e4);
        if (e4) {
          spdlog::warn("recording: retention: cannot delete {}: {}", d->path().string(),
                       e4.message());
          continue;
        }
        removed += static_cast<size_t>(n > 0 ? n - 1 : 0);  // files, not the directory
      }
      std::error_code e5;
      if (fs::is_empty(m->path(), e5) && !e5) fs::remove(m->path(), e5);
    }
  }
  if (removed) {
    spdlog::info("recording: retention: deleted {} recordings older than {} days", removed,
                 options_.retention_days);
  }
  if (on_swept_) on_swept_(keep_from);
  return removed;
}

}  // namespace atende::recording
