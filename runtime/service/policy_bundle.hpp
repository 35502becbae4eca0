// A policy as the store keeps it: the entry file and every file it imports, as text, with paths
// relative to the entry's directory. The store records the bundle of every policy version it ever
// activated, so `agentos audit verify` can recompile the exact policy a decision was made under
// and replay the decision, whatever has happened to the files on disk since.
#pragma once

#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "engine/graph.hpp"

namespace agentos::runtime {

struct policy_bundle {
  std::string entry;                         // relative path of the entry file
  std::map<std::string, std::string> files;  // relative path -> text, the entry included

  [[nodiscard]] nlohmann::json to_json() const;
  static std::optional<policy_bundle> from_json(const nlohmann::json& j);
};

struct compiled_policy {
  std::shared_ptr<const engine::rule_graph> graph;  // null when the policy has errors
  std::shared_ptr<const policy_bundle> bundle;
  std::string problems;  // rendered diagnostics (text) when graph is null
  // Every diagnostic, warnings included, as `agentos check --format json` gives them (code,
  // severity, message, file, line, column, ...). A bundle's files are named by their paths in it.
  nlohmann::json diagnostics = nlohmann::json::array();
};

// Reads `entry` and its imports from disk, checks them (warnings allowed, errors not: exactly
// what `agentos check` accepts) and compiles the graph.
[[nodiscard]] compiled_policy load_policy(const std::filesystem::path& entry);

// Compiles a bundle without touching the disk.
[[nodiscard]] compiled_policy compile_bundle(policy_bundle bundle);

}  // namespace agentos::runtime
