#include "sip/sdp.h"

#include <arpa/inet.h>

#include <algorithm>
#include <cstring>

#include "sip/sdp_text.h"

namespace atende::sip {

using sdp_text::next_token;
using sdp_text::parse_int;

MediaDirection mirror(MediaDirection d) {
  switch (d) {
    case MediaDirection::kSendOnly:
      return MediaDirection::kRecvOnly;
    case MediaDirection::kRecvOnly:
      return MediaDirection::kSendOnly;
    case MediaDirection::kInactive:
      return MediaDirection::kInactive;
    case MediaDirection::kSendRecv:
      break;
  }
  return MediaDirection::kSendRecv;
}

std::string_view to_string(MediaDirection d) {
  switch (d) {
    case MediaDirection::kSendOnly:
      return "sendonly";
    case MediaDirection::kRecvOnly:
      return "recvonly";
    case MediaDirection::kInactive:
      return "inactive";
    case MediaDirection::kSendRecv:
      break;
  }
  return "sendrecv";
}

bool ConnectionAddress::is_unspecified() const {
  char buf[64];
  if (address.empty() || address.size() >= sizeof(buf)) return false;
  std::memcpy(buf, address.data(), address.size());
  buf[address.size()] = '\0';
  unsigned char bytes[16] = {};
  int af = family == AddressFamily::kIp4 ? AF_INET : AF_INET6;
  if (inet_pton(af, buf, bytes) != 1) return false;
  std::size_t n = family == AddressFamily::kIp4 ? 4 : 16;
  return std::all_of(bytes, bytes + n, [](unsigned char b) { return b == 0; });
}

bool MediaDescription::is_rtp() const {
  // RTP/AVP, RTP/SAVP, RTP/AVPF, UDP/TLS/RTP/SAVPF ...: formats are RTP payload types.
  return proto.find("RTP/") != std::string::npos;
}

bool MediaDescription::is_savp() const { return proto == "RTP/SAVP"; }

const RtpMap* MediaDescription::find_rtpmap(int payload_type) const {
  for (const auto& r : rtpmaps)
    if (r.payload_type == payload_type) return &r;
  return nullptr;
}

const Fmtp* MediaDescription::find_fmtp(int payload_type) const {
  for (const auto& f : fmtps)
    if (f.payload_type == payload_type) return &f;
  return nullptr;
}

const ConnectionAddress* SessionDescription::connection_for(const MediaDescription& m) const {
  if (m.connection) return &*m.connection;
  if (connection) return &*connection;
  return nullptr;
}

MediaDirection SessionDescription::direction_for(const MediaDescription& m) const {
  if (m.direction) return *m.direction;
  if (direction) return *direction;
  return MediaDirection::kSendRecv;
}

namespace {

constexpr std::size_t kMaxTokenBytes = 64;
constexpr std::size_t kMaxEncodingBytes = 32;

// One parse in progress. Errors carry the 1-based line number, never the line text.
class Parser {
 public:
  Parser(const SdpLimits& limits) : limits_(limits) {}

  SdpResult<SessionDescription> run(std::string_view body) {
    if (body.size() > limits_.max_body_bytes)
      return sdp_error(SdpErrc::kTooLarge, "SDP body too large");
    std::size_t pos = 0;
    while (pos < body.size()) {
      std::size_t end = body.find('\n', pos);
      if (end == std::string_view::npos) end = body.size();
      std::string_view line = body.substr(pos, end - pos);
      pos = end + 1;
      if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
      while (!line.empty() && line.back() == ' ') line.remove_suffix(1);
      if (line.empty()) continue;  // tolerated: some stacks end with a blank line
      if (++line_no_ > limits_.max_lines) return sdp_error(SdpErrc::kTooLarge, "too many lines");
      if (line.size() > limits_.max_line_bytes) return *fail(SdpErrc::kTooLarge, "line too long");
      if (auto err = parse_line(line)) return *err;
    }
    if (!seen_version_) return sdp_error(SdpErrc::kMalformed, "empty SDP");
    return std::move(sdp_);
  }

 private:
  std::optional<SdpError> fail(SdpErrc code, std::string_view what) const {
    return sdp_error(code, std::string(what) + " (line " + std::to_string(line_no_) + ")");
  }

  std::optional<SdpError> parse_line(std::string_view line) {
    for (char c : line) {
      auto u = static_cast<unsigned char>(c);
      // Text fields may carry UTF-8 (>= 0x80); other control bytes, NUL included, never.
      if ((u < 0x20 && c != '\t') || u == 0x7f) return fail(SdpErrc::kMalformed, "control byte");
    }
    if (line.size() < 2 || line[1] != '=' || line[0] < 'a' || line[0] > 'z')
      return fail(SdpErrc::kMalformed, "not a <type>=<value> line");
    char type = line[0];
    std::string_view value = line.substr(2);
    if (!seen_version_) {
      if (type != 'v' || value != "0") return fail(SdpErrc::kMalformed, "must start with v=0");
      seen_version_ = true;
      return std::nullopt;
    }
    switch (type) {
      case 'v':
        return fail(SdpErrc::kMalformed, "repeated v=");
      case 'o':
        return parse_origin(value);
      case 's':
        if (in_media()) return fail(SdpErrc::kMalformed, "s= inside a media section");
        sdp_.session_name = std::string(value);
        return std::nullopt;
      case 'c':
        return parse_connection(value);
      case 'm':
        return parse_media(value);
      case 'a':
        return parse_attribute(value);
      default:
        return std::nullopt;  // i= u= e= p= b= t= r= z= k= and unknown types: not needed
    }
  }

  bool in_media() const { return !sdp_.media.empty(); }
  MediaDescription& media() { return sdp_.media.back(); }

  std::optional<SdpError> parse_origin(std::string_view value) {
    if (in_media() || sdp_.origin) return fail(SdpErrc::kMalformed, "misplaced or repeated o=");
    std::string_view rest = value;
    std::string_view user = next_token(rest), id = next_token(rest), version = next_token(rest);
    std::string_view nettype = next_token(rest), addrtype = next_token(rest);
    std::string_view addr = next_token(rest);
    if (addr.empty() || !rest.empty()) return fail(SdpErrc::kMalformed, "o= needs 6 fields");
    auto digits = [](std::string_view s) {
      return !s.empty() && s.size() <= 20 &&
             std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
    };
    if (!digits(id) || !digits(version)) return fail(SdpErrc::kMalformed, "bad o= id/version");
    if (user.size() > kMaxTokenBytes || addr.size() > 255 || nettype.size() > kMaxTokenBytes ||
        addrtype.size() > kMaxTokenBytes)
      return fail(SdpErrc::kMalformed, "o= field too long");
    sdp_.origin =
        Origin{std::string(user), std::string(id), std::string(version), std::string(addr)};
    return std::nullopt;
  }

  std::optional<SdpError> parse_connection(std::string_view value) {
    std::optional<ConnectionAddress>& slot = in_media() ? media().connection : sdp_.connection;
    if (slot) return fail(SdpErrc::kMalformed, "repeated c=");
    std::string_view rest = value;
    std::string_view nettype = next_token(rest), addrtype = next_token(rest);
    std::string_view addr = next_token(rest);
    if (addr.empty() || !rest.empty()) return fail(SdpErrc::kMalformed, "c= needs 3 fields");
    if (nettype != "IN") return fail(SdpErrc::kMalformed, "c= network type is not IN");
    // Multicast suffixes (/ttl, /count) are dropped: we only do unicast media anyway.
    addr = addr.substr(0, addr.find('/'));
    auto parsed = sdp_text::parse_address(addrtype, addr);
    if (!parsed) return fail(SdpErrc::kMalformed, "c= address is not an IP4/IP6 literal");
    slot = std::move(*parsed);
    return std::nullopt;
  }

  static bool is_token_char(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '_' || c == '.' || c == '/' || c == '+' || c == '*';
  }
  static bool is_token(std::string_view s, std::size_t max) {
    return !s.empty() && s.size() <= max && std::all_of(s.begin(), s.end(), is_token_char);
  }

  std::optional<SdpError> parse_media(std::string_view value) {
    if (sdp_.media.size() >= limits_.max_media)
      return fail(SdpErrc::kTooLarge, "too many m= lines");
    std::string_view rest = value;
    std::string_view type = next_token(rest), port_text = next_token(rest);
    std::string_view proto = next_token(rest);
    if (!is_token(type, kMaxTokenBytes) || !is_token(proto, kMaxTokenBytes))
      return fail(SdpErrc::kMalformed, "bad m= media or proto");
    MediaDescription m;
    m.media = std::string(type);
    m.proto = std::string(proto);
    std::string_view count_text;
    bool has_count = false;
    if (auto slash = port_text.find('/'); slash != std::string_view::npos) {
      has_count = true;
      count_text = port_text.substr(slash + 1);
      port_text = port_text.substr(0, slash);
    }
    auto port = parse_int(port_text, 0, 65535);
    if (!port) return fail(SdpErrc::kMalformed, "m= port not in 0-65535");
    m.port = static_cast<int>(*port);
    if (has_count) {
      auto count = parse_int(count_text, 1, 65535);
      if (!count) return fail(SdpErrc::kMalformed, "bad m= port count");
      m.port_count = static_cast<int>(*count);
    }
    bool rtp = m.is_rtp();
    for (std::string_view fmt = next_token(rest); !fmt.empty(); fmt = next_token(rest)) {
      if (m.formats.size() >= limits_.max_formats_per_media)
        return fail(SdpErrc::kTooLarge, "too many m= formats");
      if (rtp) {
        auto pt = parse_int(fmt, 0, 127);
        if (!pt) return fail(SdpErrc::kMalformed, "payload type not in 0-127");
        int value_pt = static_cast<int>(*pt);
        if (std::find(m.payload_types.begin(), m.payload_types.end(), value_pt) !=
            m.payload_types.end())
          return fail(SdpErrc::kMalformed, "repeated payload type");
        m.payload_types.push_back(value_pt);
      } else if (!is_token(fmt, kMaxTokenBytes)) {
        return fail(SdpErrc::kMalformed, "bad m= format");
      }
      m.formats.emplace_back(fmt);
    }
    if (m.formats.empty()) return fail(SdpErrc::kMalformed, "m= without formats");
    sdp_.media.push_back(std::move(m));
    return std::nullopt;
  }

  std::optional<SdpError> parse_attribute(std::string_view value) {
    std::size_t colon = value.find(':');
    std::string_view name = value.substr(0, colon);
    std::string_view arg =
        colon == std::string_view::npos ? std::string_view{} : value.substr(colon + 1);
    std::optional<MediaDirection>& direction = in_media() ? media().direction : sdp_.direction;
    if (name == "sendrecv") {
      direction = MediaDirection::kSendRecv;
    } else if (name == "sendonly") {
      direction = MediaDirection::kSendOnly;
    } else if (name == "recvonly") {
      direction = MediaDirection::kRecvOnly;
    } else if (name == "inactive") {
      direction = MediaDirection::kInactive;
    } else if (!in_media()) {
      return std::nullopt;  // session-level rtpmap/ptime/...: undefined by the RFC, ignored
    } else if (name == "rtpmap") {
      return parse_rtpmap(arg);
    } else if (name == "fmtp") {
      return parse_fmtp(arg);
    } else if (name == "ptime") {
      return parse_ptime(arg);
    } else if (name == "crypto") {
      parse_crypto_line(arg);
    }
    return std::nullopt;
  }

  // The payload type of an rtpmap/fmtp: must be 0..127; nullopt result means "not for us".
  std::optional<SdpError> read_pt(std::string_view& rest, int& pt, bool& listed) {
    auto parsed = parse_int(next_token(rest), 0, 127);
    if (!parsed) return fail(SdpErrc::kMalformed, "attribute payload type not in 0-127");
    pt = static_cast<int>(*parsed);
    const auto& pts = media().payload_types;
    listed = std::find(pts.begin(), pts.end(), pt) != pts.end();
    return std::nullopt;
  }

  std::optional<SdpError> parse_rtpmap(std::string_view arg) {
    if (!media().is_rtp()) return std::nullopt;
    std::string_view rest = arg;
    int pt = 0;
    bool listed = false;
    if (auto err = read_pt(rest, pt, listed)) return err;
    std::string_view spec = next_token(rest);
    if (!rest.empty()) return fail(SdpErrc::kMalformed, "bad a=rtpmap");
    RtpMap map;
    map.payload_type = pt;
    std::size_t slash = spec.find('/');
    if (slash == std::string_view::npos) return fail(SdpErrc::kMalformed, "a=rtpmap needs a rate");
    std::string_view name = spec.substr(0, slash);
    std::string_view rate_part = spec.substr(slash + 1);
    std::string_view channels_part;
    if (auto slash2 = rate_part.find('/'); slash2 != std::string_view::npos) {
      channels_part = rate_part.substr(slash2 + 1);
      rate_part = rate_part.substr(0, slash2);
      auto ch = parse_int(channels_part, 1, 8);
      if (!ch) return fail(SdpErrc::kMalformed, "a=rtpmap channels not in 1-8");
      map.channels = static_cast<int>(*ch);
    }
    if (!is_token(name, kMaxEncodingBytes)) return fail(SdpErrc::kMalformed, "bad encoding name");
    auto rate = parse_int(rate_part, 1, 1000000);
    if (!rate) return fail(SdpErrc::kMalformed, "a=rtpmap rate not in 1-1000000");
    map.encoding = std::string(name);
    map.clock_rate = static_cast<int>(*rate);
    if (!listed) return std::nullopt;  // RFC 8866 6.6: ignore maps for unlisted formats
    if (media().find_rtpmap(pt)) return fail(SdpErrc::kMalformed, "repeated a=rtpmap");
    media().rtpmaps.push_back(std::move(map));
    return std::nullopt;
  }

  std::optional<SdpError> parse_fmtp(std::string_view arg) {
    if (!media().is_rtp()) return std::nullopt;
    std::string_view rest = arg;
    int pt = 0;
    bool listed = false;
    if (auto err = read_pt(rest, pt, listed)) return err;
    if (!listed || media().find_fmtp(pt)) return std::nullopt;  // first one wins
    std::size_t start = rest.find_first_not_of(' ');
    rest = start == std::string_view::npos ? std::string_view{} : rest.substr(start);
    media().fmtps.push_back(Fmtp{pt, std::string(rest)});
    return std::nullopt;
  }

  // Never an error for the whole SDP: an attribute we cannot use is skipped (and counted),
  // so an offer with one good key among odd ones still works.
  void parse_crypto_line(std::string_view arg) {
    MediaDescription& m = media();
    if (!m.is_rtp()) return;
    CryptoParseResult r = parse_crypto(arg);
    const bool duplicate = r.status == CryptoParse::kOk &&
                           std::any_of(m.crypto.begin(), m.crypto.end(),
                                       [&](const auto& c) { return c.tag == r.attribute.tag; });
    if (r.status != CryptoParse::kOk || duplicate ||
        m.crypto.size() >= limits_.max_crypto_per_media) {
      if (m.crypto_unusable < 1000) ++m.crypto_unusable;
      return;
    }
    m.crypto.push_back(r.attribute);
  }

  std::optional<SdpError> parse_ptime(std::string_view arg) {
    // Some stacks write "20.0"; the fraction (digits only) is dropped.
    std::size_t dot = arg.find('.');
    std::string_view whole = arg.substr(0, dot);
    std::string_view fraction = dot == std::string_view::npos ? "0" : arg.substr(dot + 1);
    auto ms = parse_int(whole, 1, 1000);
    if (!ms || !parse_int(fraction.substr(0, 3), 0, 999) || fraction.size() > 3)
      return fail(SdpErrc::kMalformed, "a=ptime not in 1-1000");
    media().ptime_ms = static_cast<int>(*ms);
    return std::nullopt;
  }

  const SdpLimits& limits_;
  SessionDescription sdp_;
  std::size_t line_no_ = 0;
  bool seen_version_ = false;
};

}  // namespace

SdpResult<SessionDescription> parse_sdp(std::string_view body, const SdpLimits& limits) {
  return Parser(limits).run(body);
}

}  // namespace atende::sip
