#include "sip/sip_server.h"

#include <fcntl.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <atomic>
#include <deque>
#include <future>
#include <mutex>
#include <stdexcept>
#include <unordered_map>

#include "sip/sip_precheck.h"

// sofia's magic pointers are typed by these macros; they must come before its headers.
#define NUA_MAGIC_T atende::sip::SipServer::Impl
#define NUA_HMAGIC_T atende::sip::Dialog
#define SU_ROOT_MAGIC_T atende::sip::SipServer::Impl
#define SU_WAKEUP_ARG_T atende::sip::SipServer::Impl
#define SU_TIMER_ARG_T atende::sip::Dialog

namespace atende::sip {
class Dialog;
}

#include <sofia-sip/nua.h>
#include <sofia-sip/nua_tag.h>
#include <sofia-sip/nta_tag.h>
#include <sofia-sip/sip_header.h>
#include <sofia-sip/sip_status.h>
#include <sofia-sip/su.h>
#include <sofia-sip/su_log.h>
#include <sofia-sip/su_wait.h>
#include <sofia-sip/url.h>

namespace atende::sip {

class Dialog {
 public:
  std::string call_id;
  SipServer::Impl* server = nullptr;
  nua_handle_t* nh = nullptr;
  su_timer_t* ring_timer = nullptr;  // pending delayed answer
  std::string answer_sdp;
  bool answered = false;  // ACK received
  bool sent_200 = false;
  bool bye_sent = false;
  std::string end_reason;
};

namespace {
std::atomic<uint64_t> g_call_counter{0};

// Call ids: sortable by start time and unique within the process and across restarts.
std::string new_call_id() {
  auto now = std::chrono::system_clock::now().time_since_epoch();
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(now).count();
  char buf[48];
  std::snprintf(buf, sizeof buf, "c%011llx%05llx", static_cast<unsigned long long>(ms),
                static_cast<unsigned long long>(g_call_counter.fetch_add(1) & 0xfffff));
  return buf;
}

// nua_respond() hands its phrase to sofia's stack thread *by pointer* (tags are copied,
// the phrase is not), so the phrase must outlive our callback: use sofia's static table and
// carry our own explanation in a Warning header (a tag, so it is copied).
const char* static_phrase(int status) {
  const char* p = sip_status_phrase(status);
  return p ? p : "Error";
}

std::string warning_for(const std::string& reason) {
  std::string safe;
  for (char ch : reason) safe.push_back(ch == '"' || ch == '\\' || ch < 0x20 ? '\'' : ch);
  return "399 atende \"" + safe + "\"";
}

std::string url_text(su_home_t* home, const url_t* url) {
  if (!url) return {};
  char* s = url_as_string(home, url);
  std::string out = s ? s : "";
  su_free(home, s);
  return out;
}
}  // namespace

struct SipServer::Impl {
  SipOptions options;
  SipEvents& events;
  su_home_t home[1]{};
  su_root_t* root = nullptr;
  nua_t* nua = nullptr;
  std::thread thread;
  bool started = false;
  std::atomic<bool> stopping{false};

  // Cross-thread queue into the su_root: a pipe wakes the root, the mutex guards the deque.
  int wake_fds[2] = {-1, -1};
  su_wait_t wake_wait[1]{};
  std::mutex queue_mu;
  std::deque<std::function<void()>> queue;

  // SIP-thread only.
  std::unordered_map<std::string, DialogPtr> dialogs;
  bool shutdown_done = false;

  Impl(SipOptions o, SipEvents& e) : options(std::move(o)), events(e) {}

  void run(std::promise<void>& ready);
  void post(std::function<void()> fn) {
    {
      std::lock_guard lock(queue_mu);
      queue.push_back(std::move(fn));
    }
    char c = 1;
    [[maybe_unused]] auto n = ::write(wake_fds[1], &c, 1);  // pipe full: root wakes anyway
  }
  static int on_wake(Impl* self, su_wait_t*, Impl*) {
    char buf[256];
    while (::read(self->wake_fds[0], buf, sizeof buf) > 0) {
    }
    std::deque<std::function<void()>> todo;
    {
      std::lock_guard lock(self->queue_mu);
      todo.swap(self->queue);
    }
    for (auto& fn : todo) fn();
    return 0;
  }

  static void on_event(nua_event_t event, int status, char const* phrase, nua_t* nua, Impl* self,
                       nua_handle_t* nh, Dialog* dialog, sip_t const* sip, tagi_t tags[]) {
    self->handle(event, status, phrase, nh, dialog, sip, tags);
  }

  void handle(nua_event_t event, int status, char const* phrase, nua_handle_t* nh,
              Dialog* dialog, sip_t const* sip, tagi_t tags[]);
  void incoming_invite(nua_handle_t* nh, sip_t const* sip);
  void reinvite(Dialog* d, sip_t const* sip);
  void terminated(Dialog* d, nua_handle_t* nh);
  void send_bye(const std::string& call_id, const char* reason);
  void answer(Dialog& d);
  static void on_ring_timer(Impl*, su_timer_t*, Dialog* d) { d->server->answer(*d); }
  static void on_shutdown_timer(Impl* self, su_timer_t*, Dialog*) {
    spdlog::warn("sip: shutdown still waiting on peers after 3 s; stopping anyway");
    su_root_break(self->root);
  }
  su_timer_t* shutdown_timer = nullptr;
  void begin_shutdown();
};

void SipServer::Impl::run(std::promise<void>& ready) {
  su_init();
  su_home_init(home);
  // sofia logs through su_log; keep it quiet unless asked (SOFIA_DEBUG, TPORT_LOG env vars).
  root = su_root_create(this);
  if (::pipe2(wake_fds, O_NONBLOCK | O_CLOEXEC) != 0 || !root) {
    ready.set_exception(std::make_exception_ptr(std::runtime_error("sip: cannot create event loop")));
    return;
  }
  su_wait_create(wake_wait, wake_fds[0], SU_WAIT_IN);
  su_root_register(root, wake_wait, &Impl::on_wake, this, 0);

  // "sip:" with no transport binds both UDP and TCP. Bracket IPv6 literals.
  std::string host = options.host.find(':') != std::string::npos ? "[" + options.host + "]"
                                                                  : options.host;
  std::string url = "sip:" + host + ":" + std::to_string(options.port);
  nua = nua_create(root, &Impl::on_event, this, NUTAG_URL(url.c_str()),
                   NUTAG_MEDIA_ENABLE(0),  // we do SDP ourselves (sip/sdp.h)
                   NUTAG_AUTOANSWER(0), NUTAG_AUTOACK(1), NUTAG_ENABLEINVITE(1),
                   NUTAG_ALLOW("INVITE, ACK, BYE, CANCEL, OPTIONS"),
                   SIPTAG_USER_AGENT_STR(options.user_agent.c_str()),
                   NUTAG_SESSION_TIMER(0),
                   // SIP messages over 32 KB are refused by the stack before parsing: no
                   // legitimate request to an IVR comes near it (sofia's default is 2 MB).
                   NTATAG_MAXSIZE(32 * 1024), TAG_END());
  if (!nua) {
    ready.set_exception(std::make_exception_ptr(
        std::runtime_error("sip: cannot listen on " + url + " (address in use or not local?)")));
    su_root_destroy(root);
    root = nullptr;
    return;
  }
  spdlog::info("sip: listening on {} (udp, tcp)", url);
  ready.set_value();
  su_root_run(root);

  if (shutdown_timer) su_timer_destroy(shutdown_timer);
  if (!shutdown_done) {
    // nua may only be destroyed after its shutdown completed; we are exiting anyway, so
    // leave the stack to the process exit rather than risk sofia's assertions.
    spdlog::warn("sip: stack left undestroyed (peers did not finish)");
    return;
  }
  nua_destroy(nua);
  nua = nullptr;
  su_root_unregister(root, wake_wait, &Impl::on_wake, this);
  su_root_destroy(root);
  root = nullptr;
  su_home_deinit(home);
  su_deinit();
}

void SipServer::Impl::handle(nua_event_t event, int status, char const* phrase,
                             nua_handle_t* nh, Dialog* dialog, sip_t const* sip,
                             tagi_t tags[]) {
  switch (event) {
    case nua_i_invite:
      if (dialog) reinvite(dialog, sip);
      else incoming_invite(nh, sip);
      return;
    case nua_i_state: {
      int state = nua_callstate_init;
      tl_gets(tags, NUTAG_CALLSTATE_REF(state), TAG_END());
      if (dialog && state == nua_callstate_ready) dialog->answered = true;
      if (state == nua_callstate_terminated) terminated(dialog, nh);
      return;
    }
    case nua_i_cancel:
      if (dialog) dialog->end_reason = "cancelled";
      return;
    case nua_i_bye:
      if (dialog && dialog->end_reason.empty()) dialog->end_reason = "remote_bye";
      return;
    case nua_r_bye:
      return;
    case nua_i_ack:
      return;
    case nua_r_shutdown:
      if (status >= 200) {
        shutdown_done = true;
        su_root_break(root);
      }
      return;
    case nua_i_error:
      spdlog::warn("sip: stack error {} {}", status, phrase ? phrase : "");
      return;
    default:
      // Out-of-dialog requests (OPTIONS...) are answered by nua itself; their handles
      // would leak unless we destroy them.
      if (!dialog && nh && event >= nua_i_chat && event < nua_r_set_params &&
          event != nua_i_invite) {
        nua_handle_destroy(nh);
      }
      return;
  }
}

void SipServer::Impl::incoming_invite(nua_handle_t* nh, sip_t const* sip) {
  if (stopping) {
    nua_respond(nh, 503, "Service Unavailable", SIPTAG_RETRY_AFTER_STR("30"), TAG_END());
    nua_handle_destroy(nh);
    return;
  }
  if (auto problem = precheck_request(sip)) {
    spdlog::warn("sip: rejecting INVITE: {} {}", problem->status, problem->phrase);
    const std::string warning = warning_for(problem->phrase);
    nua_respond(nh, problem->status, static_phrase(problem->status),
                SIPTAG_WARNING_STR(warning.c_str()), TAG_END());
    nua_handle_destroy(nh);
    return;
  }
  auto d = std::make_shared<Dialog>();
  d->call_id = new_call_id();
  d->nh = nh;

  InviteInfo info;
  info.sip_call_id = sip->sip_call_id && sip->sip_call_id->i_id ? sip->sip_call_id->i_id : "";
  info.from_uri = sip->sip_from ? url_text(home, sip->sip_from->a_url) : "";
  info.to_uri = sip->sip_to ? url_text(home, sip->sip_to->a_url) : "";
  info.request_user = sip->sip_request && sip->sip_request->rq_url->url_user
                          ? sip->sip_request->rq_url->url_user
                          : "";
  if (sip->sip_via && sip->sip_via->v_received) info.remote_host = sip->sip_via->v_received;
  else if (sip->sip_via && sip->sip_via->v_host) info.remote_host = sip->sip_via->v_host;
  if (sip->sip_payload && sip->sip_payload->pl_data) {
    info.sdp.assign(sip->sip_payload->pl_data, sip->sip_payload->pl_len);
  }

  InviteReply reply = events.on_invite(d->call_id, info);
  if (reply.status >= 300) {
    const std::string warning = warning_for(reply.phrase);
    nua_respond(nh, reply.status, static_phrase(reply.status),
                SIPTAG_WARNING_STR(warning.c_str()), TAG_END());
    nua_handle_destroy(nh);
    return;
  }
  nua_handle_bind(nh, d.get());
  dialogs.emplace(d->call_id, d);
  d->server = this;
  d->answer_sdp = std::move(reply.sdp);
  if (reply.ring_ms > 0) {
    nua_respond(nh, SIP_180_RINGING, TAG_END());
    d->ring_timer = su_timer_create(su_root_task(root), 0);
    su_timer_set_interval(d->ring_timer, &Impl::on_ring_timer, d.get(), reply.ring_ms);
    return;
  }
  answer(*d);
}

void SipServer::Impl::answer(Dialog& d) {
  if (d.ring_timer) {
    su_timer_destroy(d.ring_timer);
    d.ring_timer = nullptr;
  }
  if (!d.nh || d.bye_sent) return;
  nua_respond(d.nh, SIP_200_OK, SIPTAG_CONTENT_TYPE_STR("application/sdp"),
              SIPTAG_PAYLOAD_STR(d.answer_sdp.c_str()), TAG_END());
  d.answer_sdp.clear();
  d.sent_200 = true;
  events.on_answered(d.call_id);
}

void SipServer::Impl::reinvite(Dialog* d, sip_t const* sip) {
  std::string sdp;
  if (sip && sip->sip_payload && sip->sip_payload->pl_data) {
    sdp.assign(sip->sip_payload->pl_data, sip->sip_payload->pl_len);
  }
  InviteReply reply = events.on_reinvite(d->call_id, sdp);
  if (reply.status >= 300) {
    // A failed re-INVITE leaves the dialog as it was (RFC 3261 14.1).
    const std::string warning = warning_for(reply.phrase);
    nua_respond(d->nh, reply.status, static_phrase(reply.status),
                SIPTAG_WARNING_STR(warning.c_str()), TAG_END());
    return;
  }
  nua_respond(d->nh, SIP_200_OK, SIPTAG_CONTENT_TYPE_STR("application/sdp"),
              SIPTAG_PAYLOAD_STR(reply.sdp.c_str()), TAG_END());
}

void SipServer::Impl::terminated(Dialog* d, nua_handle_t* nh) {
  if (!d) {
    if (nh) nua_handle_destroy(nh);
    return;
  }
  std::string reason = d->end_reason;
  if (reason.empty()) reason = d->answered ? "terminated" : "no_ack";
  std::string call_id = d->call_id;
  if (d->ring_timer) {
    su_timer_destroy(d->ring_timer);
    d->ring_timer = nullptr;
  }
  nua_handle_bind(nh, nullptr);
  nua_handle_destroy(nh);
  d->nh = nullptr;
  events.on_ended(call_id, reason, 0);
  dialogs.erase(call_id);  // may free `d`
}

void SipServer::Impl::send_bye(const std::string& call_id, const char* reason) {
  auto it = dialogs.find(call_id);
  if (it == dialogs.end() || !it->second->nh || it->second->bye_sent) return;
  Dialog& d = *it->second;
  d.bye_sent = true;
  if (d.end_reason.empty()) d.end_reason = reason;
  if (!d.sent_200) {
    // Still ringing: the INVITE gets a final error response instead of a BYE.
    if (d.ring_timer) {
      su_timer_destroy(d.ring_timer);
      d.ring_timer = nullptr;
    }
    nua_respond(d.nh, SIP_480_TEMPORARILY_UNAVAILABLE, TAG_END());
    return;
  }
  // Answered (ACKed or not): BYE is the way out.
  nua_bye(d.nh, TAG_END());
}

void SipServer::Impl::begin_shutdown() {
  stopping = true;
  std::vector<std::string> ids;
  for (auto& [id, d] : dialogs) ids.push_back(id);
  for (auto& id : ids) send_bye(id, "shutdown");
  // nua_shutdown also ends what is left; it answers nua_r_shutdown when done. A peer that
  // never answers our BYE would hold that up for 32 s (timer F): give it 3 s at most.
  if (nua) nua_shutdown(nua);
  shutdown_timer = su_timer_create(su_root_task(root), 0);
  su_timer_set_interval(shutdown_timer, &Impl::on_shutdown_timer, nullptr, 3000);
}

SipServer::SipServer(SipOptions options, SipEvents& events)
    : impl_(std::make_unique<Impl>(std::move(options), events)) {}

SipServer::~SipServer() { stop(); }

void SipServer::start() {
  std::promise<void> ready;
  auto fut = ready.get_future();
  impl_->thread = std::thread([this, &ready] { impl_->run(ready); });
  try {
    fut.get();
  } catch (...) {
    impl_->thread.join();
    throw;
  }
  impl_->started = true;
}

void SipServer::post(std::function<void()> fn) {
  if (!impl_->started) return;
  impl_->post(std::move(fn));
}

void SipServer::hangup(const std::string& call_id) {
  post([impl = impl_.get(), call_id] { impl->send_bye(call_id, "local_bye"); });
}

void SipServer::stop() {
  if (!impl_ || !impl_->started) return;
  impl_->started = false;
  impl_->post([impl = impl_.get()] { impl->begin_shutdown(); });
  impl_->thread.join();
  ::close(impl_->wake_fds[0]);
  ::close(impl_->wake_fds[1]);
}

}  // namespace atende::sip
