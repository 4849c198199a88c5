#include "control/grpc_service.h"

#include <spdlog/spdlog.h>

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>

#include "control/pcm_bytes.h"

namespace atende::control {
namespace {

using grpc::Status;
using grpc::StatusCode;

Status to_status(const sessions::ControlError& e) {
  switch (e.code) {
    case sessions::ControlErrc::kInvalid:
      return {StatusCode::INVALID_ARGUMENT, e.message};
    case sessions::ControlErrc::kNotFound:
      return {StatusCode::NOT_FOUND, e.message};
    case sessions::ControlErrc::kForbidden:
      return {StatusCode::PERMISSION_DENIED, e.message};
    case sessions::ControlErrc::kUnavailable:
      return {StatusCode::UNAVAILABLE, e.message};
    case sessions::ControlErrc::kConflict:
      return {StatusCode::FAILED_PRECONDITION, e.message};
  }
  return {StatusCode::INTERNAL, e.message};
}

const Status kUnauthenticated{StatusCode::UNAUTHENTICATED,
                              "a valid token is needed: metadata 'authorization: Bearer <token>'"};

bool bad_id(const std::string& id) { return id.empty() || id.size() > 128; }

void add_error(ControllerChannel& channel, std::string text) {
  channel.push_event({.type = "error", .text = std::move(text)});
}

}  // namespace

const api::ApiAuth::Token* GrpcService::authenticate(grpc::ServerContext* ctx, Status* refusal) {
  const auto& md = ctx->client_metadata();
  auto it = md.find("authorization");
  std::string header;
  // Bounded before it is copied: a token is short; a megabyte header is not one.
  if (it != md.end() && it->second.size() <= 1024)
    header.assign(it->second.data(), it->second.size());
  const auto r = guard_.check(header.empty() ? nullptr : &header, ctx->peer(), MonoClock::now());
  switch (r.verdict) {
    case GrpcGuard::Verdict::kOk:
      return r.token;
    case GrpcGuard::Verdict::kUnauthenticated:
      spdlog::warn("grpc: refused a request without a valid token from {}", ctx->peer());
      *refusal = kUnauthenticated;
      break;
    case GrpcGuard::Verdict::kTooManyFailures:
      *refusal = {StatusCode::RESOURCE_EXHAUSTED,
                  "too many failed authentication attempts; retry after " +
                      std::to_string(r.retry_after) + " s"};
      break;
    case GrpcGuard::Verdict::kOverRate:
      *refusal = {StatusCode::RESOURCE_EXHAUSTED, "over this token's request rate; retry after " +
                                                      std::to_string(r.retry_after) + " s"};
      break;
  }
  return nullptr;
}

Status GrpcService::Dial(grpc::ServerContext* ctx, const atende::v1::DialRequest* req,
                         atende::v1::DialReply* reply) {
  Status refusal;
  const auto* token = authenticate(ctx, &refusal);
  if (!token) return refusal;
  if (req->to().empty() || req->to().size() > 256) {
    return {StatusCode::INVALID_ARGUMENT, "'to' must be a number or URI of at most 256 characters"};
  }
  if (!token->allow.allows(req->to())) {
    return {StatusCode::PERMISSION_DENIED,
            "number '" + req->to() + "' is not in this token's allow-list"};
  }
  const int ring = req->ring_timeout_seconds();
  if (ring < 0 || ring > 300) {
    return {StatusCode::INVALID_ARGUMENT, "ring_timeout_seconds must be 0..300"};
  }
  sessions::OriginateRequest order;
  order.to = req->to();
  order.flow = "controller";
  order.trunk = req->trunk();
  order.caller_id = req->caller_id();
  order.ring_timeout_seconds = ring ? ring : 30;
  order.requested_by = "grpc:" + token->name;
  auto placed = control_.originate(std::move(order));
  if (!placed) return to_status(placed.error());
  // Its channel exists before the far end can answer, so "ringing" and the Attach find it.
  hub_.open({.call_id = placed.value(),
             .from = req->caller_id(),
             .to = req->to(),
             .direction = "outbound"});
  reply->set_call_id(placed.value());
  return Status::OK;
}

Status GrpcService::Hangup(grpc::ServerContext* ctx, const atende::v1::CallRef* req,
                           atende::v1::Ack*) {
  if (Status refusal; !authenticate(ctx, &refusal)) return refusal;
  if (bad_id(req->call_id())) return {StatusCode::INVALID_ARGUMENT, "call_id is required"};
  // A controlled call still ringing is refused (603) rather than hung up.
  if (auto ch = hub_.find(req->call_id()); ch && ch->ringing()) {
    if (control_.reject(req->call_id(), kDefaultRejectStatus, "controller_hangup")) {
      return Status::OK;
    }
  }
  auto r = control_.hangup(req->call_id());
  return r ? Status::OK : to_status(r.error());
}

Status GrpcService::Transfer(grpc::ServerContext* ctx, const atende::v1::TransferRequest* req,
                             atende::v1::Ack*) {
  Status refusal;
  const auto* token = authenticate(ctx, &refusal);
  if (!token) return refusal;
  if (bad_id(req->call_id())) return {StatusCode::INVALID_ARGUMENT, "call_id is required"};
  if (!token->allow.allows(req->to())) {
    return {StatusCode::PERMISSION_DENIED,
            "number '" + req->to() + "' is not in this token's allow-list"};
  }
  auto r = control_.transfer(req->call_id(), req->to());
  return r ? Status::OK : to_status(r.error());
}

Status GrpcService::Bridge(grpc::ServerContext* ctx, const atende::v1::BridgeRequest* req,
                           atende::v1::Ack*) {
  if (Status refusal; !authenticate(ctx, &refusal)) return refusal;
  if (bad_id(req->call_id()) || bad_id(req->other_call_id())) {
    return {StatusCode::INVALID_ARGUMENT, "call_id and other_call_id are required"};
  }
  auto r = control_.bridge(req->call_id(), req->other_call_id());
  return r ? Status::OK : to_status(r.error());
}

std::shared_ptr<ControllerChannel> GrpcService::attach(grpc::ServerContext* ctx,
                                                       const atende::v1::Attach& a, Status* error) {
  if (a.call_id().empty()) {
    const int wait = a.wait_seconds() <= 0 ? 30 : std::min(a.wait_seconds(), kMaxWaitSeconds);
    auto channel = hub_.take_parked(std::chrono::steady_clock::now() + std::chrono::seconds(wait),
                                    [this, ctx] { return stopping_.load() || ctx->IsCancelled(); });
    if (!channel) *error = {StatusCode::DEADLINE_EXCEEDED, "no call came for a controller"};
    return channel;
  }
  if (bad_id(a.call_id())) {
    *error = {StatusCode::INVALID_ARGUMENT, "bad call_id"};
    return nullptr;
  }
  auto channel = hub_.find(a.call_id());
  if (!channel) {
    *error = {StatusCode::NOT_FOUND, "no call '" + a.call_id() + "' driven by a controller"};
    return nullptr;
  }
  bool ended = false;
  if (!channel->attach(&ended)) {
    *error = ended ? Status{StatusCode::FAILED_PRECONDITION, "the call has ended"}
                   : Status{StatusCode::ALREADY_EXISTS, "another stream holds this call"};
    return nullptr;
  }
  return channel;
}

void GrpcService::on_client_message(const atende::v1::ClientMsg& msg, ControllerChannel& ch) {
  using K = ControllerCommand::Kind;
  std::string why;
  ControllerCommand cmd;
  switch (msg.msg_case()) {
    case atende::v1::ClientMsg::kAudio: {
      AudioFrame frame;
      if (!pcm_to_frame(msg.audio().pcm(), msg.audio().sample_rate(), frame, &why)) {
        return add_error(ch, "audio: " + why);
      }
      ch.push_audio(frame);
      return;
    }
    case atende::v1::ClientMsg::kAnswer:
      if (ch.ringing()) {
        // Held ringing (docs/grpc.md "Answer"): answered now; the driver starts with the
        // answer and says "answered".
        if (auto r = control_.answer(ch.facts().call_id); !r) {
          return add_error(ch, "answer: " + r.error().message);
        }
        if (ch.early_media()) {
          // Its driver runs since the 183 and does not start again: say it here.
          ch.set_ringing(false);
          ch.push_event({.type = "answered", .sample_rate = ch.sample_rate()});
        }
        return;
      }
      cmd.kind = K::kAnswer;  // answered already: the driver repeats "answered"
      break;
    case atende::v1::ClientMsg::kReject: {
      const int status = msg.reject().status() == 0 ? kDefaultRejectStatus : msg.reject().status();
      if (!ch.ringing())
        return add_error(ch, "reject: the call is not ringing (HangupCall ends it)");
      if (auto r = control_.reject(ch.facts().call_id, status, "controller_rejected"); !r) {
        return add_error(ch, "reject: " + r.error().message);
      }
      return;
    }
    case atende::v1::ClientMsg::kProgress:
      if (!ch.ringing()) return add_error(ch, "progress: the call is not ringing");
      ch.set_early_media(true);  // before the driver can start on the session's thread
      if (auto r = control_.progress(ch.facts().call_id); !r) {
        ch.set_early_media(false);
        return add_error(ch, "progress: " + r.error().message);
      }
      return;
    case atende::v1::ClientMsg::kPlay:
      cmd.kind = K::kPlay;
      cmd.clip = pcm_to_clip(msg.play().pcm(), msg.play().sample_rate(), &why);
      if (!cmd.clip) return add_error(ch, "play: " + why);
      break;
    case atende::v1::ClientMsg::kSay:
      cmd.kind = K::kSay;
      cmd.text = msg.say().text();
      cmd.voice = msg.say().voice();
      if (cmd.text.empty() || cmd.text.size() > kMaxSayChars || cmd.voice.size() > 64) {
        return add_error(ch,
                         "say: text must be 1.." + std::to_string(kMaxSayChars) + " characters");
      }
      break;
    case atende::v1::ClientMsg::kDtmf:
      cmd.kind = K::kDtmf;
      cmd.text = msg.dtmf().digits();
      if (!valid_dtmf(cmd.text)) return add_error(ch, "dtmf: digits are 0-9 * # A-D, 1..32");
      break;
    case atende::v1::ClientMsg::kStartFlow:
    case atende::v1::ClientMsg::kStartAgent: {
      const bool agent = msg.msg_case() == atende::v1::ClientMsg::kStartAgent;
      cmd.kind = agent ? K::kStartAgent : K::kStartFlow;
      cmd.text = agent ? msg.start_agent().persona() : msg.start_flow().flow();
      const auto& vars = agent ? msg.start_agent().variables() : msg.start_flow().variables();
      if (cmd.text.empty() || cmd.text.size() > 128 || cmd.text == "controller" ||
          vars.size() > 64) {
        return add_error(ch, agent ? "start_agent: bad persona" : "start_flow: bad flow");
      }
      for (const auto& [k, v] : vars) {
        if (k.size() > 128 || v.size() > 4096) return add_error(ch, "variables too long");
        cmd.variables[k] = v;
      }
      break;
    }
    case atende::v1::ClientMsg::kHangup:
      if (ch.ringing()) {
        if (auto r = control_.reject(ch.facts().call_id, kDefaultRejectStatus, "controller_hangup");
            !r) {
          return add_error(ch, "hangup: " + r.error().message);
        }
        return;
      }
      cmd.kind = K::kHangup;
      break;
    case atende::v1::ClientMsg::kFlush:
      cmd.kind = K::kFlush;
      break;
    case atende::v1::ClientMsg::kAttach:
      return add_error(ch, "attach: this stream holds a call already");
    default:
      return add_error(ch, "an empty or unknown message");
  }
  if (!ch.command(std::move(cmd))) add_error(ch, "too many commands waiting; this one dropped");
}

Status GrpcService::Call(
    grpc::ServerContext* ctx,
    grpc::ServerReaderWriter<atende::v1::ServerMsg, atende::v1::ClientMsg>* stream) {
  if (Status refusal; !authenticate(ctx, &refusal)) return refusal;
  if (streams_.fetch_add(1) >= kMaxStreams) {
    streams_.fetch_sub(1);
    return {StatusCode::RESOURCE_EXHAUSTED, "too many streams"};
  }
  struct Release {
    std::atomic<int>& n;
    ~Release() { n.fetch_sub(1); }
  } release{streams_};

  atende::v1::ClientMsg first;
  if (!stream->Read(&first)) return {StatusCode::CANCELLED, "the stream closed before Attach"};
  if (!first.has_attach()) {
    return {StatusCode::INVALID_ARGUMENT, "the first message must be an Attach"};
  }
  Status error;
  auto channel = attach(ctx, first.attach(), &error);
  if (!channel) return error;
  hub_.stream_attached();
  const auto& facts = channel->facts();
  spdlog::info("call={} event=controller_attached peer={}", facts.call_id, ctx->peer());
  {
    atende::v1::ServerMsg hello;
    auto* a = hello.mutable_attached();
    a->set_call_id(facts.call_id);
    a->set_from(facts.from);
    a->set_to(facts.to);
    a->set_direction(facts.direction);
    a->set_sample_rate(channel->sample_rate());
    stream->Write(hello);
  }

  // The reader: the client's messages into the channel until it closes or vanishes.
  std::mutex mu;
  std::condition_variable cv;
  bool reader_done = false;
  std::thread reader([&] {
    atende::v1::ClientMsg msg;
    while (stream->Read(&msg)) on_client_message(msg, *channel);
    const std::string why =
        ctx->IsCancelled() ? "the stream was cancelled or broke" : "the controller closed it";
    channel->detach(why);
    // A call still ringing has nobody to answer it now: refused at once, not left to ring out.
    if (channel->ringing()) control_.reject(channel->facts().call_id, 480, "controller_gone");
    channel->wake();
    {
      std::lock_guard lock(mu);
      reader_done = true;
    }
    cv.notify_all();
  });

  // The writer (this thread): what the channel has, until the call ends or the stream goes.
  atende::v1::ServerMsg out;
  std::string pcm;
  bool write_failed = false;
  for (;;) {
    bool closed = false;
    Outgoing next = channel->next_out(std::chrono::milliseconds(200), &closed);
    if (next.kind == Outgoing::Kind::kNone) {
      if (closed || stopping_) break;
      continue;
    }
    out.Clear();
    if (next.kind == Outgoing::Kind::kAudio) {
      frame_to_pcm(next.frame, pcm);
      auto* audio = out.mutable_audio();
      audio->set_pcm(pcm);
      audio->set_sample_rate(next.frame.sample_rate);
    } else {
      auto* ev = out.mutable_event();
      ev->set_type(next.event.type);
      ev->set_digit(next.event.digit);
      ev->set_text(next.event.text);
      ev->set_reason(next.event.reason);
      ev->set_sample_rate(next.event.sample_rate);
      ev->set_count(next.event.count);
      for (const auto& [k, v] : next.event.data) (*ev->mutable_data())[k] = v;
    }
    if (!stream->Write(out)) {
      write_failed = true;
      break;
    }
  }
  if (write_failed) {
    channel->detach("writing to the stream failed");
    if (channel->ringing()) control_.reject(channel->facts().call_id, 480, "controller_gone");
  }
  {
    // The client normally closes its side on the hang-up event; one that does not is cut.
    std::unique_lock lock(mu);
    if (!cv.wait_for(lock, std::chrono::milliseconds(write_failed ? 0 : kCloseGraceMs),
                     [&] { return reader_done; })) {
      ctx->TryCancel();
    }
  }
  reader.join();
  hub_.stream_detached();
  spdlog::info("call={} event=controller_stream_ended why=\"{}\"", facts.call_id,
               channel->ended() ? "the call ended" : channel->detach_reason());
  return Status::OK;
}

}  // namespace atende::control
