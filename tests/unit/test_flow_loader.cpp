// Loader validation: every mistake is reported with file:line:column, nothing crashes.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "flow/clock_text.h"
#include "flow/duration.h"
#include "flow/flow_library.h"
#include "flow/flow_loader.h"
#include "test_flow_fakes.h"

namespace atende::flow {
namespace {

using testing::example_flows;
using testing::shipped_flows;

// Loads `yaml` as "t.yaml" and returns all error lines ("" if it loaded).
std::string errors_of(const std::string& yaml) {
  LoadResult r = load_flow_text(yaml, "t.yaml");
  EXPECT_EQ(r.ok(), r.errors.empty());
  return r.error_text();
}

// A valid flow; tests replace one line of it to make one mistake.
const std::string kValid = R"(name: demo
start: menu
steps:
  menu:
    type: menu
    prompt: "Press 1."
    timeout: 5s
    choices: {"1": bye}
  bye:
    type: hangup
    text: "Bye."
)";

std::string with(std::string_view from, std::string_view to) {
  std::string s = kValid;
  size_t at = s.find(from);
  EXPECT_NE(at, std::string::npos) << from;
  return s.replace(at, from.size(), to);
}

TEST(FlowLoader, ValidFlowLoads) {
  LoadResult r = load_flow_text(kValid, "t.yaml");
  ASSERT_TRUE(r.ok()) << r.error_text();
  EXPECT_EQ(r.flow->name, "demo");
  ASSERT_EQ(r.flow->steps.size(), 2u);
  EXPECT_EQ(r.flow->steps[0].timeout, Millis(5000));
  EXPECT_EQ(r.flow->steps[0].choices[digit_slot('1')], 1);
  EXPECT_EQ(r.flow->steps[0].line, 4);
}

TEST(FlowLoader, RtpTimeout) {
  LoadResult plain = load_flow_text(kValid, "t.yaml");
  ASSERT_TRUE(plain.ok()) << plain.error_text();
  EXPECT_EQ(plain.flow->rtp_timeout, Millis(-1));  // the server's
  LoadResult set =
      load_flow_text(with("start: menu\n", "start: menu\nrtp_timeout: 3s\n"), "t.yaml");
  ASSERT_TRUE(set.ok()) << set.error_text();
  EXPECT_EQ(set.flow->rtp_timeout, Millis(3000));
  LoadResult none =
      load_flow_text(with("start: menu\n", "start: menu\nrtp_timeout: none\n"), "t.yaml");
  ASSERT_TRUE(none.ok()) << none.error_text();
  EXPECT_EQ(none.flow->rtp_timeout, Millis(0));
  EXPECT_NE(errors_of(with("start: menu\n", "start: menu\nrtp_timeout: soon\n")).find("duration"),
            std::string::npos);
}

TEST(FlowLoader, NameDefaultsToFileStem) {
  std::string yaml = kValid.substr(kValid.find('\n') + 1);
  LoadResult r = load_flow_text(yaml, "/x/sales-line.yaml");
  ASSERT_TRUE(r.ok()) << r.error_text();
  EXPECT_EQ(r.flow->name, "sales-line");
}

TEST(FlowLoader, UnknownStepType) {
  EXPECT_NE(errors_of(with("type: hangup", "type: hang_up"))
                .find("t.yaml:10:11: type: unknown step type 'hang_up'"),
            std::string::npos)
      << errors_of(with("type: hangup", "type: hang_up"));
}

TEST(FlowLoader, AgentTypeIsReservedForLater) {
  EXPECT_NE(
      errors_of(with("type: hangup", "type: agent")).find("t.yaml:10:11: type: step type 'agent'"),
      std::string::npos);
}

TEST(FlowLoader, UnknownKeyIsATypo) {
  std::string e = errors_of(with("timeout: 5s", "timeuot: 5s"));
  EXPECT_NE(e.find("t.yaml:7:5: unknown key 'timeuot' in step 'menu'"), std::string::npos) << e;
}

TEST(FlowLoader, KeyOfAnotherStepTypeIsRejected) {
  std::string e = errors_of(with("text: \"Bye.\"", "text: \"Bye.\"\n    next: menu"));
  EXPECT_NE(e.find("t.yaml:12:5: unknown key 'next' in step 'bye'"), std::string::npos) << e;
}

TEST(FlowLoader, UnknownTopLevelKey) {
  std::string e = errors_of("nmae: x\n" + kValid);
  EXPECT_NE(e.find("t.yaml:1:1: unknown key 'nmae' in the flow"), std::string::npos) << e;
}

TEST(FlowLoader, DuplicateKey) {
  std::string e = errors_of(with("timeout: 5s", "timeout: 5s\n    timeout: 6s"));
  EXPECT_NE(e.find("t.yaml:8:5: duplicate key 'timeout'"), std::string::npos) << e;
}

TEST(FlowLoader, MissingPrompt) {
  std::string e = errors_of(with("    prompt: \"Press 1.\"\n", ""));
  EXPECT_NE(e.find("t.yaml:4:3: step 'menu': missing 'prompt'"), std::string::npos) << e;
}

TEST(FlowLoader, EmptyPrompt) {
  std::string e = errors_of(with("prompt: \"Press 1.\"", "prompt: \"\""));
  EXPECT_NE(e.find("t.yaml:6:13: prompt: must not be empty"), std::string::npos) << e;
}

TEST(FlowLoader, ChoiceTargetNamesNoStep) {
  std::string e = errors_of(with("{\"1\": bye}", "{\"1\": by}"));
  EXPECT_NE(e.find("t.yaml:8:20: choices: no step named 'by'"), std::string::npos) << e;
}

TEST(FlowLoader, NextTargetNamesNoStep) {
  std::string yaml = with("choices: {\"1\": bye}", "choices: {\"1\": info}") +
                     "  info:\n    type: say\n    text: \"Info.\"\n    next: byee\n";
  std::string e = errors_of(yaml);
  EXPECT_NE(e.find("t.yaml:15:11: next: no step named 'byee'"), std::string::npos) << e;
}

TEST(FlowLoader, MissingNext) {
  std::string yaml = with("choices: {\"1\": bye}", "choices: {\"1\": info}") +
                     "  info:\n    type: say\n    text: \"Info.\"\n";
  std::string e = errors_of(yaml);
  EXPECT_NE(e.find("t.yaml:12:3: step 'info': missing 'next'"), std::string::npos) << e;
}

TEST(FlowLoader, BadDuration) {
  std::string e = errors_of(with("timeout: 5s", "timeout: 5x"));
  EXPECT_NE(e.find("t.yaml:7:14: timeout: bad duration '5x'"), std::string::npos) << e;
  e = errors_of(with("timeout: 5s", "timeout: 5"));
  EXPECT_NE(e.find("t.yaml:7:14: timeout: bad duration '5'"), std::string::npos) << e;
}

TEST(FlowLoader, DigitOutsideDtmf) {
  std::string e = errors_of(with("{\"1\": bye}", "{\"E\": bye}"));
  EXPECT_NE(e.find("t.yaml:8:15: choices: 'E' is not a DTMF digit"), std::string::npos) << e;
}

TEST(FlowLoader, UnquotedHashIsAComment) {
  std::string yaml = with("choices: {\"1\": bye}", "choices: {\"1\": echo}") +
                     "  echo:\n    type: echo\n    stop_digit: #\n    next: bye\n";
  std::string e = errors_of(yaml);
  EXPECT_NE(e.find("t.yaml:14:5: stop_digit: missing digit (in YAML, quote '#'"), std::string::npos)
      << e;
}

TEST(FlowLoader, StartNamesNoStep) {
  std::string e = errors_of(with("start: menu", "start: mneu"));
  EXPECT_NE(e.find("t.yaml:2:8: start: no step named 'mneu'"), std::string::npos) << e;
}

TEST(FlowLoader, UnreachableStep) {
  std::string e = errors_of(kValid + "  lost:\n    type: hangup\n");
  EXPECT_NE(e.find("t.yaml:12:3: step 'lost' is never reached from start"), std::string::npos) << e;
}

TEST(FlowLoader, TextMustBeCleanUtf8) {
  // yaml-cpp turns invalid input bytes into U+FFFD, so only escapes can smuggle in
  // control characters; a raw bad byte must at least not reach the engine as-is.
  LoadResult r = load_flow_text(with("\"Press 1.\"", "\"Press \xff 1.\""), "t.yaml");
  if (r.ok()) {
    EXPECT_EQ(r.flow->steps[0].text.find('\xff'), std::string::npos);
  }
  std::string e = errors_of(with("\"Press 1.\"", "\"Press \\x01 1.\""));
  EXPECT_NE(e.find("t.yaml:6:13: prompt: not valid UTF-8 text"), std::string::npos) << e;
  EXPECT_EQ(errors_of(with("\"Press 1.\"", "\"Tecle 1 para não.\"")), "");
}

TEST(FlowLoader, TextVariableMustBeCollected) {
  std::string e = errors_of(with("text: \"Bye.\"", "text: \"Bye {name}.\""));
  EXPECT_NE(
      e.find(
          "t.yaml:9:3: step 'bye': text uses {name} but no collect, ask or lookup step stores it"),
      std::string::npos)
      << e;
  LoadResult r = load_flow_file(example_flows() + "/collect.yaml");
  ASSERT_TRUE(r.ok()) << r.error_text();
  EXPECT_TRUE(r.flow->steps[1].uses_variables);
  auto texts = r.flow->fixed_texts();
  EXPECT_EQ(std::count(texts.begin(), texts.end(), r.flow->steps[1].text), 0);
}

TEST(FlowLoader, BadNumbers) {
  std::string e = errors_of(with("timeout: 5s", "retries: lots"));
  EXPECT_NE(e.find("t.yaml:7:14: retries: expected a whole number from 0 to 10"), std::string::npos)
      << e;
}

TEST(FlowLoader, MalformedYamlReportsPosition) {
  std::string e = errors_of("name: x\nsteps: {a: [1, 2\n");
  EXPECT_NE(e.find("t.yaml:3:"), std::string::npos) << e;
  EXPECT_NE(e.find("YAML:"), std::string::npos) << e;
}

TEST(FlowLoader, NotAMap) {
  EXPECT_NE(errors_of("- a\n- b\n").find("t.yaml:1:1: a flow file must be a map"),
            std::string::npos);
  EXPECT_NE(errors_of("").find("must be a map"), std::string::npos);
}

TEST(FlowLoader, SeveralErrorsAreAllReported) {
  std::string e = errors_of(with("timeout: 5s", "timeout: 5x\n    retry: 1"));
  EXPECT_NE(e.find("bad duration"), std::string::npos) << e;
  EXPECT_NE(e.find("unknown key 'retry'"), std::string::npos) << e;
}

TEST(FlowLoader, Limits) {
  std::string big(LoadLimits::kMaxFileBytes + 1, '#');
  EXPECT_NE(errors_of(big).find("t.yaml: file too large"), std::string::npos);

  std::string long_text = with("\"Press 1.\"", std::string(LoadLimits::kMaxTextChars + 1, 'a'));
  EXPECT_NE(errors_of(long_text).find("t.yaml:6:13: prompt: too long"), std::string::npos);

  std::string many = "start: s0\nsteps:\n";
  for (size_t i = 0; i <= LoadLimits::kMaxSteps; ++i) {
    many += "  s" + std::to_string(i) + ": {type: hangup}\n";
  }
  std::string e = errors_of(many);
  EXPECT_NE(e.find("t.yaml:" + std::to_string(LoadLimits::kMaxSteps + 3) + ":3: too many steps"),
            std::string::npos)
      << e.substr(0, 300);
}

TEST(FlowLoader, DeepNestingIsAnErrorNotACrash) {
  std::string deep(100000, '[');
  EXPECT_FALSE(errors_of("steps: " + deep).empty());
}

TEST(FlowLoader, MissingFile) {
  LoadResult r = load_flow_file("/nonexistent/x.yaml");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error_text(), "/nonexistent/x.yaml: cannot open file\n");
}

TEST(FlowLoader, FixedTextsListEveryPromptButNotTimeTemplates) {
  LoadResult r = load_flow_file(shipped_flows() + "/time.yaml");
  ASSERT_TRUE(r.ok()) << r.error_text();
  EXPECT_EQ(r.flow->fixed_texts(), std::vector<std::string>{"Goodbye."});
}

TEST(FlowDuration, Parses) {
  EXPECT_EQ(parse_duration("500ms"), Millis(500));
  EXPECT_EQ(parse_duration("5s"), Millis(5000));
  EXPECT_EQ(parse_duration("2m"), Millis(120000));
  EXPECT_EQ(parse_duration("60m"), Millis(3600000));
  EXPECT_FALSE(parse_duration("61m"));
  EXPECT_FALSE(parse_duration("5"));
  EXPECT_FALSE(parse_duration("s"));
  EXPECT_FALSE(parse_duration("-5s"));
  EXPECT_FALSE(parse_duration("5 s"));
  EXPECT_FALSE(parse_duration("99999999999999999999s"));
}

TEST(FlowClockText, FillsPlaceholders) {
  EXPECT_EQ(fill_time_template("The time is {time}.", 17, 42), "The time is 5 42 PM.");
  EXPECT_EQ(fill_time_template("{time}", 0, 5), "12 oh 5 AM");
  EXPECT_EQ(fill_time_template("{time}", 12, 0), "12 PM");
  EXPECT_EQ(fill_time_template("São {hour} horas e {minute} minutos", 9, 7),
            "São 9 horas e 7 minutos");
  EXPECT_EQ(fill_time_template("{hour12} {ampm} {x} {", 23, 1), "11 PM {x} {");
  std::string bad;
  EXPECT_FALSE(time_template_valid("at {hours}", &bad));
  EXPECT_EQ(bad, "hours");
  EXPECT_TRUE(time_template_valid("at {hour}:{minute}", &bad));
}

TEST(FlowLibrary, ShippedFlowsLoad) {
  FlowLibrary lib;
  auto errors = lib.load_dir(shipped_flows());
  for (auto& e : errors) ADD_FAILURE() << e.str();
  EXPECT_EQ(lib.names(),
            (std::vector<std::string>{"cobranca", "collections", "echo", "gate_resident", "ivr",
                                      "portaria", "time", "triage", "triagem", "ura"}));
  EXPECT_EQ(lib.find("ura")->voice.name, "pt-br");
  // The loader checks a dial step's `flow` only as a name; the shipped ones must exist.
  for (const auto& name : lib.names()) {
    for (const StepSpec& s : lib.find(name)->steps) {
      if (!s.child_flow.empty()) {
        EXPECT_NE(lib.find(s.child_flow), nullptr)
            << name << ": " << s.id << " runs " << s.child_flow;
      }
    }
  }
  EXPECT_EQ(lib.find("portaria")->steps[lib.find("portaria")->start].id, "name");
  EXPECT_EQ(lib.find("gate_resident")->inputs,
            (std::vector<std::string>{"apartment", "visiting", "intent_label", "visitor_name"}));
  auto phrases = lib.phrases(8000);
  EXPECT_GT(phrases.size(), 10u);
  for (auto& p : phrases) EXPECT_EQ(p.sample_rate, 8000);
}

TEST(FlowLibrary, DocExamplesLoad) {
  FlowLibrary lib;
  auto errors = lib.load_dir(example_flows());
  for (auto& e : errors) ADD_FAILURE() << e.str();
  EXPECT_EQ(lib.size(), 12u);
}

// Each full example in docs/flows.md is a copy of a file in flows/examples/, which the test
// above loads: this keeps the copy in the doc identical to the tested file.
TEST(FlowLibrary, DocExamplesMatchExampleFiles) {
  auto slurp = [](const std::filesystem::path& p) {
    std::ifstream in(p);
    return std::string(std::istreambuf_iterator<char>(in), {});
  };
  std::string doc = slurp(std::string(ATENDE_SOURCE_DIR) + "/docs/flows.md");
  ASSERT_FALSE(doc.empty());
  std::vector<std::string> files;
  for (auto& entry : std::filesystem::directory_iterator(example_flows())) {
    if (entry.path().extension() == ".yaml") files.push_back(slurp(entry.path()));  // not data/
  }
  int blocks = 0;
  for (size_t at = doc.find("```yaml\n"); at != std::string::npos;
       at = doc.find("```yaml\n", at + 1)) {
    size_t begin = at + 8, end = doc.find("```", begin);
    ASSERT_NE(end, std::string::npos);
    std::string block = doc.substr(begin, end - begin);
    if (block.rfind("name: example-", 0) != 0) continue;  // a fragment, not a whole flow
    ++blocks;
    EXPECT_NE(std::find(files.begin(), files.end(), block), files.end())
        << "docs/flows.md example differs from every flows/examples file:\n"
        << block;
  }
  EXPECT_EQ(blocks, static_cast<int>(files.size()));
}

TEST(FlowLibrary, ResolvePicksFlowByUserElseIvr) {
  FlowLibrary lib;
  ASSERT_TRUE(lib.load_dir(shipped_flows()).empty());
  EXPECT_EQ(lib.resolve("echo"), "echo");
  EXPECT_EQ(lib.resolve("ECHO"), "echo");
  EXPECT_EQ(lib.resolve("*43"), "echo");
  EXPECT_EQ(lib.resolve("*60"), "time");
  EXPECT_EQ(lib.resolve("9"), "ura");
  EXPECT_EQ(lib.resolve("2000"), "ivr");
  EXPECT_EQ(lib.resolve(""), "ivr");
  FlowLibrary empty;
  EXPECT_EQ(empty.resolve("x"), "");
}

TEST(FlowLibrary, CreateUnknownIsNull) {
  FlowLibrary lib;
  ASSERT_TRUE(lib.load_dir(shipped_flows()).empty());
  testing::FakeLeg leg;
  testing::FakePhrases phrases;
  testing::FakeHost host(leg, phrases);
  EXPECT_NE(lib.create("ivr", host), nullptr);
  EXPECT_EQ(lib.create("nope", host), nullptr);
}

TEST(FlowLibrary, ErrorsNameEachFileAndGoodFilesStillLoad) {
  auto dir =
      std::filesystem::temp_directory_path() / ("atende_flow_test_" + std::to_string(getpid()));
  std::filesystem::create_directories(dir);
  std::ofstream(dir / "good.yaml") << kValid;
  std::ofstream(dir / "bad1.yaml") << with("timeout: 5s", "timeout: 5x");
  std::ofstream(dir / "bad2.yaml") << "name: [";
  std::ofstream(dir / "clash.yaml") << with("name: demo", "name: other\naliases: [demo]");
  std::ofstream(dir / "notes.txt") << "not a flow";
  FlowLibrary lib;
  auto errors = lib.load_dir(dir);
  std::filesystem::remove_all(dir);
  ASSERT_EQ(errors.size(), 3u);
  EXPECT_NE(errors[0].str().find("bad1.yaml:7:14: timeout: bad duration"), std::string::npos);
  EXPECT_NE(errors[1].str().find("bad2.yaml:"), std::string::npos);
  EXPECT_NE(errors[2].str().find("good.yaml: name 'demo' is already used by"), std::string::npos)
      << errors[2].str();
  EXPECT_EQ(lib.names(), std::vector<std::string>{"other"});
}

TEST(FlowLibrary, MissingDirectoryIsAnError) {
  FlowLibrary lib;
  auto errors = lib.load_dir("/nonexistent-dir");
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_NE(errors[0].str().find("cannot read directory"), std::string::npos);
}

}  // namespace
}  // namespace atende::flow
