#include "runtime/projection/reconciler.hpp"

#include <chrono>
#include <iostream>
#include <optional>

#include "runtime/projection/mapping.hpp"
#include "runtime/projection/status.hpp"
#include "runtime/service/store.hpp"

namespace agentos::runtime::projection {

struct reconciler::context {
  std::string task;
  std::string issue;
  task_mapping mapping;
  std::shared_ptr<const engine::rule_graph> graph;
  task_record record;
};

namespace {

// A version conflict means the task moved between reading it and submitting: read it again and
// decide again, a few times; a task this busy is left to the next round.
constexpr int max_attempts = 3;

std::string str(const json& j, const char* key) {
  if (!j.is_object()) return {};
  const auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}

const json& member(const json& j, const char* key) {
  static const json none;
  if (!j.is_object()) return none;
  const auto it = j.find(key);
  return it == j.end() ? none : *it;
}

handle_result done() { return {}; }

handle_result retry(std::string code, std::string message) {
  return {handle_status::retry, std::move(code), std::move(message)};
}

handle_result store_failed(const store_error& e) {
  return retry("store." + std::string(to_string(e.code)), e.message);
}

bool starts_with(std::string_view s, std::string_view prefix) { return s.substr(0, prefix.size()) == prefix; }

// The deny reasons of a decision as the engine words them (engine::reason_text), one per entry.
std::vector<std::string> decision_reasons(const outcome& o) {
  std::vector<std::string> out;
  const json d = o.decision();
  for (const auto& r : member(d, "reasons")) {
    const std::string kind = str(r, "kind"), rule = str(r, "rule"), message = str(r, "message");
    if (kind == "forbidden" && !rule.empty())
      out.push_back("forbidden by " + rule + ": " + message);
    else if (kind == "guard_false" && !rule.empty())
      out.push_back("guard false on " + rule);
    else
      out.push_back(message);
  }
  if (out.empty()) out.push_back(o.message.empty() ? std::string(o.code) : o.message);
  return out;
}

std::string lines(const std::vector<std::string>& reasons) {
  std::string out;
  for (const auto& r : reasons) out += "\n- " + r;
  return out;
}

// Reads `fn` over the mapping in one read transaction.
result<void> read_mapping(const task_store& store, const std::function<result<void>(kv::reader&)>& fn) {
  return mapping::read(store, fn);
}

// The agentos agent a Paperclip agent id stands for ("" for none, nullopt for one not mapped).
result<std::optional<std::string>> agentos_agent(const task_store& store, const std::string& paperclip_id) {
  if (paperclip_id.empty()) return std::optional<std::string>(std::string());
  std::optional<std::string> found;
  auto r = read_mapping(store, [&](kv::reader& rd) {
    return mapping::for_each_agent(rd, [&](std::string_view agentos, std::string_view paperclip) {
      if (paperclip != paperclip_id) return true;
      found = std::string(agentos);
      return false;
    });
  });
  if (!r) return std::move(r).error();
  return found;
}

// The Paperclip agent id of an agentos agent ("" when it has none, or for no agent).
result<std::string> paperclip_agent(const task_store& store, const std::string& agentos_id) {
  std::string out;
  if (agentos_id.empty()) return out;
  auto r = read_mapping(store, [&](kv::reader& rd) -> result<void> {
    auto a = mapping::read_agent(rd, agentos_id);
    if (!a) return std::move(a).error();
    if (*a) out = **a;
    return {};
  });
  if (!r) return std::move(r).error();
  return out;
}

}  // namespace

reconciler::reconciler(task_store& store, paperclip_client& client, reconciler_options options)
    : m_store(store), m_client(client), m_options(std::move(options)) {
  if (!m_options.clock)
    m_options.clock = [] {
      return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
          .count();
    };
}

void reconciler::interrupt() { m_client.interrupt(); }

void reconciler::say(const std::string& line) const {
  if (m_options.log)
    m_options.log(line);
  else
    std::cerr << "agentos: reconcile: " << line << '\n';
}

const std::string& reconciler::operator_agent() {
  if (m_options.operator_agent.empty()) {
    const auto g = m_store.graph();
    m_options.operator_agent = g ? policy_operator(*g) : std::string();
    if (m_options.operator_agent.empty()) m_options.operator_agent = "alex";
  }
  return m_options.operator_agent;
}

handle_result reconciler::handle(const json& row) {
  ++m_stats.rows;
  const std::string action = str(row, "action");
  if (action == "issue.updated") return issue_updated(row);
  if (action == "issue.comment_added") return comment_added(row);
  if (action == "issue.execution_recovery_settled") return recovery_settled(row);
  if (action == "approval.approved" || action == "approval.rejected" || action == "approval.revision_requested")
    return approval_decided(row);
  return done();  // activity with no backend meaning (documents, runs, leases, ...)
}

// ---- context

namespace {

// The projected task behind an issue, its mapping, the active policy and the task as stored;
// nullopt when the issue is not one the projector made (or the task is gone).
result<std::optional<reconciler::context>> load(const task_store& store, const std::string& issue) {
  reconciler::context c;
  c.issue = issue;
  bool found = false;
  auto r = read_mapping(store, [&](kv::reader& rd) -> result<void> {
    auto t = mapping::read_issue_task(rd, issue);
    if (!t) return std::move(t).error();
    if (!*t) return {};
    c.task = **t;
    auto m = mapping::read_task(rd, c.task);
    if (!m) return std::move(m).error();
    if (!*m) return {};
    c.mapping = std::move(**m);
    found = true;
    return {};
  });
  if (!r) return std::move(r).error();
  if (!found) return std::optional<reconciler::context>{};
  auto rec = store.record(c.task);
  if (!rec) return std::move(rec).error();
  if (!*rec) return std::optional<reconciler::context>{};
  c.record = std::move(**rec);
  c.graph = store.graph();
  if (!c.graph) return store_error{store_errc::invalid, 0, "the store has no active policy"};
  return std::optional<reconciler::context>{std::move(c)};
}

// Reads the task again (after a version conflict, or before putting the issue back).
result<bool> reload(const task_store& store, reconciler::context& c) {
  auto rec = store.record(c.task);
  if (!rec) return std::move(rec).error();
  if (!*rec) return false;
  c.record = std::move(**rec);
  c.graph = store.graph();
  return c.graph != nullptr;
}

}  // namespace

// ---- issue.updated: status and assignee

handle_result reconciler::issue_updated(const json& row) {
  const json& details = member(row, "details");
  const json& changes = member(details, "changes");
  if (!changes.is_object()) return done();
  auto loaded = load(m_store, str(row, "entityId"));
  if (!loaded) return store_failed(loaded.error());
  if (!*loaded) return done();  // not a projected task's issue
  context& c = **loaded;

  // Paperclip reopens a blocked issue when the board comments on it: the board did not ask for
  // that status, so it counts as Paperclip's own move.
  const json& reopened = member(details, "reopened");
  const bool board = str(row, "actorType") == "user" && !(reopened.is_boolean() && reopened.get<bool>());

  if (const json& s = member(changes, "status"); s.is_object() && member(s, "to").is_string()) {
    handle_result r = status_changed(row, c, member(s, "to").get<std::string>(), board);
    if (r.status != handle_status::done) return r;
  }
  if (const json& a = member(changes, "assigneeAgentId"); a.is_object() && a.contains("to")) {
    const json& to = member(a, "to");
    if (!to.is_string() && !to.is_null()) return done();
    // The status step may have put the issue back and written the mapping: start again from it.
    auto again = load(m_store, c.issue);
    if (!again) return store_failed(again.error());
    if (!*again) return done();
    return assignee_changed(row, **again, to.is_string() ? to.get<std::string>() : std::string(), board);
  }
  return done();
}

// Paperclip's execution recovery moves an issue (to `blocked`, after a failed run) without an
// issue.updated row: read the status it left and treat it as Paperclip's own move.
handle_result reconciler::recovery_settled(const json& row) {
  auto loaded = load(m_store, str(row, "entityId"));
  if (!loaded) return store_failed(loaded.error());
  if (!*loaded) return done();
  auto issue = m_client.get_issue((*loaded)->issue);
  if (!issue) return issue.error().transient() ? retry(std::string(issue.error().code()), issue.error().message) : done();
  if (!*issue) return done();
  return status_changed(row, **loaded, str(**issue, "status"), false);
}

handle_result reconciler::status_changed(const json& row, context& c, const std::string& to, bool board) {
  if (to == c.mapping.status) {
    ++m_stats.echoes;
    return done();
  }
  auto issue = m_client.get_issue(c.issue);
  if (!issue) return issue.error().transient() ? retry(std::string(issue.error().code()), issue.error().message) : done();
  if (!*issue) return done();  // deleted in Paperclip: `agentos projection check` reports it
  if (str(**issue, "status") != to) {
    ++m_stats.superseded;
    return done();
  }
  const std::string what = "status " + c.mapping.status + " -> " + to + " on " + c.mapping.identifier;
  if (!board) {
    if (paperclip_status(*c.graph, c.record.state) == to) return done();  // the backend is there already
    ++m_stats.restored;
    say("put back " + what + " (" + str(row, "actorType") + "): " + c.task + " is " + c.record.state);
    return put_back(c, true, false,
                    std::string(restored_prefix) + " the status: " + c.task + " is " + c.record.state +
                        " in agentos. Paperclip's own status changes do not move agentos tasks.");
  }
  return submit(row, c, what, status_change{to}, [&](const std::vector<std::string>& reasons) {
    return put_back(c, true, false,
                    std::string(refused_prefix) + " (status " + to + "):" + lines(reasons) + "\n" + c.task +
                        " stays " + c.record.state + ".");
  });
}

handle_result reconciler::assignee_changed(const json& row, context& c, const std::string& to, bool board) {
  if (to == c.mapping.assignee) {
    ++m_stats.echoes;
    return done();
  }
  auto issue = m_client.get_issue(c.issue);
  if (!issue) return issue.error().transient() ? retry(std::string(issue.error().code()), issue.error().message) : done();
  if (!*issue) return done();
  if (str(**issue, "assigneeAgentId") != to) {
    ++m_stats.superseded;
    return done();
  }
  auto agent = agentos_agent(m_store, to);
  if (!agent) return store_failed(agent.error());
  const std::string shown = *agent ? (**agent).empty() ? std::string("nobody") : **agent : "Paperclip agent " + to;
  const std::string what = "assignee -> " + shown + " on " + c.mapping.identifier;
  const std::string held = c.record.assignee.empty() ? std::string("nobody") : c.record.assignee;
  if (!board) {
    auto current = paperclip_agent(m_store, c.record.assignee);
    if (!current) return store_failed(current.error());
    if (*current == to) return done();
    ++m_stats.restored;
    say("put back " + what + " (" + str(row, "actorType") + "): " + c.task + " is assigned to " + held);
    return put_back(c, false, true,
                    std::string(restored_prefix) + " the assignee: " + c.task + " is assigned to " + held +
                        " in agentos. Paperclip's own assignments do not move agentos tasks.");
  }
  auto refused = [&](const std::vector<std::string>& reasons) {
    return put_back(c, false, true,
                    std::string(refused_prefix) + " (assignee " + shown + "):" + lines(reasons) + "\n" + c.task +
                        " stays with " + held + ".");
  };
  if (!*agent) {
    ++m_stats.refused;
    say("refused " + what + ": not an agentos agent");
    return refused({"Paperclip agent " + to + " is not one of agentos's agents"});
  }
  return submit(row, c, what, assignee_change{**agent}, refused);
}

// ---- submitting a board change

handle_result reconciler::submit(const json& row, context& c, std::string_view what, const operator_change& change,
                                 const std::function<handle_result(const std::vector<std::string>&)>& refused) {
  const operator_actions ops(operator_agent());
  // One key per row and kind of change: a row handled again after a crash replays the first
  // outcome instead of deciding (and auditing) a second time.
  const std::string part = std::holds_alternative<status_change>(change)     ? "status"
                           : std::holds_alternative<assignee_change>(change) ? "assignee"
                           : std::holds_alternative<approval_change>(change) ? "approval"
                                                                             : "comment";
  const std::string row_id = str(row, "id");
  for (int attempt = 0; attempt < max_attempts; ++attempt) {
    operator_action a = ops.translate(*c.graph, c.record, change, m_options.clock());
    switch (a.kind) {
      case action_kind::agree: return done();
      case action_kind::not_reconciled:
        ++m_stats.not_reconciled;
        say("not reconciled: " + std::string(what) + ": " + (a.reasons.empty() ? std::string() : a.reasons.front()));
        return done();
      case action_kind::refuse:
        ++m_stats.refused;
        say("refused " + std::string(what) + ":" + lines(a.reasons));
        return refused(a.reasons);
      case action_kind::submit: break;
    }
    if (!row_id.empty()) a.op.idempotency_key = "paperclip-activity:" + row_id + ":" + part;
    const std::string event = a.op.event;
    ++m_stats.submitted;
    outcome o = m_store.apply(std::move(a.op));
    switch (o.status) {
      case outcome_status::applied:
        ++m_stats.applied;
        say(std::string(what) + ": " + event + " by " + operator_agent() + " applied");
        return done();
      case outcome_status::denied: {
        ++m_stats.denied;
        const std::vector<std::string> reasons = decision_reasons(o);
        say(std::string(what) + ": " + event + " by " + operator_agent() + " denied:" + lines(reasons));
        if (auto r = reload(m_store, c); !r) return store_failed(r.error());
        return refused(reasons);
      }
      case outcome_status::conflict:
        if (o.code != "task.version_conflict") {
          ++m_stats.refused;
          return refused({o.message});
        }
        if (auto r = reload(m_store, c); !r) return store_failed(r.error());
        else if (!*r) return done();
        continue;
      case outcome_status::not_found: return done();  // the task is gone: nothing to reconcile
      case outcome_status::invalid:
        ++m_stats.refused;
        say("refused " + std::string(what) + ": " + o.code + ": " + o.message);
        return refused({o.message});
      case outcome_status::failed: return retry(o.code, o.message);
    }
  }
  return retry("task.version_conflict", c.task + " kept changing while " + std::string(what) + " was decided");
}

// Puts the issue's status and/or assignee back to where the task is, with a comment, and records
// what was written as the projector's last write, so the echo of this very PATCH is skipped.
handle_result reconciler::put_back(context& c, bool status, bool assignee, const std::string& comment) {
  if (auto r = reload(m_store, c); !r) return store_failed(r.error());
  else if (!*r) return done();
  json fields = json::object();
  const std::string backend_status(paperclip_status(*c.graph, c.record.state));
  auto backend_agent = paperclip_agent(m_store, c.record.assignee);
  if (!backend_agent) return store_failed(backend_agent.error());
  if (status) set_status(fields, backend_status, c.task, c.record.state);
  if (assignee) fields["assigneeAgentId"] = backend_agent->empty() ? json(nullptr) : json(*backend_agent);
  auto patched = m_client.patch_issue(c.issue, fields, comment);
  if (!patched) {
    if (patched.error().transient()) return retry(std::string(patched.error().code()), patched.error().message);
    say("could not put back " + c.mapping.identifier + ": " + patched.error().message);
    return done();
  }
  auto w = mapping::write(m_store, [&](kv::writer& wr) -> result<void> {
    auto m = mapping::read_task(wr, c.task);
    if (!m) return std::move(m).error();
    if (!*m) return {};
    task_mapping updated = **m;
    if (status) updated.status = backend_status;
    if (assignee) updated.assignee = *backend_agent;
    return mapping::write_task(wr, c.task, updated);
  });
  if (!w) return store_failed(w.error());
  return done();
}

// ---- comments

handle_result reconciler::comment_added(const json& row) {
  if (str(row, "actorType") != "user") return done();  // agents' run notes and system comments
  auto loaded = load(m_store, str(row, "entityId"));
  if (!loaded) return store_failed(loaded.error());
  if (!*loaded) return done();
  context& c = **loaded;
  const json& details = member(row, "details");
  std::string body = str(details, "bodySnippet");  // possibly shortened: the full text is read below
  if (const std::string id = str(details, "commentId"); !id.empty()) {
    auto comments = m_client.list_comments(c.issue);
    if (!comments) {
      if (comments.error().transient()) return retry(std::string(comments.error().code()), comments.error().message);
    } else {
      for (const auto& k : *comments)
        if (str(k, "id") == id) body = str(k, "body");
    }
  }
  if (starts_with(body, refused_prefix) || starts_with(body, restored_prefix)) return done();  // our own
  return submit(row, c, "comment on " + c.mapping.identifier, comment_change{body},
                [&](const std::vector<std::string>& reasons) -> handle_result {
                  auto r = m_client.add_comment(c.issue, std::string(refused_prefix) +
                                                             " (the comment is not recorded in agentos):" +
                                                             lines(reasons));
                  if (!r && r.error().transient()) return retry(std::string(r.error().code()), r.error().message);
                  return done();
                });
}

// ---- plan approvals

handle_result reconciler::approval_decided(const json& row) {
  if (str(row, "actorType") != "user") return done();
  const std::string id = str(row, "entityId");
  const std::string action = str(row, "action");
  const approval_decision decision = action == "approval.approved"   ? approval_decision::approved
                                     : action == "approval.rejected" ? approval_decision::rejected
                                                                     : approval_decision::revision_requested;
  const std::string wanted = action.substr(std::string_view("approval.").size());
  auto approval = m_client.get_approval(id);
  if (!approval) {
    if (approval.error().transient()) return retry(std::string(approval.error().code()), approval.error().message);
    return done();  // gone (404) or not readable: nothing to reconcile
  }
  const std::string task = str(member(*approval, "payload"), "task");
  if (task.empty()) return done();  // not a plan approval agentos made
  // The task's issue, through the mapping (the approval names the task; the mapping knows its issue).
  std::string issue;
  auto r = read_mapping(m_store, [&](kv::reader& rd) -> result<void> {
    auto m = mapping::read_task(rd, task);
    if (!m) return std::move(m).error();
    if (*m) issue = (*m)->issue;
    return {};
  });
  if (!r) return store_failed(r.error());
  if (issue.empty()) return done();
  auto loaded = load(m_store, issue);
  if (!loaded) return store_failed(loaded.error());
  if (!*loaded) return done();
  context& c = **loaded;
  // Only the pending plan's approval speaks for the task. The projector clears it once the
  // backend has decided, and resolves the Paperclip approval itself: those decisions (and any on
  // an older plan's approval) are echoes or history.
  if (c.mapping.approval != id) {
    ++m_stats.echoes;
    return done();
  }
  if (str(*approval, "status") != wanted) {
    ++m_stats.superseded;
    return done();
  }
  const std::string what = "plan approval " + wanted + " on " + c.mapping.identifier;
  return submit(row, c, what, approval_change{decision, str(*approval, "decisionNote")},
                [&](const std::vector<std::string>& reasons) -> handle_result {
                  const std::string text = std::string(refused_prefix) + " (plan approval " + wanted + "):" +
                                           lines(reasons) + "\n" + c.task + " stays " + c.record.state + ".";
                  // An approved or rejected Paperclip approval cannot be reopened; one that asked for
                  // a revision can (resubmit), so it waits for the board again.
                  if (wanted == "revision_requested") {
                    auto back = m_client.call("POST", "/approvals/" + path_segment(id) + "/resubmit", json::object());
                    if (!back && back.error().transient()) return retry(std::string(back.error().code()), back.error().message);
                  }
                  auto a = m_client.call("POST", "/approvals/" + path_segment(id) + "/comments", json{{"body", text}});
                  if (!a && a.error().transient()) return retry(std::string(a.error().code()), a.error().message);
                  auto k = m_client.add_comment(c.issue, text);
                  if (!k && k.error().transient()) return retry(std::string(k.error().code()), k.error().message);
                  return done();
                });
}

}  // namespace agentos::runtime::projection
