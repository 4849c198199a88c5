// baseline_sofia_uas: the smallest sofia-sip UAS we can write (answers every INVITE 200 with
// a fixed SDP, tears the handle down when the call ends). It is the yardstick for atende's
// signalling cost: bench/call_rate.py runs the same SIPp load against both.
//
// Usage: baseline_sofia_uas [--listen HOST:PORT]   (default 127.0.0.1:5080)
// Stops cleanly on SIGINT/SIGTERM (the handler only writes a pipe; sofia is never touched
// from a signal handler).
#include <sofia-sip/nua.h>
#include <sofia-sip/sip_status.h>
#include <sofia-sip/soa_tag.h>
#include <sofia-sip/su_wait.h>
#include <unistd.h>

#include <csignal>
#include <cstdio>
#include <cstring>
#include <string>

namespace {

int g_stop_pipe[2] = {-1, -1};

void OnSignal(int) {
  char byte = 1;
  [[maybe_unused]] auto ignored = write(g_stop_pipe[1], &byte, 1);
}

int OnStopPipe(su_root_magic_t*, su_wait_t*, su_wakeup_arg_t* arg) {
  char drained[16];
  [[maybe_unused]] auto ignored = read(g_stop_pipe[0], drained, sizeof drained);
  su_root_break(static_cast<su_root_t*>(static_cast<void*>(arg)));
  return 0;
}

constexpr char kAnswerSdp[] =
    "v=0\r\n"
    "o=- 1 1 IN IP4 127.0.0.1\r\n"
    "s=-\r\n"
    "c=IN IP4 127.0.0.1\r\n"
    "t=0 0\r\n"
    "m=audio 40000 RTP/AVP 0 101\r\n"
    "a=rtpmap:0 PCMU/8000\r\n"
    "a=rtpmap:101 telephone-event/8000\r\n"
    "a=fmtp:101 0-15\r\n";

void OnNuaEvent(nua_event_t event, int status, char const* phrase, nua_t* nua, nua_magic_t* magic,
                nua_handle_t* nh, nua_hmagic_t* hmagic, sip_t const* sip, tagi_t tags[]) {
  switch (event) {
    case nua_i_invite:
      nua_respond(nh, SIP_200_OK, SOATAG_USER_SDP_STR(kAnswerSdp), TAG_END());
      break;
    case nua_i_state: {
      int state = nua_callstate_init;
      tl_gets(tags, NUTAG_CALLSTATE_REF(state), TAG_END());
      if (state == nua_callstate_terminated) nua_handle_destroy(nh);
      break;
    }
    case nua_r_shutdown:
      if (status >= 200) su_root_break(static_cast<su_root_t*>(static_cast<void*>(magic)));
      break;
    default:
      break;  // nua answers OPTIONS, BYE, CANCEL and ACKs itself.
  }
}

}  // namespace

int main(int argc, char** argv) {
  std::string listen = "127.0.0.1:5080";
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--listen") == 0 && i + 1 < argc) {
      listen = argv[++i];
    } else {
      std::fprintf(stderr, "usage: %s [--listen HOST:PORT]\n", argv[0]);
      return 2;
    }
  }
  // "*" in the transport parameter makes sofia bind both UDP and TCP.
  const std::string url = "sip:" + listen + ";transport=*";

  su_init();
  su_home_t home[1] = {SU_HOME_INIT(home)};
  su_root_t* root = su_root_create(nullptr);
  if (pipe(g_stop_pipe) != 0) return 1;
  su_wait_t stop_wait[1];
  su_wait_create(stop_wait, g_stop_pipe[0], SU_WAIT_IN);
  su_root_register(root, stop_wait, OnStopPipe, reinterpret_cast<su_wakeup_arg_t*>(root), 0);
  std::signal(SIGINT, OnSignal);
  std::signal(SIGTERM, OnSignal);

  nua_t* nua =
      nua_create(root, OnNuaEvent, reinterpret_cast<nua_magic_t*>(root), NUTAG_URL(url.c_str()),
                 NUTAG_AUTOACK(1), NUTAG_AUTOANSWER(0), SOATAG_AF(SOA_AF_IP4_ONLY), TAG_END());
  if (!nua) {
    std::fprintf(stderr, "baseline_sofia_uas: cannot listen on %s\n", url.c_str());
    return 1;
  }
  std::fprintf(stderr, "baseline_sofia_uas: listening on %s\n", url.c_str());
  su_root_run(root);  // until a signal

  // Graceful: let nua answer/BYE what is open, then run until nua_r_shutdown completes.
  nua_shutdown(nua);
  su_root_run(root);
  nua_destroy(nua);
  su_root_destroy(root);
  su_home_deinit(home);
  su_deinit();
  return 0;
}
