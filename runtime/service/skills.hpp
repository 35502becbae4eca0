// What the runtime knows of the skills hydrated into each agent's workspace. An agent's effective
// capabilities are the ones the org (or its registration) declares plus the skills its workspace
// holds, so a rule such as `assignment.capabilities contains "submit-plan"` reads what the agent
// can actually run. The pipeline asks for the actor of a transition and for whoever the
// transition hands the task to, and records the answer in the audit input, so replay never
// depends on the file system.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json_fwd.hpp>

namespace agentos::engine {
class rule_graph;
}

namespace agentos::runtime {

namespace hydration {
struct config;
}

class skill_source {
 public:
  virtual ~skill_source() = default;
  // The skills hydrated for `agent`, sorted and unique; nullopt when this source knows no
  // workspace for the agent (its declared capabilities then stand alone). Called on the writer
  // thread, so it must be quick and must not throw.
  [[nodiscard]] virtual std::optional<std::vector<std::string>> skills_of(std::string_view agent) const = 0;
};

// `party` (an actor or assignment object as engine::request_from_json reads one) with `hydrated`
// added to its capabilities: to the ones it gives, else to the ones the org declares for its id.
void add_capabilities(nlohmann::json& party, const engine::rule_graph& g, const std::vector<std::string>& hydrated);

// add_capabilities with what `skills` knows of the party's id; nothing when `skills` is null, the
// party is not an object with an id, or no workspace is known for it.
void add_hydrated_skills(nlohmann::json& party, const engine::rule_graph& g, const skill_source* skills);

// The skills hydrated into the workspaces `cfg` declares, for each agent a workspace names. Every
// call reads the workspace as it is (its manifest, then a readlink and a stat per managed link:
// hydration::hydrated_skills), so a hydration run, or a skill source deleted under a link, shows
// at the next transition without a restart.
[[nodiscard]] std::shared_ptr<const skill_source> workspace_skills(const hydration::config& cfg);

}  // namespace agentos::runtime
