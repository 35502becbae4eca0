// `agentos store stat|check|backup`: look after a data directory. `check` walks every task, index
// entry, artifact and audit record (task_store::check) and exits 1 on any problem, so it fits a
// cron job or a pre-upgrade step; `backup` writes a consistent, compacted copy.
#include <filesystem>
#include <iomanip>
#include <iostream>
#include <sstream>

#include "commands.hpp"
#include "engine/units.hpp"
#include "store_access.hpp"

namespace agentos::cli {

namespace {

using nlohmann::json;
namespace fs = std::filesystem;

struct store_command_options {
  std::string data = default_data_dir;
  bool json = false;
  std::string dest;
};

std::string bytes(std::size_t n) {
  std::ostringstream out;
  if (n < 1024) {
    out << n << " B";
  } else {
    static const char* units[] = {"KiB", "MiB", "GiB", "TiB"};
    double v = static_cast<double>(n) / 1024;
    int u = 0;
    while (v >= 1024 && u < 3) v /= 1024, ++u;
    out << std::fixed << std::setprecision(1) << v << " " << units[u];
  }
  return out.str();
}

int run_stat(const store_command_options& o) {
  int code = exit_ok;
  auto store = open_store(o.data, {}, store_access::read, code);
  if (!store) return code;
  auto st = store->stat();
  if (!st) return report_store_error(st.error());
  const auto graph = store->graph();
  if (o.json) {
    json tables = json::object();
    for (const auto& t : st->tables) tables[t.table] = t.entries;
    json out = {{"path", store->path().string()},
                {"map_size", st->env.map_size},
                {"used_bytes", st->env.used_bytes},
                {"page_size", st->env.page_size},
                {"last_txn_id", st->env.last_txn_id},
                {"readers", {{"used", st->env.readers_used}, {"max", st->env.max_readers}}},
                {"tables", tables},
                {"active_policy", st->active_policy.empty() ? json(nullptr) : json(st->active_policy)},
                {"policy_name", graph ? json(graph->name()) : json(nullptr)},
                {"policy_declared_version", graph ? json(graph->declared_version()) : json(nullptr)},
                {"audit_records", st->audit_records},
                {"audit_head", {{"seq", st->audit_head_seq}, {"hash", st->audit_head_hash}}},
                {"next_due", st->next_due ? json(*st->next_due) : json(nullptr)}};
    std::cout << out.dump(2) << "\n";
    return exit_ok;
  }
  auto line = [](const std::string& key, const std::string& value) {
    std::cout << key << ":" << std::string(key.size() < 14 ? 14 - key.size() : 1, ' ') << value << "\n";
  };
  line("store", store->path().string());
  line("map size", bytes(st->env.map_size));
  const double pct =
      st->env.map_size ? 100.0 * static_cast<double>(st->env.used_bytes) / static_cast<double>(st->env.map_size) : 0;
  std::ostringstream used;
  used << bytes(st->env.used_bytes) << " (" << std::fixed << std::setprecision(1) << pct << "% of the map)";
  line("used", used.str());
  line("page size", std::to_string(st->env.page_size));
  line("last txn", std::to_string(st->env.last_txn_id));
  line("readers", std::to_string(st->env.readers_used) + " of " + std::to_string(st->env.max_readers));
  line("active policy",
       st->active_policy.empty()
           ? std::string("none (a write needs --policy FILE)")
           : (graph ? graph->name() + " \"" + graph->declared_version() + "\" " : std::string()) + st->active_policy);
  line("audit records", std::to_string(st->audit_records));
  // The chain's head: kept elsewhere now and then, it shows a rewrite of the log from any point on.
  line("audit head", "seq " + std::to_string(st->audit_head_seq) + ", hash " + st->audit_head_hash);
  line("next due", st->next_due ? engine::format_timestamp(*st->next_due) : std::string("nothing"));
  std::cout << "tables:\n";
  std::vector<std::vector<std::string>> rows;
  for (const auto& t : st->tables) rows.push_back({"  " + t.table, std::to_string(t.entries)});
  print_table(std::cout, {"  TABLE", "ENTRIES"}, rows);
  return exit_ok;
}

int run_check(const store_command_options& o) {
  int code = exit_ok;
  auto store = open_store(o.data, {}, store_access::read, code);
  if (!store) return code;
  auto rep = store->check(audit_progress(!o.json));
  end_audit_progress(!o.json);
  if (!rep) return report_store_error(rep.error());
  const auto& a = rep->audit;
  if (o.json) {
    json out = {{"ok", rep->ok()},
                {"tasks", rep->tasks},
                {"index_entries", rep->index_entries},
                {"artifacts", rep->artifacts},
                {"problems", rep->problems},
                {"audit",
                 {{"ok", a.ok()},
                  {"records", a.records},
                  {"replayed", a.replayed},
                  {"chain_breaks", a.chain_breaks},
                  {"mismatches", a.mismatches},
                  {"policy_versions", a.policy_versions},
                  {"problems", a.problems}}}};
    std::cout << out.dump(2) << "\n";
    return rep->ok() ? exit_ok : exit_findings;
  }
  std::cout << "store: " << rep->tasks << " tasks, " << rep->index_entries << " index entries, " << rep->artifacts
            << " artifacts, " << (rep->problems.empty() ? "ok" : std::to_string(rep->problems.size()) + " problem(s)")
            << "\n";
  for (const auto& p : rep->problems) std::cout << "  " << p << "\n";
  std::cout << verify_summary(a) << "\n";
  for (const auto& p : a.problems) std::cout << "  " << p << "\n";
  return rep->ok() ? exit_ok : exit_findings;
}

int run_backup(const store_command_options& o) {
  std::error_code ec;
  if (fs::exists(fs::path(o.dest) / "data.mdb", ec)) {
    print_error("store.invalid", o.dest + " already holds a store; back up into a new or empty directory");
    return exit_usage;
  }
  int code = exit_ok;
  auto store = open_store(o.data, {}, store_access::read, code);
  if (!store) return code;
  if (auto r = store->backup(o.dest); !r) return report_store_error(r.error());
  const auto size = fs::file_size(fs::path(o.dest) / "data.mdb", ec);
  std::cout << "backup of " << store->path().string() << " written to " << o.dest << " (compacted"
            << (ec ? std::string() : ", " + bytes(size)) << ")\n";
  return exit_ok;
}

}  // namespace

void register_store(CLI::App& app, command_result& result) {
  auto* store = app.add_subcommand("store", "Inspect, check and back up a data directory");
  store->require_subcommand(1);
  store->footer("See `agentos store COMMAND --help` and docs/cli.md.");
  {
    auto o = std::make_shared<store_command_options>();
    auto* cmd =
        store->add_subcommand("stat", "Map size and use, entries per table, active policy, audit records, next due");
    add_data_option(*cmd, o->data);
    cmd->add_flag("--json", o->json, "Print the figures as JSON");
    cmd->footer("Exit status: 0 on success; 2 on usage errors, no store, or a store error.");
    cmd->callback([o, &result] { result.exit_code = run_stat(*o); });
  }
  {
    auto o = std::make_shared<store_command_options>();
    auto* cmd = store->add_subcommand(
        "check", "Check every task, index entry and artifact, and verify the audit log (chain and replay)");
    add_data_option(*cmd, o->data);
    cmd->add_flag("--json", o->json, "Print the report as JSON");
    cmd->footer(
        "Exit status: 0 when everything checks; 1 when a problem was found (each is printed); 2 on usage\n"
        "errors, no store, or a store error.");
    cmd->callback([o, &result] { result.exit_code = run_check(*o); });
  }
  {
    auto o = std::make_shared<store_command_options>();
    auto* cmd = store->add_subcommand("backup", "Write a consistent, compacted copy of the store into DEST");
    add_data_option(*cmd, o->data);
    cmd->add_option("dest", o->dest, "A new or empty directory")->required();
    cmd->footer(
        "The copy is a store: use it with --data DEST.\n"
        "Exit status: 0 on success; 2 on usage errors, no store, a DEST that already holds a store, or a\n"
        "store error.");
    cmd->callback([o, &result] { result.exit_code = run_backup(*o); });
  }
}

}  // namespace agentos::cli
