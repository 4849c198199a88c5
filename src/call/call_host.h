// What a flow sees of its call (flow::FlowHost), and the call's own record.
#pragma once
#include <memory>

#include "call/call_manager.h"
#include "flow/flow_host.h"
#include "media/rtp_leg.h"
#include "sip/sdp_build.h"
#include "sip/sdp_negotiate.h"

namespace atende::call {

class CallHost;

struct CallManager::Call {
  flow::CallInfo info;
  std::shared_ptr<media::RtpLeg> leg;
  sip::NegotiatedAudio negotiated;  // SIP thread only after creation
  sip::LocalSdp sdp;                // SIP thread only after creation
  std::string media_note;           // codec and addresses, for the record
  bool answered = false;            // SIP thread: 200 sent
  std::unique_ptr<CallHost> host;   // worker thread after start
  std::unique_ptr<flow::Flow> flow;  // worker thread after start
};

class CallHost final : public flow::FlowHost {
 public:
  CallHost(CallManager::Call& call, speech::PhraseSource& phrases,
           speech::Recognizer* recognizer, store::CallStore& store)
      : call_(call),
        phrases_(phrases),
        recognizer_(recognizer),
        store_(store),
        alive_(std::make_shared<bool>(true)) {}

  Leg& leg() override { return *call_.leg; }
  const flow::CallInfo& call() const override { return call_.info; }
  speech::PhraseSource& phrases() override { return phrases_; }
  speech::Recognizer& recognizer() override {
    return recognizer_ ? *recognizer_ : flow::FlowHost::recognizer();
  }
  void post(std::function<void()> fn) override;
  void record_event(std::string_view kind, std::string_view detail) override;
  void record_digits(std::string_view digits) override;
  // Worker thread: the call is over; work posted after this is dropped.
  void end() { *alive_ = false; }

 private:
  CallManager::Call& call_;
  speech::PhraseSource& phrases_;
  speech::Recognizer* recognizer_;  // null: the flow host's default (fails every request)
  store::CallStore& store_;
  // Read and written on the worker only, so a plain bool; shared so posted work can
  // outlive this host and still find out the call is gone.
  std::shared_ptr<bool> alive_;
};

}  // namespace atende::call
