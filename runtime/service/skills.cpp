#include "runtime/service/skills.hpp"

#include <algorithm>
#include <filesystem>
#include <map>

#include <nlohmann/json.hpp>

#include "engine/graph.hpp"
#include "runtime/hydration/hydration.hpp"

namespace agentos::runtime {

void add_capabilities(nlohmann::json& party, const engine::rule_graph& g, const std::vector<std::string>& hydrated) {
  std::vector<std::string> declared;
  if (const auto it = party.find("capabilities"); it != party.end() && it->is_array()) {
    for (const auto& c : *it)
      if (c.is_string()) declared.push_back(c.get<std::string>());
  } else if (const auto id = party.find("id"); id != party.end() && id->is_string()) {
    if (const std::int32_t a = g.find_agent(id->get<std::string>()); a >= 0)
      declared = g.policy().agents[static_cast<std::size_t>(a)].capabilities;
  }
  declared.insert(declared.end(), hydrated.begin(), hydrated.end());
  std::sort(declared.begin(), declared.end());
  declared.erase(std::unique(declared.begin(), declared.end()), declared.end());
  party["capabilities"] = std::move(declared);
}

void add_hydrated_skills(nlohmann::json& party, const engine::rule_graph& g, const skill_source* skills) {
  if (!skills || !party.is_object()) return;
  const auto id = party.find("id");
  if (id == party.end() || !id->is_string()) return;
  if (auto hydrated = skills->skills_of(id->get<std::string>())) add_capabilities(party, g, *hydrated);
}

namespace {

class workspace_skill_source final : public skill_source {
 public:
  explicit workspace_skill_source(const hydration::config& cfg) {
    for (const auto& ws : cfg.workspaces)
      for (const auto& agent : ws.agents) m_workspace.emplace(agent, ws.path);
  }
  std::optional<std::vector<std::string>> skills_of(std::string_view agent) const override {
    const auto it = m_workspace.find(agent);
    if (it == m_workspace.end()) return std::nullopt;
    return hydration::hydrated_skills(it->second);
  }

 private:
  std::map<std::string, std::filesystem::path, std::less<>> m_workspace;
};

}  // namespace

std::shared_ptr<const skill_source> workspace_skills(const hydration::config& cfg) {
  return std::make_shared<workspace_skill_source>(cfg);
}

}  // namespace agentos::runtime
