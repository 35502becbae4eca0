// Diagnostics are data: a stable code, a severity, a primary span, a message, secondary labels,
// notes and help. The front end and the engine's graph lints both produce them; renderers
// (render.hpp) turn them into text, JSON or SARIF. Codes and their default severities live in one
// table (codes.hpp) so documentation and tests can enumerate them.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "dsl/source.hpp"

namespace agentos::dsl {

enum class severity { error, warning, note };

[[nodiscard]] std::string_view to_string(severity s);

struct label {
  span where;
  std::string message;
};

struct diagnostic {
  std::string code;  // "E1001", "W0101", ...
  severity level = severity::error;
  span primary;
  std::string message;
  std::vector<label> labels;  // secondary spans, e.g. "first defined here"
  std::vector<std::string> notes;
  std::string help;  // e.g. "did you mean `priority`?"
};

// What the user asked for about warnings, by warning name (see codes.hpp): allow silences,
// deny promotes to an error. `deny_all_warnings` is `--deny warnings`.
struct warning_options {
  std::vector<std::string> allow;
  std::vector<std::string> deny;
  bool deny_all_warnings = false;
};

// Collects diagnostics from every pass. finish() applies warning options, sorts by location and
// removes exact duplicates (the same file can be checked as part of several policy sets).
class diagnostics {
 public:
  void add(diagnostic d) { m_items.push_back(std::move(d)); }
  diagnostic& emplace(std::string code, span primary, std::string message);

  void finish(const warning_options& options = {});

  [[nodiscard]] const std::vector<diagnostic>& items() const { return m_items; }
  [[nodiscard]] std::size_t count(severity s) const;
  [[nodiscard]] bool has_errors() const { return count(severity::error) > 0; }
  [[nodiscard]] bool empty() const { return m_items.empty(); }
  void clear() { m_items.clear(); }

 private:
  std::vector<diagnostic> m_items;
};

// The closest of `candidates` to `name` by edit distance, or empty when none is close enough to
// be a plausible typo. Used for "did you mean `priority`?".
[[nodiscard]] std::string closest_name(std::string_view name, const std::vector<std::string_view>& candidates);

}  // namespace agentos::dsl
