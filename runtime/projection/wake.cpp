#include "runtime/projection/wake.hpp"

#include <nlohmann/json.hpp>

#include "runtime/service/api.hpp"  // json_depth_within

namespace agentos::runtime::projection {

namespace {

using nlohmann::json;

constexpr std::string_view task_key = "agentos-task:";

bool id_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_' ||
         c == '.' || c == ':';
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
  return s;
}

// The string at `pointer` in `j`, or "" when it is absent or not a string.
std::string text_at(const json& j, const char* pointer) {
  const json::json_pointer p(pointer);
  if (!j.contains(p)) return {};
  const json& v = j.at(p);
  return v.is_string() ? v.get<std::string>() : std::string();
}

}  // namespace

std::optional<std::string> find_task_line(std::string_view text) {
  while (!text.empty()) {
    const auto nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text = nl == std::string_view::npos ? std::string_view() : text.substr(nl + 1);
    line = trim(line);
    if (!line.starts_with(task_key)) continue;
    const std::string_view id = trim(line.substr(task_key.size()));
    if (id.empty() || id.size() > 128) return std::nullopt;
    for (const char c : id)
      if (!id_char(c)) return std::nullopt;
    return std::string(id);
  }
  return std::nullopt;
}

std::variant<wake, wake_error> parse_wake(std::string_view body, std::size_t max_depth) {
  if (!json_depth_within(body, max_depth))
    return wake_error{"wake.bad_json", "the body nests deeper than " + std::to_string(max_depth) + " levels", ""};
  const json j = json::parse(body, nullptr, false);
  if (j.is_discarded()) return wake_error{"wake.bad_json", "the body is not valid JSON", ""};
  if (!j.is_object()) return wake_error{"wake.not_an_object", "the body must be a JSON object (a Paperclip wake)", ""};
  auto missing = [](const char* field, const char* type) {
    return wake_error{"wake.missing_field", std::string("`") + field + "` must be " + type + " (Paperclip sends it with every wake)",
                      field};
  };
  const auto run = j.find("runId");
  if (run == j.end() || !run->is_string() || run->get_ref<const std::string&>().empty()) return missing("runId", "a non-empty string");
  const auto agent = j.find("agentId");
  if (agent == j.end() || !agent->is_string() || agent->get_ref<const std::string&>().empty())
    return missing("agentId", "a non-empty string");
  const auto context = j.find("context");
  if (context == j.end() || !context->is_object()) return missing("context", "an object");

  wake w;
  w.run_id = run->get<std::string>();
  w.paperclip_agent = agent->get<std::string>();
  if (const auto a = j.find("agentos_agent"); a != j.end() && a->is_string()) w.agent = a->get<std::string>();
  w.reason = text_at(*context, "/wakeReason");
  w.issue = text_at(*context, "/paperclipWake/issue/identifier");
  if (w.issue.empty()) w.issue = text_at(*context, "/issueId");
  // The description is where the projector writes the line; the task's Markdown rendering that
  // Paperclip also sends contains the description, so it serves when the issue object is absent.
  const std::string description = text_at(*context, "/paperclipWake/issue/description");
  if (auto id = find_task_line(description)) {
    w.task = std::move(*id);
  } else if (description.empty()) {
    if (auto from_markdown = find_task_line(text_at(*context, "/paperclipTaskMarkdown"))) w.task = std::move(*from_markdown);
  }
  return w;
}

}  // namespace agentos::runtime::projection
