#include "agent/persona.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <stdexcept>

#include "agent/persona_realtime.h"
#include "agent/persona_tools.h"
#include "agent/persona_turn.h"

namespace atende::agent {
namespace {

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  return s;
}

[[noreturn]] void fail(const std::string& key, const std::string& problem) {
  throw std::invalid_argument(key + ": " + problem);
}

std::string text(const YAML::Node& n, const std::string& key, size_t max = 16 * 1024) {
  if (!n.IsScalar()) fail(key, "must be a string");
  auto s = n.as<std::string>();
  if (s.size() > max) fail(key, "longer than " + std::to_string(max) + " bytes");
  return s;
}

void check_keys(const YAML::Node& map, const std::string& where,
                const std::set<std::string>& known) {
  for (const auto& kv : map) {
    const auto key = kv.first.as<std::string>();
    if (!known.count(key)) fail(where + key, "unknown key");
  }
}

AgentProviders providers_from(const YAML::Node& root) {
  AgentProviders p;
  if (auto llm = root["llm"]) {
    if (!llm.IsMap()) fail("llm", "must be a map");
    check_keys(llm, "llm.", {"base_url", "model", "api_key_env"});
    if (llm["base_url"]) p.llm_base_url = text(llm["base_url"], "llm.base_url", 500);
    if (llm["model"]) p.llm_model = text(llm["model"], "llm.model", 200);
    if (llm["api_key_env"]) p.llm_api_key_env = text(llm["api_key_env"], "llm.api_key_env", 100);
  }
  if (auto stt = root["stt"]) {
    if (!stt.IsMap()) fail("stt", "must be a map");
    check_keys(stt, "stt.", {"engine", "base_url", "model"});
    if (stt["engine"]) p.stt_engine = text(stt["engine"], "stt.engine", 50);
    if (!p.stt_engine.empty() && p.stt_engine != "http" && p.stt_engine != "sphinx" &&
        p.stt_engine != "openai_realtime_stt" && p.stt_engine != "ws_stream") {
      fail("stt.engine",
           "'" + p.stt_engine + "' is not http, sphinx, openai_realtime_stt or ws_stream");
    }
    if (stt["base_url"]) p.stt_base_url = text(stt["base_url"], "stt.base_url", 500);
    if (stt["model"]) p.stt_model = text(stt["model"], "stt.model", 200);
  }
  if (auto tts = root["tts"]) {
    if (!tts.IsMap()) fail("tts", "must be a map");
    check_keys(tts, "tts.", {"engine", "base_url", "model", "voice"});
    if (tts["engine"]) p.tts_engine = text(tts["engine"], "tts.engine", 50);
    if (!p.tts_engine.empty() && p.tts_engine != "espeak" && p.tts_engine != "http") {
      fail("tts.engine", "'" + p.tts_engine + "' is not espeak or http");
    }
    if (tts["base_url"]) p.tts_base_url = text(tts["base_url"], "tts.base_url", 500);
    if (tts["model"]) p.tts_model = text(tts["model"], "tts.model", 200);
    if (tts["voice"]) p.tts_voice = text(tts["voice"], "tts.voice", 100);
  }
  return p;
}

}  // namespace

AgentProviders AgentProviders::merged(const AgentProviders& over) const {
  AgentProviders out = *this;
  auto take = [](std::string& mine, const std::string& theirs) {
    if (!theirs.empty()) mine = theirs;
  };
  take(out.llm_base_url, over.llm_base_url);
  take(out.llm_model, over.llm_model);
  take(out.llm_api_key_env, over.llm_api_key_env);
  take(out.stt_engine, over.stt_engine);
  take(out.stt_base_url, over.stt_base_url);
  take(out.stt_model, over.stt_model);
  take(out.tts_engine, over.tts_engine);
  take(out.tts_base_url, over.tts_base_url);
  take(out.tts_model, over.tts_model);
  take(out.tts_voice, over.tts_voice);
  return out;
}

static Persona parse_persona_checked(const std::string& yaml_text) {
  YAML::Node root;
  try {
    root = YAML::Load(yaml_text);
  } catch (const YAML::Exception& e) {
    fail("yaml", e.what());
  }
  if (!root.IsMap()) fail("persona", "must be a YAML map");
  check_keys(root, "", {"name",          "aliases",
                        "language",      "voice",
                        "system_prompt", "greeting",
                        "temperature",   "max_tokens",
                        "tools",         "fallback",
                        "goodbye",       "handoff",
                        "wait",          "no_input_seconds",
                        "max_turns",     "session_seconds",
                        "llm",           "stt",
                        "tts",           "http_tools",
                        "human",         "transfer",
                        "no_human",      "human_ring_seconds",
                        "variables",     "recording",
                        "engine",        "realtime",
                        "turn"});
  Persona p;
  if (!root["name"]) fail("name", "missing");
  p.name = text(root["name"], "name", 64);
  if (p.name.empty() ||
      p.name.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789_-") != std::string::npos) {
    fail("name", "'" + p.name + "' must be lower-case letters, digits, '-' or '_'");
  }
  if (auto a = root["aliases"]) {
    if (!a.IsSequence()) fail("aliases", "must be a list");
    for (const auto& x : a) p.aliases.push_back(text(x, "aliases", 64));
  }
  auto& s = p.settings;
  s.name = p.name;
  if (!root["system_prompt"]) fail("system_prompt", "missing");
  s.system_prompt = text(root["system_prompt"], "system_prompt");
  if (s.system_prompt.empty()) fail("system_prompt", "empty");
  if (root["greeting"]) s.greeting = text(root["greeting"], "greeting", 1000);
  if (root["language"]) s.language = text(root["language"], "language", 20);
  s.voice.name = root["voice"] ? text(root["voice"], "voice", 50)
                               : (lower(s.language).rfind("pt", 0) == 0 ? "pt-br" : "en-us");
  if (auto t = root["temperature"]) {
    double v = 0;
    try {
      v = t.as<double>();
    } catch (const YAML::Exception&) {
      fail("temperature", "must be a number");
    }
    if (v < 0 || v > 2) fail("temperature", "must be within 0..2");
    s.temperature = v;
  }
  if (auto t = root["max_tokens"]) {
    int v = 0;
    try {
      v = t.as<int>();
    } catch (const YAML::Exception&) {
      fail("max_tokens", "must be a whole number");
    }
    if (v < 1 || v > 100000) fail("max_tokens", "must be within 1..100000");
    s.max_tokens = v;
  }
  if (auto tools = root["tools"]) {
    if (!tools.IsSequence()) fail("tools", "must be a list");
    for (const auto& t : tools) {
      const auto name = text(t, "tools", 64);
      if (name == llm::kEndCall) {
        s.tools.push_back(llm::end_call_tool());
      } else if (name == llm::kTransferToHuman) {
        s.tools.push_back(llm::transfer_to_human_tool());
      } else if (name == llm::kSendDtmf) {
        s.tools.push_back(llm::send_dtmf_tool());
      } else {
        fail("tools", "unknown tool '" + name +
                          "' (built-in: end_call, transfer_to_human, "
                          "send_dtmf)");
      }
    }
  }
  if (auto http = root["http_tools"]) {
    auto parsed =
        parse_http_tools(http, {std::string(llm::kEndCall), std::string(llm::kTransferToHuman),
                                std::string(llm::kSendDtmf)});
    s.http_tools = std::move(parsed.tools);
    p.disabled_tools = std::move(parsed.disabled);
  }
  if (root["fallback"]) s.fallback_text = text(root["fallback"], "fallback", 500);
  if (root["goodbye"]) s.goodbye_text = text(root["goodbye"], "goodbye", 500);
  if (root["handoff"]) s.handoff_text = text(root["handoff"], "handoff", 500);
  if (auto v = root["variables"]) {
    if (!v.IsMap()) fail("variables", "must be a map of name: default value");
    for (const auto& kv : v) {
      const auto name = text(kv.first, "variables", 64);
      if (name.empty() ||
          name.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789_") != std::string::npos) {
        fail("variables", "'" + name + "' must be lower-case letters, digits or '_'");
      }
      p.variables[name] = kv.second.IsNull() ? "" : text(kv.second, "variables", 1000);
    }
  }
  if (auto r = root["recording"]) {
    try {
      p.recording = parse_recording_switches(r);
    } catch (const std::invalid_argument& e) {
      std::string why = e.what();
      if (why.rfind("recording: ", 0) == 0) why.erase(0, 11);
      fail("recording", why);
    }
  }
  if (root["no_human"]) s.no_human_text = text(root["no_human"], "no_human", 500);
  if (root["human"]) s.human_to = text(root["human"], "human", 256);
  if (root["transfer"]) {
    s.transfer_mode = text(root["transfer"], "transfer", 16);
    if (s.transfer_mode != "bridge" && s.transfer_mode != "refer") {
      fail("transfer", "must be bridge or refer");
    }
  }
  if (root["wait"]) s.wait_text = text(root["wait"], "wait", 500);
  auto seconds = [&](const char* key, int lo, int hi) -> std::optional<Millis> {
    auto n = root[key];
    if (!n) return std::nullopt;
    int v = 0;
    try {
      v = n.as<int>();
    } catch (const YAML::Exception&) {
      fail(key, "must be a whole number of seconds");
    }
    if (v < lo || v > hi)
      fail(key, "must be within " + std::to_string(lo) + ".." + std::to_string(hi));
    return Millis(v * 1000);
  };
  if (auto v = seconds("no_input_seconds", 1, 600)) s.no_input = *v;
  if (auto v = seconds("session_seconds", 10, 86400)) s.session_timeout = *v;
  if (auto v = seconds("human_ring_seconds", 5, 120)) s.human_ring_timeout = *v;
  if (auto t = root["max_turns"]) {
    try {
      s.max_turns = t.as<int>();
    } catch (const YAML::Exception&) {
      fail("max_turns", "must be a whole number");
    }
    if (s.max_turns < 1 || s.max_turns > 1000) fail("max_turns", "must be within 1..1000");
  }
  p.providers = providers_from(root);
  p.realtime = parse_realtime_persona(root);
  parse_turn_settings(root, s);
  return p;
}

Persona parse_persona(const std::string& yaml_text) {
  try {
    return parse_persona_checked(yaml_text);
  } catch (const YAML::Exception& e) {
    // A conversion the checks above did not foresee (e.g. a map used as a key).
    fail("yaml", e.msg);
  }
}

std::vector<std::string> PersonaLibrary::load_dir(const std::string& dir) {
  namespace fs = std::filesystem;
  std::vector<std::string> errors;
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) return errors;
  std::vector<fs::path> files;
  for (const auto& e : fs::directory_iterator(dir, ec)) {
    auto ext = e.path().extension().string();
    if (e.is_regular_file() && (ext == ".yaml" || ext == ".yml")) files.push_back(e.path());
  }
  std::sort(files.begin(), files.end());
  auto set = std::make_shared<Set>(*current());
  auto& personas_ = set->personas;
  auto& by_name_ = set->by_name;
  for (const auto& f : files) {
    std::ifstream in(f);
    std::stringstream buf;
    buf << in.rdbuf();
    try {
      Persona p = parse_persona(buf.str());
      p.file = f.string();
      std::vector<std::string> keys{lower(p.name)};
      for (const auto& a : p.aliases) keys.push_back(lower(a));
      for (const auto& k : keys) {
        if (by_name_.count(k)) fail("name", "'" + k + "' is already used by another persona");
      }
      for (const auto& k : keys) by_name_[k] = personas_.size();
      personas_.push_back(std::move(p));
    } catch (const std::exception& e) {
      errors.push_back(f.filename().string() + ": " + e.what());
    }
  }
  std::lock_guard lock(mutex_);
  retired_.push_back(std::move(set_));
  set_ = std::move(set);
  return errors;
}

std::shared_ptr<const PersonaLibrary::Set> PersonaLibrary::current() const {
  std::lock_guard lock(mutex_);
  return set_;
}

void PersonaLibrary::replace_with(const PersonaLibrary& fresh) {
  auto set = fresh.current();
  std::lock_guard lock(mutex_);
  retired_.push_back(std::move(set_));
  set_ = std::move(set);
}

const Persona* PersonaLibrary::resolve(const std::string& user) const {
  const auto set = current();  // the set stays alive: set_ or retired_ holds it
  auto it = set->by_name.find(lower(user));
  return it == set->by_name.end() ? nullptr : &set->personas[it->second];
}

}  // namespace atende::agent
