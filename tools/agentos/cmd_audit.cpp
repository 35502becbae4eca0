// `agentos audit verify|log`: the audit log of a data directory. `verify` checks the hash chain and
// replays every recorded decision against the policy version it was made under (the store keeps
// every version's sources), exiting 1 on a break or a mismatch; `log` lists records by task,
// actor, event, kind, effect and time, as a table or as JSON Lines (one whole record per line).
#include <iostream>

#include "commands.hpp"
#include "store_access.hpp"

namespace agentos::cli {

namespace {

using nlohmann::json;

struct audit_options {
  std::string data = default_data_dir;
  bool json = false;
  runtime::audit_filter filter;
  std::string since, until;
};

int run_verify(const audit_options& o) {
  int code = exit_ok;
  auto store = open_store(o.data, {}, store_access::read, code);
  if (!store) return code;
  auto rep = store->verify(audit_progress(!o.json));
  end_audit_progress(!o.json);
  if (!rep) return report_store_error(rep.error());
  if (o.json) {
    std::cout << json{{"ok", rep->ok()},
                      {"records", rep->records},
                      {"replayed", rep->replayed},
                      {"chain_breaks", rep->chain_breaks},
                      {"mismatches", rep->mismatches},
                      {"policy_versions", rep->policy_versions},
                      {"problems", rep->problems}}
                     .dump(2)
              << "\n";
  } else {
    std::cout << verify_summary(*rep) << "\n";
    for (const auto& p : rep->problems) std::cout << "  " << p << "\n";
  }
  return rep->ok() ? exit_ok : exit_findings;
}

int run_log(const audit_options& o) {
  runtime::audit_filter f = o.filter;
  if (!time_option("--since", o.since, f.since) || !time_option("--until", o.until, f.until)) return exit_usage;
  int code = exit_ok;
  auto store = open_store(o.data, {}, store_access::read, code);
  if (!store) return code;
  auto entries = store->audit(f);
  if (!entries) return report_store_error(entries.error());
  if (o.json) {
    for (const auto& e : *entries) {
      json rec = e.record;
      rec["hash"] = e.hash;
      std::cout << rec.dump() << "\n";
    }
    return exit_ok;
  }
  if (entries->empty()) {
    std::cout << "no audit records\n";
    return exit_ok;
  }
  std::vector<std::vector<std::string>> rows;
  for (const auto& e : *entries) {
    const json& r = e.record;
    rows.push_back({std::to_string(e.seq), show_time(field(r, "at")), cell(field(r, "kind")),
                    cell(field(r, "task")), cell(field(r, "actor")), cell(field(r, "event")),
                    cell(field(r, "effect"))});
  }
  print_table(std::cout, {"SEQ", "TIME", "KIND", "TASK", "ACTOR", "EVENT", "EFFECT"}, rows);
  return exit_ok;
}

}  // namespace

void register_audit(CLI::App& app, command_result& result) {
  auto* audit = app.add_subcommand("audit", "Verify and read the audit log of a data directory");
  audit->require_subcommand(1);
  audit->footer("See `agentos audit COMMAND --help` and docs/cli.md.");
  {
    auto o = std::make_shared<audit_options>();
    auto* cmd = audit->add_subcommand(
        "verify", "Check the hash chain and replay every recorded decision against its policy version");
    add_data_option(*cmd, o->data);
    cmd->add_flag("--json", o->json, "Print the report as JSON");
    cmd->footer(
        "Exit status: 0 when the chain holds and every replay agrees; 1 on a chain break or a mismatch\n"
        "(the first problems are printed); 2 on usage errors, no store, or a store error.");
    cmd->callback([o, &result] { result.exit_code = run_verify(*o); });
  }
  {
    auto o = std::make_shared<audit_options>();
    auto* cmd = audit->add_subcommand("log", "List audit records, oldest first");
    add_data_option(*cmd, o->data);
    cmd->add_option("--task", o->filter.task, "Only records of this task");
    cmd->add_option("--actor", o->filter.actor, "Only records of this actor");
    cmd->add_option("--event", o->filter.event, "Only records of this event");
    cmd->add_option("--kind", o->filter.kind,
                    "Only records of this kind: intake, transition, escalation, request, policy, agent, protocol");
    cmd->add_option(
        "--effect", o->filter.effect,
        "Only records with this effect: allow, deny, route, escalate, request_escalation, activate, register");
    cmd->add_option("--since", o->since, "Only records at or after TIME (ms since the epoch or RFC 3339)");
    cmd->add_option("--until", o->until, "Only records at or before TIME");
    cmd->add_option("--after", o->filter.after_seq, "Only records after this sequence number (to follow the log)");
    cmd->add_option("--limit,-n", o->filter.limit, "At most N records (0: all)");
    cmd->add_flag("--json", o->json, "JSON Lines: each whole record (with its hash) on one line");
    cmd->footer(
        "Exit status: 0 on success (also when nothing matches); 2 on usage errors, a bad TIME, no store, or a\n"
        "store error.");
    cmd->callback([o, &result] { result.exit_code = run_log(*o); });
  }
}

}  // namespace agentos::cli
