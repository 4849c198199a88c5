#include "agent/dialogue.h"

#include <algorithm>
#include <nlohmann/json.hpp>

namespace atende::agent {

namespace {

std::string error_json(std::string_view message) {
  return nlohmann::json{{"error", message}}.dump(-1, ' ', false,
                                                 nlohmann::json::error_handler_t::replace);
}

bool builtin_tool(const std::string& name) {
  return name == llm::kEndCall || name == llm::kTransferToHuman || name == llm::kSendDtmf;
}

}  // namespace

Dialogue::Dialogue(flow::FlowHost& host, const AgentSettings& settings, llm::ChatClient* chat,
                   llm::HttpToolRunner* tools, std::function<MonoTime()> clock,
                   DialogueEvents& events)
    : host_(host),
      settings_(settings),
      chat_(chat),
      tools_(tools),
      clock_(std::move(clock)),
      events_(events),
      token_(host),
      conversation_(llm::Message::system(settings.system_prompt)) {}

Dialogue::~Dialogue() {
  token_.cancel();
  if (chat_call_) chat_call_->cancel();
}

template <class Arg, class Fn>
std::function<void(Arg)> Dialogue::back_on_media(Fn fn) {
  return token_.bind<Arg>([this, fn](Arg arg) mutable { fn(this, std::move(arg)); });
}

MonoTime Dialogue::now() const { return clock_ ? clock_() : MonoClock::now(); }

void Dialogue::new_turn() {
  tool_rounds_ = 0;
  tools_pending_ = 0;
  tool_results_.clear();
}

void Dialogue::ask(MonoTime now, const std::string* speculative_user) {
  if (!chat_) return;
  if (chat_call_) {  // one completion at a time: a late delta of the old one never mixes in
    const bool held = held_;
    cancel();
    held_ = held;  // a speculation that asks again stays held
  }
  llm::ChatRequest req;
  req.messages = conversation_.messages();
  if (speculative_user) req.messages.push_back(llm::Message::user(*speculative_user));
  req.tools = settings_.tools;
  for (const auto& t : settings_.http_tools) req.tools.push_back(t.spec);
  req.temperature = settings_.temperature;
  req.max_tokens = settings_.max_tokens;
  answer_.clear();
  tool_calls_.clear();
  splitter_.reset();
  chat_done_ = false;
  got_output_ = false;
  events_.on_asked(speculative_user != nullptr, now);
  llm::ChatHandlers h;
  auto text = back_on_media<std::string>(
      [](Dialogue* self, std::string d) { self->on_delta(std::move(d)); });
  h.on_text = [text](std::string_view d) { text(std::string(d)); };
  auto tool = back_on_media<llm::ToolCall>(
      [](Dialogue* self, llm::ToolCall c) { self->on_tool(std::move(c)); });
  h.on_tool_call = [tool](const llm::ToolCall& c) { tool(c); };
  auto done = back_on_media<llm::ChatResult>(
      [](Dialogue* self, llm::ChatResult r) { self->on_chat_done(std::move(r)); });
  h.on_done = [done](const llm::ChatResult& r) { done(r); };
  chat_call_ = chat_->complete(req, std::move(h));
}

void Dialogue::hold(bool held) {
  if (held || !held_) {
    held_ = held;
    return;
  }
  held_ = false;
  std::vector<llm::ToolCall> calls = std::move(held_tools_);
  std::optional<llm::ChatResult> done = std::move(held_done_);
  held_tools_.clear();
  held_done_.reset();
  // A handler may cancel() the answer (a failed turn): on_tool and on_chat_done then do
  // nothing, as for any late result.
  for (auto& call : calls) on_tool(std::move(call));
  if (done) on_chat_done(std::move(*done));
}

void Dialogue::cancel() {
  if (chat_call_) chat_call_->cancel();  // closes the request: the provider stops too
  chat_call_.reset();
  chat_done_ = true;
  tools_pending_ = 0;
  tool_results_.clear();
  splitter_.reset();
  held_ = false;
  held_tools_.clear();
  held_done_.reset();
  token_.cancel();  // whatever is still on its way back is dropped
  token_ = AnswerToken(host_);
}

void Dialogue::interrupt(const std::string& heard_now) {
  // Calls whose results are not in the history yet would make the next request fail.
  const bool results_due = tools_pending_ > 0 || (!chat_done_ && !tool_calls_.empty());
  if (!chat_done_) {
    // Still streaming: what was generated so far becomes the answer, then is cut.
    conversation_.add(llm::Message::assistant(answer_, tool_calls_));
    chat_done_ = true;
  }
  conversation_.truncate_last_assistant(heard_now);
  if (results_due) add_tool_messages(error_json("cancelled: the caller interrupted"));
  cancel();
}

void Dialogue::on_delta(std::string delta) {
  if (chat_done_) return;
  const MonoTime t = now();
  got_output_ = true;
  answer_ += delta;
  splitter_.push(delta, [&](std::string s) { events_.on_sentence(std::move(s), tool_rounds_, t); });
  events_.on_model_output(true, t);
}

void Dialogue::on_tool(llm::ToolCall call) {
  if (chat_done_) return;
  const MonoTime t = now();
  events_.on_model_output(false, t);
  if (held_) {  // acts on the call: only once the turn is confirmed
    held_tools_.push_back(std::move(call));
    return;
  }
  got_output_ = true;
  if (builtin_tool(call.name)) {
    events_.on_builtin_tool(call, t);
  } else if (http_tool(call.name)) {
    host_.record_event("tool", call.name + " " + call.arguments.substr(0, 500));
  } else {
    host_.record_event("tool", "unsupported " + call.name);
  }
  tool_calls_.push_back(std::move(call));
}

void Dialogue::on_chat_done(llm::ChatResult result) {
  if (chat_done_) return;
  if (held_) {
    held_done_ = std::move(result);
    return;
  }
  const MonoTime t = now();
  chat_done_ = true;
  chat_call_.reset();
  if (result.ok()) {
    splitter_.flush([&](std::string s) { events_.on_sentence(std::move(s), tool_rounds_, t); });
  } else {
    // The stream broke off: its unfinished sentence is a fragment ("We open every"), not
    // said and not kept in the history.
    const std::string_view tail = splitter_.pending();
    if (answer_.ends_with(tail)) answer_.resize(answer_.size() - tail.size());
    while (!answer_.empty() && answer_.back() == ' ') answer_.pop_back();
    splitter_.reset();
  }
  const bool said_something = !answer_.empty() || !tool_calls_.empty();
  if (!result.ok() && !said_something) {
    return events_.on_answer_failed(std::string("llm: ") + llm::to_string(result.error) +
                                        (result.message.empty() ? "" : " " + result.message),
                                    t);
  }
  if (result.ok() && !said_something) return events_.on_answer_failed("llm: empty answer", t);
  AnswerEnd end;
  end.ok = result.ok();
  if (!end.ok) end.error = std::string("llm: ") + llm::to_string(result.error);
  conversation_.add(llm::Message::assistant(answer_, tool_calls_));
  const bool ending = events_.call_ending();
  const bool wants_http = std::any_of(tool_calls_.begin(), tool_calls_.end(),
                                      [&](const llm::ToolCall& c) { return http_tool(c.name); });
  if (wants_http && !ending && end.ok) {
    if (tool_rounds_ < settings_.max_tool_rounds) return run_tools(t);
    add_tool_messages(error_json("too many tool calls in one turn"));
    if (answer_.empty()) {
      return events_.on_answer_failed("llm: more than " +
                                          std::to_string(settings_.max_tool_rounds) +
                                          " tool rounds in one turn",
                                      t);
    }
  } else {
    // Every tool call needs its answer in the history or the next request is refused.
    add_tool_messages(
        error_json(ending ? "not run: the call is ending" : "not run: the answer failed"));
  }
  end.said_any = !answer_.empty();
  events_.on_answer_end(end, t);
}

const llm::HttpTool* Dialogue::http_tool(const std::string& name) const {
  for (const auto& t : settings_.http_tools) {
    if (t.spec.name == name) return &t;
  }
  return nullptr;
}

// The answer called HTTP tools: run them all at once; when every result is back they go
// into the history and the model is asked again (on_tool_result).
void Dialogue::run_tools(MonoTime now) {
  tool_results_.assign(tool_calls_.size(), std::nullopt);
  tools_pending_ = 0;
  for (size_t i = 0; i < tool_calls_.size(); ++i) {
    const llm::ToolCall& c = tool_calls_[i];
    const llm::HttpTool* tool = http_tool(c.name);
    if (!tool) continue;  // built-ins were acted on in on_tool: add_tool_messages answers them
    if (!tools_) {
      tool_results_[i] = error_json("tool not available");
      continue;
    }
    ++tools_pending_;
    tools_->run(*tool, c, back_on_media<llm::ToolResult>([i](Dialogue* self, llm::ToolResult r) {
      self->on_tool_result(i, std::move(r));
    }));
  }
  if (tools_pending_ == 0) {
    add_tool_messages(error_json("no result"));
    ++tool_rounds_;
    return ask(now);
  }
  events_.on_tools_running(!answer_.empty(), now);
}

void Dialogue::on_tool_result(size_t index, llm::ToolResult result) {
  if (index >= tool_results_.size() || tool_results_[index]) return;
  const std::string& name = tool_calls_[index].name;
  host_.record_event("tool_result",
                     result.ok ? name + " ok" : name + " failed: " + result.content.substr(0, 300));
  tool_results_[index] = std::move(result.content);
  if (--tools_pending_ > 0) return;
  add_tool_messages(error_json("no result"));
  ++tool_rounds_;
  ask(now());
}

// The tool messages answering the last assistant message's calls, in call order: an HTTP
// tool's result (or `missing` if it has none), {"ok":true} for the others.
void Dialogue::add_tool_messages(const std::string& missing) {
  for (size_t i = 0; i < tool_calls_.size(); ++i) {
    const llm::ToolCall& c = tool_calls_[i];
    std::string content;
    if (i < tool_results_.size() && tool_results_[i]) {
      content = *tool_results_[i];
    } else {
      content = http_tool(c.name) ? missing : R"({"ok":true})";
    }
    conversation_.add(llm::Message::tool(c.id, std::move(content)));
  }
  tool_results_.clear();
  tools_pending_ = 0;
}

}  // namespace atende::agent
