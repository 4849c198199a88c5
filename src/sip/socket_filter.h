// Refusing before sofia reads a byte (Linux): a classic BPF socket filter on the SIP
// sockets drops datagrams (and TCP SYNs) from denied sources and from sources blocked for
// going over a rate limit. The kernel then does the work a flood would cost us: sofia never
// parses, never makes a transaction, never answers. Rebuilt and swapped in (one
// setsockopt) whenever the rules or the blocked list change.
//
// The filter only drops what is sure to be refused anyway; everything else still goes
// through AccessControl in the SIP thread, which stays the reference (other systems, a
// socket the filter could not be attached to, TCP connections accepted before a block).
#pragma once
#include <linux/filter.h>

#include <cstdint>
#include <string>
#include <vector>

#include "core/cidr.h"

namespace atende::sip {

struct FilterRules {
  bool filter_lists = false;       // apply allow/deny (only when denied sources are dropped)
  std::vector<Cidr> allow;         // with filter_lists: only these pass ...
  std::vector<Cidr> deny;          // ... unless they are here
  std::vector<IpAddress> blocked;  // dropped whatever the lists say
};

// The program, at most BPF_MAXINSNS instructions: blocked addresses that do not fit are left
// out (AccessControl still refuses them). `left_out` says how many.
std::vector<sock_filter> build_socket_filter(const FilterRules& rules, size_t* left_out = nullptr);

// Sockets of this process bound to `port`: UDP ones and listening TCP ones (/proc/self/fd).
std::vector<int> find_listening_sockets(int port);

// Attaches (replaces) the filter; false with `error` set when the kernel refuses it.
bool attach_socket_filter(int fd, const std::vector<sock_filter>& program, std::string* error);
void detach_socket_filter(int fd);

// Packets the kernel dropped on this socket (filter drops and full receive buffers),
// SO_MEMINFO's SK_MEMINFO_DROPS; 0 when unknown.
uint64_t socket_drops(int fd);

}  // namespace atende::sip
