#include "sessions/leg_host.h"

#include <spdlog/spdlog.h>

#include "sessions/session.h"
#include "store/call_store.h"

namespace atende::sessions {

LegHost::LegHost(Session& session, Leg& leg, flow::CallInfo info, SessionServices& services)
    : session_(session),
      leg_(leg),
      info_(std::move(info)),
      services_(services),
      alive_(std::make_shared<bool>(true)) {}

speech::Recognizer& LegHost::recognizer() {
  speech::Recognizer* r = services_.recognizer();
  return r ? *r : flow::FlowHost::recognizer();
}

void LegHost::post(std::function<void()> fn) {
  leg_.executor().post([alive = alive_, fn = std::move(fn)] {
    if (*alive) fn();
  });
}

void LegHost::record_event(std::string_view kind, std::string_view detail) {
  // Flow events are in the call record; the log keeps them at debug so a busy server logs
  // two lines per call (answered, ended) at info.
  spdlog::debug("call={} event={} {}", info_.id, kind, detail);
  services_.store().add_event(info_.id, std::chrono::system_clock::now(), std::string(kind),
                              std::string(detail));
}

void LegHost::record_digits(std::string_view digits) {
  services_.store().set_digits(info_.id, std::string(digits));
}

void LegHost::note_transcript(Speaker who, std::string_view text) {
  leg_.note_transcript(who, text);
  if (session_.keeps_transcript()) {
    services_.store().add_event(info_.id, std::chrono::system_clock::now(), "transcript",
                                std::string(to_string(who)) + ": " + std::string(text));
  }
}

void LegHost::dial(flow::DialRequest request, std::function<void(const flow::DialResult&)> done) {
  // Through post(): the answer must not reach a flow that is gone by then.
  session_.dial(info_.id, std::move(request),
                [alive = alive_, done = std::move(done)](const flow::DialResult& r) {
                  if (*alive) done(r);
                });
}

bool LegHost::run_flow_on(
    const std::string& leg_id, const std::string& flow, std::map<std::string, std::string> vars,
    std::function<void(const std::map<std::string, std::string>&, std::string_view)> done) {
  return session_.run_flow_on(
      leg_id, flow, std::move(vars),
      [alive = alive_, done = std::move(done)](const std::map<std::string, std::string>& slots,
                                               std::string_view ended) {
        if (*alive) done(slots, ended);
      });
}

bool LegHost::bridge(const std::string& leg_id, bool keep_flow,
                     std::function<void(std::string_view)> done) {
  return session_.bridge(info_.id, leg_id, keep_flow,
                         [alive = alive_, done = std::move(done)](std::string_view who) {
                           if (*alive && done) done(who);
                         });
}

void LegHost::hang_up_leg(const std::string& leg_id) { session_.hang_up_leg(leg_id); }

void LegHost::transfer(const std::string& to, std::function<void(int)> done) {
  session_.transfer(info_.id, to, [alive = alive_, done = std::move(done)](int status) {
    if (*alive) done(status);
  });
}

void LegHost::flow_finished(const std::map<std::string, std::string>& slots) {
  session_.flow_finished(info_.id, slots);
}

void LegHost::keep_clip(const std::string& name, ClipPtr clip) {
  session_.keep_clip(name, std::move(clip));
}

ClipPtr LegHost::clip(const std::string& name) const { return session_.clip(name); }

}  // namespace atende::sessions
