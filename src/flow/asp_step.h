// `type: asp` (docs/flows.md, docs/asp.md): bridge the caller to an ASP agent at a ws:// URL.
// It is shorthand, expanded when the file is read into the two steps it stands for, so the
// flow engine has nothing new to run and knows nothing of the protocol:
//
//   talk: {type: asp, url: "ws://10.0.0.7:8080/asp?to=ivr", next: after, on_failure: sorry}
// becomes
//   talk:        {type: dial, to: <url>, into: talk, next: talk-bridge, on_failure: sorry}
//   talk-bridge: {type: bridge, next: after, on_failure: sorry}
//
// `prompt` and `ring_timeout` go to the dial, `into` too (default: the step's name).
#pragma once
#include <yaml-cpp/yaml.h>

namespace atende::flow {

// Rewrites root["steps"] in place. Throws YAML::ParserException (at the step) for an asp step
// without a ws:// or wss:// `url`, with an unknown key, or whose "-bridge" name is taken.
void expand_asp_steps(YAML::Node& root);

}  // namespace atende::flow
