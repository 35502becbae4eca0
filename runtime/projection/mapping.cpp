#include "runtime/projection/mapping.hpp"

#include "runtime/service/store.hpp"

namespace agentos::runtime::projection {

namespace {

using kv::table;

store_error corrupt(std::string_view key, std::string_view what) {
  std::string k(key);
  for (char& c : k)
    if (c == '\0') c = '/';
  return store_error{store_errc::corrupt, 0, "projection/" + k + ": " + std::string(what)};
}

json opt(const std::optional<std::string>& s) { return s ? json(*s) : json(nullptr); }

std::optional<std::string> opt_string(const json& j, const char* key) {
  const auto it = j.find(key);
  if (it == j.end() || !it->is_string()) return std::nullopt;
  return it->get<std::string>();
}

std::string string_or_empty(const json& j, const char* key) { return opt_string(j, key).value_or(std::string()); }

result<std::optional<json>> get_json(kv::reader& r, std::string_view key) {
  auto raw = r.get(table::projection, key);
  if (!raw) return std::move(raw).error();
  if (!*raw) return std::optional<json>{};
  json j = json::parse(**raw, nullptr, false);
  if (j.is_discarded()) return corrupt(key, "not JSON");
  return std::optional<json>{std::move(j)};
}

result<void> put_json(kv::writer& w, std::string_view key, const json& value) {
  return w.put(table::projection, key, value.dump(-1, ' ', false, json::error_handler_t::replace));
}

std::string keyed(std::string_view prefix, std::string_view id) { return std::string(prefix).append(id); }

}  // namespace

json task_mapping::to_json() const {
  return {{"issue", issue},
          {"identifier", identifier},
          {"status", status},
          {"assignee", assignee.empty() ? json(nullptr) : json(assignee)},
          {"approval", opt(approval)},
          {"plan_document_revision", opt(plan_document_revision)},
          {"result_work_product", opt(result_work_product)},
          {"task_version", task_version}};
}

std::optional<task_mapping> task_mapping::from_json(const json& j) {
  if (!j.is_object()) return std::nullopt;
  task_mapping m;
  m.issue = string_or_empty(j, "issue");
  if (m.issue.empty()) return std::nullopt;
  m.identifier = string_or_empty(j, "identifier");
  m.status = string_or_empty(j, "status");
  m.assignee = string_or_empty(j, "assignee");
  m.approval = opt_string(j, "approval");
  m.plan_document_revision = opt_string(j, "plan_document_revision");
  m.result_work_product = opt_string(j, "result_work_product");
  if (const auto v = j.find("task_version"); v != j.end() && v->is_number_unsigned()) m.task_version = v->get<std::uint64_t>();
  return m;
}

namespace mapping {

std::string agent_key(std::string_view agentos_agent) { return keyed(agent_prefix, agentos_agent); }
std::string task_key(std::string_view task) { return keyed(task_prefix, task); }
std::string issue_key(std::string_view issue) { return keyed(issue_prefix, issue); }

result<std::optional<company_record>> read_company(kv::reader& r) {
  auto j = get_json(r, company_key);
  if (!j) return std::move(j).error();
  if (!*j) return std::optional<company_record>{};
  company_record c{string_or_empty(**j, "id"), string_or_empty(**j, "name"), string_or_empty(**j, "issue_prefix")};
  if (c.id.empty()) return corrupt(company_key, "no id");
  return std::optional<company_record>{std::move(c)};
}

result<std::optional<std::string>> read_store_id(kv::reader& r) {
  auto j = get_json(r, store_key);
  if (!j) return std::move(j).error();
  if (!*j) return std::optional<std::string>{};
  if (!(*j)->is_string() || (*j)->get<std::string>().empty()) return corrupt(store_key, "not a string");
  return std::optional<std::string>{(*j)->get<std::string>()};
}

result<std::optional<std::string>> read_agent(kv::reader& r, std::string_view agentos_agent) {
  const std::string key = agent_key(agentos_agent);
  auto j = get_json(r, key);
  if (!j) return std::move(j).error();
  if (!*j) return std::optional<std::string>{};
  std::string id = (*j)->is_object() ? string_or_empty(**j, "id") : std::string();
  if (id.empty()) return corrupt(key, "no id");
  return std::optional<std::string>{std::move(id)};
}

result<std::optional<task_mapping>> read_task(kv::reader& r, std::string_view task) {
  const std::string key = task_key(task);
  auto j = get_json(r, key);
  if (!j) return std::move(j).error();
  if (!*j) return std::optional<task_mapping>{};
  auto m = task_mapping::from_json(**j);
  if (!m) return corrupt(key, "no issue");
  return std::optional<task_mapping>{std::move(*m)};
}

result<std::optional<std::string>> read_issue_task(kv::reader& r, std::string_view issue) {
  const std::string key = issue_key(issue);
  auto j = get_json(r, key);
  if (!j) return std::move(j).error();
  if (!*j) return std::optional<std::string>{};
  if (!(*j)->is_string()) return corrupt(key, "not a task id");
  return std::optional<std::string>{(*j)->get<std::string>()};
}

result<std::uint64_t> read_outbox_cursor(kv::reader& r) {
  auto j = get_json(r, outbox_cursor_key);
  if (!j) return std::move(j).error();
  if (!*j) return std::uint64_t{0};
  if (!(*j)->is_string()) return corrupt(outbox_cursor_key, "not a string");
  const std::string s = (*j)->get<std::string>();
  if (s.empty() || s.size() > 20 || s.find_first_not_of("0123456789") != std::string::npos)
    return corrupt(outbox_cursor_key, "not a seq");
  return std::uint64_t{std::stoull(s)};
}

result<std::optional<activity_cursor>> read_activity_cursor(kv::reader& r) {
  auto j = get_json(r, activity_cursor_key);
  if (!j) return std::move(j).error();
  if (!*j) return std::optional<activity_cursor>{};
  activity_cursor c{(*j)->is_object() ? string_or_empty(**j, "id") : std::string(),
                    (*j)->is_object() ? string_or_empty(**j, "created_at") : std::string()};
  if (c.id.empty()) return corrupt(activity_cursor_key, "no id");
  return std::optional<activity_cursor>{std::move(c)};
}

result<void> for_each_agent(kv::reader& r,
                            const std::function<bool(std::string_view agentos_agent, std::string_view paperclip_id)>& fn) {
  std::optional<store_error> bad;
  auto s = kv::scan_prefix(r, table::projection, agent_prefix, [&](std::string_view k, std::string_view v) {
    const json j = json::parse(v, nullptr, false);
    const std::string id = j.is_object() ? string_or_empty(j, "id") : std::string();
    if (id.empty()) {
      bad = corrupt(k, "no id");
      return false;
    }
    return fn(k.substr(agent_prefix.size()), id);
  });
  if (!s) return std::move(s).error();
  if (bad) return std::move(*bad);
  return {};
}

result<void> for_each_task(kv::reader& r, const std::function<bool(std::string_view task, const task_mapping& m)>& fn) {
  std::optional<store_error> bad;
  auto s = kv::scan_prefix(r, table::projection, task_prefix, [&](std::string_view k, std::string_view v) {
    const auto m = task_mapping::from_json(json::parse(v, nullptr, false));
    if (!m) {
      bad = corrupt(k, "no issue");
      return false;
    }
    return fn(k.substr(task_prefix.size()), *m);
  });
  if (!s) return std::move(s).error();
  if (bad) return std::move(*bad);
  return {};
}

result<void> write_company(kv::writer& w, const company_record& c) {
  return put_json(w, company_key, {{"id", c.id}, {"name", c.name}, {"issue_prefix", c.issue_prefix}});
}

result<void> write_store_id(kv::writer& w, std::string_view id) { return put_json(w, store_key, json(id)); }

result<void> write_agent(kv::writer& w, std::string_view agentos_agent, std::string_view paperclip_id) {
  return put_json(w, agent_key(agentos_agent), {{"id", paperclip_id}});
}

result<void> write_task(kv::writer& w, std::string_view task, const task_mapping& m) {
  if (auto r = put_json(w, task_key(task), m.to_json()); !r) return r;
  return put_json(w, issue_key(m.issue), json(task));
}

result<void> write_outbox_cursor(kv::writer& w, std::uint64_t seq) {
  return put_json(w, outbox_cursor_key, json(std::to_string(seq)));
}

result<void> write_activity_cursor(kv::writer& w, const activity_cursor& c) {
  return put_json(w, activity_cursor_key, {{"id", c.id}, {"created_at", c.created_at}});
}

result<void> read(const task_store& store, const std::function<result<void>(kv::reader&)>& fn) {
  return store.read_records(fn);
}

result<void> write(task_store& store, const std::function<result<void>(kv::writer&)>& fn) {
  const outcome o = store.apply(record_op{[&](kv::writer& w) -> result<outcome> {
    if (auto r = fn(w); !r) return std::move(r).error();
    return make_outcome(outcome_status::applied, "projection.recorded", "recorded");
  }});
  if (o.status == outcome_status::applied) return {};
  return store_error{store_errc::internal, 0, o.code + ": " + o.message};
}

}  // namespace mapping

}  // namespace agentos::runtime::projection
