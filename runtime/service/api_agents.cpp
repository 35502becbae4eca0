// Routes: agents (the org chart, registration) and their bearer tokens (issue, rotate).
#include "engine/sha256.hpp"
#include "runtime/service/api_routes.hpp"

namespace agentos::runtime::api_detail {

namespace {

const char* kind_name(dsl::ast::actor_kind_value k) {
  switch (k) {
    case dsl::ast::actor_kind_value::agent: return "agent";
    case dsl::ast::actor_kind_value::human: return "human";
    case dsl::ast::actor_kind_value::operator_: return "operator";
  }
  return "agent";
}

// The role above `role` in the active chart (null for a root or a role the chart lacks).
json reports_to(const engine::rule_graph* g, const std::string& role) {
  if (g == nullptr) return nullptr;
  const std::int32_t parent = g->role_parent(g->find_role(role));
  return parent >= 0 ? json(g->policy().roles[static_cast<std::size_t>(parent)].name) : json(nullptr);
}

json policy_agent(const engine::rule_graph& g, const dsl::agent_info& a) {
  const std::string role = a.role >= 0 ? g.policy().roles[static_cast<std::size_t>(a.role)].name : std::string();
  return {{"id", a.name},       {"role", role},       {"reports_to", reports_to(&g, role)},
          {"kind", kind_name(a.kind)}, {"capabilities", a.capabilities}, {"source", "policy"}};
}

// A registered agent's record as the routes show it; reports_to comes from the active chart.
json registered_agent(const engine::rule_graph* g, const json& rec) {
  const std::string role = rec.value("role", std::string());
  return {{"id", rec.value("id", std::string())},
          {"role", role},
          {"reports_to", reports_to(g, role)},
          {"kind", rec.value("kind", std::string("agent"))},
          {"capabilities", rec.contains("capabilities") ? rec["capabilities"] : json::array()},
          {"source", "registered"},
          {"registered_at", rec.contains("at") ? rec["at"] : json(nullptr)}};
}

api_response list_agents(const services& s, const call&) {
  const auto g = s.store.graph();
  json roles = json::array();
  json agents = json::array();
  if (g) {
    for (const auto& r : g->policy().roles)
      roles.push_back({{"name", r.name}, {"reports_to", reports_to(g.get(), r.name)}});
    for (const auto& a : g->policy().agents) agents.push_back(policy_agent(*g, a));
  }
  auto stored = s.store.agents();
  if (!stored) return store_failure(stored.error());
  for (const auto& rec : *stored) {
    // The agents table also keeps the agents of every policy ever active; only registered ones
    // that the active policy does not declare itself are added.
    if (rec.value("source", std::string()) != "registered") continue;
    if (g && g->find_agent(rec.value("id", std::string())) >= 0) continue;
    agents.push_back(registered_agent(g.get(), rec));
  }
  // What the server sees in each agent's workspace right now (null: no workspace configured).
  for (auto& a : agents) {
    const auto hydrated = s.store.skills() ? s.store.skills()->skills_of(a["id"].get<std::string>()) : std::nullopt;
    a["skills"] = hydrated ? json(*hydrated) : json(nullptr);
  }
  return {200, {{"policy", g ? json(g->version()) : json(nullptr)}, {"roles", std::move(roles)}, {"agents", std::move(agents)}}, {}};
}

// Issues a fresh token through the writer (registering the agent first when `registration` is
// set) and, once it is durable, makes the API accept it (and refuse what it revoked).
api_response issue(const services& s, const call& c, const std::string& agent, std::optional<register_agent_op> registration,
                   unsigned applied_status) {
  const std::string token = generate_token();
  issue_token_op op;
  op.agent = agent;
  op.token_hash = engine::sha256_hex(token);
  op.rotate = !registration;
  op.register_agent = std::move(registration);
  op.by = c.actor_id;
  op.now = s.clock();
  const outcome o = s.store.apply(std::move(op));
  api_response r = from_outcome(o, applied_status);
  if (o.status != outcome_status::applied) return r;
  // Even when this read fails the change is durable; a failed refresh empties the map and the
  // next check reloads, so a revoked token is never accepted from a stale map.
  (void)s.issued.refresh();
  r.body["token"] = token;
  return r;
}

api_response register_agent(const services& s, const call& c) {
  if (auto no = require_operator(s, c)) return *no;
  json body;
  if (auto bad = parse_body(c.request.body, s.limits.max_json_depth, body)) return *bad;
  if (auto bad = only_fields(body, {"id", "role", "kind", "capabilities"})) return *bad;
  register_agent_op reg;
  const auto id = body.find("id");
  if (id == body.end() || !id->is_string()) return api_error(400, "request.invalid", "`id` must be a string");
  reg.id = id->get<std::string>();
  const auto role = body.find("role");
  if (role == body.end() || !role->is_string()) return api_error(400, "request.invalid", "`role` must be a string");
  reg.role = role->get<std::string>();
  if (const auto k = body.find("kind"); k != body.end() && !k->is_null()) {
    if (!k->is_string()) return api_error(400, "request.invalid", "`kind` must be agent, human or operator");
    reg.kind = k->get<std::string>();
  }
  if (const auto caps = body.find("capabilities"); caps != body.end() && !caps->is_null()) {
    if (!caps->is_array()) return api_error(400, "request.invalid", "`capabilities` must be an array of strings");
    for (const auto& cap : *caps) {
      if (!cap.is_string() || cap.get<std::string>().empty())
        return api_error(400, "request.invalid", "`capabilities` must be an array of non-empty strings");
      reg.capabilities.push_back(cap.get<std::string>());
    }
  }
  reg.now = s.clock();
  const std::string agent = reg.id;
  api_response r = issue(s, c, agent, std::move(reg), 201);
  if (r.status == 201 && r.body.contains("agent")) r.body["agent"] = registered_agent(s.store.graph().get(), r.body["agent"]);
  return r;
}

api_response rotate_token(const services& s, const call& c) {
  if (auto no = require_operator(s, c)) return *no;
  if (!c.request.body.empty()) {
    json body;
    if (auto bad = parse_body(c.request.body, s.limits.max_json_depth, body)) return *bad;
    if (auto bad = only_fields(body, {})) return *bad;
  }
  return issue(s, c, c.params[0], std::nullopt, 200);
}

}  // namespace

result<std::optional<json>> find_agent(const services& s, const std::string& id) {
  const auto g = s.store.graph();
  if (g) {
    if (const std::int32_t a = g->find_agent(id); a >= 0)
      return std::optional<json>{policy_agent(*g, g->policy().agents[static_cast<std::size_t>(a)])};
  }
  auto rec = s.store.agent(id);
  if (!rec) return std::move(rec).error();
  if (!*rec || (*rec)->value("source", std::string()) != "registered") return std::optional<json>{};
  return std::optional<json>{registered_agent(g.get(), **rec)};
}

void add_agent_routes(route_table& routes) {
  routes.push_back({"GET", "/api/agents", true, list_agents});
  routes.push_back({"POST", "/api/agents", true, register_agent});
  routes.push_back({"POST", "/api/agents/{id}/token", true, rotate_token});
}

}  // namespace agentos::runtime::api_detail
