// The media side of the server: worker threads and the RTP port range. Legs are placed on
// the least-loaded worker and stay there for their whole life (no locks on the data path).
#pragma once
#include <memory>
#include <optional>
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

  // Any thread. Binds a free port pair (or params.local_port when set, e.g. one reserved
  // for an SDP offer) and returns the leg (not started: call start() on its worker).
  // `near`: another leg's executor, so that the legs of one session share a worker and a
  // bridge between them needs no lock; nullptr: the least-loaded worker. nullptr when no
  // port pair can be bound.
  std::shared_ptr<RtpLeg> create_leg(RtpLegParams params, Executor* near = nullptr);
  // A port pair for an SDP offer whose leg is created once the answer names the codec
  // (create_leg with params.local_port), or given back with release_port().
  std::optional<int> reserve_port() { return ports_.acquire(); }
  void release_port(int port) { ports_.release(port); }
  // Any thread: `near`'s worker when it is one of ours, else the least-loaded one (for legs
  // of other transports, e.g. AudioSocket, that live on the media workers too).
  MediaWorker& worker_for(Executor* near);

 private:
  MediaWorker& least_loaded();
  // Ports before workers: legs still queued on a worker give their port back when the
  // worker is destroyed, so the pool must outlive the workers.
  CoreMetrics& metrics_;
  PortPool ports_;
  std::vector<std::unique_ptr<MediaWorker>> workers_;
};

}  // namespace atende::media
