#include "control/grpc_front.h"

#include <grpcpp/grpcpp.h>
#include <spdlog/spdlog.h>

#include <stdexcept>

#include "control/controller_driver.h"
#include "control/grpc_service.h"

namespace atende::control {
namespace {

ControllerMetrics register_metrics(MetricsRegistry& r) {
  constexpr const char* kDropped = "atende_grpc_frames_dropped_total";
  constexpr const char* kDroppedHelp =
      "Audio frames of controller streams dropped because a queue was full, by direction.";
  return {.connected = &r.gauge("atende_grpc_controllers",
                                "gRPC controller streams attached to a call now."),
          .parked = &r.gauge("atende_grpc_parked_calls",
                             "Inbound calls waiting for a gRPC controller to take them."),
          .channel = {.dropped_to_controller =
                          &r.counter(kDropped, kDroppedHelp, {{"direction", "to_controller"}}),
                      .dropped_from_controller =
                          &r.counter(kDropped, kDroppedHelp, {{"direction", "from_controller"}})}};
}

std::string address_of(const HostPort& hp) {
  return (hp.host.find(':') != std::string::npos ? "[" + hp.host + "]" : hp.host) + ":" +
         std::to_string(hp.port);
}

}  // namespace

GrpcFront::GrpcFront(GrpcFrontOptions options, sessions::SessionManager& calls, api::ApiAuth auth,
                     MetricsRegistry& registry)
    : options_(std::move(options)),
      calls_(calls),
      auth_(std::move(auth)),
      hub_(std::make_shared<ControllerHub>(register_metrics(registry))) {
  service_ = std::make_unique<GrpcService>(calls_, *hub_, auth_);
  // The factory and what it hands drivers hold the session manager (which outlives every
  // call) and the hub (shared), never this front-end: a driver may be destroyed after it.
  calls_.set_driver("controller", [hub = hub_, &calls = calls_,
                                   park = options_.park_timeout](flow::FlowHost& host) {
    return std::make_unique<ControllerDriver>(
        host,
        DriverDeps{.hub = hub,
                   .make_flow = [&calls](const std::string& name,
                                         flow::FlowHost& h) { return calls.make_flow(name, h); },
                   .note_end_reason =
                       [&calls](const std::string& leg_id, const std::string& reason) {
                         calls.note_end_reason(leg_id, reason);
                       },
                   .park_timeout = park});
  });
  // Inbound calls to `controller` ring until a controller answers or refuses them.
  calls_.set_inbound_hold("controller", options_.ring_timeout,
                          [hub = hub_](const sessions::HeldCall& call) { hub->ringing(call); });
  calls_.set_progress_observer([hub = hub_](const std::string& leg_id, int status) {
    if (status >= 200) return;
    sessions::SessionEvent ev;
    ev.type = "call.ringing";
    ev.call_id = leg_id;
    hub->on_session_event(ev);
  });
  subscription_ =
      calls_.subscribe([hub = hub_](const sessions::SessionEvent& e) { hub->on_session_event(e); });
}

GrpcFront::~GrpcFront() {
  stop();
  calls_.unsubscribe(subscription_);
}

void GrpcFront::start() {
  grpc::ServerBuilder builder;
  const std::string address = address_of(options_.listen);
  builder.AddListeningPort(address, grpc::InsecureServerCredentials(), &port_);
  builder.RegisterService(service_.get());
  // A Play clip of 30 s at 16 kHz is 960 KB; nothing legitimate is larger.
  builder.SetMaxReceiveMessageSize(1100 * 1024);
  // Each Call stream holds two threads (GrpcService): room for the bound and the unaries.
  grpc::ResourceQuota quota("atende-grpc");
  quota.SetMaxThreads(2 * GrpcService::kMaxStreams + 32);
  builder.SetResourceQuota(quota);
  server_ = builder.BuildAndStart();
  if (!server_ || port_ == 0) {
    server_.reset();
    throw std::runtime_error("grpc_listen: cannot listen on " + address);
  }
  spdlog::info("grpc: control service on {}:{} (docs/grpc.md)", options_.listen.host, port_);
}

void GrpcFront::stop() {
  if (!server_) return;
  service_->stop();
  hub_->stop();
  server_->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(3));
  server_->Wait();
  server_.reset();
}

}  // namespace atende::control
