#include "runtime/projection/drift.hpp"

#include <map>
#include <set>

#include "runtime/projection/mapping.hpp"
#include "runtime/projection/status.hpp"
#include "runtime/service/store.hpp"

namespace agentos::runtime::projection {

namespace {

std::string str(const json& j, const char* key) {
  if (!j.is_object()) return {};
  const auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}

drift_result failed(std::string code, std::string message) {
  return {std::nullopt, drift_error{std::move(code), std::move(message)}};
}

drift_result store_failed(const store_error& e) { return failed("store." + std::string(to_string(e.code)), e.message); }

drift_result client_failed(const client_error& e) { return failed(std::string(e.code()), e.message); }

std::string or_none(const std::string& s) { return s.empty() ? std::string("nobody") : s; }

}  // namespace

std::string described_task(std::string_view description) {
  constexpr std::string_view marker = "agentos-task: ";
  std::size_t at = 0;
  while (at <= description.size()) {
    const std::size_t end = std::min(description.find('\n', at), description.size());
    std::string_view line = description.substr(at, end - at);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.substr(0, marker.size()) == marker) {
      std::string_view id = line.substr(marker.size());
      while (!id.empty() && (id.back() == ' ' || id.back() == '\t')) id.remove_suffix(1);
      return std::string(id);
    }
    at = end + 1;
  }
  return {};
}

drift_result check_drift(const task_store& store, paperclip_client& client) {
  drift_report report;
  std::optional<company_record> company;
  std::map<std::string, std::string> agents;        // agentos id -> Paperclip id
  std::map<std::string, task_mapping> tasks;        // task id -> mapping
  if (auto r = mapping::read(store, [&](kv::reader& rd) -> result<void> {
        auto c = mapping::read_company(rd);
        if (!c) return std::move(c).error();
        company = std::move(*c);
        auto cursor = mapping::read_outbox_cursor(rd);
        if (!cursor) return std::move(cursor).error();
        report.outbox_cursor = *cursor;
        if (auto a = mapping::for_each_agent(rd, [&](std::string_view id, std::string_view pc) {
              agents.emplace(std::string(id), std::string(pc));
              return true;
            });
            !a)
          return a;
        return mapping::for_each_task(rd, [&](std::string_view id, const task_mapping& m) {
          tasks.emplace(std::string(id), m);
          return true;
        });
      });
      !r)
    return store_failed(r.error());
  report.outbox_head = store.outbox_head();

  auto stored = store.tasks(task_filter{});
  if (!stored) return store_failed(stored.error());
  auto members = store.agents();
  if (!members) return store_failed(members.error());
  const auto graph = store.graph();
  report.tasks = stored->size();

  if (!company) {
    report.findings.push_back({"company.missing", "", "", "", "", "", "",
                               "nothing is projected: the store has no Paperclip company (was serve run with --paperclip?)"});
    return {std::move(report), std::nullopt};
  }
  report.company = company->id;
  auto known = client.get_company(company->id);
  if (!known) return client_failed(known.error());
  if (!*known) {
    report.findings.push_back({"company.missing", "", "", "", "", company->id, "",
                               "Paperclip has no company " + company->id + " (" + company->name +
                                   "): the mapping belongs to another Paperclip"});
    return {std::move(report), std::nullopt};
  }

  auto listed = client.list_issues(company->id);
  if (!listed) return client_failed(listed.error());
  std::map<std::string, json> issues;
  if (listed->is_array())
    for (auto& i : *listed)
      if (i.is_object()) issues.emplace(str(i, "id"), std::move(i));
  report.issues = issues.size();

  // ---- tasks
  std::set<std::string> mapped_issues;
  for (const auto& t : *stored) {
    const std::string id = str(t, "id");
    const json& body = t.contains("task") ? t["task"] : json();
    const std::string state = str(body, "state"), assignee = str(body, "assignee");
    const auto m = tasks.find(id);
    if (m == tasks.end()) {
      report.findings.push_back({"task.unprojected", id, "", "", "", "", "", id + " has no issue in Paperclip"});
      continue;
    }
    const task_mapping& tm = m->second;
    mapped_issues.insert(tm.issue);
    json issue;
    if (const auto it = issues.find(tm.issue); it != issues.end()) {
      issue = it->second;
    } else {
      // Not in the company's list (another company, or a list that stops short): ask for it.
      auto one = client.get_issue(tm.issue);
      if (!one) return client_failed(one.error());
      if (!*one) {
        report.findings.push_back({"issue.missing", id, tm.issue, tm.identifier, "", "", "",
                                   id + "'s issue " + (tm.identifier.empty() ? tm.issue : tm.identifier) +
                                       " is not in Paperclip"});
        continue;
      }
      issue = std::move(**one);
    }
    const std::string identifier = str(issue, "identifier").empty() ? tm.identifier : str(issue, "identifier");
    const std::string expected_status(graph ? paperclip_status(*graph, state) : paperclip_status(state, false));
    if (const std::string actual = str(issue, "status"); actual != expected_status)
      report.findings.push_back({"issue.status", id, tm.issue, identifier, "", expected_status, actual,
                                 id + " (" + identifier + ") is " + state + ", shown as " + expected_status +
                                     ", but the issue is " + actual});
    std::string expected_agent;
    if (const auto a = agents.find(assignee); a != agents.end()) expected_agent = a->second;
    if (const std::string actual = str(issue, "assigneeAgentId"); actual != expected_agent) {
      std::string actual_name = actual;
      for (const auto& [agentos_id, pc] : agents)
        if (pc == actual) actual_name = agentos_id;
      report.findings.push_back({"issue.assignee", id, tm.issue, identifier, assignee, expected_agent, actual,
                                 id + " (" + identifier + ") is assigned to " + or_none(assignee) +
                                     ", but the issue to " + or_none(actual_name)});
    }
  }

  // ---- issues that carry a task marker but are not in the mapping
  for (const auto& [id, issue] : issues) {
    if (mapped_issues.count(id) != 0) continue;
    const std::string task = described_task(str(issue, "description"));
    if (task.empty()) continue;
    report.findings.push_back({"issue.unmapped", task, id, str(issue, "identifier"), "", "", "",
                               str(issue, "identifier") + " names agentos task " + task +
                                   " but is not its issue in the mapping"});
  }

  // ---- agents
  auto listed_agents = client.list_agents(company->id);
  if (!listed_agents) return client_failed(listed_agents.error());
  std::set<std::string> live;
  if (listed_agents->is_array())
    for (const auto& a : *listed_agents)
      if (str(a, "status") != "terminated") live.insert(str(a, "id"));
  for (const auto& a : *members) {
    if (str(a, "kind") != "agent") continue;  // people act as the board, not as Paperclip agents
    ++report.agents;
    const std::string id = str(a, "id");
    const auto m = agents.find(id);
    if (m == agents.end())
      report.findings.push_back({"agent.unprojected", "", "", "", id, "", "", id + " has no Paperclip agent"});
    else if (live.count(m->second) == 0)
      report.findings.push_back({"agent.missing", "", "", "", id, m->second, "",
                                 id + "'s Paperclip agent " + m->second + " is not in Paperclip (or terminated)"});
  }
  return {std::move(report), std::nullopt};
}

api_response drift_response(const task_store& store, const base_url& paperclip, const client_options& options) {
  paperclip_client client(paperclip, options);
  const drift_result r = check_drift(store, client);
  if (r.error) return api_error(r.error->code.rfind("store.", 0) == 0 ? 503 : 502, r.error->code, r.error->message);
  return {200, r.report->to_json(), {}};
}

json drift_report::to_json() const {
  json f = json::array();
  auto or_null = [](const std::string& s) { return s.empty() ? json(nullptr) : json(s); };
  for (const auto& d : findings)
    f.push_back({{"kind", d.kind},
                 {"task", or_null(d.task)},
                 {"issue", or_null(d.issue)},
                 {"identifier", or_null(d.identifier)},
                 {"agent", or_null(d.agent)},
                 {"expected", or_null(d.expected)},
                 {"actual", or_null(d.actual)},
                 {"message", d.message}});
  return {{"clean", clean()},
          {"company", or_null(company)},
          {"tasks", tasks},
          {"issues", issues},
          {"agents", agents},
          {"outbox", {{"cursor", outbox_cursor}, {"head", outbox_head}}},
          {"findings", std::move(f)}};
}

std::string drift_report::to_text() const {
  std::string out;
  for (const auto& d : findings) out += "drift[" + d.kind + "]: " + d.message + "\n";
  out += "projection: " + std::to_string(tasks) + " tasks, " + std::to_string(issues) + " issues, " +
         std::to_string(agents) + " agents, " + std::to_string(findings.size()) +
         (findings.size() == 1 ? " difference" : " differences");
  if (outbox_cursor < outbox_head)
    out += "; the projection is " + std::to_string(outbox_head - outbox_cursor) + " outbox events behind";
  out += "\n";
  return out;
}

}  // namespace agentos::runtime::projection
