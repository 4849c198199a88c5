// What atende tells peers it handles: the Allow and Supported headers of every request and
// response (OPTIONS answers, 200 OK to INVITE, our own INVITEs). Only what is really
// handled, so a peer never relies on something we would then refuse or get wrong:
//   INVITE ACK BYE CANCEL  calls, re-INVITEs (hold, new address, session refresh)
//   OPTIONS                answered by us after the access rules (docs/security.md)
//   REGISTER               always refused (403: atende is no registrar); listed only because
//                          nua hands the application only methods in Allow, and the access
//                          rules must see (count, drop) a scanner's REGISTERs
//   NOTIFY                 only inside the subscription our own REFER creates (transfer
//                          progress); REFER itself we send but do not accept
// Not listed, answered 405 by the stack: REFER, SUBSCRIBE, MESSAGE, INFO, PRACK, UPDATE,
// PUBLISH. (We send UPDATE to refresh a session when we must be the refresher: UPDATE
// without SDP is all RFC 4028 needs, and listing it here would invite SDP offers in UPDATE,
// which we do not answer.)
// Supported: only "timer" (RFC 4028 session timers). No "100rel": we never send reliable
// provisional responses and do not take PRACK.
#pragma once

namespace atende::sip {

inline constexpr const char* kAllow = "INVITE, ACK, BYE, CANCEL, OPTIONS, NOTIFY, REGISTER";
inline constexpr const char* kSupported = "timer";

}  // namespace atende::sip
