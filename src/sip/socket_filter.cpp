#include "sip/socket_filter.h"

#include <dirent.h>
#include <linux/if_ether.h>
#include <linux/sock_diag.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

namespace atende::sip {
namespace {

constexpr uint32_t kAccept = 0xffffffffu;
constexpr uint32_t kDrop = 0;

sock_filter stmt(uint16_t code, uint32_t k) { return BPF_STMT(code, k); }
sock_filter jump(uint16_t code, uint32_t k, uint8_t jt, uint8_t jf) {
  return BPF_JUMP(code, k, jt, jf);
}

uint32_t word(const IpAddress& a, int i) {
  const auto& b = a.bytes;
  return (uint32_t{b[4 * i]} << 24) | (uint32_t{b[4 * i + 1]} << 16) |
         (uint32_t{b[4 * i + 2]} << 8) | uint32_t{b[4 * i + 3]};
}

uint32_t word_mask(int prefix, int i) {
  const int bits = prefix - 32 * i;
  if (bits >= 32) return 0xffffffffu;
  if (bits <= 0) return 0;
  return ~((uint32_t{1} << (32 - bits)) - 1);
}

// Matches the address held in M[0..words-1] against `c`; on a match returns `verdict`.
// Each word comparison that fails jumps past the rest of this entry.
void emit_cidr(std::vector<sock_filter>& p, const Cidr& c, uint32_t verdict) {
  const int words = c.base.v6 ? 4 : 1;
  struct Step {
    int i;
    uint32_t mask;
  };
  std::vector<Step> steps;
  for (int i = 0; i < words; ++i) {
    const uint32_t m = word_mask(c.prefix, i);
    if (m != 0) steps.push_back({i, m});
  }
  // Length of the entry: per step ld (+ and) + jeq, then ret.
  size_t len = 1;
  for (const auto& s : steps) len += s.mask == 0xffffffffu ? 2 : 3;
  size_t pos = 0;
  for (const auto& s : steps) {
    p.push_back(stmt(BPF_LD | BPF_MEM, static_cast<uint32_t>(s.i)));
    ++pos;
    if (s.mask != 0xffffffffu) {
      p.push_back(stmt(BPF_ALU | BPF_AND | BPF_K, s.mask));
      ++pos;
    }
    ++pos;                          // the jeq itself
    const size_t skip = len - pos;  // to the instruction after this entry's ret
    p.push_back(
        jump(BPF_JMP | BPF_JEQ | BPF_K, word(c.base, s.i) & s.mask, 0, static_cast<uint8_t>(skip)));
  }
  p.push_back(stmt(BPF_RET | BPF_K, verdict));
}

// The block for one family; the address is loaded into M[0..].
std::vector<sock_filter> family_block(const FilterRules& r, bool v6, size_t max_blocked,
                                      size_t* used) {
  std::vector<sock_filter> p;
  const int words = v6 ? 4 : 1;
  const uint32_t src_off = v6 ? 8 : 12;
  for (int i = 0; i < words; ++i) {
    p.push_back(
        stmt(BPF_LD | BPF_W | BPF_ABS, static_cast<uint32_t>(SKF_NET_OFF) + src_off + 4 * i));
    p.push_back(stmt(BPF_ST, static_cast<uint32_t>(i)));
  }
  size_t n = 0;
  for (const auto& a : r.blocked) {
    if (a.v6 != v6) continue;
    if (n >= max_blocked) break;
    emit_cidr(p, Cidr{a, a.bits()}, kDrop);
    ++n;
  }
  if (used) *used = n;
  if (r.filter_lists) {
    for (const auto& c : r.deny)
      if (c.base.v6 == v6) emit_cidr(p, c, kDrop);
    for (const auto& c : r.allow)
      if (c.base.v6 == v6) emit_cidr(p, c, kAccept);
    p.push_back(stmt(BPF_RET | BPF_K, kDrop));
  } else {
    p.push_back(stmt(BPF_RET | BPF_K, kAccept));
  }
  return p;
}

std::vector<sock_filter> assemble(const FilterRules& r, size_t max4, size_t max6, size_t* n4,
                                  size_t* n6) {
  auto b4 = family_block(r, false, max4, n4);
  auto b6 = family_block(r, true, max6, n6);
  std::vector<sock_filter> p;
  p.push_back(stmt(BPF_LD | BPF_H | BPF_ABS, static_cast<uint32_t>(SKF_AD_OFF + SKF_AD_PROTOCOL)));
  p.push_back(jump(BPF_JMP | BPF_JEQ | BPF_K, ETH_P_IPV6, 0, 1));
  p.push_back(stmt(BPF_JMP | BPF_JA, static_cast<uint32_t>(2 + b4.size())));
  p.push_back(jump(BPF_JMP | BPF_JEQ | BPF_K, ETH_P_IP, 1, 0));
  p.push_back(stmt(BPF_RET | BPF_K, kAccept));  // neither: not ours to judge
  p.insert(p.end(), b4.begin(), b4.end());
  p.insert(p.end(), b6.begin(), b6.end());
  return p;
}

}  // namespace

std::vector<sock_filter> build_socket_filter(const FilterRules& r, size_t* left_out) {
  size_t total4 = 0, total6 = 0;
  for (const auto& a : r.blocked) (a.v6 ? total6 : total4)++;
  size_t max4 = total4, max6 = total6, n4 = 0, n6 = 0;
  auto p = assemble(r, max4, max6, &n4, &n6);
  while (p.size() > BPF_MAXINSNS && (max4 > 0 || max6 > 0)) {
    // Too long: keep fewer blocked addresses (the list is most recent first). A blocked
    // IPv4 address takes 3 instructions, an IPv6 one 9.
    const size_t over = p.size() - BPF_MAXINSNS;
    if (n4 > 0)
      max4 = n4 > (over + 2) / 3 ? n4 - (over + 2) / 3 : 0;
    else
      max6 = n6 > (over + 8) / 9 ? n6 - (over + 8) / 9 : 0;
    p = assemble(r, max4, max6, &n4, &n6);
  }
  if (left_out) *left_out = total4 + total6 - n4 - n6;
  if (p.size() > BPF_MAXINSNS) p.clear();  // the lists alone are too long: no filter
  return p;
}

std::vector<int> find_listening_sockets(int port) {
  std::vector<int> out;
  DIR* dir = opendir("/proc/self/fd");
  if (!dir) return out;
  while (dirent* e = readdir(dir)) {
    char* end = nullptr;
    const long fd = std::strtol(e->d_name, &end, 10);
    if (!end || *end || fd < 0 || fd == dirfd(dir)) continue;
    struct stat st;
    if (fstat(static_cast<int>(fd), &st) != 0 || !S_ISSOCK(st.st_mode)) continue;
    sockaddr_storage ss{};
    socklen_t len = sizeof ss;
    if (getsockname(static_cast<int>(fd), reinterpret_cast<sockaddr*>(&ss), &len) != 0) continue;
    int p = -1;
    if (ss.ss_family == AF_INET) p = ntohs(reinterpret_cast<sockaddr_in*>(&ss)->sin_port);
    if (ss.ss_family == AF_INET6) p = ntohs(reinterpret_cast<sockaddr_in6*>(&ss)->sin6_port);
    if (p != port) continue;
    int type = 0;
    socklen_t tl = sizeof type;
    if (getsockopt(static_cast<int>(fd), SOL_SOCKET, SO_TYPE, &type, &tl) != 0) continue;
    if (type == SOCK_STREAM) {
      int listening = 0;
      socklen_t ll = sizeof listening;
      if (getsockopt(static_cast<int>(fd), SOL_SOCKET, SO_ACCEPTCONN, &listening, &ll) != 0 ||
          !listening)
        continue;
    } else if (type != SOCK_DGRAM) {
      continue;
    }
    out.push_back(static_cast<int>(fd));
  }
  closedir(dir);
  return out;
}

bool attach_socket_filter(int fd, const std::vector<sock_filter>& program, std::string* error) {
  if (program.empty() || program.size() > BPF_MAXINSNS) {
    if (error) *error = "filter program too long";
    return false;
  }
  sock_fprog prog{static_cast<unsigned short>(program.size()),
                  const_cast<sock_filter*>(program.data())};
  if (setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, &prog, sizeof prog) != 0) {
    if (error) *error = std::strerror(errno);
    return false;
  }
  return true;
}

void detach_socket_filter(int fd) {
  int dummy = 0;
  setsockopt(fd, SOL_SOCKET, SO_DETACH_FILTER, &dummy, sizeof dummy);
}

uint64_t socket_drops(int fd) {
  uint32_t mem[SK_MEMINFO_VARS] = {};
  socklen_t len = sizeof mem;
  if (getsockopt(fd, SOL_SOCKET, SO_MEMINFO, mem, &len) != 0 ||
      len < sizeof(uint32_t) * (SK_MEMINFO_DROPS + 1))
    return 0;
  return mem[SK_MEMINFO_DROPS];
}

}  // namespace atende::sip
