// A checked policy set: the modules of one entry file and its imports, assembled by layer, with
// every name resolved and every expression typed. This is what the engine lowers into a rule
// graph. It owns the ASTs it points into; it is immutable once the checker returns it, so any
// number of threads may read it.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "dsl/ast.hpp"

namespace agentos::dsl {

struct role_info {
  std::string name;
  std::int32_t parent = -1;  // index into roles, -1 for a root of the org forest
  const ast::role_decl* decl = nullptr;
};

struct agent_info {
  std::string name;
  std::int32_t role = -1;
  ast::actor_kind_value kind = ast::actor_kind_value::agent;
  std::vector<std::string> capabilities;
  const ast::agent_decl* decl = nullptr;
};

struct attribute_info {
  std::string name;
  ast::type_kind kind = ast::type_kind::string;
  std::vector<std::string> members;  // enum members in order
  ast::presence how = ast::presence::optional;
  const ast::expr* default_value = nullptr;  // typed; null when none
  const ast::attr_decl* decl = nullptr;
};

struct state_info {
  std::string name;
  bool initial = false;
  bool terminal = false;
  span where;  // where it is declared
};

struct group_info {
  std::string name;
  std::vector<std::int32_t> states;
  const ast::group_decl* decl = nullptr;
};

// One edge; wildcard and group sources are expanded to one edge per source state.
struct transition_info {
  std::int32_t from = -1;
  std::int32_t to = -1;
  std::int32_t event = -1;
  const ast::expr* guard = nullptr;  // may be null
  const ast::transition_decl* decl = nullptr;
};

// A rule as it survives layering: `layer` is the layer of the file that defined it (after
// override, the overriding one), `order` its position in the assembled order.
struct route_info {
  const ast::route_rule* rule = nullptr;
  ast::layer level = ast::layer::project;
  std::int32_t target = -1;  // role or agent index, per rule->to.kind
};

struct gate_info {
  const ast::gate_rule* rule = nullptr;
  ast::layer level = ast::layer::project;
};

struct permission_info {
  const ast::permission_rule* rule = nullptr;
  ast::layer level = ast::layer::project;
  std::vector<std::int32_t> events;
};

struct resolved_target {
  ast::target_kind kind = ast::target_kind::role;
  std::int32_t index = -1;  // role or agent index; -1 for parent and operator
};

struct escalation_info {
  const ast::escalation_rule* rule = nullptr;
  ast::layer level = ast::layer::project;
  resolved_target to;
};

struct obligation_info {
  const ast::obligation_rule* rule = nullptr;
  ast::layer level = ast::layer::project;
  std::vector<std::int32_t> events;
  std::vector<resolved_target> targets;  // parallel to rule->actions
};

struct invariant_info {
  const ast::invariant_decl* decl = nullptr;
  std::vector<std::int32_t> from;  // resolved state sets
  std::vector<std::int32_t> to;
  std::int32_t event = -1;
};

struct policy_set {
  std::string name;
  std::string version;
  file_id entry = no_file;
  std::vector<ast::module> modules;  // assembly order: by layer, then imports before importers

  std::vector<role_info> roles;
  std::vector<agent_info> agents;
  std::vector<attribute_info> attributes;
  std::vector<state_info> states;
  std::vector<std::string> events;
  std::vector<group_info> groups;
  std::vector<transition_info> transitions;
  std::int32_t initial = -1;

  std::vector<route_info> routes;  // decision order: higher layer first, then source order
  route_info fallback;             // rule == nullptr when there is none
  std::vector<gate_info> gates;
  std::vector<permission_info> permissions;  // source order (forbid overrides permit regardless)
  std::vector<escalation_info> escalations;
  std::vector<obligation_info> obligations;
  std::vector<invariant_info> invariants;

  [[nodiscard]] std::int32_t find_state(std::string_view name) const;
  [[nodiscard]] std::int32_t find_event(std::string_view name) const;
  [[nodiscard]] std::int32_t find_role(std::string_view name) const;
  [[nodiscard]] std::int32_t find_agent(std::string_view name) const;
  [[nodiscard]] std::int32_t find_attribute(std::string_view name) const;
};

}  // namespace agentos::dsl
