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

#include "core/call_id.h"
#include "core/metrics.h"
#include "sip/access_control.h"
#include "sip/sip_capabilities.h"
#include "sip/sip_precheck.h"
#include "sip/socket_filter.h"

// sofia's magic pointers are typed by these macros; they must come before its headers.
#define NUA_MAGIC_T atende::sip::SipServer::Impl
#define NUA_HMAGIC_T atende::sip::HandleOwner
#define SU_ROOT_MAGIC_T atende::sip::SipServer::Impl
#define SU_WAKEUP_ARG_T atende::sip::SipServer::Impl
#define SU_TIMER_ARG_T atende::sip::HandleOwner

namespace atende::sip {
class HandleOwner;
}

#include <netinet/in.h>
#include <sofia-sip/msg_addr.h>
#include <sofia-sip/msg_header.h>
#include <sofia-sip/nta_tag.h>
#include <sofia-sip/nua.h>
#include <sofia-sip/nua_tag.h>
#include <sofia-sip/sip_header.h>
#include <sofia-sip/sip_status.h>
#include <sofia-sip/su.h>
#include <sofia-sip/su_log.h>
#include <sofia-sip/su_string.h>
#include <sofia-sip/su_wait.h>
#include <sofia-sip/tport_tag.h>
#include <sofia-sip/url.h>

namespace atende::sip {

// What a nua handle of ours belongs to: a call (either way) or a registration.
class HandleOwner {
 public:
  enum class Kind { kCall, kRegistration };
  explicit HandleOwner(Kind k) : kind(k) {}
  virtual ~HandleOwner() = default;
  const Kind kind;
  SipServer::Impl* server = nullptr;
  nua_handle_t* nh = nullptr;
};

class Dialog final : public HandleOwner {
 public:
  Dialog() : HandleOwner(Kind::kCall) {}
  std::string call_id;
  bool outbound = false;
  su_timer_t* ring_timer = nullptr;  // inbound: pending delayed answer; outbound: ring timeout
  su_timer_t* max_timer = nullptr;   // answered: max_call_seconds
  std::string answer_sdp;
  bool answered = false;   // ACK received (inbound) / 2xx received (outbound)
  bool confirmed = false;  // inbound: the ACK came
  bool sent_200 = false;
  bool bye_sent = false;
  bool cancelled = false;      // outbound: we sent CANCEL
  bool delayed_offer = false;  // inbound INVITE without SDP: the answer comes in the ACK
  bool held = false;           // inbound: ringing until answer_held() / reject_held()
  int reject_status = 0;       // inbound: the final status we refused a held call with
  std::string contact;         // our Contact for this dialog; empty: sofia's
  int final_status = 0;        // outbound: the final response to our INVITE
  int auth_attempts = 0;       // outbound: challenges answered
  SipCredentials credentials;
  std::string end_reason;
  IpAddress source;           // inbound: where the INVITE came from
  bool counted_call = false;  // inbound: counted in AccessControl::call_begin
};

class Registration final : public HandleOwner {
 public:
  Registration() : HandleOwner(Kind::kRegistration) {}
  RegistrationRequest request;
  RegistrationState state = RegistrationState::kRegistering;
  bool challenged_since_success = false;  // a second challenge means wrong credentials
  int failures = 0;                       // in a row: sets the retry backoff
  su_timer_t* retry_timer = nullptr;
  bool in_flight = false;  // counted in Impl::registering until its final answer
};

const char* to_string(RegistrationState s) {
  switch (s) {
    case RegistrationState::kRegistering:
      return "registering";
    case RegistrationState::kRegistered:
      return "registered";
    case RegistrationState::kFailed:
      return "failed";
    case RegistrationState::kUnregistered:
      return "unregistered";
  }
  return "unknown";
}

namespace {
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

using DialogPtr = std::shared_ptr<Dialog>;
using RegistrationPtr = std::shared_ptr<Registration>;

namespace {

// Why a call we placed ended without an answer, from its final response (RFC 3261 21).
// `local`: sofia made the response up (no answer came at all).
std::string outbound_failure_reason(int status, bool local) {
  if (local && (status == 408 || status == 503 || status >= 900)) return "unreachable";
  if (status == 486 || status == 600) return "busy";
  if (status == 408 || status == 480 || status == 487) return "no_answer";
  if (status == 401 || status == 407) return "auth_failed";
  if (status >= 500 && status < 600 && status != 500 && status != 501) return "unreachable";
  return "rejected";
}

std::string body_of(sip_t const* sip) {
  if (!sip || !sip->sip_payload || !sip->sip_payload->pl_data) return {};
  return std::string(sip->sip_payload->pl_data, sip->sip_payload->pl_len);
}

// The status line of a message/sipfrag body ("SIP/2.0 200 OK"), 0 if there is none.
int sipfrag_status(std::string_view body) {
  if (body.rfind("SIP/2.0 ", 0) != 0 || body.size() < 11) return 0;
  int status = 0;
  for (size_t i = 8; i < 11; ++i) {
    if (body[i] < '0' || body[i] > '9') return 0;
    status = status * 10 + (body[i] - '0');
  }
  return status;
}

// "Digest:"realm":user:password" for nua_authenticate(), from a 401/407 challenge.
std::string auth_string(sip_t const* sip, const SipCredentials& c) {
  msg_auth_t const* au = nullptr;
  if (sip && sip->sip_www_authenticate)
    au = sip->sip_www_authenticate;
  else if (sip && sip->sip_proxy_authenticate)
    au = sip->sip_proxy_authenticate;
  if (!au || !au->au_scheme) return {};
  const char* realm = msg_params_find(au->au_params, "realm=");
  if (!realm) return {};
  std::string r = realm;
  if (r.empty() || r.front() != '"') r = "\"" + r + "\"";
  return std::string(au->au_scheme) + ":" + r + ":" + c.user + ":" + c.password;
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
  std::atomic<int> bound_port{0};
  std::atomic<int> bound_tls_port{0};

  // Cross-thread queue into the su_root: a pipe wakes the root, the mutex guards the deque.
  int wake_fds[2] = {-1, -1};
  su_wait_t wake_wait[1]{};
  std::mutex queue_mu;
  std::deque<std::function<void()>> queue;

  // SIP-thread only.
  std::unordered_map<std::string, DialogPtr> dialogs;
  std::unordered_map<std::string, RegistrationPtr> registrations;
  // REGISTERs waiting for a slot: at most kMaxRegistering are in flight (first round or
  // retry), so a thousand trunks do not overflow the registrar's socket (and ours with the
  // challenges coming back) at start-up. nua's own refreshes are spread by their expiry.
  static constexpr int kMaxRegistering = 32;
  std::deque<std::string> register_queue;
  int registering = 0;
  bool shutdown_done = false;

  // Who may call (docs/security.md). SIP-thread only.
  std::unique_ptr<AccessControl> access;
  Counter* kernel_dropped = nullptr;
  std::vector<int> filtered_fds;                 // SIP sockets with our BPF filter
  std::unordered_map<int, uint64_t> drops_seen;  // per fd: SO_MEMINFO drops counted so far
  uint64_t filter_version = 0;
  bool filter_warned = false;
  su_timer_t* access_timer = nullptr;
  // Requests refused with "drop" that sofia had already taken: held unanswered until the
  // caller has given up (destroying the handle earlier would make nua answer 500).
  struct Unanswered {
    MonoTime at;
    nua_handle_t* nh;
  };
  std::deque<Unanswered> unanswered;
  static constexpr size_t kMaxUnanswered = 256;
  static constexpr auto kUnansweredHold = std::chrono::seconds(32);  // timer B/F

  Impl(SipOptions o, SipEvents& e) : options(std::move(o)), events(e) {}

  void run(std::promise<void>& ready);
  void post(std::function<void()> fn) {
    bool first = false;
    {
      std::lock_guard lock(queue_mu);
      first = queue.empty();
      queue.push_back(std::move(fn));
    }
    // Only the post that made the queue non-empty writes: until on_wake swaps the queue out
    // (after draining the pipe) that byte is pending and the swap takes every later post too.
    if (!first) return;
    char c = 1;
    [[maybe_unused]] auto n = ::write(wake_fds[1], &c, 1);  // pipe full: root wakes anyway
  }
  static int on_wake(Impl* self, su_wait_t*, Impl*) {
    char buf[256];
    // A short read emptied the pipe: no second read just to see EAGAIN.
    while (::read(self->wake_fds[0], buf, sizeof buf) == static_cast<ssize_t>(sizeof buf)) {
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
                       nua_handle_t* nh, HandleOwner* owner, sip_t const* sip, tagi_t tags[]) {
    Dialog* dialog =
        owner && owner->kind == HandleOwner::Kind::kCall ? static_cast<Dialog*>(owner) : nullptr;
    if (owner && owner->kind == HandleOwner::Kind::kRegistration) {
      self->registration_event(event, status, phrase, static_cast<Registration*>(owner), sip);
      return;
    }
    self->handle(event, status, phrase, nh, dialog, sip, tags);
  }

  void handle(nua_event_t event, int status, char const* phrase, nua_handle_t* nh, Dialog* dialog,
              sip_t const* sip, tagi_t tags[]);
  // Access rules (docs/security.md)
  std::optional<IpAddress> request_source();
  // Applies check_request; false when the request was refused (and dealt with).
  bool admit_request(nua_handle_t* nh, RequestKind kind, const IpAddress& source);
  void refuse(nua_handle_t* nh, const AccessDecision& d);
  void hold_unanswered(nua_handle_t* nh);
  void update_filter(bool force = false);
  void count_kernel_drops();
  void options_request(nua_handle_t* nh, Dialog* dialog);
  void register_request(nua_handle_t* nh);
  static void on_access_timer(Impl* self, su_timer_t*, HandleOwner*) { self->access_tick(); }
  void access_tick();
  void incoming_invite(nua_handle_t* nh, sip_t const* sip);
  std::string transport_of(sip_t const* sip);
  // Our Contact for a dialog over `transport` ("udp", "tcp", "tls"); empty when TLS is off
  // (sofia's own is right then) or we know no address to put in it.
  std::string contact_for(const std::string& transport, const std::string& user = "") const {
    if (options.tls_port <= 0) return {};
    std::string host = !options.contact_host.empty() ? options.contact_host : options.host;
    if (host.empty() || host == "0.0.0.0" || host == "::") return {};
    if (host.find(':') != std::string::npos) host = "[" + host + "]";
    const bool tls = transport == "tls";
    std::string c = "<sip:" + (user.empty() ? "" : user + "@") + host + ":" +
                    std::to_string(tls ? options.tls_port : options.port);
    if (transport != "udp") c += ";transport=" + transport;
    return c + ">";
  }
  static std::string transport_of_uri(const std::string& uri) {
    if (uri.rfind("sips:", 0) == 0 || uri.find(";transport=tls") != std::string::npos) return "tls";
    if (uri.find(";transport=tcp") != std::string::npos) return "tcp";
    return "udp";
  }
  void reinvite(Dialog* d, sip_t const* sip);
  void terminated(Dialog* d, nua_handle_t* nh);
  void send_bye(const std::string& call_id, const char* reason);
  void answer(Dialog& d);
  // A held inbound call (InviteReply::hold_ms): the final `status` instead of an answer.
  void reject_held(Dialog& d, int status, const std::string& reason);
  Dialog* held_dialog(const std::string& call_id) {
    auto it = dialogs.find(call_id);
    if (it == dialogs.end()) return nullptr;
    Dialog& d = *it->second;
    return d.held && d.nh && !d.sent_200 && !d.bye_sent ? &d : nullptr;
  }
  // UAC
  void place(OutboundInvite call);
  void invite_response(Dialog& d, int status, char const* phrase, sip_t const* sip);
  void send_refer(const std::string& call_id, const std::string& target);
  // Registrations
  void add_registration(RegistrationRequest request);
  void send_register(Registration& r);
  void queue_register(Registration& r);
  void register_done(Registration& r);  // a REGISTER in flight got its final answer
  void registration_event(nua_event_t event, int status, char const* phrase, Registration* r,
                          sip_t const* sip);
  void set_registration(Registration& r, RegistrationState s, int status, std::string_view phrase);
  void schedule_reregister(Registration& r);

  void arm_max_duration(Dialog& d) {
    if (options.max_call_seconds <= 0 || d.max_timer) return;
    d.max_timer = su_timer_create(su_root_task(root), 0);
    su_timer_set_interval(d.max_timer, &Impl::on_max_timer, &d, options.max_call_seconds * 1000);
  }
  static void on_max_timer(Impl* self, su_timer_t*, HandleOwner* owner) {
    auto* d = static_cast<Dialog*>(owner);
    spdlog::info("call={} sip: max_call_seconds reached", d->call_id);
    self->send_bye(d->call_id, "max_duration");
  }
  static void on_ring_timer(Impl*, su_timer_t*, HandleOwner* owner) {
    auto* d = static_cast<Dialog*>(owner);
    if (d->outbound)
      d->server->ring_timeout(*d);
    else if (d->held)
      d->server->reject_held(*d, 480, "ring_timeout");
    else
      d->server->answer(*d);
  }
  void ring_timeout(Dialog& d);
  static void on_retry_timer(Impl*, su_timer_t*, HandleOwner* owner) {
    auto* r = static_cast<Registration*>(owner);
    su_timer_destroy(r->retry_timer);
    r->retry_timer = nullptr;
    r->server->queue_register(*r);
  }
  static void on_shutdown_timer(Impl* self, su_timer_t*, HandleOwner*) {
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
    ready.set_exception(
        std::make_exception_ptr(std::runtime_error("sip: cannot create event loop")));
    return;
  }
  su_wait_create(wake_wait, wake_fds[0], SU_WAIT_IN);
  su_root_register(root, wake_wait, &Impl::on_wake, this, 0);

  // "sip:" with no transport binds both UDP and TCP. Bracket IPv6 literals.
  std::string host =
      options.host.find(':') != std::string::npos ? "[" + options.host + "]" : options.host;
  std::string url = "sip:" + host + ":" + std::to_string(options.port);
  const bool tls = options.tls_port > 0;
  std::string tls_host = options.tls_host.empty() ? options.host : options.tls_host;
  if (tls_host.find(':') != std::string::npos) tls_host = "[" + tls_host + "]";
  const std::string sips_url = "sips:" + tls_host + ":" + std::to_string(options.tls_port);
  // Outbound: the certificate chain and dates, and the host we dialled among its names.
  const unsigned verify = options.tls_verify_server ? TPTLS_VERIFY_SUBJECTS_OUT : TPTLS_VERIFY_NONE;
  nua = nua_create(root, &Impl::on_event, this, NUTAG_URL(url.c_str()),
                   TAG_IF(tls, NUTAG_SIPS_URL(sips_url.c_str())),
                   TAG_IF(tls, NUTAG_CERTIFICATE_DIR(options.tls_dir.c_str())),
                   TAG_IF(tls, TPTAG_TLS_VERIFY_POLICY(verify)),
                   TAG_IF(tls, TPTAG_TLS_VERIFY_DATE(1)),
                   NUTAG_MEDIA_ENABLE(0),  // we do SDP ourselves (sip/sdp.h)
                   NUTAG_AUTOANSWER(0), NUTAG_AUTOACK(1), NUTAG_ENABLEINVITE(1),
                   // Only what we handle (sip_capabilities.h): SIPTAG_*_STR replace nua's own
                   // lists, which NUTAG_ALLOW/NUTAG_SUPPORTED would only add to.
                   SIPTAG_ALLOW_STR(kAllow), SIPTAG_SUPPORTED_STR(kSupported),
                   SIPTAG_USER_AGENT_STR(options.user_agent.c_str()),
                   // Session timers (RFC 4028): answered, and the peer refreshes when it
                   // can; when we must, by UPDATE without SDP (nua's re-INVITE refresh
                   // would carry no offer: we write the SDP, not nua).
                   NUTAG_SESSION_TIMER(static_cast<unsigned>(options.session_expires)),
                   NUTAG_MIN_SE(static_cast<unsigned>(options.min_se)), NUTAG_UPDATE_REFRESH(1),
                   // We answer OPTIONS and REGISTER ourselves, after the access rules: nua
                   // would answer them before we could drop or count them (REGISTER is
                   // in kAllow only so that it reaches us: else nua answers 405 unseen).
                   NUTAG_APPL_METHOD("OPTIONS, REGISTER"),
                   // Registrations: keep the Contact we are given (no outbound/gruu
                   // extensions that trip simple registrars).
                   NUTAG_OUTBOUND("no-options-keepalive, no-validate, no-natify"),
                   // SIP messages over 32 KB are refused by the stack before parsing: no
                   // legitimate request to an IVR comes near it (sofia's default is 2 MB).
                   NTATAG_MAXSIZE(32 * 1024), TAG_END());
  if (!nua) {
    const std::string what = tls ? url + " or " + sips_url : url;
    ready.set_exception(std::make_exception_ptr(std::runtime_error(
        "sip: cannot listen on " + what +
        (tls ? " (address in use, not local, or sofia refused the TLS certificate?)"
             : " (address in use or not local?)"))));
    su_root_destroy(root);
    root = nullptr;
    return;
  }
  bound_port = options.port;
  spdlog::info("sip: listening on {} (udp, tcp)", url);
  if (tls) {
    bound_tls_port = options.tls_port;
    spdlog::info("sip: listening on {} (tls)", sips_url);
  }
  access = std::make_unique<AccessControl>(options.access, options.metrics);
  if (options.metrics) {
    kernel_dropped = &options.metrics->counter(
        "atende_sip_dropped_in_kernel_total",
        "SIP packets from denied or blocked sources dropped by the kernel filter before atende "
        "read them (also counts receive-buffer overflows of the SIP sockets)");
  }
  spdlog::info("{}", access->describe());
  update_filter(true);
  access_timer = su_timer_create(su_root_task(root), 1000);
  su_timer_run(access_timer, &Impl::on_access_timer, nullptr);
  ready.set_value();
  su_root_run(root);

  if (shutdown_timer) su_timer_destroy(shutdown_timer);
  if (access_timer) su_timer_destroy(access_timer);
  access_timer = nullptr;
  for (int fd : filtered_fds) detach_socket_filter(fd);
  filtered_fds.clear();
  if (!shutdown_done) {
    // nua may only be destroyed after its shutdown completed; we are exiting anyway, so
    // leave the stack to the process exit rather than risk sofia's assertions.
    spdlog::warn("sip: stack left undestroyed (peers did not finish)");
    return;
  }
  for (auto& [name, r] : registrations) {
    if (r->retry_timer) su_timer_destroy(r->retry_timer);
    r->retry_timer = nullptr;
  }
  // Dialogs the shutdown ended without a terminated event still hold their timers.
  for (auto& [id, d] : dialogs) {
    for (su_timer_t** t : {&d->ring_timer, &d->max_timer}) {
      if (*t) su_timer_destroy(*t);
      *t = nullptr;
    }
  }
  nua_destroy(nua);
  nua = nullptr;
  su_root_unregister(root, wake_wait, &Impl::on_wake, this);
  su_root_destroy(root);
  root = nullptr;
  su_home_deinit(home);
  su_deinit();
}

void SipServer::Impl::handle(nua_event_t event, int status, char const* phrase, nua_handle_t* nh,
                             Dialog* dialog, sip_t const* sip, tagi_t tags[]) {
  switch (event) {
    case nua_i_invite:
      if (dialog)
        reinvite(dialog, sip);
      else
        incoming_invite(nh, sip);
      return;
    case nua_r_invite:
      if (dialog && dialog->outbound) invite_response(*dialog, status, phrase, sip);
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
      // A BYE we did not ask for: nua's own, when the session timer ran out without the
      // peer's refresh (RFC 4028 10; "no ACK" sends one too, but says so first: nua_i_error).
      if (dialog && !dialog->bye_sent && dialog->end_reason.empty()) {
        dialog->end_reason = "session_timer";
        spdlog::info("call={} sip: session timer expired (no refresh came)", dialog->call_id);
      }
      return;
    case nua_i_ack:
      if (dialog && dialog->delayed_offer) {
        dialog->delayed_offer = false;
        events.on_ack_answer(dialog->call_id, body_of(sip));
      } else if (dialog && !dialog->outbound && !dialog->confirmed) {
        events.on_confirmed(dialog->call_id);
      }
      if (dialog) dialog->confirmed = true;
      return;
    case nua_r_refer:
      if (dialog && status >= 300) events.on_refer_progress(dialog->call_id, status);
      return;
    case nua_i_notify:
      // NOTIFY of the subscription our REFER created: its body is the transferred call's
      // status line (RFC 3515 2.4.5).
      if (dialog) {
        const int s = sipfrag_status(body_of(sip));
        if (s > 0) events.on_refer_progress(dialog->call_id, s);
      }
      return;
    case nua_r_shutdown:
      if (status >= 200) {
        shutdown_done = true;
        su_root_break(root);
      }
      return;
    case nua_i_error:
      // 408 "ACK Timeout": our 200 was never ACKed (timer H, 32 s); nua sends BYE next.
      if (dialog && status == 408 && phrase && std::string_view(phrase) == "ACK Timeout") {
        if (dialog->end_reason.empty()) dialog->end_reason = "no_ack";
        spdlog::info("call={} sip: no ACK for our 200 OK", dialog->call_id);
        return;
      }
      spdlog::warn("sip: stack error {} {}", status, phrase ? phrase : "");
      return;
    case nua_i_options:
      options_request(nh, dialog);
      return;
    case nua_i_register:
      register_request(nh);
      return;
    default:
      // Out-of-dialog requests nua answered itself (not OPTIONS or REGISTER: those are
      // ours, above); their handles would leak unless we destroy them.
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
  // Who may call: address lists, rate, then digest for callers not trusted by address.
  const auto source = request_source();
  if (!source) {
    nua_respond(nh, 500, static_phrase(500), TAG_END());
    nua_handle_destroy(nh);
    return;
  }
  const MonoTime now = MonoClock::now();
  const AccessDecision decision = access->check_request(*source, RequestKind::kInvite, now);
  if (!decision.ok()) return refuse(nh, decision);
  std::string auth_user;
  if (decision.must_authenticate) {
    // Credentials in either header: a caller may answer a 401 as if it were a 407.
    const msg_auth_t* au =
        sip->sip_authorization ? sip->sip_authorization : sip->sip_proxy_authorization;
    std::string credentials;
    for (; au; au = au->au_next) {
      char* text = sip_header_as_string(home, reinterpret_cast<const sip_header_t*>(au));
      if (!text) continue;
      std::string value = text;
      su_free(home, text);
      // Only the credentials for our realm (a proxy's own may be there too).
      auto creds = parse_digest_credentials(value);
      if (creds && creds->realm == access->config().realm) {
        credentials = value;
        break;
      }
      if (credentials.empty()) credentials = value;
    }
    auto verdict = access->authenticate(*source, credentials, "INVITE", now);
    if (verdict.kind == AccessControl::AuthVerdict::kRefused) return refuse(nh, verdict.drop);
    if (verdict.kind == AccessControl::AuthVerdict::kChallenge) {
      const auto values = access->challenges(*source, now, verdict.stale);
      const bool proxy = access->challenge_status() == 407;
      const char* first = values.size() > 0 ? values[0].c_str() : nullptr;
      const char* second = values.size() > 1 ? values[1].c_str() : nullptr;
      nua_respond(nh, proxy ? 407 : 401, static_phrase(proxy ? 407 : 401),
                  TAG_IF(proxy && first, SIPTAG_PROXY_AUTHENTICATE_STR(first)),
                  TAG_IF(proxy && second, SIPTAG_PROXY_AUTHENTICATE_STR(second)),
                  TAG_IF(!proxy && first, SIPTAG_WWW_AUTHENTICATE_STR(first)),
                  TAG_IF(!proxy && second, SIPTAG_WWW_AUTHENTICATE_STR(second)), TAG_END());
      nua_handle_destroy(nh);
      return;
    }
    auth_user = verdict.user;
  }
  // Sanity of the request itself (after the access rules: a stranger gets nothing, not
  // even a 400).
  if (auto problem = precheck_request(sip)) {
    spdlog::warn("sip: rejecting INVITE: {} {}", problem->status, problem->phrase);
    const std::string warning = warning_for(problem->phrase);
    nua_respond(nh, problem->status, static_phrase(problem->status),
                SIPTAG_WARNING_STR(warning.c_str()), TAG_END());
    nua_handle_destroy(nh);
    return;
  }
  const AccessDecision calls_ok = access->call_begin(*source, now);
  if (!calls_ok.ok()) return refuse(nh, calls_ok);

  auto d = std::make_shared<Dialog>();
  d->call_id = atende::new_call_id();
  d->nh = nh;
  d->source = *source;
  d->counted_call = true;

  InviteInfo info;
  info.auth_user = auth_user;
  info.sip_call_id = sip->sip_call_id && sip->sip_call_id->i_id ? sip->sip_call_id->i_id : "";
  info.from_uri = sip->sip_from ? url_text(home, sip->sip_from->a_url) : "";
  info.to_uri = sip->sip_to ? url_text(home, sip->sip_to->a_url) : "";
  info.request_user = sip->sip_request && sip->sip_request->rq_url->url_user
                          ? sip->sip_request->rq_url->url_user
                          : "";
  info.remote_host = source->str();
  info.sdp = body_of(sip);
  info.transport = transport_of(sip);

  InviteReply reply = events.on_invite(d->call_id, info);
  if (reply.status >= 300) {
    access->call_end(*source);
    const std::string warning = warning_for(reply.phrase);
    const std::string retry = std::to_string(reply.retry_after);
    nua_respond(nh, reply.status, static_phrase(reply.status), SIPTAG_WARNING_STR(warning.c_str()),
                TAG_IF(reply.retry_after > 0, SIPTAG_RETRY_AFTER_STR(retry.c_str())), TAG_END());
    nua_handle_destroy(nh);
    return;
  }
  nua_handle_bind(nh, d.get());
  dialogs.emplace(d->call_id, d);
  d->server = this;
  d->answer_sdp = std::move(reply.sdp);
  d->delayed_offer = info.sdp.empty();
  d->contact = contact_for(info.transport);
  if (reply.ring_ms > 0 || reply.hold_ms > 0) {
    // Held: someone else (a controller) decides; the timer is the longest the caller rings.
    d->held = reply.hold_ms > 0;
    nua_respond(nh, SIP_180_RINGING,
                TAG_IF(!d->contact.empty(), SIPTAG_CONTACT_STR(d->contact.c_str())), TAG_END());
    d->ring_timer = su_timer_create(su_root_task(root), 0);
    su_timer_set_interval(d->ring_timer, &Impl::on_ring_timer, d.get(),
                          d->held ? reply.hold_ms : reply.ring_ms);
    return;
  }
  answer(*d);
}

// sofia does not tell the application which of its sockets a request came on, so: the top
// Via's transport, believed only when the socket's protocol agrees (a UDP datagram cannot be
// TLS) and a TLS listener exists. A client on plain TCP could still claim TLS in its Via,
// which is why docs/security.md says not to make the TLS policy weaker than the plain one.
std::string SipServer::Impl::transport_of(sip_t const* sip) {
  int protocol = 0;
  if (msg_t* msg = nua_current_request(nua)) {
    if (su_addrinfo_t* ai = msg_addrinfo(msg)) protocol = ai->ai_protocol;
  }
  const char* via = sip && sip->sip_via ? sip->sip_via->v_protocol : nullptr;
  const bool via_tls = via && su_casematch(via, sip_transport_tls);
  if (protocol == IPPROTO_UDP) return "udp";
  if (via_tls && options.tls_port > 0 && (protocol == IPPROTO_TCP || protocol == 0)) return "tls";
  if (protocol == IPPROTO_TCP) return "tcp";
  return via && su_casematch(via, sip_transport_tcp) ? "tcp" : "udp";
}

void SipServer::Impl::answer(Dialog& d) {
  if (d.ring_timer) {
    su_timer_destroy(d.ring_timer);
    d.ring_timer = nullptr;
  }
  if (!d.nh || d.bye_sent) return;
  nua_respond(d.nh, SIP_200_OK, SIPTAG_CONTENT_TYPE_STR("application/sdp"),
              TAG_IF(!d.contact.empty(), SIPTAG_CONTACT_STR(d.contact.c_str())),
              SIPTAG_PAYLOAD_STR(d.answer_sdp.c_str()), TAG_END());
  d.answer_sdp.clear();
  d.sent_200 = true;
  arm_max_duration(d);
  events.on_answered(d.call_id);
}

void SipServer::Impl::reject_held(Dialog& d, int status, const std::string& reason) {
  if (d.ring_timer) {
    su_timer_destroy(d.ring_timer);
    d.ring_timer = nullptr;
  }
  if (!d.nh || d.sent_200 || d.bye_sent) return;
  d.bye_sent = true;  // nothing else may answer it now
  d.held = false;
  d.end_reason = reason;
  d.reject_status = status;
  const std::string warning = warning_for(reason);
  nua_respond(d.nh, status, static_phrase(status), SIPTAG_WARNING_STR(warning.c_str()), TAG_END());
}

void SipServer::Impl::reinvite(Dialog* d, sip_t const* sip) {
  std::string sdp = body_of(sip);
  InviteReply reply = events.on_reinvite(d->call_id, sdp);
  if (reply.status >= 300) {
    // A failed re-INVITE leaves the dialog as it was (RFC 3261 14.1).
    const std::string warning = warning_for(reply.phrase);
    nua_respond(d->nh, reply.status, static_phrase(reply.status),
                SIPTAG_WARNING_STR(warning.c_str()), TAG_END());
    return;
  }
  nua_respond(d->nh, SIP_200_OK, SIPTAG_CONTENT_TYPE_STR("application/sdp"),
              TAG_IF(!d->contact.empty(), SIPTAG_CONTACT_STR(d->contact.c_str())),
              SIPTAG_PAYLOAD_STR(reply.sdp.c_str()), TAG_END());
}

void SipServer::Impl::terminated(Dialog* d, nua_handle_t* nh) {
  if (!d) {
    // A request held unanswered (refused with "drop") that ended anyway (CANCEL): it is
    // destroyed here, not again when its hold runs out.
    for (auto it = unanswered.begin(); it != unanswered.end(); ++it) {
      if (it->nh == nh) {
        unanswered.erase(it);
        break;
      }
    }
    if (nh) nua_handle_destroy(nh);
    return;
  }
  std::string reason = d->end_reason;
  if (reason.empty()) {
    if (d->outbound)
      reason = d->answered ? "terminated" : "unreachable";
    else
      reason = d->answered ? "terminated" : "no_ack";
  }
  const int status = d->outbound && !d->answered ? d->final_status : d->reject_status;
  std::string call_id = d->call_id;
  if (d->ring_timer) {
    su_timer_destroy(d->ring_timer);
    d->ring_timer = nullptr;
  }
  if (d->max_timer) {
    su_timer_destroy(d->max_timer);
    d->max_timer = nullptr;
  }
  nua_handle_bind(nh, nullptr);
  nua_handle_destroy(nh);
  d->nh = nullptr;
  if (d->counted_call) {
    d->counted_call = false;
    access->call_end(d->source);
  }
  events.on_ended(call_id, reason, status);
  dialogs.erase(call_id);  // may free `d`
}

void SipServer::Impl::send_bye(const std::string& call_id, const char* reason) {
  auto it = dialogs.find(call_id);
  if (it == dialogs.end() || !it->second->nh || it->second->bye_sent) return;
  Dialog& d = *it->second;
  d.bye_sent = true;
  if (d.end_reason.empty()) d.end_reason = reason;
  if (d.outbound && !d.answered) {
    // Still ringing out: CANCEL (the INVITE then ends with 487).
    d.cancelled = true;
    nua_cancel(d.nh, TAG_END());
    return;
  }
  if (!d.outbound && !d.sent_200) {
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

// --- placing calls (UAC) ---------------------------------------------------------------

void SipServer::Impl::place(OutboundInvite call) {
  auto d = std::make_shared<Dialog>();
  d->call_id = call.call_id;
  d->outbound = true;
  d->server = this;
  d->credentials = call.credentials;
  if (stopping) {
    events.on_ended(call.call_id, "shutdown", 0);
    return;
  }
  const std::string to = call.to_uri.empty() ? call.request_uri : call.to_uri;
  std::string from = call.from_uri;
  if (!call.from_display.empty()) from = "\"" + call.from_display + "\" <" + call.from_uri + ">";
  nua_handle_t* nh = nua_handle(
      nua, d.get(), NUTAG_URL(call.request_uri.c_str()), SIPTAG_TO_STR(to.c_str()),
      SIPTAG_FROM_STR(from.c_str()),
      TAG_IF(!call.outbound_proxy.empty(), NUTAG_PROXY(call.outbound_proxy.c_str())), TAG_END());
  if (!nh) {
    spdlog::warn("call={} sip: cannot create a handle for {}", call.call_id, call.request_uri);
    events.on_ended(call.call_id, "rejected", 0);
    return;
  }
  d->nh = nh;
  d->contact = contact_for(
      transport_of_uri(call.outbound_proxy.empty() ? call.request_uri : call.outbound_proxy));
  dialogs.emplace(d->call_id, d);
  nua_invite(nh, SIPTAG_CONTENT_TYPE_STR("application/sdp"),
             TAG_IF(!d->contact.empty(), SIPTAG_CONTACT_STR(d->contact.c_str())),
             SIPTAG_PAYLOAD_STR(call.sdp_offer.c_str()), TAG_END());
  if (call.ring_timeout_ms > 0) {
    d->ring_timer = su_timer_create(su_root_task(root), 0);
    su_timer_set_interval(d->ring_timer, &Impl::on_ring_timer, d.get(), call.ring_timeout_ms);
  }
}

void SipServer::Impl::ring_timeout(Dialog& d) {
  if (d.ring_timer) {
    su_timer_destroy(d.ring_timer);
    d.ring_timer = nullptr;
  }
  if (d.answered || d.cancelled || !d.nh) return;
  d.cancelled = true;
  d.end_reason = "no_answer";
  nua_cancel(d.nh, TAG_END());
}

void SipServer::Impl::invite_response(Dialog& d, int status, char const* phrase, sip_t const* sip) {
  if (status < 200) {
    if (status > 100) events.on_outbound_progress(d.call_id, status, body_of(sip));
    return;
  }
  if (status < 300) {
    if (d.answered) return;  // a retransmitted or forked 2xx
    d.answered = true;
    if (d.ring_timer) {
      su_timer_destroy(d.ring_timer);
      d.ring_timer = nullptr;
    }
    arm_max_duration(d);
    events.on_outbound_answered(d.call_id, body_of(sip));
    return;
  }
  if ((status == 401 || status == 407) && !d.credentials.empty() && d.auth_attempts < 2 &&
      !d.cancelled) {
    const std::string auth = auth_string(sip, d.credentials);
    if (!auth.empty()) {
      ++d.auth_attempts;
      nua_authenticate(d.nh, NUTAG_AUTH(auth.c_str()), TAG_END());
      return;
    }
  }
  d.final_status = status;
  if (d.end_reason.empty()) d.end_reason = outbound_failure_reason(status, sip == nullptr);
  spdlog::debug("call={} sip: INVITE answered {} {} ({})", d.call_id, status, phrase ? phrase : "",
                d.end_reason);
  // nua reports the terminated state next, which calls on_ended.
}

void SipServer::Impl::send_refer(const std::string& call_id, const std::string& target) {
  auto it = dialogs.find(call_id);
  if (it == dialogs.end() || !it->second->nh || !it->second->answered) {
    events.on_refer_progress(call_id, 481);
    return;
  }
  nua_refer(it->second->nh, SIPTAG_REFER_TO_STR(target.c_str()), TAG_END());
}

// --- registrations ---------------------------------------------------------------------

void SipServer::Impl::add_registration(RegistrationRequest request) {
  if (stopping) return;
  auto old = registrations.find(request.name);
  if (old != registrations.end()) {
    Registration& r = *old->second;
    register_done(r);
    if (r.retry_timer) su_timer_destroy(r.retry_timer);
    r.retry_timer = nullptr;
    if (r.nh) {
      nua_handle_bind(r.nh, nullptr);
      nua_handle_destroy(r.nh);
    }
    registrations.erase(old);
  }
  auto r = std::make_shared<Registration>();
  r->request = std::move(request);
  r->server = this;
  registrations.emplace(r->request.name, r);
  queue_register(*r);
}

void SipServer::Impl::queue_register(Registration& r) {
  if (r.in_flight) return;
  if (registering >= kMaxRegistering) {
    register_queue.push_back(r.request.name);
    return;
  }
  ++registering;
  r.in_flight = true;
  send_register(r);
}

void SipServer::Impl::register_done(Registration& r) {
  if (!r.in_flight) return;
  r.in_flight = false;
  --registering;
  while (!register_queue.empty() && registering < kMaxRegistering) {
    auto it = registrations.find(register_queue.front());
    register_queue.pop_front();
    if (it == registrations.end() || it->second->in_flight) continue;
    ++registering;
    it->second->in_flight = true;
    send_register(*it->second);
  }
}

void SipServer::Impl::send_register(Registration& r) {
  if (stopping) return;
  const auto& q = r.request;
  if (!r.nh) {
    r.nh = nua_handle(nua, &r, SIPTAG_TO_STR(q.aor.c_str()), SIPTAG_FROM_STR(q.aor.c_str()),
                      TAG_IF(!q.outbound_proxy.empty(), NUTAG_PROXY(q.outbound_proxy.c_str())),
                      TAG_END());
    if (!r.nh) {
      register_done(r);
      set_registration(r, RegistrationState::kFailed, 0, "cannot create a SIP handle");
      return;
    }
  }
  r.challenged_since_success = false;
  const std::string expires = std::to_string(q.expires_seconds);
  set_registration(r, RegistrationState::kRegistering, 0, "");
  const std::string contact =
      contact_for(transport_of_uri(q.outbound_proxy.empty() ? q.registrar_uri : q.outbound_proxy),
                  q.contact_user);
  nua_register(r.nh, NUTAG_REGISTRAR(q.registrar_uri.c_str()),
               TAG_IF(!q.contact_user.empty(), NUTAG_M_USERNAME(q.contact_user.c_str())),
               TAG_IF(!contact.empty(), SIPTAG_CONTACT_STR(contact.c_str())),
               SIPTAG_EXPIRES_STR(expires.c_str()), TAG_END());
}

void SipServer::Impl::set_registration(Registration& r, RegistrationState s, int status,
                                       std::string_view phrase) {
  const bool changed = r.state != s;
  r.state = s;
  if (changed || s == RegistrationState::kFailed) {
    events.on_registration(r.request.name, s, status, phrase);
  }
}

void SipServer::Impl::schedule_reregister(Registration& r) {
  // Backoff: 5 s, 10 s, 20 s ... capped at 5 minutes; a wrong password waits the longest,
  // so a misconfigured trunk never hammers the registrar.
  ++r.failures;
  int delay_s = std::min(300, 5 << std::min(r.failures - 1, 6));
  if (r.retry_timer) su_timer_destroy(r.retry_timer);
  r.retry_timer = su_timer_create(su_root_task(root), 0);
  su_timer_set_interval(r.retry_timer, &Impl::on_retry_timer, &r, delay_s * 1000);
  spdlog::info("sip: registration {} retries in {} s", r.request.name, delay_s);
}

void SipServer::Impl::registration_event(nua_event_t event, int status, char const* phrase,
                                         Registration* r, sip_t const* sip) {
  if (event == nua_r_unregister) {
    if (status >= 200)
      set_registration(*r, RegistrationState::kUnregistered, status, phrase ? phrase : "");
    return;
  }
  if (event != nua_r_register) return;
  if (status < 200) return;
  if (status < 300) {
    r->failures = 0;
    r->challenged_since_success = false;
    register_done(*r);
    set_registration(*r, RegistrationState::kRegistered, status, phrase ? phrase : "");
    return;
  }
  if ((status == 401 || status == 407) && !r->request.credentials.empty() &&
      !r->challenged_since_success) {
    const std::string auth = auth_string(sip, r->request.credentials);
    if (!auth.empty()) {
      r->challenged_since_success = true;
      nua_authenticate(r->nh, NUTAG_AUTH(auth.c_str()), TAG_END());
      return;
    }
  }
  std::string why = phrase ? phrase : "";
  if (status == 401 || status == 407 || status == 403) {
    why = r->request.credentials.empty()
              ? "the registrar wants credentials and none are configured"
              : "the registrar refused our credentials (wrong user or password?)";
  }
  spdlog::warn("sip: registration {} failed: {} {}", r->request.name, status, why);
  register_done(*r);
  set_registration(*r, RegistrationState::kFailed, status, why);
  // nua stops refreshing after a failure: start over on a fresh handle later.
  if (r->nh) {
    nua_handle_bind(r->nh, nullptr);
    nua_handle_destroy(r->nh);
    r->nh = nullptr;
  }
  schedule_reregister(*r);
}

// --- access rules (docs/security.md) ----------------------------------------------------

std::optional<IpAddress> SipServer::Impl::request_source() {
  msg_t* msg = nua_current_request(nua);
  su_addrinfo_t* ai = msg ? msg_addrinfo(msg) : nullptr;
  return ai ? ip_from_sockaddr(ai->ai_addr) : std::nullopt;
}

bool SipServer::Impl::admit_request(nua_handle_t* nh, RequestKind kind, const IpAddress& source) {
  const AccessDecision d = access->check_request(source, kind, MonoClock::now());
  if (d.ok()) return true;
  refuse(nh, d);
  return false;
}

void SipServer::Impl::refuse(nua_handle_t* nh, const AccessDecision& d) {
  // A new block goes into the kernel filter at once: the rest of the flood never reaches us.
  if (access->version() != filter_version) update_filter();
  if (d.action == AccessDecision::kDrop) {
    hold_unanswered(nh);
    return;
  }
  const std::string retry = std::to_string(d.retry_after);
  const std::string warning = warning_for(std::string("refused: ") + to_string(d.reason));
  nua_respond(nh, d.status, static_phrase(d.status), NUTAG_WITH_THIS(nua),
              TAG_IF(d.retry_after > 0, SIPTAG_RETRY_AFTER_STR(retry.c_str())),
              SIPTAG_WARNING_STR(warning.c_str()), TAG_END());
  nua_handle_destroy(nh);
}

void SipServer::Impl::hold_unanswered(nua_handle_t* nh) {
  if (unanswered.size() >= kMaxUnanswered) {
    nua_handle_destroy(unanswered.front().nh);  // nua answers 500: the price of a full hold
    unanswered.pop_front();
  }
  unanswered.push_back({MonoClock::now(), nh});
}

void SipServer::Impl::options_request(nua_handle_t* nh, Dialog* dialog) {
  if (dialog) {  // within a call: a keep-alive of the peer's
    nua_respond(nh, SIP_200_OK, NUTAG_WITH_THIS(nua), TAG_END());
    return;
  }
  const auto source = request_source();
  if (!source) {  // never seen: sofia always knows where a request came from
    nua_respond(nh, 500, static_phrase(500), NUTAG_WITH_THIS(nua), TAG_END());
    nua_handle_destroy(nh);
    return;
  }
  if (!admit_request(nh, RequestKind::kOptions, *source)) return;
  // nua adds Allow, Accept and Supported to a 200 for OPTIONS.
  nua_respond(nh, SIP_200_OK, NUTAG_WITH_THIS(nua), TAG_END());
  nua_handle_destroy(nh);
}

void SipServer::Impl::register_request(nua_handle_t* nh) {
  const auto source = request_source();
  if (!source) {
    nua_respond(nh, 500, static_phrase(500), NUTAG_WITH_THIS(nua), TAG_END());
    nua_handle_destroy(nh);
    return;
  }
  if (!admit_request(nh, RequestKind::kRegister, *source)) return;
  // atende is no registrar: nobody registers with it, and every REGISTER gets the same
  // answer, whoever sends it and whatever its credentials (a scanner learns nothing).
  nua_respond(nh, 403, static_phrase(403), NUTAG_WITH_THIS(nua),
              SIPTAG_WARNING_STR("399 atende \"not a registrar\""), TAG_END());
  nua_handle_destroy(nh);
}

void SipServer::Impl::update_filter(bool force) {
  filter_version = access->version();
  const AccessConfig& cfg = access->config();
  if (!cfg.kernel_filter) {
    for (int fd : filtered_fds) detach_socket_filter(fd);
    filtered_fds.clear();
    return;
  }
  if (force || filtered_fds.empty()) {
    filtered_fds = find_listening_sockets(options.port);
    for (int fd : filtered_fds) drops_seen[fd] = socket_drops(fd);
  }
  FilterRules rules;
  rules.filter_lists = cfg.denied_drop;
  rules.allow = cfg.allow;
  rules.deny = cfg.deny;
  rules.blocked = access->blocked_sources(MonoClock::now(), 1200);
  size_t left_out = 0;
  const auto program = build_socket_filter(rules, &left_out);
  int attached = 0;
  std::string error = program.empty() ? "the allow/deny lists are too long for one filter" : "";
  for (int fd : filtered_fds) {
    if (!program.empty() && attach_socket_filter(fd, program, &error)) {
      ++attached;
    } else {
      detach_socket_filter(fd);  // no stale filter: AccessControl judges alone
    }
  }
  if (force || (attached == 0 && !filter_warned)) {
    if (attached > 0) {
      spdlog::info("access: kernel filter on {} SIP sockets ({} instructions)", attached,
                   program.size());
    } else {
      filter_warned = true;
      spdlog::warn("access: no kernel filter ({}); refusals are made in the SIP thread only",
                   filtered_fds.empty() ? "SIP sockets not found" : error);
    }
  }
  if (left_out > 0) {
    spdlog::debug("access: {} blocked sources beyond the kernel filter's room", left_out);
  }
}

void SipServer::Impl::count_kernel_drops() {
  if (!kernel_dropped) return;
  for (int fd : filtered_fds) {
    const uint64_t now = socket_drops(fd);
    uint64_t& seen = drops_seen[fd];
    if (now > seen) kernel_dropped->inc(now - seen);
    seen = now;
  }
}

void SipServer::Impl::access_tick() {
  const MonoTime now = MonoClock::now();
  access->tick(now);
  if (access->version() != filter_version) update_filter();
  count_kernel_drops();
  while (!unanswered.empty() && now - unanswered.front().at >= kUnansweredHold) {
    nua_handle_destroy(unanswered.front().nh);
    unanswered.pop_front();
  }
}

void SipServer::Impl::begin_shutdown() {
  stopping = true;
  for (auto& u : unanswered) nua_handle_destroy(u.nh);
  unanswered.clear();
  std::vector<std::string> ids;
  for (auto& [id, d] : dialogs) ids.push_back(id);
  for (auto& id : ids) send_bye(id, "shutdown");
  for (auto& [name, r] : registrations) {
    if (r->retry_timer) su_timer_destroy(r->retry_timer);
    r->retry_timer = nullptr;
    if (r->nh && r->state == RegistrationState::kRegistered) nua_unregister(r->nh, TAG_END());
  }
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

int SipServer::port() const { return impl_->bound_port; }

int SipServer::tls_port() const { return impl_->bound_tls_port; }
void SipServer::reload_access(AccessConfig access) {
  post([impl = impl_.get(), access = std::move(access)]() mutable {
    if (!impl->access) return;
    impl->access->reload(std::move(access));
    spdlog::info("{}", impl->access->describe());
    impl->update_filter(true);
  });
}

std::optional<InviteReply> SipServer::charge_call(const std::string& source,
                                                  const std::string& flow, bool persona) {
  auto addr = parse_ip(source);
  if (!addr || !impl_->access) return std::nullopt;
  const AccessDecision d = impl_->access->charge_call(*addr, flow, persona, MonoClock::now());
  if (d.ok()) return std::nullopt;
  return InviteReply::reject(d.status, "Call Limit Reached", d.retry_after);
}

void SipServer::post(std::function<void()> fn) {
  if (!impl_->started) return;
  impl_->post(std::move(fn));
}

void SipServer::hangup(const std::string& call_id) {
  post([impl = impl_.get(), call_id] { impl->send_bye(call_id, "local_bye"); });
}

void SipServer::hangup(const std::string& call_id, std::string reason) {
  post([impl = impl_.get(), call_id, reason = std::move(reason)] {
    impl->send_bye(call_id, reason.c_str());
  });
}

void SipServer::answer_held(const std::string& call_id) {
  post([impl = impl_.get(), call_id] {
    if (Dialog* d = impl->held_dialog(call_id)) {
      d->held = false;
      impl->answer(*d);
    }
  });
}

void SipServer::progress_held(const std::string& call_id) {
  post([impl = impl_.get(), call_id] {
    Dialog* d = impl->held_dialog(call_id);
    if (!d || d->answer_sdp.empty() || d->delayed_offer) return;
    // Unreliable 183 (no 100rel): the same answer goes again in the 200.
    nua_respond(d->nh, SIP_183_SESSION_PROGRESS, SIPTAG_CONTENT_TYPE_STR("application/sdp"),
                TAG_IF(!d->contact.empty(), SIPTAG_CONTACT_STR(d->contact.c_str())),
                SIPTAG_PAYLOAD_STR(d->answer_sdp.c_str()), TAG_END());
  });
}

void SipServer::reject_held(const std::string& call_id, int status, std::string reason) {
  if (status < 400 || status > 699) status = 603;
  post([impl = impl_.get(), call_id, status, reason = std::move(reason)] {
    if (Dialog* d = impl->held_dialog(call_id)) impl->reject_held(*d, status, reason);
  });
}

void SipServer::invite(OutboundInvite call) {
  if (!impl_->started) {
    impl_->events.on_ended(call.call_id, "unreachable", 0);
    return;
  }
  impl_->post(
      [impl = impl_.get(), call = std::move(call)]() mutable { impl->place(std::move(call)); });
}

void SipServer::refer(const std::string& call_id, const std::string& target_uri) {
  post([impl = impl_.get(), call_id, target_uri] { impl->send_refer(call_id, target_uri); });
}

void SipServer::register_account(RegistrationRequest request) {
  post([impl = impl_.get(), request = std::move(request)]() mutable {
    impl->add_registration(std::move(request));
  });
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
