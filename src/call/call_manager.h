// Joins the pieces for each inbound SIP call: SDP negotiation, an RTP leg on a media
// worker, the flow chosen by the dial plan, and the call record. SIP events arrive on the
// SIP thread; the flow and the leg live on the leg's media worker; the store is fed from
// both without blocking. Calls are kept in a map guarded by a mutex that is never held
// across anything slow.
#pragma once
#include <atomic>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>

#include "agent/agent_runtime.h"
#include "agent/persona.h"
#include "core/metrics.h"
#include "flow/flow_library.h"
#include "media/media_engine.h"
#include "sip/sip_server.h"
#include "speech/recognizer.h"
#include "speech/synthesizer.h"
#include "store/call_store.h"

namespace atende::call {

struct CallManagerOptions {
  int max_calls = 1000;
  std::string media_address;  // what we put in SDP c=
  std::string bind_address;   // where RTP sockets bind
  int ring_ms = 0;            // 180 Ringing this long before answering
};

class CallManager final : public sip::SipEvents {
 public:
  CallManager(CallManagerOptions options, media::MediaEngine& media, flow::FlowLibrary& flows,
              speech::PhraseSource& phrases, speech::Recognizer* recognizer,
              store::CallStore& store, CoreMetrics& metrics);
  ~CallManager() override;

  // The SIP server is created after us (it needs us as its events sink).
  void attach(sip::SipServer& sip) { sip_ = &sip; }
  // LLM agents: the dialled user is looked up in `personas` first, then in the flows.
  // Call before the SIP server starts; both outlive us.
  void set_agents(const agent::PersonaLibrary* personas, agent::AgentRuntime* runtime) {
    personas_ = personas;
    agents_ = runtime;
  }
  // From now on new calls get 503 (SIGTERM drain).
  void set_draining() { draining_ = true; }
  bool draining() const { return draining_; }
  size_t active_calls() const;
  // After the SIP stack has stopped: record every call it did not report ended.
  void end_all(std::string_view reason);

  // sip::SipEvents (SIP thread)
  sip::InviteReply on_invite(const std::string& call_id, const sip::InviteInfo& info) override;
  sip::InviteReply on_reinvite(const std::string& call_id, std::string_view sdp) override;
  void on_answered(const std::string& call_id) override;
  void on_ended(const std::string& call_id, std::string_view reason, int sip_status) override;

  struct Call;

 private:
  std::shared_ptr<Call> find(const std::string& call_id) const;
  sip::InviteReply reject(const std::string& call_id, const sip::InviteInfo& info,
                          const std::string& flow, int status, std::string phrase);

  CallManagerOptions options_;
  media::MediaEngine& media_;
  flow::FlowLibrary& flows_;
  speech::PhraseSource& phrases_;
  speech::Recognizer* recognizer_;
  store::CallStore& store_;
  CoreMetrics& metrics_;
  sip::SipServer* sip_ = nullptr;
  const agent::PersonaLibrary* personas_ = nullptr;
  agent::AgentRuntime* agents_ = nullptr;
  std::atomic<bool> draining_{false};
  uint64_t session_id_base_;

  mutable std::mutex mu_;
  std::unordered_map<std::string, std::shared_ptr<Call>> calls_;
};

}  // namespace atende::call
