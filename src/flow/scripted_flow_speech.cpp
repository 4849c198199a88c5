// ScriptedFlow: the spoken steps (ask, confirm) and the steps that act without a prompt
// (route, lookup, record). Recognition runs on the recogniser's worker; its result is
// posted back to the media thread and dropped if the step has moved on since.
#include <algorithm>
#include <ctime>

#include "flow/menu_speech.h"
#include "flow/scripted_flow.h"
#include "flow/spoken_date.h"
#include "flow/template_text.h"
#include "speech/answer_carriers.h"
#include "turn/fuzzy.h"

namespace atende::flow {

namespace {

// confirm: words for yes and no (en and pt-br, as the recogniser writes them). The grammar
// offers each as a phrase; a phrase of several words counts as a whole ("of course"), a
// free-speech answer by any of its words.
constexpr std::string_view kYes[] = {"yes",       "yeah", "yep",          "correct",
                                     "right",     "sure", "that's right", "sim",
                                     "of course", "isso", "certo",        "yeah sure"};
constexpr std::string_view kNo[] = {"no", "nope", "wrong", "incorrect", "not", "not really", "nao"};

template <size_t N>
bool is_phrase(const std::string& said, const std::string_view (&set)[N]) {
  return std::find(std::begin(set), std::end(set), said) != std::end(set);
}

template <size_t N>
bool has_word(const std::vector<std::string>& words, const std::string_view (&set)[N]) {
  return std::any_of(words.begin(), words.end(), [&](const std::string& w) {
    return std::find(std::begin(set), std::end(set), w) != std::end(set);
  });
}

std::string json_escape(std::string_view s) {
  std::string out;
  for (char c : s) {
    unsigned char u = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (u < 0x20) {
      static constexpr char kHex[] = "0123456789abcdef";
      out += "\\u00";
      out += kHex[u >> 4];
      out += kHex[u & 15];
    } else {
      out += c;
    }
  }
  return out;
}

bool all_digits(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

}  // namespace

void ScriptedFlow::play_prompt(std::string_view apology, MonoTime now) {
  phase_ = Phase::kPrompting;
  ++turn_generation_;
  listener_->reset();
  player_.play(apology, spoken_pieces());
  listener_->prompt_started(now);
}

void ScriptedFlow::heard(Listener::Event e, MonoTime now) {
  if (!started_ || ended_ || e == Listener::Event::kSpeechStarted) return;
  if (e == Listener::Event::kShortPause) return speculate(now);
  if (e == Listener::Event::kSpeechResumed) return forget_speculation();
  const StepSpec& s = step();
  if (s.type == StepType::kMenu && !s.spoken.empty()) {
    // Menus judge every turn by its words; a barge-in policy never runs there.
    if (e != Listener::Event::kEndOfTurn || menu_pending_) return;
    if (phase_ != Phase::kPrompting && phase_ != Phase::kWaiting) return;
    ++heard_count_;
    return send_turn(now);
  }
  if (s.type != StepType::kAsk && s.type != StepType::kConfirm && s.type != StepType::kCapture)
    return;
  if (phase_ != Phase::kPrompting && phase_ != Phase::kListening) return;
  ++heard_count_;
  if (e == Listener::Event::kBargeIn) {
    host_.record_event("barge_in", s.id);
    player_.stop();
    listener_->prompt_stopped();
    phase_ = Phase::kListening;
    deadline_ = now + s.timeout;
    return;
  }
  if (phase_ == Phase::kPrompting) {  // spoke over the prompt and it already ended
    player_.stop();
    listener_->prompt_stopped();
  }
  if (s.type == StepType::kCapture) return capture_turn(now);
  send_turn(now);
}

void ScriptedFlow::listen_frame(const AudioFrame& heard_frame, MonoTime now) {
  const uint64_t before = heard_count_;
  listener_->on_frame(heard_frame, now);
  if (heard_count_ != before || ended_) return;  // acted on this frame already
  // A recording longer than max_length is cut there: no need to wait for its end.
  if (step().type == StepType::kCapture && phase_ == Phase::kListening && capture_full()) {
    return capture_turn(now);
  }
  // No answer: only once the prompt is over and nobody is speaking.
  if (phase_ == Phase::kListening && !listener_->speaking() && now >= deadline_) {
    retry("no_input", step().no_input, now);
  }
}

std::vector<std::string> ScriptedFlow::expected_phrases() const {
  const StepSpec& s = step();
  if (s.type == StepType::kMenu) return menu_expected(s);
  std::vector<std::string> out;
  if (s.type == StepType::kConfirm) {
    for (auto w : kYes) out.emplace_back(w);
    for (auto w : kNo) out.emplace_back(w);
    return out;
  }
  if (s.match == MatchKind::kChoices) {
    for (const ChoiceValue& v : s.values) out.insert(out.end(), v.words.begin(), v.words.end());
  } else if (s.match == MatchKind::kDate) {
    out = date_phrases(language_of_voice(spec_->voice.name));
  } else if (s.table >= 0 && s.table_column >= 0) {
    for (const auto& row : spec_->tables[s.table].rows) out.push_back(row[s.table_column]);
  }
  return out;  // digits without a table: free speech
}

std::vector<int> ScriptedFlow::expected_answers() const {
  const StepSpec& s = step();
  std::vector<int> out;
  if (s.type == StepType::kMenu) {
    for (const SpokenChoice& c : s.spoken) out.push_back(c.digit);
  } else if (s.type == StepType::kConfirm) {
    out.insert(out.end(), std::size(kYes), 1);
    out.insert(out.end(), std::size(kNo), 0);
  } else if (s.match == MatchKind::kChoices) {
    for (size_t v = 0; v < s.values.size(); ++v)
      out.insert(out.end(), s.values[v].words.size(), static_cast<int>(v));
  }
  return out;  // must line up with expected_phrases()
}

speech::Carriers ScriptedFlow::answer_carriers() const {
  const StepSpec& s = step();
  const std::string& language = spec_->voice.name;
  if (s.type == StepType::kMenu || (s.type != StepType::kConfirm && s.match == MatchKind::kChoices))
    return speech::default_carriers(speech::AnswerKind::kChoice, language);
  if (s.type == StepType::kConfirm)
    return speech::default_carriers(speech::AnswerKind::kYesNo, language);
  if (s.match == MatchKind::kDigits)
    return speech::default_carriers(speech::AnswerKind::kNumber, language);
  if (s.match == MatchKind::kList)
    return speech::default_carriers(speech::AnswerKind::kName, language);
  return {};  // dates: their own phrases
}

speech::RecognitionRequest ScriptedFlow::turn_request() const {
  auto utterance = listener_->utterance();
  speech::RecognitionRequest req;
  req.pcm = std::make_shared<const std::vector<int16_t>>(utterance.begin(), utterance.end());
  req.sample_rate = listener_->sample_rate();
  req.expected = expected_phrases();
  if (!req.expected.empty()) req.carriers = answer_carriers();
  req.answer_of = expected_answers();
  req.language = spec_->voice.name;
  req.tag = host_.call().id;
  return req;
}

void ScriptedFlow::send_turn(MonoTime now) {
  (void)now;
  // A menu keeps its phase (the prompt may still be playing): the answer decides.
  if (step().type == StepType::kMenu)
    menu_pending_ = true;
  else
    phase_ = Phase::kRecognising;
  if (adopt_speculation()) return listener_->reset();
  speech::RecognitionRequest req = turn_request();
  listener_->reset();
  uint64_t generation = turn_generation_;
  std::weak_ptr<ScriptedFlow*> weak = self_;
  host_.recognizer().recognize(std::move(req),
                               [gate = gate_, weak, generation](speech::Recognition r) {
                                 std::lock_guard lock(gate->mutex);
                                 if (!gate->host) return;
                                 FlowHost* host = gate->host;
                                 host->post([weak, generation, r = std::move(r), host]() mutable {
                                   auto self = weak.lock();
                                   if (!self) return;
                                   // The host's clock is the leg's; the answer's own time does not
                                   // matter here.
                                   (*self)->on_recognition(generation, std::move(r), MonoTime{});
                                 });
                               });
}

void ScriptedFlow::on_recognition(uint64_t generation, speech::Recognition r, MonoTime now) {
  if (ended_ || generation != turn_generation_) return;
  if (step().type == StepType::kMenu) {
    if (menu_pending_) menu_heard(r, last_now_);
    return;
  }
  if (phase_ != Phase::kRecognising) return;
  // Timeouts of the re-prompt are measured from the next frame's time.
  (void)now;
  answer(r, last_now_);
}

void ScriptedFlow::store(const std::string& slot, std::string value) {
  host_.record_event("slot", slot + "=" + (spec_->is_secret(slot) ? "***" : value));
  variables_[slot] = std::move(value);
}

void ScriptedFlow::answer(const speech::Recognition& r, MonoTime now) {
  const StepSpec& s = step();
  if (!r.ok) {
    host_.record_event("stt_error", r.error);
  } else {
    host_.record_event("heard", r.text.empty()     ? "(nothing)"
                                : s.expect.empty() ? r.text
                                                   : "***");  // an identity check
    // An identity check's answer is a secret: it is neither recorded nor passed on.
    if (!r.text.empty() && s.expect.empty()) host_.note_transcript(Speaker::kCaller, r.text);
  }
  const std::string& said = !r.matched.empty() ? r.matched : r.text;
  if (!r.ok || r.rejected || said.empty()) {
    ++invalid_count_;
    host_.record_event("no_match", s.id);
    return retry("invalid", s.invalid, now);
  }
  if (s.type == StepType::kConfirm) {
    auto words = turn::normalized_words(said);
    bool yes = is_phrase(said, kYes), no = is_phrase(said, kNo);
    if (!yes && !no) yes = has_word(words, kYes), no = has_word(words, kNo);
    if (yes != no) {
      host_.record_event("confirm", yes ? "yes" : "no");
      return enter(yes ? s.on_yes : s.on_no, now);
    }
  } else if (s.match == MatchKind::kChoices) {
    std::vector<turn::FuzzyCandidate> c;
    for (const ChoiceValue& v : s.values) c.push_back({v.value, v.words});
    turn::FuzzyMatch m = turn::best_match(said, c);
    if (m.ok()) {
      store(s.into + "_label", s.values[m.index].words.front());
      store(s.into, s.values[m.index].value);
      return enter(s.next, now);
    }
    if (m.ambiguous) host_.record_event("ambiguous", said);
  } else if (s.match == MatchKind::kDigits) {
    auto digits = turn::words_to_digits(said);
    int n = digits ? static_cast<int>(digits->size()) : 0;
    if (digits && n >= s.min_digits && n <= s.max_digits) return accept_answer(*digits, now);
  } else if (s.match == MatchKind::kDate) {
    return accept_answer(said, now);
  } else {
    std::vector<turn::FuzzyCandidate> c;
    for (const auto& row : spec_->tables[s.table].rows) c.push_back({row[s.table_column], {}});
    turn::FuzzyMatch m = turn::best_match(said, c);
    if (m.ok()) {
      store(s.into, c[m.index].value);
      return enter(s.next, now);
    }
    if (m.ambiguous) host_.record_event("ambiguous", said);
  }
  ++invalid_count_;
  host_.record_event("no_match", s.id);
  retry("invalid", s.invalid, now);
}

void ScriptedFlow::ask_digit(char digit, MonoTime now) {
  const StepSpec& s = step();
  if (s.type == StepType::kConfirm) {
    if (digit == '1' || digit == '2') {
      host_.record_event("confirm", digit == '1' ? "yes" : "no");
      return enter(digit == '1' ? s.on_yes : s.on_no, now);
    }
  } else if (s.match == MatchKind::kDigits || s.match == MatchKind::kDate) {
    return collect_digit(digit, now);  // as a collect step: terminator, max, inter-digit
  } else if (s.match == MatchKind::kChoices) {
    for (const ChoiceValue& v : s.values) {
      if (v.digit == digit) {
        store(s.into + "_label", v.words.front());
        store(s.into, v.value);
        return enter(s.next, now);
      }
    }
  }
  ++invalid_count_;
  host_.record_event("invalid", std::string(1, digit));
  retry("invalid", s.invalid, now);
}

void ScriptedFlow::accept_answer(const std::string& value, MonoTime now) {
  const StepSpec& s = step();
  std::string answer = value;
  if (s.match == MatchKind::kDate) {
    std::time_t t = std::chrono::system_clock::to_time_t(host_.wall_now());
    std::tm local{};
    localtime_r(&t, &local);
    CalendarDate today{local.tm_year + 1900, local.tm_mon + 1, local.tm_mday};
    auto date = resolve_spoken_date(value, today);
    if (!date) {
      ++invalid_count_;
      host_.record_event("no_match", s.id);
      return retry("invalid", s.invalid, now);
    }
    answer = iso_date(*date);
  }
  if (!s.expect.empty()) {
    std::string wanted = fill_template(s.expect, [this](std::string_view name, std::string* v) {
      auto it = variables_.find(std::string(name));
      *v = it == variables_.end() ? "" : it->second;
      return true;
    });
    // A wrong answer to a check (the last digits of a document) is not stored as a slot;
    // the event says only that it did not match.
    if (wanted.empty() || answer != wanted) {
      ++invalid_count_;
      host_.record_event("mismatch", s.id);
      return retry("invalid", s.invalid, now);
    }
  }
  store(s.into, std::move(answer));
  enter(s.next, now);
}

void ScriptedFlow::run_route(MonoTime now) {
  const StepSpec& s = step();
  for (const RouteCase& rc : s.routes) {
    bool all = std::all_of(rc.when.begin(), rc.when.end(), [this](const auto& cond) {
      auto it = variables_.find(cond.first);
      return it != variables_.end() && it->second == cond.second;
    });
    if (all) {
      host_.record_event("route", spec_->steps[rc.target].id);
      return enter(rc.target, now);
    }
  }
  enter(s.next, now);
}

void ScriptedFlow::run_lookup(MonoTime now) {
  const StepSpec& s = step();
  const FlowTable& table = spec_->tables[s.table];
  auto fill = [this](const std::string& tmpl) {
    return fill_template(tmpl, [this](std::string_view name, std::string* v) {
      auto it = variables_.find(std::string(name));
      *v = it == variables_.end() ? "" : it->second;
      return true;
    });
  };
  std::string wanted = fill(s.text);
  // `also: {column: value}`: the row must match that column too (equality, as below).
  const std::string also_key =
      s.also_column >= 0 ? turn::normalize_text(fill(s.also_value)) : std::string();
  auto same = [](const std::string& key, const std::string& cell) {
    if (key.empty()) return false;
    // "0101" and "101" name the same apartment.
    if (all_digits(key) && all_digits(cell)) {
      auto strip = [](const std::string& d) {
        size_t first = d.find_first_not_of('0');
        return d.substr(first == std::string::npos ? d.size() - 1 : first);
      };
      return strip(key) == strip(cell);
    }
    return turn::normalize_text(cell) == key;
  };
  auto also_ok = [&](const std::vector<std::string>& row) {
    return s.also_column < 0 || same(also_key, row[s.also_column]);
  };
  int found = -1;
  if (s.fuzzy) {
    std::vector<turn::FuzzyCandidate> c;
    std::vector<int> rows;
    for (size_t i = 0; i < table.rows.size(); ++i) {
      if (!also_ok(table.rows[i])) continue;
      c.push_back({table.rows[i][s.table_column], {}});
      rows.push_back(static_cast<int>(i));
    }
    turn::FuzzyMatch m = turn::best_match(wanted, c);
    if (m.ok()) found = rows[m.index];
  } else {
    std::string key = turn::normalize_text(wanted);
    for (size_t i = 0; i < table.rows.size() && found < 0; ++i) {
      if (same(key, table.rows[i][s.table_column]) && also_ok(table.rows[i])) {
        found = static_cast<int>(i);
      }
    }
  }
  if (found < 0) {
    host_.record_event("lookup_missing",
                       s.id + " " + wanted + (s.also_column >= 0 ? " " + fill(s.also_value) : ""));
    return enter(s.on_missing, now);
  }
  for (size_t c = 0; c < table.columns.size(); ++c) {
    store(s.into + "_" + table.columns[c], table.rows[found][c]);
  }
  enter(s.next, now);
}

void ScriptedFlow::run_record(MonoTime now) {
  const StepSpec& s = step();
  std::string json = "{";
  auto add = [&json](const std::string& k, const std::string& v) {
    if (json.size() > 1) json += ",";
    json += "\"" + json_escape(k) + "\":\"" + json_escape(v) + "\"";
  };
  if (s.fields.empty()) {
    for (const auto& [k, v] : variables_) add(k, v);
  } else {
    for (const std::string& k : s.fields) {
      auto it = variables_.find(k);
      if (it != variables_.end()) add(k, it->second);  // a slot this call never reached: left out
    }
  }
  json += "}";
  host_.record_event(s.event, json);
  enter(s.next, now);
}

}  // namespace atende::flow
