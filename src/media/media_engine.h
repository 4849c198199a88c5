// The media side of the server: worker threads and the RTP port range. Legs are placed on
// the least-loaded worker and stay there for their whole life (no locks on the data path).
#pragma once
#include <memory>
#include <vector>

#include "core/metrics.h"
#include "media/media_worker.h"
#include "media/port_pool.h"
#include "media/rtp_leg.h"

namespace atende::media {

class MediaEngine {
 public:
  MediaEngine(int threads, int port_min, int port_max, CoreMetrics& metrics);
  ~MediaEngine();
  void start();
  void stop();  // joins the workers; legs still alive are just dropped

  // Any thread. Binds a free port pair and returns the leg (not started: call start() on
  // its worker). nullptr when no port pair can be bound.
  std::shared_ptr<RtpLeg> create_leg(RtpLegParams params);

 private:
  MediaWorker& least_loaded();
  // Ports before workers: legs still queued on a worker give their port back when the
  // worker is destroyed, so the pool must outlive the workers.
  CoreMetrics& metrics_;
  PortPool ports_;
  std::vector<std::unique_ptr<MediaWorker>> workers_;
};

}  // namespace atende::media
