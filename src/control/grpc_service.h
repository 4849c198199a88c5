// The gRPC control service (proto/atende.proto, docs/grpc.md): token auth as on the REST
// API, call control through CallControl, and the per-call stream through the call's
// ControllerChannel. Runs on gRPC's threads only: it never touches a leg or a session, it
// calls CallControl (thread-safe, returns at once) and queues into channels.
//
// A Call stream costs two threads while it lasts (gRPC's sync API: the handler writes, a
// reader thread reads), so streams are bounded (kMaxStreams; more get RESOURCE_EXHAUSTED).
#pragma once
#include <atomic>
#include <string>

#include "api/api_auth.h"
#include "atende.grpc.pb.h"
#include "control/controller_hub.h"
#include "control/grpc_guard.h"
#include "sessions/call_control.h"

namespace atende::control {

class GrpcService final : public atende::v1::Atende::Service {
 public:
  static constexpr int kMaxStreams = 256;
  static constexpr int kMaxWaitSeconds = 300;  // an Attach waiting for a parked call
  // After the call ended (or the stream broke), how long the client may take to close its
  // side before the stream is cancelled from ours.
  static constexpr int kCloseGraceMs = 2000;
  // Reject{} without a status, HangupCall while ringing: 603 Decline.
  static constexpr int kDefaultRejectStatus = 603;

  GrpcService(sessions::CallControl& control, ControllerHub& hub, const api::ApiAuth& auth)
      : control_(control), hub_(hub), guard_(auth) {}

  // Shutdown: waiting Attaches give up and streams end.
  void stop() { stopping_ = true; }

  grpc::Status Dial(grpc::ServerContext* ctx, const atende::v1::DialRequest* req,
                    atende::v1::DialReply* reply) override;
  grpc::Status Hangup(grpc::ServerContext* ctx, const atende::v1::CallRef* req,
                      atende::v1::Ack* reply) override;
  grpc::Status Transfer(grpc::ServerContext* ctx, const atende::v1::TransferRequest* req,
                        atende::v1::Ack* reply) override;
  grpc::Status Bridge(grpc::ServerContext* ctx, const atende::v1::BridgeRequest* req,
                      atende::v1::Ack* reply) override;
  grpc::Status Call(
      grpc::ServerContext* ctx,
      grpc::ServerReaderWriter<atende::v1::ServerMsg, atende::v1::ClientMsg>* stream) override;

 private:
  // The caller's token, or nullptr with `refusal` set (no or a wrong token, too many failed
  // attempts from its address, over the token's rate).
  const api::ApiAuth::Token* authenticate(grpc::ServerContext* ctx, grpc::Status* refusal);
  std::shared_ptr<ControllerChannel> attach(grpc::ServerContext* ctx, const atende::v1::Attach& a,
                                            grpc::Status* error);
  // One message of the client's, into the channel; a bad one is answered with an "error"
  // event and otherwise ignored.
  void on_client_message(const atende::v1::ClientMsg& msg, ControllerChannel& channel);

  sessions::CallControl& control_;
  ControllerHub& hub_;
  GrpcGuard guard_;
  std::atomic<int> streams_{0};
  std::atomic<bool> stopping_{false};
};

}  // namespace atende::control
