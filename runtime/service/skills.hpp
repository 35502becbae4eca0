// What the runtime knows of the skills hydrated into each agent's workspace. An agent's effective
// capabilities are the ones the org (or its registration) declares plus the skills its workspace
// holds, so a rule such as `assignment.capabilities contains "submit-plan"` reads what the agent
// can actually run. The pipeline asks for the actor of a transition and for whoever the
// transition hands the task to, and records the answer in the audit input, so replay never
// depends on the file system.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace agentos::runtime {

class skill_source {
 public:
  virtual ~skill_source() = default;
  // The skills hydrated for `agent`, sorted and unique; nullopt when this source knows no
  // workspace for the agent (its declared capabilities then stand alone). Called on the writer
  // thread, so it must be quick and must not throw.
  [[nodiscard]] virtual std::optional<std::vector<std::string>> skills_of(std::string_view agent) const = 0;
};

// `declared` plus `hydrated`, sorted and unique.
[[nodiscard]] std::vector<std::string> merge_capabilities(std::vector<std::string> declared,
                                                          const std::vector<std::string>& hydrated);

}  // namespace agentos::runtime
