// The abstract syntax tree of one policy file, with byte-offset spans on every node. The parser
// builds it (parser.hpp); the checker (checker.hpp) resolves names and types and writes its
// findings into the `resolved` fields of expressions, so the engine can lower a checked AST with
// no name lookups. Nodes own their children; a module owns everything parsed from one file.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "dsl/source.hpp"

namespace agentos::dsl::ast {

struct ident {
  std::string text;
  span where;
};

struct string_lit {
  std::string value;  // unescaped
  span where;
};

// ---------------------------------------------------------------------------------------------
// Types

enum class type_kind : std::uint8_t {
  error,  // result of a failed check; suppresses cascades
  string,
  int_,
  decimal,
  bool_,
  duration,
  timestamp,
  enum_,       // a task attribute's own enum; members in declaration order (ordered)
  string_set,  // set<string>
  role,        // an org role
  state,       // a lifecycle state
  event,       // a lifecycle event
  mode,        // direct | plan_first (ordered: direct < plan_first)
  actor_kind,  // agent | human | operator
  symbol_set,  // a set literal of bare names whose element type is fixed by context
};

// A type as the checker sees it. `enum_attr` identifies which attribute's enum for enum_, and the
// element type for sets of enums/roles/states in set literals.
struct type_ref {
  type_kind kind = type_kind::error;
  std::int32_t enum_attr = -1;             // index into policy_set::attributes when kind == enum_
  type_kind element = type_kind::error;    // for set literals of non-string elements
  friend bool operator==(const type_ref&, const type_ref&) = default;
};

// A type as written in a `task { … }` block.
struct type_expr {
  type_kind kind = type_kind::error;  // string, int_, decimal, bool_, duration, timestamp, enum_, string_set
  std::vector<ident> enum_members;
  span where;
};

// ---------------------------------------------------------------------------------------------
// Expressions

enum class expr_kind : std::uint8_t {
  string_lit,
  int_lit,
  decimal_lit,   // fixed point, value in millionths
  duration_lit,  // milliseconds
  bool_lit,
  path,    // task.risk, actor.capabilities, now, event
  symbol,  // a bare name: enum member, role, state, event, mode or actor kind, resolved by context
  set,     // { a, b, "c" }
  not_,
  binary,
};

enum class binary_op : std::uint8_t {
  and_,
  or_,
  eq,
  ne,
  lt,
  le,
  gt,
  ge,
  in,
  not_in,
  contains,     // set contains element
  subset,       // every element of the left set is in the right set
  parent_of,    // role relation: left reports directly... left is the parent of right
  ancestor_of,  // left is a transitive parent of right
};

// The operator as written in policy text (`not in` for not_in).
[[nodiscard]] std::string_view spelling(binary_op op);

// What a path or symbol resolved to, filled in by the checker.
enum class field : std::uint8_t {
  none,
  // task built-ins
  task_id,
  task_project,
  task_labels,
  task_state,
  task_mode,
  task_assignee,
  task_assignee_role,
  task_attempts,
  task_entered_at,
  task_created_at,
  task_time_in_state,
  task_age,
  task_escalation_requested,
  task_attribute,  // a declared attribute; `index` is its index in policy_set::attributes
  // actor
  actor_id,
  actor_role,
  actor_kind,
  actor_capabilities,
  // assignment: who holds the task once the event is applied
  assignment_id,
  assignment_role,
  assignment_kind,
  assignment_capabilities,
  // context
  now,
  event,
};

struct resolution {
  type_ref type;
  field what = field::none;  // for paths
  std::int32_t index = -1;   // attribute index (task_attribute); for symbols the member/role/state/event/mode/kind index
};

struct expr {
  expr_kind kind = expr_kind::bool_lit;
  span where;
  binary_op op = binary_op::and_;
  std::string text;               // string literal value, or the symbol name
  std::vector<ident> path;        // path segments
  std::int64_t number = 0;        // int, decimal (millionths), duration (ms), bool (0/1)
  std::vector<std::unique_ptr<expr>> children;  // not_: 1, binary: 2, set: n
  resolution resolved;            // filled by the checker
};

using expr_ptr = std::unique_ptr<expr>;

// ---------------------------------------------------------------------------------------------
// Declarations. Every declaration keeps its doc comment (`///` lines before it) and span.

struct role_decl {
  ident name;
  std::optional<ident> reports_to;
  std::string doc;
  span where;
};

enum class actor_kind_value : std::uint8_t { agent, human, operator_ };

struct agent_decl {
  ident name;
  ident role;
  actor_kind_value kind = actor_kind_value::agent;
  bool kind_written = false;
  std::vector<string_lit> capabilities;
  bool capabilities_written = false;
  std::string doc;
  span where;
};

struct org_block {
  std::vector<std::variant<role_decl, agent_decl>> items;
  span where;
};

enum class presence : std::uint8_t { optional, required, defaulted };

struct attr_decl {
  ident name;
  type_expr type;
  presence how = presence::optional;
  expr_ptr default_value;  // when how == defaulted
  std::string doc;
  span where;
};

struct task_block {
  std::vector<attr_decl> attributes;
  span where;
};

// A source or target state set: one name (state or group) or `*` (any non-terminal state).
struct state_ref {
  bool any = false;
  ident name;
  span where;
};

struct states_decl {
  std::vector<ident> names;
  span where;
};
struct initial_decl {
  ident name;
  span where;
};
struct terminal_decl {
  std::vector<ident> names;
  span where;
};
struct group_decl {
  ident name;
  std::vector<ident> members;
  std::string doc;
  span where;
};
struct transition_decl {
  state_ref from;
  ident to;
  ident event;
  expr_ptr guard;  // may be null
  std::string doc;
  span where;
};

using lifecycle_item = std::variant<states_decl, initial_decl, terminal_decl, group_decl, transition_decl>;

struct lifecycle_block {
  std::vector<lifecycle_item> items;
  span where;
};

enum class target_kind : std::uint8_t { role, agent, parent, operator_ };

struct target {
  target_kind kind = target_kind::role;
  ident name;  // for role and agent
  span where;
};

struct route_rule {
  bool is_override = false;
  bool is_fallback = false;  // `otherwise -> …`; its name is "otherwise"
  ident name;
  expr_ptr when;  // null for the fallback
  target to;      // role or agent
  std::string doc;
  span where;
};

struct routing_block {
  std::vector<route_rule> routes;
  span where;
};

struct gate_rule {
  bool is_override = false;
  ident name;
  expr_ptr when;
  std::optional<string_lit> reason;
  std::string doc;
  span where;
};

enum class effect : std::uint8_t { permit, forbid };

struct permission_rule {
  bool is_override = false;
  effect kind = effect::permit;
  ident name;
  std::vector<ident> events;
  expr_ptr when;  // may be null: always applies
  std::optional<string_lit> reason;  // required for forbid
  std::string doc;
  span where;
};

struct escalation_rule {
  bool is_override = false;
  ident name;
  expr_ptr when;
  target to;
  std::string doc;
  span where;
};

enum class obligation_action_kind : std::uint8_t { notify, require_review };

struct obligation_action {
  obligation_action_kind kind = obligation_action_kind::notify;
  target who;
  span where;
};

struct obligation_rule {
  bool is_override = false;
  ident name;
  std::vector<ident> events;
  expr_ptr when;  // may be null
  std::vector<obligation_action> actions;
  std::string doc;
  span where;
};

enum class invariant_kind : std::uint8_t {
  passes,      // [when C] every path to S passes EVENT
  reachable,   // reachable S
  terminates,  // terminates from S
  never,       // never S -> S
};

struct invariant_decl {
  bool is_override = false;
  ident name;
  invariant_kind kind = invariant_kind::passes;
  expr_ptr when;  // passes only; may be null
  state_ref from;  // never: source; terminates: the set; reachable: the set
  state_ref to;    // passes: the target set; never: the target
  ident event;     // passes
  std::string doc;
  span where;
};

using declaration = std::variant<org_block, task_block, lifecycle_block, routing_block, gate_rule, permission_rule,
                                 escalation_rule, obligation_rule, invariant_decl>;

enum class layer : std::uint8_t { global = 0, shared = 1, project = 2 };

struct import_decl {
  string_lit path;
  span where;
};

struct comment {
  span where;  // including the `//`, `///` or `/* */` markers
  bool is_doc = false;
};

struct header {
  ident name;
  string_lit version;
  layer level = layer::project;
  bool layer_written = false;
  span where;
};

// Everything parsed from one file.
struct module {
  file_id file = no_file;
  std::optional<header> head;  // missing only when the file failed to parse
  std::vector<import_decl> imports;
  std::vector<declaration> declarations;  // in source order
  std::vector<comment> comments;          // in source order, for the formatter
};

}  // namespace agentos::dsl::ast
