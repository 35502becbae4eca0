// `agentos task ...`: create, inspect and move tasks in a data directory, with no server. Every
// change goes through the store's transition pipeline (task_store::apply), so what the CLI does
// is decided, audited and durable exactly as a change made through the service would be. The
// printed outcome is the pipeline's: an applied change, a denial with every reason (exit 3), or
// an error with the outcome's code (`agentos: error[task.version_conflict]: ...`).
#include <algorithm>
#include <iostream>

#include "commands.hpp"
#include "dsl/policy_set.hpp"
#include "store_access.hpp"

namespace agentos::cli {

namespace {

using nlohmann::json;
namespace ast = dsl::ast;

// ---- options

struct write_options {
  std::string data = default_data_dir;
  std::string policy;
  std::string actor;
  std::string now;
  std::string idempotency_key;
  bool json = false;
};

struct create_options : write_options {
  std::string id;
  std::vector<std::string> sets;
  std::string json_input;
};

struct transition_options : write_options {
  std::string task_id;
  std::string event;
  std::uint64_t expect_version = 0;
  std::string assign;
  std::string artifact_kind;
  std::string artifact_file;
  std::string comment;
  CLI::Option* comment_given = nullptr;
  bool always_review = false;  // `task review` records a review even without --comment
};

struct escalate_options : write_options {
  std::string task_id;
  bool request = false;
};

struct read_options {
  std::string data = default_data_dir;
  bool json = false;
};

struct show_options : read_options {
  std::string task_id;
};

struct list_options : read_options {
  runtime::task_filter filter;
};

void add_write_options(CLI::App* cmd, write_options& o) {
  add_data_option(*cmd, o.data);
  cmd->add_option("--policy,-p", o.policy,
                  "Make this policy the store's active one first (default: the store's own active policy)");
  cmd->add_option("--actor,-a", o.actor, "Who acts: an agent id (default: $AGENTOS_ACTOR)")->envname("AGENTOS_ACTOR");
  cmd->add_option("--now", o.now, "The decision time: ms since the epoch or RFC 3339 (default: the wall clock)");
  cmd->add_option("--idempotency-key", o.idempotency_key,
                  "A retry with the same key returns the first outcome instead of acting twice");
  cmd->add_flag("--json", o.json, "Print the outcome as JSON ({status, code, message, body})");
}

json actor_json(const std::string& id) { return id.empty() ? json::object() : json{{"id", id}}; }

// A field of a task as an outcome carries it: a summary ({"id", "version", "state", ...}) or a
// whole record ({"id", "version", "task": {"state", ...}}).
json task_field(const json& t, const char* key) {
  if (t.is_object() && t.contains(key)) return field(t, key);
  return field(field(t, "task"), key);
}

// The built-in task fields (the engine's); everything else a task holds is a declared attribute.
bool built_in_field(std::string_view name) {
  static constexpr std::string_view names[] = {"id",       "project",       "labels",   "state",      "mode",
                                               "assignee", "assignee_role", "attempts", "entered_at", "created_at",
                                               "escalation_requested"};
  return std::find(std::begin(names), std::end(names), name) != std::end(names);
}

// The declared attributes of a record's "task": nested under "attributes" or beside the built-ins
// (the request JSON accepts both).
json attributes_of(const json& t) {
  json out = json::object();
  if (!t.is_object()) return out;
  if (const auto it = t.find("attributes"); it != t.end() && it->is_object()) out = *it;
  for (const auto& [key, value] : t.items())
    if (key != "attributes" && !built_in_field(key)) out[key] = value;
  return out;
}

// ---- create: attributes from --set

// Types a `--set name=value` by what the policy declares `name` to be, so `--set title=2024`
// stays a string and `--set moves_money=true` becomes a bool. The engine validates the result.
json typed_value(const engine::rule_graph& g, const std::string& name, const std::string& text) {
  auto comma_list = [&] {
    if (!text.empty() && text.front() == '[') {
      json j = json::parse(text, nullptr, false);
      if (j.is_array()) return j;
    }
    json out = json::array();
    std::size_t start = 0;
    while (start <= text.size()) {
      std::size_t end = text.find(',', start);
      if (end == std::string::npos) end = text.size();
      std::string item = text.substr(start, end - start);
      item.erase(0, item.find_first_not_of(" \t"));
      item.erase(item.find_last_not_of(" \t") + 1);
      if (!item.empty()) out.push_back(item);
      start = end + 1;
    }
    return out;
  };
  auto literal = [&](bool numbers_only) {
    json j = json::parse(text, nullptr, false);
    if (j.is_discarded() || j.is_string() || j.is_object()) return json(text);
    if (numbers_only && !j.is_number_integer()) return json(text);
    return j;
  };
  if (name == "labels") return comma_list();
  if (name == "project") return text;
  const std::int32_t index = g.policy().find_attribute(name);
  if (index < 0) return literal(false);  // unknown: the engine says so, with the known names
  switch (g.policy().attributes[static_cast<std::size_t>(index)].kind) {
    case ast::type_kind::string_set: return comma_list();
    case ast::type_kind::int_:
    case ast::type_kind::bool_: return literal(false);
    case ast::type_kind::duration:
    case ast::type_kind::timestamp: return literal(true);  // ms as a number; "1h30m", RFC 3339 as text
    default: return text;                                  // string, enum, decimal (exact as text: "12.50")
  }
}

int run_create(const create_options& o) {
  json task = json::object();
  if (!o.json_input.empty()) {
    std::string text;
    const std::string shown = o.json_input == "-" ? "<stdin>" : o.json_input;
    if (!read_input(o.json_input, text)) {
      print_error("cli.io", "cannot read " + shown);
      return exit_usage;
    }
    task = json::parse(text, nullptr, false);
    if (task.is_discarded() || !task.is_object()) {
      print_error("cli.usage", shown + " is not a JSON object");
      return exit_usage;
    }
  }
  std::vector<std::pair<std::string, std::string>> sets;
  for (const auto& s : o.sets) {
    const auto eq = s.find('=');
    if (eq == std::string::npos || eq == 0) {
      print_error("cli.usage", "--set `" + s + "`: expected name=value");
      return exit_usage;
    }
    sets.emplace_back(s.substr(0, eq), s.substr(eq + 1));
  }
  std::int64_t now = 0;
  if (!time_option("--now", o.now, now)) return exit_usage;

  int code = exit_ok;
  auto store = open_store(o.data, o.policy, store_access::write, code);
  if (!store) return code;
  const auto graph = store->graph();
  for (const auto& [name, value] : sets) task[name] = typed_value(*graph, name, value);

  runtime::create_op op;
  op.id = o.id;
  op.task = std::move(task);
  op.actor = actor_json(o.actor);
  op.now = now;
  op.idempotency_key = o.idempotency_key;
  const runtime::outcome out = store->apply(std::move(op));
  if (o.json) std::cout << outcome_json(out).dump(2) << "\n";
  if (out.status != runtime::outcome_status::applied) {
    print_failure(out);
    return exit_for(out);
  }
  if (o.json) return exit_ok;

  const json& rec = field(out.body, "task");
  const json& t = field(rec, "task");
  const json& intake = field(rec, "intake");
  std::cout << cell(field(rec, "id")) << " created (version " << cell(field(rec, "version")) << ")\n";
  std::cout << "  state:    " << cell(field(t, "state")) << "\n";
  std::string mode = cell(field(t, "mode"));
  if (intake.contains("gates") && !field(intake, "gates").empty()) {
    std::string gates;
    for (const auto& g : field(intake, "gates")) gates += (gates.empty() ? "" : ", ") + cell(g);
    mode += " (gates: " + gates + ")";
  }
  std::cout << "  mode:     " << mode << "\n";
  std::cout << "  assignee: " << cell(field(t, "assignee")) << " (role " << cell(field(t, "assignee_role")) << ")\n";
  const json& route = field(intake, "route");
  std::cout << "  route:    "
            << (field(route, "rule").is_null() ? "none (no route matched)"
                                               : cell(field(route, "rule")) + " -> " + cell(field(route, "target")) +
                                                     ((field(route, "fallback") == true) ? " (fallback)" : ""))
            << "\n";
  if (!field(rec, "due_at").is_null()) std::cout << "  due:      " << show_time(field(rec, "due_at")) << "\n";
  for (const auto& e : field(out.body, "escalations"))
    std::cout << "  escalated: " << cell(field(e, "rule")) << " -> " << cell(field(e, "target")) << "\n";
  if (field(out.body, "replayed") == true)
    std::cout << "  (replayed: the outcome first recorded under idempotency key " << o.idempotency_key << ")\n";
  return exit_ok;
}

// ---- transition and its shortcuts

std::string obligation_line(const json& ob) {
  const std::string action = text_field(ob, "action");
  const std::string target = cell(field(ob, "target"));
  const std::string text = action == "require_review" ? "require review by " + target : action + " " + target;
  const json rule = field(ob, "rule");
  return text + (rule.is_string() ? " (" + rule.get<std::string>() + ")" : "");
}

// The decision behind a transition's outcome (the outcome carries it).
json decision_of(const runtime::task_store&, const runtime::outcome& o) {
  json d = o.decision();
  return d.is_object() ? d : json::object();
}

int run_transition(const transition_options& o) {
  if (o.artifact_kind.empty() != o.artifact_file.empty()) {
    print_error("cli.usage", "--artifact-kind and --artifact-file go together");
    return exit_usage;
  }
  std::optional<runtime::artifact_input> artifact;
  if (!o.artifact_file.empty()) {
    std::string text;
    if (!read_input(o.artifact_file, text)) {
      print_error("cli.io", "cannot read " + (o.artifact_file == "-" ? std::string("<stdin>") : o.artifact_file));
      return exit_usage;
    }
    artifact = runtime::artifact_input{o.artifact_kind, std::move(text)};
  }
  std::int64_t now = 0;
  if (!time_option("--now", o.now, now)) return exit_usage;

  int code = exit_ok;
  auto store = open_store(o.data, o.policy, store_access::write, code);
  if (!store) return code;

  runtime::transition_op op;
  op.task_id = o.task_id;
  op.event = o.event;
  op.actor = actor_json(o.actor);
  op.now = now;
  op.expected_version = o.expect_version;
  op.artifact = std::move(artifact);
  op.assign_to = o.assign;
  if (o.always_review || (o.comment_given && o.comment_given->count() > 0)) op.review = o.comment;
  op.idempotency_key = o.idempotency_key;
  const runtime::outcome out = store->apply(std::move(op));
  if (o.json) {
    json j = outcome_json(out);
    if (out.acknowledged() && !j["body"].contains("decision")) j["body"]["decision"] = decision_of(*store, out);
    std::cout << j.dump(2) << "\n";
  }
  if (!out.acknowledged()) {
    print_failure(out);
    return exit_for(out);
  }
  if (o.json) return exit_for(out);

  const json task = field(out.body, "task");
  const json decision = decision_of(*store, out);
  if (out.status == runtime::outcome_status::denied) {
    std::cout << o.task_id << ": " << o.event << " denied in " << cell(task_field(task, "state")) << " (version "
              << cell(task_field(task, "version")) << " unchanged)\n";
    for (const auto& r : field(decision, "reasons")) std::cout << "  " << reason_line(r) << "\n";
  } else {
    std::cout << out.message << " (version " << cell(task_field(task, "version")) << ")\n";
    if (const auto a = out.body.find("artifact"); a != out.body.end())
      std::cout << "  stored " << cell(field(*a, "kind")) << " v" << cell(field(*a, "version")) << ": "
                << cell(field(*a, "size")) << " bytes, sha256 " << cell(field(*a, "sha256")) << "\n";
    if (const auto r = out.body.find("review"); r != out.body.end()) {
      const json& of = field(*r, "artifact");
      std::cout << "  review recorded"
                << (of.is_object() ? " on " + cell(field(of, "kind")) + " v" + cell(field(of, "version"))
                                   : std::string())
                << "\n";
    }
    if (!o.assign.empty()) {
      auto now_rec = store->task(o.task_id);
      const json t = now_rec && *now_rec ? field(**now_rec, "task") : json::object();
      std::cout << "  assignee: " << cell(field(t, "assignee")) << " (role " << cell(field(t, "assignee_role"))
                << ")\n";
    }
    for (const auto& ob : field(decision, "obligations"))
      std::cout << "  obligation: " << obligation_line(ob) << "\n";
    for (const auto& e : field(out.body, "escalations"))
      std::cout << "  escalated: " << cell(field(e, "rule")) << " -> " << cell(field(e, "target")) << "\n";
  }
  if (field(out.body, "replayed") == true)
    std::cout << "  (replayed: the outcome first recorded under idempotency key " << o.idempotency_key << ")\n";
  return exit_for(out);
}

void add_transition_options(CLI::App* cmd, transition_options& o) {
  add_write_options(cmd, o);
  cmd->add_option("--expect-version", o.expect_version,
                  "Apply only if the task is at this version (else exit 4: task.version_conflict)");
  cmd->add_option("--assign", o.assign, "On success, assign the task to agent:ID or role:NAME (or a bare agent id)");
}

// ---- escalate

int run_escalate(const escalate_options& o) {
  if (o.request && o.task_id.empty()) {
    print_error("cli.usage", "--request needs a task id");
    return exit_usage;
  }
  std::int64_t now = 0;
  if (!time_option("--now", o.now, now)) return exit_usage;
  int code = exit_ok;
  auto store = open_store(o.data, o.policy, store_access::write, code);
  if (!store) return code;
  runtime::escalate_op op;
  op.now = now;
  op.task_id = o.task_id;
  op.request = o.request;
  op.actor = actor_json(o.actor);
  const runtime::outcome out = store->apply(std::move(op));
  if (o.json) std::cout << outcome_json(out).dump(2) << "\n";
  if (out.status != runtime::outcome_status::applied) {
    print_failure(out);
    return exit_for(out);
  }
  if (o.json) return exit_ok;
  if (o.request) std::cout << o.task_id << ": escalation requested\n";
  std::cout << "escalate at " << show_time(field(out.body, "now")) << ": " << out.message << "\n";
  for (const auto& f : field(out.body, "fired"))
    std::cout << "  " << cell(field(f, "task")) << ": " << cell(field(f, "rule")) << " -> " << cell(field(f, "target"))
              << " (audit " << cell(field(f, "audit_seq")) << ")\n";
  std::cout << "next due: "
            << (field(out.body, "next_due").is_null() ? "nothing" : show_time(field(out.body, "next_due"))) << "\n";
  return exit_ok;
}

// ---- show

std::string who_role(const json& t) {
  const std::string who = cell(field(t, "assignee"));
  const json role = field(t, "assignee_role");
  return role.is_string() ? who + " (role " + role.get<std::string>() + ")" : who;
}

int run_show(const show_options& o) {
  int code = exit_ok;
  auto store = open_store(o.data, {}, store_access::read, code);
  if (!store) return code;
  auto rec = store->task(o.task_id);
  if (!rec) return report_store_error(rec.error());
  if (!*rec) {
    print_error("task.not_found", "no task " + o.task_id);
    return exit_usage;
  }
  auto artifacts = store->artifacts(o.task_id);
  if (!artifacts) return report_store_error(artifacts.error());
  auto reviews = store->reviews(o.task_id);
  if (!reviews) return report_store_error(reviews.error());
  runtime::audit_filter f;
  f.task = o.task_id;
  auto trail = store->audit(f);
  if (!trail) return report_store_error(trail.error());

  if (o.json) {
    json audit = json::array();
    for (const auto& e : *trail) audit.push_back(e.record);
    std::cout << json{{"task", **rec}, {"artifacts", *artifacts}, {"reviews", *reviews}, {"audit", audit}}.dump(2)
              << "\n";
    return exit_ok;
  }
  const json& r = **rec;
  const json& t = field(r, "task");
  std::cout << "task " << cell(field(r, "id")) << " (version " << cell(field(r, "version")) << ")\n";
  auto line = [](const std::string& key, const std::string& value) {
    std::cout << "  " << key << ":" << std::string(key.size() < 12 ? 12 - key.size() : 1, ' ') << value << "\n";
  };
  line("state", cell(field(t, "state")) + " since " + show_time(field(t, "entered_at")));
  line("mode", cell(field(t, "mode")));
  line("assignee", who_role(t));
  line("attempts", cell(field(t, "attempts")));
  line("created", show_time(field(t, "created_at")) + " by " + cell(field(r, "created_by")));
  line("updated", show_time(field(r, "updated_at")));
  line("due", show_time(field(r, "due_at")));
  std::string holding;
  for (const auto& e : field(r, "escalations")) holding += (holding.empty() ? "" : ", ") + cell(e);
  line("escalations", holding.empty() ? "-" : holding);
  if (field(t, "escalation_requested") == true) line("requested", "an escalation is requested");
  if (const json& in = field(r, "intake"); in.is_object()) {
    const json& route = field(in, "route");
    std::string gates;
    for (const auto& g : field(in, "gates")) gates += (gates.empty() ? "" : ", ") + cell(g);
    line("intake",
         (field(route, "rule").is_null() ? std::string("no route")
                                         : cell(field(route, "rule")) + " -> " + cell(field(route, "target"))) +
             ", " + cell(field(in, "mode")) + (gates.empty() ? "" : " (gates: " + gates + ")"));
  }
  line("policy", cell(field(r, "policy")));
  if (const json project = field(t, "project"); project.is_string() && !project.get<std::string>().empty())
    line("project", project.get<std::string>());
  if (const json labels = field(t, "labels"); !labels.empty()) {
    std::string text;
    for (const auto& l : labels) text += (text.empty() ? "" : ", ") + cell(l);
    line("labels", text);
  }
  const json attributes = attributes_of(t);
  for (const auto& [key, value] : attributes.items())
    line(key, value.is_string() ? value.get<std::string>() : value.dump());

  std::cout << "\nartifacts:\n";
  if (artifacts->empty())
    std::cout << "  (none)\n";
  else {
    std::vector<std::vector<std::string>> rows;
    for (const auto& a : *artifacts)
      rows.push_back({"  " + cell(field(a, "kind")), cell(field(a, "version")), cell(field(a, "size")),
                      cell(field(a, "sha256")), show_time(field(a, "at")), cell(field(a, "by")),
                      cell(field(a, "event"))});
    print_table(std::cout, {"  KIND", "VERSION", "SIZE", "SHA256", "AT", "BY", "EVENT"}, rows);
  }
  std::cout << "\nreviews:\n";
  if (reviews->empty())
    std::cout << "  (none)\n";
  else {
    std::vector<std::vector<std::string>> rows;
    for (const auto& v : *reviews) {
      const json& of = field(v, "artifact");
      rows.push_back({"  " + show_time(field(v, "at")), cell(field(v, "by")), cell(field(v, "event")),
                      cell(field(v, "verdict")),
                      of.is_object() ? cell(field(of, "kind")) + " v" + cell(field(of, "version")) : "-",
                      cell(field(v, "comment"))});
    }
    print_table(std::cout, {"  AT", "BY", "EVENT", "VERDICT", "ARTIFACT", "COMMENT"}, rows);
  }
  std::cout << "\naudit:\n";
  std::vector<std::vector<std::string>> rows;
  for (const auto& e : *trail) {
    const json& a = e.record;
    rows.push_back({"  " + std::to_string(e.seq), show_time(field(a, "at")), cell(field(a, "kind")),
                    cell(field(a, "event")), cell(field(a, "actor")), cell(field(a, "effect"))});
  }
  print_table(std::cout, {"  SEQ", "AT", "KIND", "EVENT", "ACTOR", "EFFECT"}, rows);
  return exit_ok;
}

// ---- list

// T-2 before T-10: digit runs compare as numbers.
bool natural_less(const std::string& a, const std::string& b) {
  std::size_t i = 0, j = 0;
  while (i < a.size() && j < b.size()) {
    const bool da = std::isdigit(static_cast<unsigned char>(a[i])) != 0;
    const bool db = std::isdigit(static_cast<unsigned char>(b[j])) != 0;
    if (da && db) {
      std::size_t ei = i, ej = j;
      while (ei < a.size() && std::isdigit(static_cast<unsigned char>(a[ei]))) ++ei;
      while (ej < b.size() && std::isdigit(static_cast<unsigned char>(b[ej]))) ++ej;
      std::string_view na(a.data() + i, ei - i), nb(b.data() + j, ej - j);
      while (na.size() > 1 && na[0] == '0') na.remove_prefix(1);
      while (nb.size() > 1 && nb[0] == '0') nb.remove_prefix(1);
      if (na.size() != nb.size()) return na.size() < nb.size();
      if (na != nb) return na < nb;
      i = ei, j = ej;
    } else {
      if (a[i] != b[j]) return a[i] < b[j];
      ++i, ++j;
    }
  }
  return a.size() - i < b.size() - j;
}

int run_list(const list_options& o) {
  int code = exit_ok;
  auto store = open_store(o.data, {}, store_access::read, code);
  if (!store) return code;
  runtime::task_filter f = o.filter;
  f.limit = 0;  // sorted here, so the limit applies after sorting
  auto tasks = store->tasks(f);
  if (!tasks) return report_store_error(tasks.error());
  std::stable_sort(tasks->begin(), tasks->end(), [](const json& a, const json& b) {
    return natural_less(text_field(a, "id"), text_field(b, "id"));
  });
  if (o.filter.limit != 0 && tasks->size() > o.filter.limit) tasks->resize(o.filter.limit);
  if (o.json) {
    std::cout << json(*tasks).dump(2) << "\n";
    return exit_ok;
  }
  if (tasks->empty()) {
    std::cout << "no tasks\n";
    return exit_ok;
  }
  std::vector<std::vector<std::string>> rows;
  for (const auto& r : *tasks) {
    const json& t = field(r, "task");
    rows.push_back({cell(field(r, "id")), cell(field(t, "state")), cell(field(t, "mode")), cell(field(t, "assignee")),
                    cell(field(r, "version")), show_time(field(r, "updated_at")),
                    cell(field(attributes_of(t), "title"))});
  }
  print_table(std::cout, {"ID", "STATE", "MODE", "ASSIGNEE", "VERSION", "UPDATED", "TITLE"}, rows);
  return exit_ok;
}

constexpr const char* write_footer =
    "Exit status: 0 applied; 3 denied (every reason printed); 4 conflict (a stale --expect-version, a task\n"
    "id in use); 1 when --policy has errors; 2 on usage or I/O errors, an unknown task, input the policy\n"
    "rejects, a store error (a store open in another process, no active policy: pass --policy FILE).";
constexpr const char* read_footer =
    "Exit status: 0 on success; 2 on usage errors, an unknown task, no store in the data directory, or a\n"
    "store error (such as a store open in another process).";

}  // namespace

void register_task(CLI::App& app, command_result& result) {
  auto* task = app.add_subcommand("task", "Create, inspect and move tasks in a data directory (no server needed)");
  task->require_subcommand(1);
  task->footer("See `agentos task COMMAND --help` and docs/cli.md.");

  {
    auto o = std::make_shared<create_options>();
    auto* cmd = task->add_subcommand("create", "Create a task: routing and the plan gate choose its assignee and mode");
    add_write_options(cmd, *o);
    cmd->add_option("--id", o->id, "The task id (default: the store numbers it T-1, T-2, ...)");
    cmd->add_option("--set,-s", o->sets,
                    "An attribute, name=value; repeatable. Typed by the policy: `labels` and set<string> take a\n"
                    "comma list, int/bool/duration/timestamp a JSON literal, the rest text")
        ->allow_extra_args(false);
    cmd->add_option("--json-input", o->json_input,
                    "The task as a JSON object from FILE, or `-` for stdin (--set wins)");
    cmd->footer(
        "Exit status: 0 created; 4 the --id is in use; 1 when --policy has errors; 2 on usage or I/O errors,\n"
        "input the policy rejects (each problem printed with its JSON pointer), or a store error (a store\n"
        "open in another process, no active policy: pass --policy FILE).");
    cmd->callback([o, &result] { result.exit_code = run_create(*o); });
  }
  {
    auto o = std::make_shared<show_options>();
    auto* cmd = task->add_subcommand("show", "Show a task, its artifacts, reviews and audit trail");
    add_data_option(*cmd, o->data);
    cmd->add_option("id", o->task_id, "The task id")->required();
    cmd->add_flag("--json", o->json, "Print {task, artifacts, reviews, audit} as JSON");
    cmd->footer(read_footer);
    cmd->callback([o, &result] { result.exit_code = run_show(*o); });
  }
  {
    auto o = std::make_shared<list_options>();
    auto* cmd = task->add_subcommand("list", "List tasks as a table");
    add_data_option(*cmd, o->data);
    cmd->add_option("--state", o->filter.state, "Only tasks in this state");
    cmd->add_option("--assignee", o->filter.assignee, "Only tasks assigned to this agent");
    cmd->add_option("--project", o->filter.project, "Only tasks of this project");
    cmd->add_option("--limit,-n", o->filter.limit, "At most N tasks (0: all)");
    cmd->add_flag("--json", o->json, "Print the task records as a JSON array");
    cmd->footer(read_footer);
    cmd->callback([o, &result] { result.exit_code = run_list(*o); });
  }
  {
    auto o = std::make_shared<transition_options>();
    auto* cmd = task->add_subcommand("transition", "Move a task on an event, as decided by the policy");
    cmd->add_option("id", o->task_id, "The task id")->required();
    cmd->add_option("event", o->event, "The lifecycle event (start, submit_plan, approve_plan, ...)")->required();
    add_transition_options(cmd, *o);
    cmd->add_option("--artifact-kind", o->artifact_kind,
                    "Store an artifact of this kind (plan, result, ...) when allowed");
    cmd->add_option("--artifact-file", o->artifact_file, "The artifact's content: a file, or `-` for stdin");
    o->comment_given = cmd->add_option("--comment", o->comment, "Record a review with this comment when allowed");
    cmd->footer(write_footer);
    cmd->callback([o, &result] { result.exit_code = run_transition(*o); });
  }
  // `plan` and `result`: a transition that carries an artifact of that kind.
  auto artifact_shortcut = [&](const char* name, const char* event) {
    auto o = std::make_shared<transition_options>();
    o->event = event;
    o->artifact_kind = name;
    auto* cmd = task->add_subcommand(name, std::string("Submit a ") + name + ": `transition ID " + event + "` with a `" +
                                               name + "` artifact");
    cmd->add_option("id", o->task_id, "The task id")->required();
    cmd->add_option("--file,-f", o->artifact_file, std::string("The ") + name + ": a file, or `-` for stdin")->required();
    cmd->add_option("--event", o->event, "The event to send")->capture_default_str();
    add_transition_options(cmd, *o);
    cmd->footer(write_footer);
    cmd->callback([o, &result] { result.exit_code = run_transition(*o); });
  };
  artifact_shortcut("plan", "submit_plan");
  artifact_shortcut("result", "submit_result");
  {
    auto o = std::make_shared<transition_options>();
    o->always_review = true;
    auto* cmd = task->add_subcommand(
        "review", "Review the latest artifact: a transition (approve_plan, accept_result, ...) that records a review");
    cmd->add_option("id", o->task_id, "The task id")->required();
    cmd->add_option("event", o->event, "The verdict's event: approve_plan, request_plan_revision, accept_result, ...")
        ->required();
    cmd->add_option("--comment", o->comment, "The review's comment");
    add_transition_options(cmd, *o);
    cmd->footer(write_footer);
    cmd->callback([o, &result] { result.exit_code = run_transition(*o); });
  }
  {
    auto o = std::make_shared<transition_options>();
    o->event = "cancel";
    auto* cmd = task->add_subcommand("cancel", "Cancel a task: `transition ID cancel`");
    cmd->add_option("id", o->task_id, "The task id")->required();
    cmd->add_option("--event", o->event, "The event to send")->capture_default_str();
    o->comment_given = cmd->add_option("--comment", o->comment, "Record a review with this comment when allowed");
    add_transition_options(cmd, *o);
    cmd->footer(write_footer);
    cmd->callback([o, &result] { result.exit_code = run_transition(*o); });
  }
  {
    auto o = std::make_shared<escalate_options>();
    auto* cmd = task->add_subcommand(
        "escalate", "Evaluate escalation rules at --now: for one task, or every task the due index says is due");
    cmd->add_option("id", o->task_id, "One task (default: sweep every due task)");
    cmd->add_flag("--request", o->request, "First record an explicit escalation request on the task");
    add_write_options(cmd, *o);
    cmd->footer(
        "Prints each escalation that fired and when the next one is due (run it again then).\n"
        "Exit status: 0 on success; 1 when --policy has errors; 2 on usage errors, an unknown task or a store error.");
    cmd->callback([o, &result] { result.exit_code = run_escalate(*o); });
  }
}

}  // namespace agentos::cli
