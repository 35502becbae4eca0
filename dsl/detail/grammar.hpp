// The PEGTL grammar of the policy language, one struct per rule, formatted as a grammar. Private to
// the dsl library (parser.cpp and the grammar's own analyze test include it). Every point where the
// parser commits (`must<>`, `if_must<>`, `raise<>`) names a rule that has an entry in the message
// table (parser.cpp, `error_info`), so each syntax error gets a stable code and a precise message.
// Recovery: a failed declaration or block item is caught (`try_catch`) after its error has been
// recorded, and the parser skips to the next line that can start a declaration or item.
#pragma once

#include <tao/pegtl.hpp>
#include <tao/pegtl/contrib/analyze_traits.hpp>

namespace agentos::dsl::grammar {

using namespace tao::pegtl;

inline constexpr std::size_t max_nesting = 200;

// Rules that exist only to name an error point.
struct too_deep : failure {};
struct reserved_word : failure {};

// Guards recursion: more than Max nested matches of Rule raise `too_deep`.
template <std::size_t Max, typename Rule>
struct depth_limited {
  using rule_t = depth_limited;
  using subs_t = type_list<Rule>;

  template <apply_mode A, rewind_mode M, template <typename...> class Action, template <typename...> class Control,
            typename ParseInput, typename... States>
  [[nodiscard]] static bool match(ParseInput& in, States&&... st) {
    struct guard {
      std::size_t& depth;
      explicit guard(std::size_t& d) : depth(d) { ++depth; }
      ~guard() { --depth; }
      guard(const guard&) = delete;
      guard& operator=(const guard&) = delete;
    } g(in.private_depth);
    if (in.private_depth > Max) Control<too_deep>::raise(static_cast<const ParseInput&>(in), st...);
    return Control<Rule>::template match<A, M, Action, Control>(in, st...);
  }
};

// ---------------------------------------------------------------------------------------------
// Lexical structure. Comments are whitespace here; the scanner (parser.cpp) collects them for the
// formatter and doc comments, and reports unterminated ones.

struct line_comment : seq<two<'/'>, until<eolf>> {};
struct block_comment : seq<string<'/', '*'>, until<sor<string<'*', '/'>, eof>>> {};
struct ws : sor<plus<space>, line_comment, block_comment> {};
struct sp : star<ws> {};
struct blanks : star<blank> {};

struct kw_policy : TAO_PEGTL_KEYWORD("policy") {};
struct kw_version : TAO_PEGTL_KEYWORD("version") {};
struct kw_layer : TAO_PEGTL_KEYWORD("layer") {};
struct kw_import : TAO_PEGTL_KEYWORD("import") {};
struct kw_org : TAO_PEGTL_KEYWORD("org") {};
struct kw_role : TAO_PEGTL_KEYWORD("role") {};
struct kw_agent : TAO_PEGTL_KEYWORD("agent") {};
struct kw_reports_to : TAO_PEGTL_KEYWORD("reports_to") {};
struct kw_kind : TAO_PEGTL_KEYWORD("kind") {};
struct kw_capabilities : TAO_PEGTL_KEYWORD("capabilities") {};
struct kw_task : TAO_PEGTL_KEYWORD("task") {};
struct kw_required : TAO_PEGTL_KEYWORD("required") {};
struct kw_optional : TAO_PEGTL_KEYWORD("optional") {};
struct kw_lifecycle : TAO_PEGTL_KEYWORD("lifecycle") {};
struct kw_states : TAO_PEGTL_KEYWORD("states") {};
struct kw_initial : TAO_PEGTL_KEYWORD("initial") {};
struct kw_terminal : TAO_PEGTL_KEYWORD("terminal") {};
struct kw_group : TAO_PEGTL_KEYWORD("group") {};
struct kw_on : TAO_PEGTL_KEYWORD("on") {};
struct kw_when : TAO_PEGTL_KEYWORD("when") {};
struct kw_routing : TAO_PEGTL_KEYWORD("routing") {};
struct kw_route : TAO_PEGTL_KEYWORD("route") {};
struct kw_otherwise : TAO_PEGTL_KEYWORD("otherwise") {};
struct kw_gate : TAO_PEGTL_KEYWORD("gate") {};
struct kw_because : TAO_PEGTL_KEYWORD("because") {};
struct kw_permit : TAO_PEGTL_KEYWORD("permit") {};
struct kw_forbid : TAO_PEGTL_KEYWORD("forbid") {};
struct kw_escalate : TAO_PEGTL_KEYWORD("escalate") {};
struct kw_obligation : TAO_PEGTL_KEYWORD("obligation") {};
struct kw_then : TAO_PEGTL_KEYWORD("then") {};
struct kw_notify : TAO_PEGTL_KEYWORD("notify") {};
struct kw_require : TAO_PEGTL_KEYWORD("require") {};
struct kw_review : TAO_PEGTL_KEYWORD("review") {};
struct kw_by : TAO_PEGTL_KEYWORD("by") {};
struct kw_invariant : TAO_PEGTL_KEYWORD("invariant") {};
struct kw_every : TAO_PEGTL_KEYWORD("every") {};
struct kw_path : TAO_PEGTL_KEYWORD("path") {};
struct kw_to : TAO_PEGTL_KEYWORD("to") {};
struct kw_passes : TAO_PEGTL_KEYWORD("passes") {};
struct kw_reachable : TAO_PEGTL_KEYWORD("reachable") {};
struct kw_terminates : TAO_PEGTL_KEYWORD("terminates") {};
struct kw_from : TAO_PEGTL_KEYWORD("from") {};
struct kw_never : TAO_PEGTL_KEYWORD("never") {};
struct kw_override : TAO_PEGTL_KEYWORD("override") {};
struct kw_parent : TAO_PEGTL_KEYWORD("parent") {};
struct kw_operator : TAO_PEGTL_KEYWORD("operator") {};
struct kw_and : TAO_PEGTL_KEYWORD("and") {};
struct kw_or : TAO_PEGTL_KEYWORD("or") {};
struct kw_not : TAO_PEGTL_KEYWORD("not") {};
struct kw_in : TAO_PEGTL_KEYWORD("in") {};
struct kw_contains : TAO_PEGTL_KEYWORD("contains") {};
struct kw_subset : TAO_PEGTL_KEYWORD("subset") {};
struct kw_parent_of : TAO_PEGTL_KEYWORD("parent_of") {};
struct kw_ancestor_of : TAO_PEGTL_KEYWORD("ancestor_of") {};
struct kw_true : TAO_PEGTL_KEYWORD("true") {};
struct kw_false : TAO_PEGTL_KEYWORD("false") {};

// Words that can never be names: they can follow a name or an operand, so a name spelled like
// one of them would be ambiguous. Other keywords are contextual.
struct reserved : sor<kw_and, kw_or, kw_not, kw_in, kw_contains, kw_subset, kw_parent_of, kw_ancestor_of, kw_true,
                      kw_false, kw_when, kw_because, kw_then, kw_every, kw_on, kw_override, kw_otherwise, kw_role> {};

struct name : seq<not_at<reserved>, identifier> {};
// A name where one is required: a reserved word there gets its own message.
struct req_name : sor<name, seq<at<reserved>, tao::pegtl::raise<reserved_word>>> {};

// Punctuation, each a named rule so a missing one has its own message.
struct arrow : string<'-', '>'> {};
struct lbrace : one<'{'> {};
struct rbrace : one<'}'> {};
struct lparen : one<'('> {};
struct rparen : one<')'> {};
struct comma : one<','> {};
struct colon : one<':'> {};
struct equals : one<'='> {};
struct dot : one<'.'> {};
struct star_any : one<'*'> {};
struct lt_angle : one<'<'> {};
struct gt_angle : one<'>'> {};

// ---------------------------------------------------------------------------------------------
// Literals

struct escape_code : one<'"', '\\', 'n', 't'> {};
struct escape : if_must<one<'\\'>, escape_code> {};
struct string_char : sor<escape, not_one<'"', '\\', '\r', '\n'>> {};
struct string_rest : until<one<'"'>, string_char> {};
struct string_lit : if_must<one<'"'>, string_rest> {};

struct duration_unit : sor<string<'m', 's'>, one<'s', 'm', 'h', 'd'>> {};
struct duration_lit : seq<plus<digit>, duration_unit, star<plus<digit>, duration_unit>> {};
struct decimal_lit : seq<opt<one<'-'>>, plus<digit>, one<'.'>, plus<digit>> {};
struct int_lit : seq<opt<one<'-'>>, plus<digit>> {};
struct bad_literal : seq<identifier_other> {};
// A number-like token followed by letters (`5x`) is one malformed literal, not two tokens.
struct number_lit : seq<at<opt<one<'-'>>, digit>, sor<duration_lit, decimal_lit, int_lit>, not_at<bad_literal>> {};
struct malformed_number : seq<opt<one<'-'>>, digit, star<sor<identifier_other, one<'.'>>>> {};
struct true_lit : kw_true {};
struct false_lit : kw_false {};
// Cheap lookaheads first: a failed attempt at a rule the parse tree keeps costs a node.
struct literal : sor<seq<at<one<'"'>>, string_lit>, number_lit, seq<at<one<'t'>>, true_lit>, seq<at<one<'f'>>, false_lit>> {};

// ---------------------------------------------------------------------------------------------
// Expressions. Precedence, low to high: or, and, not, comparison. Comparisons do not chain.

struct expr;
struct path_segment : identifier {};
struct path : seq<name, star<dot, must<path_segment>>> {};
struct set_element : sor<literal, path> {};
struct set_lit : if_must<lbrace, sp, opt<set_element, star<sp, comma, sp, must<set_element>>>, sp, rbrace> {};
struct paren_expr : if_must<lparen, sp, depth_limited<max_nesting, expr>, sp, rparen> {};
struct declaration_start;
// A declaration keyword is never an operand, so an unfinished condition does not swallow the next rule.
struct operand : sor<paren_expr, seq<at<lbrace>, set_lit>, literal, malformed_number, seq<not_at<declaration_start>, path>> {};

struct op_eq : string<'=', '='> {};
struct op_ne : string<'!', '='> {};
struct op_le : string<'<', '='> {};
struct op_ge : string<'>', '='> {};
struct op_lt : seq<one<'<'>, not_at<one<'-'>>> {};
struct op_gt : one<'>'> {};
struct op_not_in : seq<kw_not, sp, kw_in> {};
struct op_in : kw_in {};
struct op_contains : kw_contains {};
struct op_subset : kw_subset {};
struct op_parent_of : kw_parent_of {};
struct op_ancestor_of : kw_ancestor_of {};
struct cmp_op : sor<op_eq, op_ne, op_le, op_ge, op_lt, op_gt, op_not_in, op_in, op_contains, op_subset, op_parent_of,
                    op_ancestor_of> {};
struct comparison : seq<operand, opt<sp, cmp_op, sp, must<operand>>> {};
struct not_expr;
struct negation : if_must<kw_not, sp, depth_limited<max_nesting, not_expr>> {};
struct not_expr : sor<negation, comparison> {};
struct and_expr : seq<not_expr, star<sp, kw_and, sp, must<not_expr>>> {};
struct or_expr : seq<and_expr, star<sp, kw_or, sp, must<and_expr>>> {};
struct expr : seq<or_expr> {};
struct condition : seq<kw_when, sp, must<expr>> {};

// ---------------------------------------------------------------------------------------------
// Header and imports

struct layer_name : sor<TAO_PEGTL_KEYWORD("global"), TAO_PEGTL_KEYWORD("shared"), TAO_PEGTL_KEYWORD("project")> {};
struct layer_clause : if_must<kw_layer, sp, layer_name> {};
struct header_rest : seq<sp, req_name, sp, must<kw_version>, sp, must<string_lit>, opt<sp, layer_clause>> {};
struct header : if_must<kw_policy, header_rest> {};
struct import_decl : if_must<kw_import, sp, string_lit> {};

// ---------------------------------------------------------------------------------------------
// org { role NAME [reports_to NAME]  agent NAME role NAME [kind K] [capabilities {…}] }

struct reports_to : if_must<kw_reports_to, sp, req_name> {};
struct role_decl : if_must<kw_role, sp, req_name, opt<sp, reports_to>> {};
struct actor_kind_name : sor<kw_agent, TAO_PEGTL_KEYWORD("human"), kw_operator> {};
struct kind_clause : if_must<kw_kind, sp, actor_kind_name> {};
struct capability_list : if_must<lbrace, sp, opt<string_lit, star<sp, comma, sp, must<string_lit>>>, sp, rbrace> {};
struct capabilities_clause : if_must<kw_capabilities, sp, capability_list> {};
struct agent_role : if_must<kw_role, sp, req_name> {};
struct agent_decl : if_must<kw_agent, sp, req_name, sp, agent_role, opt<sp, kind_clause>, opt<sp, capabilities_clause>> {};
struct org_item : sor<role_decl, agent_decl> {};

// ---------------------------------------------------------------------------------------------
// task { NAME: TYPE (required | optional | = LITERAL) }

struct enum_members : if_must<lbrace, sp, req_name, star<sp, comma, sp, req_name>, sp, rbrace> {};
struct type_enum : if_must<TAO_PEGTL_KEYWORD("enum"), sp, enum_members> {};
struct kw_string : TAO_PEGTL_KEYWORD("string") {};
struct type_set : if_must<TAO_PEGTL_KEYWORD("set"), sp, lt_angle, sp, kw_string, sp, gt_angle> {};
struct type_simple : sor<TAO_PEGTL_KEYWORD("string"), TAO_PEGTL_KEYWORD("int"), TAO_PEGTL_KEYWORD("decimal"),
                         TAO_PEGTL_KEYWORD("bool"), TAO_PEGTL_KEYWORD("duration"), TAO_PEGTL_KEYWORD("timestamp")> {};
struct type_spec : sor<type_enum, type_set, type_simple> {};
struct attr_required : kw_required {};
struct attr_optional : kw_optional {};
struct attr_default : if_must<equals, sp, operand> {};
struct presence_clause : sor<attr_required, attr_optional, attr_default> {};
struct attr_decl : seq<name, sp, must<colon>, sp, must<type_spec>, sp, must<presence_clause>> {};
struct task_item : seq<attr_decl> {};

// ---------------------------------------------------------------------------------------------
// lifecycle { states …  initial s  terminal …  group g = {…}  from -> to on event [when …] }

struct name_list : seq<req_name, star<sp, comma, sp, must<req_name>>> {};
struct states_decl : if_must<kw_states, sp, name_list> {};
struct initial_decl : if_must<kw_initial, sp, req_name> {};
struct terminal_decl : if_must<kw_terminal, sp, name_list> {};
struct group_members : if_must<lbrace, sp, name_list, sp, rbrace> {};
struct group_decl : if_must<kw_group, sp, req_name, sp, equals, sp, group_members> {};
struct state_set : sor<star_any, name> {};
struct transition_event : if_must<kw_on, sp, req_name> {};
struct transition_decl
    : seq<state_set, sp, must<arrow>, sp, must<req_name>, sp, must<transition_event>, opt<sp, condition>> {};
struct lifecycle_item : sor<states_decl, initial_decl, terminal_decl, group_decl, transition_decl> {};

// ---------------------------------------------------------------------------------------------
// Targets, rules

struct target_role : if_must<kw_role, sp, req_name> {};
struct target_agent : if_must<kw_agent, sp, req_name> {};
struct target_parent : kw_parent {};
struct target_operator : kw_operator {};
struct target : sor<target_role, target_agent, target_parent, target_operator> {};
struct route_target : sor<target_role, target_agent> {};

struct override_mark : kw_override {};
struct route_rule : if_must<kw_route, sp, req_name, sp, condition, sp, arrow, sp, route_target> {};
struct fallback_rule : if_must<kw_otherwise, sp, arrow, sp, route_target> {};
struct routing_item : seq<opt<override_mark, sp>, must<sor<route_rule, fallback_rule>>> {};

struct event_list : seq<req_name, star<sp, comma, sp, must<req_name>>> {};
struct events_clause : if_must<kw_on, sp, event_list> {};
struct reason : if_must<kw_because, sp, string_lit> {};
struct gate_rule : if_must<kw_gate, sp, req_name, sp, condition, opt<sp, reason>> {};
struct permit_rule : if_must<kw_permit, sp, req_name, sp, events_clause, opt<sp, condition>> {};
struct forbid_rule : if_must<kw_forbid, sp, req_name, sp, events_clause, opt<sp, condition>, sp, reason> {};
struct escalate_rule : if_must<kw_escalate, sp, req_name, sp, condition, sp, arrow, sp, target> {};
struct action_notify : if_must<kw_notify, sp, target> {};
struct action_review : if_must<kw_require, sp, kw_review, sp, kw_by, sp, target> {};
struct obligation_action : sor<action_notify, action_review> {};
struct obligation_actions : seq<obligation_action, star<sp, comma, sp, must<obligation_action>>> {};
struct obligation_rule
    : if_must<kw_obligation, sp, req_name, sp, events_clause, opt<sp, condition>, sp, kw_then, sp, obligation_actions> {};

struct inv_passes : if_must<kw_every, sp, kw_path, sp, kw_to, sp, state_set, sp, kw_passes, sp, req_name> {};
struct inv_passes_when : seq<condition, sp, must<inv_passes>> {};
struct inv_reachable : if_must<kw_reachable, sp, state_set> {};
struct inv_terminates : if_must<kw_terminates, sp, kw_from, sp, state_set> {};
struct inv_never : if_must<kw_never, sp, state_set, sp, arrow, sp, state_set> {};
struct invariant_body : sor<inv_passes_when, inv_passes, inv_reachable, inv_terminates, inv_never> {};
struct invariant_rule : if_must<kw_invariant, sp, req_name, sp, lbrace, sp, invariant_body, sp, rbrace> {};

struct rule_body : sor<gate_rule, permit_rule, forbid_rule, escalate_rule, obligation_rule, invariant_rule> {};
struct rule_decl : sor<if_must<override_mark, sp, rule_body>, rule_body> {};

// ---------------------------------------------------------------------------------------------
// Blocks with recovery per item, and the file with recovery per declaration.

// Where a declaration can start; blocks stop at one of these, so a missing `}` is reported once.
struct block_keyword : sor<kw_org, kw_task, kw_lifecycle, kw_routing> {};
struct declaration_start
    : sor<seq<block_keyword, sp, lbrace>, seq<opt<kw_override, sp>, sor<kw_gate, kw_permit, kw_forbid, kw_escalate,
                                                                        kw_obligation, kw_invariant>>,
          kw_import, kw_policy> {};

// After a failed item: skip the rest of its line, stopping before a `}`. A `{ ... }` within the
// line (an enum's members, a capability list) is skipped whole, so its `}` does not end the block.
struct skip_group : seq<one<'{'>, until<sor<one<'}'>, at<eol>, eof>>> {};
struct skip_item : seq<not_at<eof>, sor<skip_group, any>, star<not_at<sor<eol, rbrace>>, sor<skip_group, any>>> {};
template <typename Item>
struct block_body
    : seq<star<sp, not_at<rbrace>, not_at<declaration_start>, not_at<eof>, sor<try_catch<must<Item>>, skip_item>>, sp> {};
// The `{` that opens a declaration block (kept in the parse tree to point at it).
struct block_open : one<'{'> {};
// A block that runs into the next declaration or the end of the file without its `}`. The builder
// reports it (E1012) and keeps the block's items, so one missing brace costs one diagnostic.
struct unclosed_block : success {};
template <typename Keyword, typename Item>
struct block : if_must<Keyword, sp, block_open, block_body<Item>, sor<rbrace, unclosed_block>> {};

struct org_block : block<kw_org, org_item> {};
struct task_block : block<kw_task, task_item> {};
struct lifecycle_block : block<kw_lifecycle, lifecycle_item> {};
struct routing_block : block<kw_routing, routing_item> {};

struct declaration : sor<org_block, task_block, lifecycle_block, routing_block, rule_decl> {};
// After a failed declaration: skip to the next line that starts a declaration.
struct skip_declaration : seq<any, until<sor<at<eol, sp, declaration_start>, eof>, any>> {};

struct header_part : sor<try_catch<must<header>>, success> {};
struct imports : star<sp, at<kw_import>, sor<try_catch<import_decl>, skip_declaration>> {};
struct declarations : star<sp, not_at<eof>, sor<try_catch<declaration>, skip_declaration>> {};
// A UTF-8 byte order mark, which some editors write at the start of a file, is skipped.
struct file : seq<opt<utf8::bom>, sp, header_part, imports, declarations, sp, eof> {};

}  // namespace agentos::dsl::grammar

namespace tao::pegtl {
// depth_limited matches exactly its inner rule, so analysis treats it as a one-element sequence.
template <typename Name, std::size_t Max, typename Rule>
struct analyze_traits<Name, agentos::dsl::grammar::depth_limited<Max, Rule>> : analyze_seq_traits<Rule> {};
}  // namespace tao::pegtl
