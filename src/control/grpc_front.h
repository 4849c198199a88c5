// The gRPC control front-end as the server sees it (docs/grpc.md): the controller hub, the
// `controller` driver installed in the session manager, the gRPC service and its listener.
// app/server.cpp makes one when `grpc_listen` is set, starts it with the other front-ends
// and stops it before the media workers.
#pragma once
#include <memory>
#include <string>

#include "api/api_auth.h"
#include "control/controller_hub.h"
#include "core/config.h"
#include "core/metrics.h"
#include "sessions/session_manager.h"

namespace grpc {
class Server;
}

namespace atende::control {

class GrpcService;

struct GrpcFrontOptions {
  HostPort listen;
  std::chrono::milliseconds park_timeout{15000};  // an inbound call waits this for a controller
  // An inbound call rings (held unanswered) at most this long for a controller's Answer.
  std::chrono::milliseconds ring_timeout{30000};
};

class GrpcFront {
 public:
  // Installs the `controller` driver and subscribes to call events: before calls start.
  GrpcFront(GrpcFrontOptions options, sessions::SessionManager& calls, api::ApiAuth auth,
            MetricsRegistry& registry);
  ~GrpcFront();

  // Binds and starts serving; throws std::runtime_error naming the address when it cannot.
  void start();
  // Ends every controller stream (their calls' drivers see them go) and stops serving.
  void stop();
  int port() const { return port_; }

 private:
  GrpcFrontOptions options_;
  sessions::SessionManager& calls_;
  api::ApiAuth auth_;
  std::shared_ptr<ControllerHub> hub_;
  std::unique_ptr<GrpcService> service_;
  std::unique_ptr<grpc::Server> server_;
  sessions::CallControl::Subscription subscription_ = 0;
  int port_ = 0;
};

}  // namespace atende::control
