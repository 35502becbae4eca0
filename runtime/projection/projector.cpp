#include "runtime/projection/projector.hpp"

#include <algorithm>
#include <map>
#include <random>
#include <set>

#include "engine/graph.hpp"
#include "runtime/projection/status.hpp"
#include "runtime/service/store.hpp"

namespace agentos::runtime::projection {

namespace {

// Paperclip's limits (upsertIssueDocumentSchema: 512 KiB of body); approvals carry the plan too,
// for the operator reading the approval alone, but shorter.
constexpr std::size_t document_limit = 512 * 1024;
constexpr std::size_t approval_plan_limit = 64 * 1024;
constexpr std::size_t summary_limit = 2000;

std::string str(const json& j, const char* key) {
  const auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}

std::uint64_t u64(const json& j, const char* key) {
  const auto it = j.find(key);
  return it != j.end() && it->is_number_unsigned() ? it->get<std::uint64_t>() : 0;
}

// Cuts `s` to at most `limit` bytes at a UTF-8 boundary, saying so.
std::string clip(const std::string& s, std::size_t limit, std::string_view what) {
  if (s.size() <= limit) return s;
  const std::string note = "\n\n[... cut: the " + std::string(what) + " has " + std::to_string(s.size()) +
                           " bytes; the whole text is in agentos]";
  std::size_t end = limit > note.size() ? limit - note.size() : 0;
  while (end > 0 && (static_cast<unsigned char>(s[end]) & 0xC0) == 0x80) --end;
  return s.substr(0, end) + note;
}

std::string random_hex(std::size_t bytes) {
  std::random_device rd;
  static constexpr char hex[] = "0123456789abcdef";
  std::string out;
  for (std::size_t i = 0; i < bytes; ++i) {
    const auto b = static_cast<unsigned>(rd()) & 0xFF;
    out.push_back(hex[b >> 4]);
    out.push_back(hex[b & 15]);
  }
  return out;
}

// The artifact of `kind` that the transition with audit record `audit_seq` stored; else (for a
// plan, whose review state may be entered without a new plan) the latest one before it.
std::optional<json> artifact_of(const std::vector<json>& artifacts, std::string_view kind, std::uint64_t audit_seq,
                                bool or_earlier) {
  std::optional<json> best;
  for (const auto& a : artifacts) {
    if (str(a, "kind") != kind) continue;
    const std::uint64_t seq = u64(a, "audit_seq");
    if (seq == audit_seq) return a;
    if (or_earlier && seq < audit_seq && (!best || u64(*best, "version") < u64(a, "version"))) best = a;
  }
  return best;
}

}  // namespace

projection_error from_client(const client_error& e) { return {std::string(e.code()), e.message, e.transient()}; }

projection_error from_store(const store_error& e) {
  return {"store." + std::string(to_string(e.code)), e.message, true};
}

std::string paperclip_role(std::string_view role) {
  static constexpr std::string_view native[] = {"ceo",      "cto", "cmo", "cfo",    "security",   "engineer",
                                                "designer", "pm",  "qa",  "devops", "researcher", "general"};
  for (const auto n : native)
    if (n == role) return std::string(n);
  static constexpr std::pair<std::string_view, std::string_view> keywords[] = {
      {"chief", "ceo"},      {"ceo", "ceo"},         {"cto", "cto"},          {"engineer", "engineer"},
      {"developer", "engineer"}, {"qa", "qa"},       {"test", "qa"},          {"pm", "pm"},
      {"product", "pm"},     {"project", "pm"},      {"account", "cfo"},      {"financ", "cfo"},
      {"design", "designer"}, {"devops", "devops"},  {"ops", "devops"},       {"secur", "security"},
      {"research", "researcher"}, {"market", "cmo"}};
  for (const auto& [k, r] : keywords)
    if (role.find(k) != std::string_view::npos) return std::string(r);
  return "general";
}

std::string issue_description(const json& attributes, std::string_view task_id, std::string_view mode,
                              std::string_view state, std::string_view callback_url) {
  std::string out;
  const std::string title = attributes.is_object() ? str(attributes, "title") : std::string();
  out += "**" + (title.empty() ? std::string(task_id) : title) + "**\n\n";
  if (const std::string brief = attributes.is_object() ? str(attributes, "brief") : std::string(); !brief.empty())
    out += brief + "\n\n";
  out += "Mode: " + std::string(mode) + ". State when projected: " + std::string(state) +
         ". The agentos backend decides every change of state; act through the callback below.\n\n";
  out += "agentos-task: " + std::string(task_id) + "\n";
  out += "agentos-callback: " + std::string(callback_url) + "\n";
  return out;
}

// What projecting one event leaves to record: the task's new mapping, if it changed.
struct projector::effect {
  std::string task;
  std::optional<task_mapping> mapping;
  bool wrote = false;  // something was written to Paperclip
};

projector::projector(task_store& store, paperclip_client& client, projector_options options)
    : m_store(store), m_client(client), m_options(std::move(options)) {}

std::optional<projection_error> projector::setup() {
  // The store's id, created once: part of every issue's idempotency key, so that two data
  // directories projecting into one company never share a key.
  std::optional<std::string> id;
  if (auto r = mapping::read(m_store, [&](kv::reader& rd) -> result<void> {
        auto s = mapping::read_store_id(rd);
        if (!s) return std::move(s).error();
        id = std::move(*s);
        return {};
      });
      !r)
    return from_store(r.error());
  if (!id) {
    const std::string fresh = random_hex(16);
    if (auto w = mapping::write(m_store, [&](kv::writer& wr) -> result<void> {
          auto s = mapping::read_store_id(wr);  // a concurrent writer cannot exist, but a rerun of the batch can
          if (!s) return std::move(s).error();
          if (*s) {
            id = **s;
            return {};
          }
          id = fresh;
          return mapping::write_store_id(wr, fresh);
        });
        !w)
      return from_store(w.error());
  }
  m_store_id = *id;

  std::optional<company_record> company;
  if (auto r = mapping::read(m_store, [&](kv::reader& rd) -> result<void> {
        auto c = mapping::read_company(rd);
        if (!c) return std::move(c).error();
        company = std::move(*c);
        return {};
      });
      !r)
    return from_store(r.error());
  if (company) {
    auto known = m_client.get_company(company->id);
    if (!known) return from_client(known.error());
    if (!*known)
      return projection_error{"projection.company_missing",
                              "Paperclip at " + m_client.url().text + " has no company " + company->id + " (" +
                                  company->name +
                                  ") that this data directory projects into: it is another Paperclip, or its data "
                                  "was reset",
                              false};
  } else {
    // Adopt a company of that name (a crash between creating it and recording it, or a second
    // data directory meant to share it), else create it.
    auto list = m_client.list_companies();
    if (!list) return from_client(list.error());
    std::optional<json> found;
    for (const auto& c : *list)
      if (c.is_object() && str(c, "name") == m_options.company_name && str(c, "status") != "archived") {
        found = c;
        break;
      }
    if (!found) {
      auto created = m_client.create_company(m_options.company_name);
      if (!created) return from_client(created.error());
      found = std::move(*created);
    }
    company = company_record{str(*found, "id"), str(*found, "name"), str(*found, "issuePrefix")};
    if (company->id.empty()) return projection_error{"paperclip.bad_response", "a company without an id", true};
    if (auto w = mapping::write(m_store, [&](kv::writer& wr) { return mapping::write_company(wr, *company); }); !w)
      return from_store(w.error());
  }
  m_company = std::move(*company);
  if (auto e = sync_agents()) return e;
  m_ready = true;
  return std::nullopt;
}

std::optional<projection_error> projector::sync_agents() {
  auto agents = m_store.agents();
  if (!agents) return from_store(agents.error());
  const auto graph = m_store.graph();
  std::map<std::string, std::string> mapped;  // agentos id -> Paperclip id
  if (auto r = mapping::read(m_store, [&](kv::reader& rd) {
        return mapping::for_each_agent(rd, [&](std::string_view a, std::string_view p) {
          mapped.emplace(std::string(a), std::string(p));
          return true;
        });
      });
      !r)
    return from_store(r.error());

  // Only agents (not humans, not operators) run in Paperclip.
  struct member {
    std::string id, role;
    int depth = 0;
  };
  std::vector<member> members;
  std::map<std::string, std::string> agent_of_role;  // the first agent (by id) holding each role
  for (const auto& a : *agents) {
    if (str(a, "kind") != "agent") continue;
    member m{str(a, "id"), str(a, "role"), 0};
    if (m.id.empty()) continue;
    if (graph)
      for (std::int32_t r = graph->role_parent(graph->find_role(m.role)); r >= 0; r = graph->role_parent(r)) ++m.depth;
    agent_of_role.emplace(m.role, m.id);
    members.push_back(std::move(m));
  }
  // Parents first, so that every reportsTo names an agent that already exists.
  std::stable_sort(members.begin(), members.end(), [](const member& a, const member& b) { return a.depth < b.depth; });

  auto listed = m_client.list_agents(m_company.id);
  if (!listed) return from_client(listed.error());
  std::map<std::string, json> by_id, by_name;
  for (const auto& p : *listed) {
    if (!p.is_object() || str(p, "status") == "terminated") continue;
    by_id[str(p, "id")] = p;
    by_name.emplace(str(p, "name"), p);
  }

  std::vector<std::pair<std::string, std::string>> fresh;  // new mappings to record
  for (const auto& m : members) {
    // reportsTo: the agent of the nearest ancestor role that has one.
    json reports_to = nullptr;
    if (graph)
      for (std::int32_t r = graph->role_parent(graph->find_role(m.role)); r >= 0; r = graph->role_parent(r)) {
        const auto holder = agent_of_role.find(std::string(graph->policy().roles[static_cast<std::size_t>(r)].name));
        if (holder == agent_of_role.end()) continue;
        if (const auto p = mapped.find(holder->second); p != mapped.end()) reports_to = p->second;
        break;
      }
    const json adapter = {{"url", m_options.executor_url}, {"payloadTemplate", {{"agentos_agent", m.id}}}};
    const json wanted = {{"name", m.id},          {"role", paperclip_role(m.role)}, {"reportsTo", reports_to},
                         {"adapterType", "http"}, {"adapterConfig", adapter}};

    std::optional<json> existing;
    if (const auto p = mapped.find(m.id); p != mapped.end()) {
      if (const auto e = by_id.find(p->second); e != by_id.end()) existing = e->second;
    }
    if (!existing)
      if (const auto e = by_name.find(m.id); e != by_name.end()) existing = e->second;
    std::string pid;
    if (existing) {
      pid = str(*existing, "id");
      const json& cfg = (*existing)["adapterConfig"];
      json fix = json::object();
      if (!cfg.is_object() || str(cfg, "url") != m_options.executor_url ||
          !cfg.contains("payloadTemplate") || cfg["payloadTemplate"] != adapter["payloadTemplate"] ||
          str(*existing, "adapterType") != "http") {
        fix["adapterType"] = "http";
        fix["adapterConfig"] = adapter;
      }
      if ((*existing)["reportsTo"] != reports_to && !reports_to.is_null()) fix["reportsTo"] = reports_to;
      if (!fix.empty())
        if (auto r = m_client.patch_agent(pid, fix); !r) return from_client(r.error());
    } else {
      auto created = m_client.create_agent(m_company.id, wanted);
      if (!created) return from_client(created.error());
      pid = str(*created, "id");
      if (pid.empty()) return projection_error{"paperclip.bad_response", "an agent without an id", true};
    }
    if (mapped[m.id] != pid) {
      mapped[m.id] = pid;
      fresh.emplace_back(m.id, pid);
    }
  }
  if (fresh.empty()) return std::nullopt;
  if (auto w = mapping::write(m_store, [&](kv::writer& wr) -> result<void> {
        for (const auto& [a, p] : fresh)
          if (auto r = mapping::write_agent(wr, a, p); !r) return r;
        return {};
      });
      !w)
    return from_store(w.error());
  return std::nullopt;
}

std::optional<projection_error> projector::paperclip_agent(const std::string& agentos_agent, std::string& out) {
  out.clear();
  if (agentos_agent.empty()) return std::nullopt;
  for (int round = 0; round < 2; ++round) {
    std::optional<std::string> id;
    if (auto r = mapping::read(m_store, [&](kv::reader& rd) -> result<void> {
          auto a = mapping::read_agent(rd, agentos_agent);
          if (!a) return std::move(a).error();
          id = std::move(*a);
          return {};
        });
        !r)
      return from_store(r.error());
    if (id) {
      out = *id;
      return std::nullopt;
    }
    if (round == 0)
      if (auto e = sync_agents()) return e;
  }
  // An operator or a human holds it: Paperclip shows the issue unassigned.
  return std::nullopt;
}

std::optional<projection_error> projector::create_issue(const std::string& task, const std::string& state,
                                                        const std::string& assignee, std::uint64_t version,
                                                        task_mapping& out) {
  auto rec = m_store.record(task);
  if (!rec) return from_store(rec.error());
  if (!*rec) return projection_error{"projection.task_missing", "the store has no task " + task, false};
  const json attributes = json::parse((*rec)->attributes, nullptr, false);
  std::string pid;
  if (auto e = paperclip_agent(assignee, pid)) return e;
  std::string title = attributes.is_object() ? str(attributes, "title") : std::string();
  if (title.empty()) title = task;
  const auto g = m_store.graph();
  const std::string pstatus(g ? paperclip_status(*g, state) : paperclip_status(state, false));
  json body = {{"title", clip(title, 500, "title")},
               {"description", issue_description(attributes, task, (*rec)->mode, state,
                                                 m_options.public_url + "/api/executions/callback")},
               {"assigneeAgentId", pid.empty() ? json(nullptr) : json(pid)},
               {"idempotencyKey", "agentos:" + m_store_id + ":" + task},
               {"allowDuplicate", true}};
  set_status(body, pstatus, task, state);
  auto created = m_client.create_issue(m_company.id, body);
  if (!created) return from_client(created.error());
  out = task_mapping{};
  out.issue = str(*created, "id");
  out.identifier = str(*created, "identifier");
  if (out.issue.empty()) return projection_error{"paperclip.bad_response", "an issue without an id", true};
  out.status = pstatus;
  out.assignee = pid;
  out.task_version = version;
  // A replayed key answers with the issue as it is now, which may have moved on since the first
  // create (the crash came later): write what this event says.
  if (created->value("deduplicated", false)) {
    json fix = json::object();
    if (str(*created, "status") != pstatus) set_status(fix, pstatus, task, state);
    if (str(*created, "assigneeAgentId") != pid) fix["assigneeAgentId"] = pid.empty() ? json(nullptr) : json(pid);
    if (!fix.empty())
      if (auto r = m_client.patch_issue(out.issue, fix); !r) return from_client(r.error());
  }
  return std::nullopt;
}

std::optional<projection_error> projector::project_plan(const std::string& task, const json& event, task_mapping& m) {
  auto artifacts = m_store.artifacts(task);
  if (!artifacts) return from_store(artifacts.error());
  const auto plan = artifact_of(*artifacts, "plan", u64(event, "audit_seq"), true);
  if (!plan) return std::nullopt;  // a policy may review without a plan artifact
  const auto version = static_cast<std::uint32_t>(u64(*plan, "version"));
  auto content = m_store.artifact_content(task, "plan", version);
  if (!content) return from_store(content.error());
  if (!*content) return projection_error{"store.corrupt", task + ": plan v" + std::to_string(version) + " has no content", false};
  auto doc = m_client.put_document(m.issue, "plan", "Plan v" + std::to_string(version),
                                   clip(**content, document_limit, "plan"));
  if (!doc) return from_client(doc.error());
  m.plan_document_revision = str(*doc, "latestRevisionId");

  // One approval per plan version: look for it first (an earlier run may have created it and
  // stopped before recording it).
  auto linked = m_client.list_issue_approvals(m.issue);
  if (!linked) return from_client(linked.error());
  for (const auto& a : *linked) {
    const json& p = a.is_object() && a.contains("payload") ? a["payload"] : json();
    if (p.is_object() && str(p, "task") == task && u64(p, "version") == version) {
      m.approval = str(a, "id");
      return std::nullopt;
    }
  }
  const json payload = {{"title", "Plan for " + task + " (v" + std::to_string(version) + ")"},
                        {"task", task},
                        {"version", version},
                        {"plan", clip(**content, approval_plan_limit, "plan")}};
  auto approval = m_client.create_approval(m_company.id, "request_board_approval", payload, {m.issue});
  if (!approval) return from_client(approval.error());
  m.approval = str(*approval, "id");
  return std::nullopt;
}

std::optional<projection_error> projector::settle_approval(const json& event, task_mapping& m) {
  if (!m.approval) return std::nullopt;
  auto a = m_client.get_approval(*m.approval);
  if (!a) {
    if (a.error().is_http(404)) {
      m.approval.reset();
      return std::nullopt;
    }
    return from_client(a.error());
  }
  const std::string status = str(*a, "status");
  if (status == "pending" || status == "revision_requested") {
    // The backend decided (in agentos, or through the reconciler from this very approval): the
    // Paperclip approval follows, so the board's queue holds only what still waits.
    const bool approved = str(event, "event") == "approve_plan";
    const std::string note = "agentos: " + str(event, "event") + " by " +
                             (str(event, "actor").empty() ? std::string("the backend") : str(event, "actor")) + " (" +
                             str(event, "from") + " -> " + str(event, "to") + ")";
    if (auto r = m_client.resolve_approval(*m.approval, approved ? "approve" : "reject", note); !r) {
      // Resolved meanwhile by someone else (422/409): nothing left to do.
      if (r.error().transient()) return from_client(r.error());
    }
  }
  m.approval.reset();
  return std::nullopt;
}

std::optional<projection_error> projector::project_result(const std::string& task, const json& event, task_mapping& m) {
  auto artifacts = m_store.artifacts(task);
  if (!artifacts) return from_store(artifacts.error());
  const auto result = artifact_of(*artifacts, "result", u64(event, "audit_seq"), false);
  if (!result) return std::nullopt;
  const auto version = static_cast<std::uint32_t>(u64(*result, "version"));
  const std::string external = task + ":result:" + std::to_string(version);
  auto products = m_client.list_work_products(m.issue);
  if (!products) return from_client(products.error());
  for (const auto& p : *products)
    if (p.is_object() && str(p, "externalId") == external) {
      m.result_work_product = str(p, "id");
      return std::nullopt;
    }
  auto content = m_store.artifact_content(task, "result", version);
  if (!content) return from_store(content.error());
  const json product = {{"type", "artifact"},
                        {"provider", "agentos"},
                        {"title", "Result v" + std::to_string(version) + " of " + task},
                        {"externalId", external},
                        {"status", "ready_for_review"},
                        {"summary", *content ? clip(**content, summary_limit, "result") : std::string()}};
  auto created = m_client.create_work_product(m.issue, product);
  if (!created) return from_client(created.error());
  m.result_work_product = str(*created, "id");
  return std::nullopt;
}

std::optional<projection_error> projector::project_event(const json& event, effect& out) {
  const std::string type = str(event, "type");
  const std::string task = str(event, "task");
  out.task = task;
  if ((type != "task.created" && type != "task.transitioned") || task.empty()) return std::nullopt;

  std::optional<task_mapping> known;
  if (auto r = mapping::read(m_store, [&](kv::reader& rd) -> result<void> {
        auto t = mapping::read_task(rd, task);
        if (!t) return std::move(t).error();
        known = std::move(*t);
        return {};
      });
      !r)
    return from_store(r.error());

  if (type == "task.created") {
    if (known) return std::nullopt;  // projected before (a replay, or a transition came first)
    task_mapping m;
    if (auto e = create_issue(task, str(event, "state"), str(event, "assignee"), 1, m)) return e;
    out.mapping = std::move(m);
    out.wrote = true;
    return std::nullopt;
  }

  // task.transitioned
  const std::uint64_t version = u64(event, "version");
  const std::string from = str(event, "from"), to = str(event, "to");
  task_mapping m;
  if (known) {
    if (known->task_version >= version) return std::nullopt;  // already reflected
    m = *known;
  } else {
    // The task's creation was never projected (the projection was turned on later): the issue
    // starts from this event.
    if (auto e = create_issue(task, to, str(event, "assignee"), version, m)) return e;
    out.wrote = true;
  }
  const auto g = m_store.graph();
  const std::string status(g ? paperclip_status(*g, to) : paperclip_status(to, false));
  std::string assignee;
  if (auto e = paperclip_agent(str(event, "assignee"), assignee)) return e;
  json fields = json::object();
  if (status != m.status) set_status(fields, status, task, to);
  if (assignee != m.assignee) fields["assigneeAgentId"] = assignee.empty() ? json(nullptr) : json(assignee);
  if (!fields.empty()) {
    if (auto r = m_client.patch_issue(m.issue, fields); !r) return from_client(r.error());
    out.wrote = true;
  }
  m.status = status;
  m.assignee = assignee;
  if (from == "plan_review" && to != "plan_review") {
    if (auto e = settle_approval(event, m)) return e;
    out.wrote = true;
  }
  if (to == "plan_review" && from != "plan_review") {
    if (auto e = project_plan(task, event, m)) return e;
    out.wrote = true;
  }
  if (from == "result_review" && m.result_work_product) {
    const std::string verdict = str(event, "event") == "accept_result" ? "approved"
                                : to == "executing"                    ? "changes_requested"
                                                                       : std::string();
    if (!verdict.empty()) {
      if (auto r = m_client.patch_work_product(*m.result_work_product, {{"status", verdict}}); !r && r.error().transient())
        return from_client(r.error());
      out.wrote = true;
    }
  }
  if (str(event, "event") == "submit_result" || (to == "result_review" && from != "result_review")) {
    if (auto e = project_result(task, event, m)) return e;
    out.wrote = true;
  }
  m.task_version = version;
  out.mapping = std::move(m);
  return std::nullopt;
}

std::optional<projection_error> projector::project(project_report& report, std::size_t max_events) {
  if (!m_ready)
    if (auto e = setup()) return e;
  std::uint64_t cursor = 0;
  if (auto r = mapping::read(m_store, [&](kv::reader& rd) -> result<void> {
        auto c = mapping::read_outbox_cursor(rd);
        if (!c) return std::move(c).error();
        cursor = *c;
        return {};
      });
      !r)
    return from_store(r.error());
  report.cursor = cursor;
  std::uint64_t recorded = cursor;  // the cursor as stored
  auto flush = [&]() -> std::optional<projection_error> {
    if (cursor == recorded) return std::nullopt;
    if (auto w = mapping::write(m_store, [&](kv::writer& wr) { return mapping::write_outbox_cursor(wr, cursor); }); !w)
      return from_store(w.error());
    recorded = cursor;
    return std::nullopt;
  };
  std::size_t done = 0;
  while (done < max_events) {
    auto events = m_store.outbox(cursor, std::min(m_options.batch, max_events - done));
    if (!events) return from_store(events.error());
    if (events->empty()) break;
    for (const auto& ev : *events) {
      const std::uint64_t seq = u64(ev, "seq");
      effect fx;
      if (auto e = project_event(ev, fx)) {
        if (e->transient) {
          if (auto f = flush()) return f;
          report.cursor = cursor;
          return e;
        }
        report.dropped.push_back("seq " + std::to_string(seq) + ": " + e->code + ": " + e->message);
      } else if (fx.wrote) {
        ++report.projected;
      } else {
        ++report.skipped;
      }
      cursor = seq;
      ++done;
      if (fx.mapping) {
        // The mapping and the cursor past this event commit together: a crash before this point
        // projects the event again (every write above is idempotent), one after it never does.
        if (auto w = mapping::write(m_store, [&](kv::writer& wr) -> result<void> {
              if (auto r = mapping::write_task(wr, fx.task, *fx.mapping); !r) return r;
              return mapping::write_outbox_cursor(wr, cursor);
            });
            !w)
          return from_store(w.error());
        recorded = cursor;
      }
    }
  }
  if (auto f = flush()) return f;
  report.cursor = cursor;
  return std::nullopt;
}

}  // namespace agentos::runtime::projection
