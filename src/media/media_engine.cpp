#include "media/media_engine.h"

#include <spdlog/spdlog.h>

namespace atende::media {

MediaEngine::MediaEngine(int threads, int port_min, int port_max, CoreMetrics& metrics)
    : metrics_(metrics), ports_(port_min, port_max) {
  for (int i = 0; i < threads; ++i) {
    workers_.push_back(std::make_unique<MediaWorker>(i, &metrics.media_tick_lateness_seconds,
                                                     &metrics.media_tick_work_seconds));
  }
}

MediaEngine::~MediaEngine() { stop(); }

void MediaEngine::start() {
  for (auto& w : workers_) w->start();
}

void MediaEngine::stop() {
  for (auto& w : workers_) w->stop();
}

MediaWorker& MediaEngine::least_loaded() {
  MediaWorker* best = workers_.front().get();
  for (auto& w : workers_) {
    if (w->load() < best->load()) best = w.get();
  }
  return *best;
}

MediaWorker& MediaEngine::worker_for(Executor* near) {
  for (auto& w : workers_) {
    if (w.get() == near) return *w;
  }
  return least_loaded();
}

std::shared_ptr<RtpLeg> MediaEngine::create_leg(RtpLegParams params, Executor* near) {
  MediaWorker& worker = worker_for(near);
  if (params.local_port > 0) {
    // A reserved pair (SDP offer already sent with it): that one or nothing.
    const int port = params.local_port;
    try {
      auto leg = std::make_shared<RtpLeg>(worker, params, metrics_);
      leg->on_destroy([this, port] { ports_.release(port); });
      return leg;
    } catch (const boost::system::system_error& e) {
      spdlog::warn("media: cannot bind reserved RTP port {}: {}", port, e.what());
      ports_.release(port);
      return nullptr;
    } catch (const std::runtime_error& e) {  // SRTP keys refused (never with a valid key)
      spdlog::warn("media: {}", e.what());
      ports_.release(port);
      return nullptr;
    }
  }
  // A port can be taken by another program: try a few pairs before giving up.
  for (int attempt = 0; attempt < 8; ++attempt) {
    auto port = ports_.acquire();
    if (!port) return nullptr;
    params.local_port = *port;
    try {
      auto leg = std::make_shared<RtpLeg>(worker, params, metrics_);
      leg->on_destroy([this, p = *port] { ports_.release(p); });
      return leg;
    } catch (const boost::system::system_error& e) {
      spdlog::warn("media: cannot bind RTP port {}: {}", *port, e.what());
      ports_.release(*port);
    } catch (const std::runtime_error& e) {
      spdlog::warn("media: {}", e.what());
      ports_.release(*port);
      return nullptr;
    }
  }
  return nullptr;
}

}  // namespace atende::media
