#include "flow/flow_loader.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <charconv>
#include <fstream>
#include <map>
#include <optional>
#include <span>

#include "flow/asp_step.h"
#include "flow/clock_text.h"
#include "flow/duration.h"
#include "flow/menu_speech.h"
#include "flow/spoken_value.h"
#include "flow/template_text.h"

namespace atende::flow {

std::string LoadError::str() const {
  std::string out = file;
  if (line > 0) out += ":" + std::to_string(line) + ":" + std::to_string(column);
  return out + ": " + message;
}

std::string LoadResult::error_text() const {
  std::string out;
  for (const LoadError& e : errors) out += e.str() + "\n";
  return out;
}

namespace {

using Limits = LoadLimits;
constexpr Millis kMaxCaptureLength{10000};

// A key/value pair of a YAML map, with the key's position: a null value (`key:` or
// `key: #`) has no position of its own, so errors about values fall back to the key's.
struct Entry {
  std::string key;
  YAML::Node key_node;
  YAML::Node value;
};

class Parser {
 public:
  explicit Parser(std::string file) : file_(std::move(file)) {}

  std::vector<LoadError>& errors() { return errors_; }

  void error(const YAML::Mark& mark, std::string message) {
    if (errors_.size() >= Limits::kMaxErrors) return;
    LoadError e{file_, 0, 0, std::move(message)};
    if (!mark.is_null()) {
      e.line = mark.line + 1;
      e.column = mark.column + 1;
    }
    errors_.push_back(std::move(e));
  }
  void error(const Entry& entry, const std::string& message) {
    error(mark_of(entry), entry.key + ": " + message);
  }

  static YAML::Mark mark_of(const Entry& entry) {
    // An empty value's mark points at whatever token follows it, often the next line.
    if (!entry.value || entry.value.IsNull()) return entry.key_node.Mark();
    YAML::Mark m = entry.value.Mark();
    return m.is_null() ? entry.key_node.Mark() : m;
  }

  // The entries of a map, rejecting duplicate keys and keys not in `allowed` (typos).
  std::vector<Entry> entries(const YAML::Node& map, std::span<const std::string_view> allowed,
                             std::string_view where) {
    std::vector<Entry> out;
    for (auto it = map.begin(); it != map.end(); ++it) {
      if (!it->first.IsScalar()) {
        error(it->first.Mark(), std::string(where) + ": keys must be plain names");
        continue;
      }
      Entry e{it->first.Scalar(), it->first, it->second};
      if (std::find(allowed.begin(), allowed.end(), e.key) == allowed.end()) {
        std::string list;
        for (std::string_view a : allowed) list += (list.empty() ? "" : ", ") + std::string(a);
        error(e.key_node.Mark(), "unknown key '" + clip(e.key) + "' in " + std::string(where) +
                                     " (expected one of: " + list + ")");
        continue;
      }
      bool duplicate =
          std::any_of(out.begin(), out.end(), [&](const Entry& seen) { return seen.key == e.key; });
      if (duplicate) {
        error(e.key_node.Mark(), "duplicate key '" + e.key + "' in " + std::string(where));
        continue;
      }
      out.push_back(std::move(e));
    }
    return out;
  }

  // true or false, else an error naming both.
  std::optional<bool> boolean(const Entry& e) {
    auto v = scalar(e, 8);
    if (!v) return std::nullopt;
    if (*v == "true" || *v == "false") return *v == "true";
    error(e, "expected true or false");
    return std::nullopt;
  }

  std::optional<std::string> scalar(const Entry& e, size_t max_chars = Limits::kMaxTextChars) {
    if (!e.value.IsScalar()) {
      error(e, "expected a single value");
      return std::nullopt;
    }
    const std::string& s = e.value.Scalar();
    if (s.size() > max_chars) {
      error(e, "too long (" + std::to_string(s.size()) + " characters, limit " +
                   std::to_string(max_chars) + ")");
      return std::nullopt;
    }
    return s;
  }

  std::optional<std::string> text(const Entry& e) {
    auto s = scalar(e);
    if (s && s->empty()) {
      error(e, "must not be empty");
      return std::nullopt;
    }
    // Texts go to the speech engine as UTF-8; reject anything else here, with a position.
    if (s && !valid_utf8(*s)) {
      error(e, "not valid UTF-8 text");
      return std::nullopt;
    }
    return s;
  }

  // Well-formed UTF-8 without control characters (tab and newline aside).
  static bool valid_utf8(std::string_view s) {
    size_t i = 0;
    while (i < s.size()) {
      unsigned char c = static_cast<unsigned char>(s[i]);
      int more;
      if (c < 0x80) {
        if ((c < 0x20 && c != '\t' && c != '\n') || c == 0x7F) return false;
        more = 0;
      } else if (c >= 0xC2 && c <= 0xDF) {
        more = 1;
      } else if (c >= 0xE0 && c <= 0xEF) {
        more = 2;
      } else if (c >= 0xF0 && c <= 0xF4) {
        more = 3;
      } else {
        return false;  // continuation byte first, overlong lead, or beyond U+10FFFF
      }
      if (i + more >= s.size() && more > 0) return false;
      for (int k = 1; k <= more; ++k) {
        if ((static_cast<unsigned char>(s[i + k]) & 0xC0) != 0x80) return false;
      }
      i += 1 + more;
    }
    return true;
  }

  std::optional<std::string> name(const Entry& e, std::string_view extra_chars = "") {
    auto s = scalar(e, Limits::kMaxNameChars);
    if (s && !valid_name(*s, extra_chars)) {
      error(e, "'" + *s + "' is not a valid name (use a-z, 0-9, _ and -)");
      return std::nullopt;
    }
    return s;
  }

  std::optional<int> integer(const Entry& e, int min, int max) {
    auto s = scalar(e, 12);
    if (!s) return std::nullopt;
    int v = 0;
    auto [end, ec] = std::from_chars(s->data(), s->data() + s->size(), v);
    if (ec != std::errc() || end != s->data() + s->size() || v < min || v > max) {
      error(e, "expected a whole number from " + std::to_string(min) + " to " +
                   std::to_string(max) + ", got '" + *s + "'");
      return std::nullopt;
    }
    return v;
  }

  std::optional<Millis> duration(const Entry& e) {
    auto s = scalar(e, 16);
    if (!s) return std::nullopt;
    auto d = parse_duration(*s);
    if (!d || d->count() == 0) {
      error(e, "bad duration '" + *s + "' (write e.g. 500ms, 5s or 2m; at most 1 hour)");
      return std::nullopt;
    }
    return d;
  }

  // A DTMF digit; `allow_none` also accepts "none" (no digit) and returns '\0'.
  std::optional<char> digit(const Entry& e, bool allow_none) {
    if (e.value.IsNull()) {
      error(e, "missing digit (in YAML, quote '#' and '*': \"#\")");
      return std::nullopt;
    }
    auto s = scalar(e, 8);
    if (!s) return std::nullopt;
    if (allow_none && *s == "none") return '\0';
    if (s->size() != 1 || !is_dtmf_digit((*s)[0])) {
      error(e, "'" + *s + "' is not a DTMF digit (one of 0-9 * # A-D)");
      return std::nullopt;
    }
    return (*s)[0];
  }

  static bool valid_name(std::string_view s, std::string_view extra_chars) {
    if (s.empty()) return false;
    return std::all_of(s.begin(), s.end(), [&](char c) {
      return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-' ||
             extra_chars.find(c) != std::string_view::npos;
    });
  }

  static std::string clip(const std::string& s) {
    return s.size() > 40 ? s.substr(0, 40) + "..." : s;
  }

 private:
  std::string file_;
  std::vector<LoadError> errors_;
};

constexpr std::string_view kTopKeys[] = {"name",        "aliases",      "voice",      "start",
                                         "steps",       "max_duration", "on_timeout", "inputs",
                                         "rtp_timeout", "recording",    "speculative"};
constexpr std::string_view kVoiceKeys[] = {"name", "rate"};

std::span<const std::string_view> keys_for(StepType type) {
  static constexpr std::string_view say[] = {"type", "text", "next"};
  static constexpr std::string_view menu[] = {"type",     "prompt",  "timeout", "retries",
                                              "no_input", "invalid", "choices", "on_failure"};
  static constexpr std::string_view collect[] = {
      "type",      "prompt",   "timeout", "inter_digit_timeout", "min_digits", "max_digits",
      "retries",   "no_input", "invalid", "terminator",          "into",       "next",
      "on_failure"};
  static constexpr std::string_view echo[] = {"type", "prompt", "stop_digit", "max_duration",
                                              "next"};
  static constexpr std::string_view hangup[] = {"type", "text"};
  static constexpr std::string_view ask[] = {
      "type",    "prompt",   "into",       "match",      "values",     "dtmf",
      "table",   "column",   "min_digits", "max_digits", "timeout",    "inter_digit_timeout",
      "retries", "no_input", "invalid",    "next",       "on_failure", "expect"};
  static constexpr std::string_view confirm[] = {"type",    "prompt",   "timeout",
                                                 "retries", "no_input", "invalid",
                                                 "on_yes",  "on_no",    "on_failure"};
  static constexpr std::string_view route[] = {"type", "routes", "next"};
  static constexpr std::string_view lookup[] = {"type", "table", "column", "value",     "fuzzy",
                                                "also", "into",  "next",   "on_missing"};
  static constexpr std::string_view record[] = {"type", "event", "fields", "next"};
  static constexpr std::string_view dial[] = {
      "type",   "to",   "trunk", "caller_id", "ring_timeout", "tries",      "flow",
      "prompt", "into", "next",  "on_busy",   "on_no_answer", "on_failure", "early_media"};
  static constexpr std::string_view bridge[] = {"type", "prompt", "next", "on_failure"};
  static constexpr std::string_view transfer[] = {"type", "to", "prompt", "on_failure"};
  static constexpr std::string_view capture[] = {"type",       "prompt",  "into",
                                                 "max_length", "timeout", "retries",
                                                 "no_input",   "next",    "on_failure"};
  switch (type) {
    case StepType::kCapture:
      return capture;
    case StepType::kDial:
      return dial;
    case StepType::kBridge:
      return bridge;
    case StepType::kTransfer:
      return transfer;
    case StepType::kAsk:
      return ask;
    case StepType::kConfirm:
      return confirm;
    case StepType::kRoute:
      return route;
    case StepType::kLookup:
      return lookup;
    case StepType::kRecord:
      return record;
    case StepType::kSay:
    case StepType::kSayTime:
      return say;
    case StepType::kMenu:
      return menu;
    case StepType::kCollect:
      return collect;
    case StepType::kEcho:
      return echo;
    case StepType::kHangup:
      return hangup;
  }
  return say;
}

std::optional<StepType> parse_step_type(std::string_view s) {
  for (StepType t : {StepType::kSay, StepType::kMenu, StepType::kCollect, StepType::kEcho,
                     StepType::kSayTime, StepType::kHangup, StepType::kAsk, StepType::kConfirm,
                     StepType::kRoute, StepType::kLookup, StepType::kRecord, StepType::kDial,
                     StepType::kBridge, StepType::kTransfer, StepType::kCapture}) {
    if (s == step_type_name(t)) return t;
  }
  return std::nullopt;
}

class FlowBuilder {
 public:
  FlowBuilder(Parser& p, FlowSpec& flow) : p_(p), flow_(flow) {}

  void build(const YAML::Node& root) {
    if (!root.IsMap()) {
      p_.error(root.Mark(), "a flow file must be a map with name, voice, start and steps");
      return;
    }
    std::optional<Entry> start, steps, on_timeout;
    for (Entry& e : p_.entries(root, kTopKeys, "the flow")) {
      if (e.key == "name") {
        if (auto v = p_.name(e)) flow_.name = *v;
      } else if (e.key == "aliases") {
        aliases(e);
      } else if (e.key == "voice") {
        voice(e);
      } else if (e.key == "start") {
        start = e;
      } else if (e.key == "steps") {
        steps = e;
      } else if (e.key == "max_duration") {
        if (auto d = p_.duration(e)) flow_.max_duration = *d;
      } else if (e.key == "on_timeout") {
        on_timeout = e;
      } else if (e.key == "rtp_timeout") {
        // "none": never; else a duration. Absent: the server's rtp_timeout_seconds.
        if (e.value.IsScalar() && e.value.Scalar() == "none") {
          flow_.rtp_timeout = Millis{0};
        } else if (auto d = p_.duration(e)) {
          flow_.rtp_timeout = *d;
        }
      } else if (e.key == "inputs") {
        inputs(e);
      } else if (e.key == "speculative") {
        if (auto v = p_.boolean(e)) flow_.speculative = *v;
      } else if (e.key == "recording") {
        try {
          flow_.recording = parse_recording_switches(e.value);
        } catch (const std::invalid_argument& ex) {
          p_.error(e.value.Mark(), ex.what());
        }
      }
    }
    if (!steps) {
      p_.error(root.Mark(), "missing 'steps'");
      return;
    }
    collect_step_ids(*steps);
    for (size_t i = 0; i < step_nodes_.size(); ++i) step(i);
    check_variables();
    if (!start) {
      p_.error(root.Mark(), "missing 'start' (the first step's name)");
      return;
    }
    flow_.start = target(*start);
    if (on_timeout) flow_.on_timeout = target(*on_timeout);
    if (flow_.start != kNoStep && p_.errors().empty()) check_reachable();
  }

 private:
  void aliases(const Entry& e) {
    if (!e.value.IsSequence()) return p_.error(e, "expected a list, e.g. [\"*43\", \"43\"]");
    if (e.value.size() > Limits::kMaxAliases) return p_.error(e, "too many aliases");
    for (const YAML::Node& item : e.value) {
      Entry one{e.key, e.key_node, item};
      if (auto v = p_.name(one, "*#+.")) flow_.aliases.push_back(*v);
    }
  }

  // inputs: [apartment, visiting]: slots given by whoever starts the flow.
  void inputs(const Entry& e) {
    if (!e.value.IsSequence() || e.value.size() > 64) {
      return p_.error(e, "expected a list of up to 64 slot names, e.g. [apartment, visiting]");
    }
    for (std::size_t i = 0; i < e.value.size(); ++i) {
      Entry one{e.key, e.key_node, e.value[i]};
      if (auto v = p_.name(one)) flow_.inputs.push_back(*v);
    }
  }

  void voice(const Entry& e) {
    if (!e.value.IsMap()) return p_.error(e, "expected {name: en-us, rate: 165}");
    for (Entry& v : p_.entries(e.value, kVoiceKeys, "voice")) {
      if (v.key == "name") {
        if (auto n = p_.name(v, "+")) flow_.voice.name = *n;
      } else if (auto r = p_.integer(v, 80, 450)) {
        flow_.voice.rate_wpm = *r;
      }
    }
  }

  void collect_step_ids(const Entry& steps) {
    if (!steps.value.IsMap() || steps.value.size() == 0) {
      return p_.error(steps, "expected a map of step name -> step");
    }
    for (auto it = steps.value.begin(); it != steps.value.end(); ++it) {
      if (step_nodes_.size() >= Limits::kMaxSteps) {
        return p_.error(it->first.Mark(),
                        "too many steps (limit " + std::to_string(Limits::kMaxSteps) + ")");
      }
      Entry e{it->first.IsScalar() ? it->first.Scalar() : "?", it->first, it->second};
      if (!it->first.IsScalar() || !Parser::valid_name(e.key, "") ||
          e.key.size() > Limits::kMaxNameChars) {
        p_.error(e.key_node.Mark(),
                 "bad step name '" + Parser::clip(e.key) + "' (use a-z, 0-9, _ and -)");
        continue;
      }
      if (index_.count(e.key)) {
        p_.error(e.key_node.Mark(), "duplicate step '" + e.key + "'");
        continue;
      }
      index_[e.key] = static_cast<StepIndex>(step_nodes_.size());
      step_nodes_.push_back(std::move(e));
      StepSpec s;
      s.id = step_nodes_.back().key;
      s.line = step_nodes_.back().key_node.Mark().line + 1;
      s.table_column = step_nodes_.back().key_node.Mark().column + 1;
      flow_.steps.push_back(std::move(s));
    }
  }

  // A step name used as a target; kNoStep (and an error) if it names no step.
  StepIndex target(const Entry& e) {
    auto n = p_.scalar(e, Limits::kMaxNameChars);
    if (!n) return kNoStep;
    auto it = index_.find(*n);
    if (it == index_.end()) {
      p_.error(e, "no step named '" + *n + "'");
      return kNoStep;
    }
    return it->second;
  }

  void step(size_t i) {
    const Entry& node = step_nodes_[i];
    StepSpec& s = flow_.steps[i];
    std::string where = "step '" + s.id + "'";
    if (!node.value.IsMap()) return p_.error(node, "a step must be a map with a 'type'");
    const YAML::Node type_node = node.value["type"];
    if (!type_node) return p_.error(node.key_node.Mark(), where + ": missing 'type'");
    Entry type_entry{"type", node.key_node, type_node};
    auto type_text = p_.scalar(type_entry, Limits::kMaxNameChars);
    if (!type_text) return;
    if (*type_text == "agent") {
      return p_.error(type_entry, "step type 'agent' is not available in this version");
    }
    auto type = parse_step_type(*type_text);
    if (!type) {
      return p_.error(type_entry,
                      "unknown step type '" + *type_text +
                          "' (say, menu, collect, echo, say_time, hangup, ask, confirm, "
                          "route, lookup, record, dial, bridge, transfer, capture)");
    }
    s.type = *type;
    if (s.type == StepType::kCollect || s.type == StepType::kAsk || s.type == StepType::kLookup ||
        s.type == StepType::kDial || s.type == StepType::kCapture) {
      s.into = s.id;
    }
    // Handled after the loop (values before dtmf; column after table), from fresh nodes:
    // entries() hands out views that do not outlive the loop.
    bool values_entry = false, dtmf_entry = false, column_entry = false, also_entry = false;
    bool has_to = false;
    bool has_table = false, has_match = false;
    bool has_text = false, has_next = false, has_choices = false;
    for (Entry& e : p_.entries(node.value, keys_for(s.type), where)) {
      if (e.key == "type") continue;
      if (e.key == "text" || e.key == "prompt") {
        if (auto v = p_.text(e)) s.text = *v, has_text = true;
      } else if (e.key == "next") {
        s.next = target(e);
        has_next = true;
      } else if (e.key == "on_failure") {
        s.on_failure = target(e);
      } else if (e.key == "timeout") {
        if (auto d = p_.duration(e)) s.timeout = *d;
      } else if (e.key == "inter_digit_timeout") {
        if (auto d = p_.duration(e)) s.inter_digit_timeout = *d;
      } else if (e.key == "max_duration") {
        if (auto d = p_.duration(e)) s.max_duration = *d;
      } else if (e.key == "max_length") {
        if (auto d = p_.duration(e)) {
          if (*d > kMaxCaptureLength) {
            p_.error(e, "at most 10s (a recording is played back inside a sentence)");
          } else {
            s.max_length = *d;
          }
        }
      } else if (e.key == "retries") {
        if (auto v = p_.integer(e, 0, 10)) s.retries = *v;
      } else if (e.key == "min_digits") {
        if (auto v = p_.integer(e, 1, Limits::kMaxCollectDigits)) s.min_digits = *v;
      } else if (e.key == "max_digits") {
        if (auto v = p_.integer(e, 1, Limits::kMaxCollectDigits)) s.max_digits = *v;
      } else if (e.key == "no_input") {
        if (auto v = p_.text(e)) s.no_input = *v;
      } else if (e.key == "invalid") {
        if (auto v = p_.text(e)) s.invalid = *v;
      } else if (e.key == "terminator") {
        if (auto d = p_.digit(e, true)) s.terminator = *d;
      } else if (e.key == "stop_digit") {
        if (auto d = p_.digit(e, true)) s.stop_digit = *d;
      } else if (e.key == "into") {
        if (auto v = p_.name(e)) s.into = *v;
      } else if (e.key == "choices") {
        has_choices = choices(e, s);
      } else if (e.key == "match") {
        has_match = true;
        if (auto v = p_.scalar(e, 16)) {
          if (*v == "choices")
            s.match = MatchKind::kChoices;
          else if (*v == "digits")
            s.match = MatchKind::kDigits;
          else if (*v == "list")
            s.match = MatchKind::kList;
          else if (*v == "date")
            s.match = MatchKind::kDate;
          else
            p_.error(
                e, "'" + Parser::clip(*v) + "' is not a match kind (choices, digits, list, date)");
        }
      } else if (e.key == "values") {
        values_entry = true;
      } else if (e.key == "dtmf") {
        dtmf_entry = true;
      } else if (e.key == "table") {
        has_table = true;
        s.table = table(e);
      } else if (e.key == "column") {
        column_entry = true;
      } else if (e.key == "fuzzy") {
        if (auto v = p_.boolean(e)) s.fuzzy = *v;
      } else if (e.key == "expect") {
        if (auto v = p_.text(e)) s.expect = *v;
      } else if (e.key == "value") {
        if (auto v = p_.text(e)) s.text = *v, has_text = true;
      } else if (e.key == "on_yes") {
        s.on_yes = target(e);
      } else if (e.key == "on_no") {
        s.on_no = target(e);
      } else if (e.key == "on_missing") {
        s.on_missing = target(e);
      } else if (e.key == "event") {
        if (auto v = p_.name(e)) s.event = *v;
      } else if (e.key == "fields") {
        fields(e, s);
      } else if (e.key == "routes") {
        routes(e, s);
      } else if (e.key == "also") {
        also_entry = true;
      } else if (e.key == "to") {
        if (auto v = p_.text(e)) s.to = *v, has_to = true;
      } else if (e.key == "trunk") {
        if (auto v = p_.name(e)) s.trunk = *v;
      } else if (e.key == "caller_id") {
        if (auto v = p_.text(e)) s.caller_id = *v;
      } else if (e.key == "ring_timeout") {
        if (auto d = p_.duration(e)) s.ring_timeout = *d;
      } else if (e.key == "tries") {
        if (auto v = p_.integer(e, 1, 5)) s.tries = *v;
      } else if (e.key == "early_media") {
        if (auto v = p_.boolean(e)) s.early_media = *v;
      } else if (e.key == "flow") {
        // Only a name here: the library knows whether such a flow exists at run time.
        if (auto v = p_.name(e)) s.child_flow = *v;
      } else if (e.key == "on_busy") {
        s.on_busy = target(e);
      } else if (e.key == "on_no_answer") {
        s.on_no_answer = target(e);
      }
    }
    const YAML::Mark here = node.key_node.Mark();
    auto fresh = [&](const char* key) { return Entry{key, node.key_node, node.value[key]}; };
    if (values_entry) values(fresh("values"), s);
    if (dtmf_entry) dtmf_keys(fresh("dtmf"), s);
    if (column_entry) {
      Entry ce = fresh("column");
      if (!has_table) {
        p_.error(ce, "needs 'table'");
      } else if (auto c = p_.scalar(ce, Limits::kMaxNameChars); c && s.table >= 0) {
        s.table_column = flow_.tables[s.table].column(*c);
        if (s.table_column < 0) p_.error(ce, "table has no column '" + Parser::clip(*c) + "'");
      }
    }
    if (also_entry) also(fresh("also"), has_table, s);
    if ((s.type == StepType::kDial || s.type == StepType::kTransfer) && !has_to) {
      p_.error(here, where + ": missing 'to' (e.g. \"{resident_extension}\" or \"2001\")");
    }
    bool needs_on_failure =
        s.type == StepType::kDial || s.type == StepType::kBridge || s.type == StepType::kTransfer;
    if (needs_on_failure && s.on_failure == kNoStep && p_.errors().empty()) {
      p_.error(here, where + ": missing 'on_failure'");
    }
    if (s.type == StepType::kAsk) {
      if (!has_match) p_.error(here, where + ": missing 'match' (choices, digits or list)");
      if (s.match == MatchKind::kChoices && s.values.empty()) {
        p_.error(here, where + ": match: choices needs 'values'");
      }
      if (s.match == MatchKind::kList && (s.table < 0 || s.table_column < 0) &&
          p_.errors().empty()) {
        p_.error(here, where + ": match: list needs 'table' and 'column'");
      }
      if (s.match != MatchKind::kChoices && (values_entry || dtmf_entry)) {
        p_.error(here, where + ": 'values' and 'dtmf' are for match: choices");
      }
    }
    if (s.type == StepType::kConfirm && (s.on_yes == kNoStep || s.on_no == kNoStep) &&
        p_.errors().empty()) {
      p_.error(here, where + ": needs 'on_yes' and 'on_no'");
    }
    if (s.type == StepType::kLookup) {
      if (s.table < 0 || s.table_column < 0) {
        if (p_.errors().empty()) p_.error(here, where + ": needs 'table' and 'column'");
      }
      if (!has_text) p_.error(here, where + ": missing 'value' (e.g. \"{apartment}\")");
      if (s.on_missing == kNoStep && p_.errors().empty()) {
        p_.error(here, where + ": missing 'on_missing'");
      }
    }
    if (s.type == StepType::kRecord && s.event.empty()) {
      p_.error(here, where + ": missing 'event'");
    }
    const YAML::Mark at = node.key_node.Mark();
    bool is_prompt = s.type == StepType::kMenu || s.type == StepType::kCollect ||
                     s.type == StepType::kAsk || s.type == StepType::kConfirm ||
                     s.type == StepType::kCapture;
    bool needs_text = s.type == StepType::kSay || s.type == StepType::kSayTime || is_prompt;
    if (needs_text && !has_text) {
      p_.error(at, where + ": missing '" + (is_prompt ? "prompt" : "text") + "'");
    }
    bool needs_next = s.type != StepType::kMenu && s.type != StepType::kHangup &&
                      s.type != StepType::kConfirm && s.type != StepType::kBridge &&
                      s.type != StepType::kTransfer;
    if (needs_next && !has_next) p_.error(at, where + ": missing 'next'");
    if (s.type == StepType::kMenu && !has_choices) p_.error(at, where + ": missing 'choices'");
    if (s.type == StepType::kMenu) add_digit_words(s, flow_.voice.name);
    if ((s.type == StepType::kCollect || s.type == StepType::kAsk) && s.min_digits > s.max_digits) {
      p_.error(at, where + ": min_digits is greater than max_digits");
    }
    std::string bad;
    if (s.type == StepType::kSayTime && !time_template_valid(s.text, &bad)) {
      p_.error(at, where + ": unknown placeholder {" + Parser::clip(bad) +
                       "} (use {time}, {hour}, {minute}, {hour12}, {ampm})");
    }
  }

  bool choices(const Entry& e, StepSpec& s) {
    if (!e.value.IsMap() || e.value.size() == 0) {
      p_.error(e, "expected a map of digit -> step, e.g. {\"1\": sales}");
      return false;
    }
    size_t n = 0;
    for (auto it = e.value.begin(); it != e.value.end(); ++it) {
      if (++n > 16) {
        p_.error(e, "more than 16 choices");
        return false;
      }
      Entry key{"choices", it->first, it->first};
      auto d = p_.digit(key, false);
      Entry value{"choices", it->first, it->second};
      // "1": sales (keypad only), or "1": {next: sales, say: [sales, vendas]}.
      StepIndex t = value.value.IsMap() ? spoken_option(value, d.value_or('\0'), s) : target(value);
      if (!d) continue;
      int slot = digit_slot(*d);
      if (s.choices[slot] != kNoStep) {
        p_.error(it->first.Mark(), std::string("choices: digit '") + *d + "' given twice");
      }
      s.choices[slot] = t;
    }
    return true;
  }

  // A menu choice with words: {next: sales, say: [sales, vendas]}; returns the target.
  StepIndex spoken_option(const Entry& e, char digit, StepSpec& s) {
    static constexpr std::string_view keys[] = {"next", "say"};
    StepIndex t = kNoStep;
    bool has_next = false;
    for (Entry& o : p_.entries(e.value, keys, "a choice")) {
      if (o.key == "next") {
        t = target(o);
        has_next = true;
      } else {
        spoken_words(o, digit, s);
      }
    }
    if (!has_next) p_.error(e, "a choice written as a map needs 'next' (the step it leads to)");
    return t;
  }

  // say: sales | [sales, vendas]. Each word is checked where it is written: empty, too
  // long, or already said by this or another choice (the recogniser could not tell them
  // apart), or the digit word of another choice ("two" for choice 1).
  void spoken_words(const Entry& e, char digit, StepSpec& s) {
    std::vector<YAML::Node> items;
    if (e.value.IsScalar()) {
      items.push_back(e.value);
    } else if (e.value.IsSequence() && e.value.size() > 0 &&
               e.value.size() <= kMaxSpokenChoicesPerOption) {
      for (std::size_t i = 0; i < e.value.size(); ++i) items.push_back(e.value[i]);
    } else {
      return p_.error(e, "expected a word or a list of 1 to " +
                             std::to_string(kMaxSpokenChoicesPerOption) +
                             " words, e.g. [sales, vendas]");
    }
    for (const YAML::Node& item : items) {
      Entry one{"say", e.key_node, item};
      if (item.IsNull()) {
        p_.error(one, "empty word (write what the caller says, e.g. sales)");
        continue;
      }
      auto w = p_.scalar(one, kMaxSpokenChoiceChars);
      if (!w) continue;
      if (!Parser::valid_utf8(*w)) {
        p_.error(one, "not valid UTF-8 text");
        continue;
      }
      const std::string key = spoken_key(*w);
      if (key.empty()) {
        p_.error(one, "empty word (write what the caller says, e.g. sales)");
        continue;
      }
      auto dup = std::find_if(s.spoken.begin(), s.spoken.end(),
                              [&](const SpokenChoice& c) { return spoken_key(c.phrase) == key; });
      if (dup != s.spoken.end()) {
        p_.error(one, "'" + Parser::clip(*w) + "' is already a word of " +
                          (dup->digit == digit ? std::string("this choice")
                                               : std::string("choice '") + dup->digit + "'"));
        continue;
      }
      bool taken = false;
      for (char d = '0'; d <= '9' && !taken; ++d) {
        for (std::string_view dw : digit_words(d, flow_.voice.name)) {
          if (d != digit && spoken_key(dw) == key) {
            p_.error(one, "'" + Parser::clip(*w) + "' says the digit " + std::string(1, d) +
                              ": it cannot choose '" + std::string(1, digit) + "'");
            taken = true;
            break;
          }
        }
      }
      if (!taken && digit != '\0') s.spoken.push_back({*w, digit, false});
    }
  }

  // A CSV file next to the flow ("data/residents.csv"), loaded once per flow.
  int table(const Entry& e) {
    auto n = p_.scalar(e, 200);
    if (!n) return -1;
    for (size_t i = 0; i < flow_.tables.size(); ++i) {
      if (flow_.tables[i].name == *n) return static_cast<int>(i);
    }
    std::filesystem::path rel(*n);
    bool safe = !n->empty() && rel.is_relative() && rel.extension() == ".csv";
    for (const auto& part : rel) safe = safe && part != "..";
    if (!safe) {
      p_.error(e, "'" + Parser::clip(*n) + "' must be a relative path to a .csv file, without ..");
      return -1;
    }
    if (flow_.tables.size() >= 8) {
      p_.error(e, "too many tables (limit 8)");
      return -1;
    }
    std::filesystem::path path = std::filesystem::path(flow_.file).parent_path() / rel;
    std::ifstream in(path, std::ios::binary);
    if (!in) {
      p_.error(e, "cannot open " + path.string());
      return -1;
    }
    std::string text(TableLimits::kMaxBytes + 1, '\0');
    in.read(text.data(), static_cast<std::streamsize>(text.size()));
    text.resize(static_cast<size_t>(in.gcount()));
    std::string why;
    auto t = parse_table(text, &why);
    if (!t) {
      p_.error(e, path.string() + ": " + why);
      return -1;
    }
    t->name = *n;
    flow_.tables.push_back(std::move(*t));
    return static_cast<int>(flow_.tables.size() - 1);
  }

  // lookup also: {apartment: "{apartment}"}: one more column the row must match.
  void also(const Entry& e, bool has_table, StepSpec& s) {
    if (!e.value.IsMap() || e.value.size() != 1) {
      return p_.error(e, "expected one {column: value}, e.g. {apartment: \"{apartment}\"}");
    }
    auto it = e.value.begin();
    Entry key{"also", it->first, it->first}, val{"also", it->first, it->second};
    auto c = p_.scalar(key, Limits::kMaxNameChars);
    auto v = p_.text(val);
    if (!c || !v) return;
    if (!has_table) return p_.error(e, "needs 'table'");
    if (s.table < 0) return;
    s.also_column = flow_.tables[s.table].column(*c);
    if (s.also_column < 0) return p_.error(key, "table has no column '" + Parser::clip(*c) + "'");
    s.also_value = *v;
  }

  // values: {entrega: [delivery, package], visita: [visit]}
  void values(const Entry& e, StepSpec& s) {
    if (!e.value.IsMap() || e.value.size() == 0) {
      return p_.error(e, "expected a map of value -> list of words, e.g. {yes: [yes, yeah]}");
    }
    if (e.value.size() > 64) return p_.error(e, "more than 64 values");
    for (auto it = e.value.begin(); it != e.value.end(); ++it) {
      Entry key{"values", it->first, it->first};
      auto v = p_.name(key);
      if (!v) continue;
      ChoiceValue cv{*v, {}, '\0'};
      if (!it->second.IsSequence() || it->second.size() == 0 || it->second.size() > 32) {
        p_.error(it->first.Mark(), "values: '" + *v + "' needs a list of 1 to 32 words");
        continue;
      }
      // Indexed, with named copies: yaml-cpp's iterators hand out proxies that die at the
      // end of their full-expression (ASan caught a range-for binding a reference to one).
      const YAML::Node key_node = it->first;
      const YAML::Node words = it->second;
      for (std::size_t i = 0; i < words.size(); ++i) {
        Entry one{"values", key_node, words[i]};
        if (auto t = p_.text(one)) cv.words.push_back(*t);
      }
      s.values.push_back(std::move(cv));
    }
  }

  // dtmf: {"1": visita, "2": entrega}
  void dtmf_keys(const Entry& e, StepSpec& s) {
    if (!e.value.IsMap()) return p_.error(e, "expected a map of digit -> value");
    for (auto it = e.value.begin(); it != e.value.end(); ++it) {
      Entry key{"dtmf", it->first, it->first};
      auto d = p_.digit(key, false);
      Entry val{"dtmf", it->first, it->second};
      auto v = p_.scalar(val, Limits::kMaxNameChars);
      if (!d || !v) continue;
      auto cv = std::find_if(s.values.begin(), s.values.end(),
                             [&](const ChoiceValue& c) { return c.value == *v; });
      if (cv == s.values.end()) {
        p_.error(val, "no value named '" + Parser::clip(*v) + "' in values");
      } else {
        cv->digit = *d;
      }
    }
  }

  // fields: [option, promise_date]
  void fields(const Entry& e, StepSpec& s) {
    if (!e.value.IsSequence() || e.value.size() == 0 || e.value.size() > 64) {
      return p_.error(e, "expected a list of 1 to 64 slot names, e.g. [option, promise_date]");
    }
    for (std::size_t i = 0; i < e.value.size(); ++i) {
      Entry one{e.key, e.key_node, e.value[i]};
      if (auto v = p_.name(one)) s.fields.push_back(*v);
    }
  }

  // routes: [{when: {intent: entrega}, goto: delivery}, ...]
  void routes(const Entry& e, StepSpec& s) {
    if (!e.value.IsSequence() || e.value.size() == 0 || e.value.size() > 64) {
      return p_.error(e, "expected a list of {when: {slot: value}, goto: step}");
    }
    static constexpr std::string_view keys[] = {"when", "goto"};
    for (const YAML::Node& item : e.value) {
      if (!item.IsMap()) {
        p_.error(item.Mark(), "routes: each entry is {when: {slot: value}, goto: step}");
        continue;
      }
      RouteCase rc;
      bool has_when = false, has_goto = false;
      for (Entry& r : p_.entries(item, keys, "a route")) {
        if (r.key == "goto") {
          rc.target = target(r);
          has_goto = true;
        } else if (!r.value.IsMap() || r.value.size() == 0) {
          p_.error(r, "expected {slot: value}");
        } else {
          has_when = true;
          for (auto it = r.value.begin(); it != r.value.end(); ++it) {
            Entry k{"when", it->first, it->first}, v{"when", it->first, it->second};
            auto kn = p_.name(k);
            auto vv = p_.scalar(v, Limits::kMaxTextChars);
            if (kn && vv) rc.when.emplace_back(*kn, *vv);
          }
        }
      }
      if (!has_when || !has_goto) {
        p_.error(item.Mark(), "routes: each entry needs 'when' and 'goto'");
        continue;
      }
      s.routes.push_back(std::move(rc));
    }
  }

  // Texts may name slots: collected digits ("You entered {account}"), ask answers
  // ("{visitor}", "{intent_label}") and looked-up columns ("{resident_name}").
  void check_variables() {
    std::vector<std::string> stored{"caller"};  // the From user, set when the call starts
    stored.insert(stored.end(), flow_.inputs.begin(), flow_.inputs.end());
    // "{name:audio}" plays a recording: one a capture step makes, or one a parent flow's
    // capture step made (named in inputs).
    std::vector<std::string> clips(flow_.inputs.begin(), flow_.inputs.end());
    // A flow run on a dialled leg hands back slots only known at run time: `fields` may
    // name them.
    bool brings_slots = false;
    for (const StepSpec& s : flow_.steps) {
      if (s.type == StepType::kDial) {
        stored.push_back(s.into);
        stored.push_back(s.into + "_status");
        brings_slots = brings_slots || !s.child_flow.empty();
      }
      if (s.type == StepType::kTransfer) stored.push_back("transfer_status");
      if (s.type == StepType::kCollect || s.type == StepType::kAsk) stored.push_back(s.into);
      if (s.type == StepType::kCapture) {
        stored.push_back(s.into);
        clips.push_back(s.into);
      }
      if (s.type == StepType::kAsk && s.match == MatchKind::kChoices) {
        stored.push_back(s.into + "_label");
      }
      if (s.type == StepType::kLookup && s.table >= 0) {
        for (const std::string& c : flow_.tables[s.table].columns) {
          stored.push_back(s.into + "_" + c);
        }
      }
    }
    for (size_t i = 0; i < flow_.steps.size(); ++i) {
      StepSpec& s = flow_.steps[i];
      for (const std::string& name : s.fields) {
        if (!brings_slots && std::find(stored.begin(), stored.end(), name) == stored.end()) {
          p_.error(step_nodes_[i].key_node.Mark(),
                   "step '" + s.id + "': fields names '" + Parser::clip(name) +
                       "' but no collect, ask or lookup step stores it");
        }
      }
      if (s.type != StepType::kSay && s.type != StepType::kHangup && s.type != StepType::kAsk &&
          s.type != StepType::kConfirm && s.type != StepType::kLookup &&
          s.type != StepType::kDial && s.type != StepType::kBridge &&
          s.type != StepType::kTransfer && s.type != StepType::kCapture) {
        continue;
      }
      std::vector<std::string> names = template_names(s.text);
      // Placeholders past these are in templates that are filled in but never spoken.
      const size_t spoken = s.type == StepType::kLookup ? 0 : names.size();
      s.uses_variables = !names.empty();
      // Templates that are filled in but never spoken: who to call, the lookup's `also`.
      for (const std::string* t : {&s.to, &s.caller_id, &s.also_value}) {
        for (std::string& name : template_names(*t)) names.push_back(std::move(name));
      }
      if (!s.expect.empty()) flow_.secret_slots.push_back(s.into);
      for (const std::string& name : template_names(s.expect)) {
        names.push_back(name);
        flow_.secret_slots.emplace_back(split_placeholder(name).slot);
      }
      for (size_t k = 0; k < names.size(); ++k) {
        const std::string& placeholder = names[k];
        auto [slot, format] = split_placeholder(placeholder);
        std::string name(slot);
        if (format == "audio") {
          if (k >= spoken) {
            p_.error(step_nodes_[i].key_node.Mark(),
                     "step '" + s.id + "': {" + Parser::clip(placeholder) +
                         "} plays a recording: only in a text or prompt that is spoken");
          } else if (std::find(clips.begin(), clips.end(), name) == clips.end()) {
            p_.error(step_nodes_[i].key_node.Mark(),
                     "step '" + s.id + "': text plays {" + Parser::clip(placeholder) +
                         "} but no capture step records '" + Parser::clip(name) +
                         "' and inputs does not name it");
          }
          continue;
        }
        if (!known_format(format)) {
          p_.error(step_nodes_[i].key_node.Mark(),
                   "step '" + s.id + "': unknown format in {" + Parser::clip(placeholder) +
                       "} (use :money, :number, :date, :digits or :audio)");
        }
        if (std::find(stored.begin(), stored.end(), name) == stored.end()) {
          p_.error(step_nodes_[i].key_node.Mark(),
                   "step '" + s.id + "': text uses {" + Parser::clip(name) +
                       "} but no collect, ask or lookup step stores it");
        }
      }
    }
  }

  // Steps nothing leads to are almost always a misspelt target: report them.
  void check_reachable() {
    std::vector<bool> seen(flow_.steps.size(), false);
    std::vector<StepIndex> todo{flow_.start};
    seen[flow_.start] = true;
    if (flow_.on_timeout != kNoStep && !seen[flow_.on_timeout]) {
      seen[flow_.on_timeout] = true;
      todo.push_back(flow_.on_timeout);
    }
    auto visit = [&](StepIndex i) {
      if (i != kNoStep && !seen[i]) seen[i] = true, todo.push_back(i);
    };
    while (!todo.empty()) {
      const StepSpec& s = flow_.steps[todo.back()];
      todo.pop_back();
      visit(s.next);
      visit(s.on_failure);
      visit(s.on_yes);
      visit(s.on_no);
      visit(s.on_missing);
      visit(s.on_busy);
      visit(s.on_no_answer);
      for (const RouteCase& r : s.routes) visit(r.target);
      for (StepIndex c : s.choices) visit(c);
    }
    for (size_t i = 0; i < seen.size(); ++i) {
      if (!seen[i]) {
        p_.error(step_nodes_[i].key_node.Mark(),
                 "step '" + flow_.steps[i].id + "' is never reached from start");
      }
    }
  }

  Parser& p_;
  FlowSpec& flow_;
  std::vector<Entry> step_nodes_;
  std::map<std::string, StepIndex, std::less<>> index_;
};

std::string stem_of(const std::string& file_name) {
  return std::filesystem::path(file_name).stem().string();
}

}  // namespace

LoadResult load_flow_text(std::string_view yaml, const std::string& file_name) {
  LoadResult result;
  Parser parser(file_name);
  if (yaml.size() > Limits::kMaxFileBytes) {
    parser.error(YAML::Mark::null_mark(),
                 "file too large (limit " + std::to_string(Limits::kMaxFileBytes) + " bytes)");
    result.errors = std::move(parser.errors());
    return result;
  }
  auto flow = std::make_shared<FlowSpec>();
  flow->file = file_name;
  flow->name = stem_of(file_name);
  try {
    YAML::Node root = YAML::Load(std::string(yaml));
    expand_asp_steps(root);  // shorthand for dial + bridge (flow/asp_step.h)
    FlowBuilder(parser, *flow).build(root);
  } catch (const YAML::Exception& e) {
    parser.error(e.mark, "YAML: " + e.msg);
  } catch (const std::exception& e) {
    parser.error(YAML::Mark::null_mark(), std::string("cannot read: ") + e.what());
  }
  result.errors = std::move(parser.errors());
  if (result.errors.empty()) result.flow = std::move(flow);
  return result;
}

LoadResult load_flow_file(const std::filesystem::path& path) {
  const std::string name = path.string();
  auto fail = [&](std::string message) {
    LoadResult r;
    r.errors.push_back({name, 0, 0, std::move(message)});
    return r;
  };
  std::ifstream in(path, std::ios::binary);
  if (!in) return fail("cannot open file");
  // Read at most one byte past the limit: the size check must not trust file_size().
  std::string text(Limits::kMaxFileBytes + 1, '\0');
  in.read(text.data(), static_cast<std::streamsize>(text.size()));
  text.resize(static_cast<size_t>(in.gcount()));
  if (in.bad()) return fail("read error");
  return load_flow_text(text, name);
}

}  // namespace atende::flow
