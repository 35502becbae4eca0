#include "store_access.hpp"

#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <iterator>
#include <sstream>

#include "commands.hpp"
#include "engine/units.hpp"

namespace agentos::cli {

namespace fs = std::filesystem;
using nlohmann::json;

void add_data_option(CLI::App& cmd, std::string& data) {
  cmd.add_option("--data,-d", data, "The store's data directory")->capture_default_str();
}

void print_error(std::string_view code, std::string_view message) {
  std::cerr << "agentos: error[" << code << "]: " << message << "\n";
}

int report_store_error(const runtime::store_error& e) {
  const std::string code = "store." + std::string(runtime::to_string(e.code));
  switch (e.code) {
    case runtime::store_errc::locked:
      print_error(code, e.message + " (a running `agentos serve`?)");
      break;
    case runtime::store_errc::permission_denied:
      print_error(code, e.message + " (the data directory and its files must be writable by this user)");
      break;
    case runtime::store_errc::version_mismatch:
      print_error(code, e.message + " (written by a different version of agentos?)");
      break;
    default: print_error(code, e.message);
  }
  return exit_usage;
}

std::unique_ptr<runtime::task_store> open_store(const std::string& data, const std::string& policy, store_access access,
                                                int& exit_code, const runtime::store_options& options) {
  exit_code = exit_usage;
  const fs::path dir(data);
  std::error_code ec;
  // A read never creates a store, and neither does a write without a policy to give it. The
  // store itself creates whatever directory it is given, so look first.
  const bool exists = fs::exists(dir / "data.mdb", ec);
  if (!exists && (access == store_access::read || policy.empty())) {
    if (fs::exists(dir, ec) && !fs::is_directory(dir, ec)) {
      print_error("store.invalid", data + ": not a directory");
    } else if (access == store_access::read) {
      print_error("store.missing",
                  "no store in " + data + " (use --data DIR, or create one with `agentos task create --policy FILE`)");
    } else {
      print_error("store.no_policy", "no store in " + data +
                                         ": pass --policy FILE to create one (e.g. --policy policies/agent-os.policy)");
    }
    return nullptr;
  }

  std::optional<runtime::compiled_policy> compiled;
  if (access == store_access::write && !policy.empty()) {
    const auto status = fs::status(policy, ec);
    if (!fs::exists(status) || fs::is_directory(status)) {
      print_error("cli.io", fs::is_directory(status) ? policy + " is a directory; give the policy's entry file"
                                                     : "no such file: " + policy);
      return nullptr;
    }
    compiled = runtime::load_policy(policy);
    if (!compiled->graph) {
      std::cerr << compiled->problems;
      print_error("policy.errors", "policy " + policy + " has errors (shown above); the store was not changed");
      exit_code = exit_findings;
      return nullptr;
    }
  }

  auto opened = runtime::task_store::open(dir, std::move(compiled), options);
  if (!opened) {
    report_store_error(opened.error());
    return nullptr;
  }
  if (access == store_access::write && !(*opened)->graph()) {
    print_error(
        "store.no_policy",
        "the store in " + data + " has no active policy: pass --policy FILE (e.g. --policy policies/agent-os.policy)");
    return nullptr;
  }
  exit_code = exit_ok;
  return std::move(*opened);
}

std::optional<std::int64_t> parse_time(std::string_view text) {
  if (text.empty()) return std::nullopt;
  std::size_t i = text[0] == '-' ? 1 : 0;
  if (i < text.size() && text.find_first_not_of("0123456789", i) == std::string_view::npos) {
    try {
      return std::stoll(std::string(text));
    } catch (const std::exception&) {
      return std::nullopt;  // out of range
    }
  }
  return engine::parse_timestamp(text);
}

std::int64_t wall_clock_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

bool time_option(std::string_view name, const std::string& text, std::int64_t& out) {
  if (text.empty()) {
    out = wall_clock_ms();
    return true;
  }
  std::optional<std::int64_t> t;
  if (!time_option(name, text, t)) return false;
  out = *t;
  return true;
}

bool time_option(std::string_view name, const std::string& text, std::optional<std::int64_t>& out) {
  if (text.empty()) return true;
  out = parse_time(text);
  if (!out) {
    print_error("cli.usage", std::string(name) + ": `" + text +
                                 "` is neither milliseconds since the epoch nor an RFC 3339 time such as "
                                 "2026-03-02T09:00:00Z");
    return false;
  }
  return true;
}

json field(const json& j, std::string_view key) {
  if (!j.is_object()) return nullptr;
  const auto it = j.find(key);
  return it == j.end() ? json() : *it;
}

std::string text_field(const json& j, std::string_view key) {
  const json v = field(j, key);
  return v.is_string() ? v.get<std::string>() : std::string();
}

std::string show_time(const json& ms) {
  if (!ms.is_number_integer()) return "-";
  return engine::format_timestamp(ms.get<std::int64_t>());
}

std::string cell(const json& v) {
  if (v.is_null()) return "-";
  if (v.is_string()) return v.get<std::string>().empty() ? "-" : v.get<std::string>();
  return v.dump();
}

bool read_input(const std::string& name, std::string& text) {
  if (name == "-") {
    std::ostringstream buffer;
    buffer << std::cin.rdbuf();
    text = buffer.str();
    return true;
  }
  std::error_code ec;
  if (fs::is_directory(name, ec)) return false;
  std::ifstream in(name, std::ios::binary);
  if (!in) return false;
  text.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  return !in.bad();
}

int exit_for(const runtime::outcome& o) {
  switch (o.status) {
    case runtime::outcome_status::applied: return exit_ok;
    case runtime::outcome_status::denied: return exit_denied;
    case runtime::outcome_status::conflict: return exit_conflict;
    default: return exit_usage;
  }
}

void print_failure(const runtime::outcome& o) {
  print_error(o.code, o.message);
  const auto it = o.body.find("errors");
  if (it == o.body.end() || !it->is_array() || it->size() < 2) return;  // the message says it all
  for (const auto& e : *it) {
    const std::string pointer = text_field(e, "pointer");
    std::cerr << "  " << (pointer.empty() ? "(the whole request)" : pointer) << ": "
              << text_field(e, "message") << "\n";
  }
}

json outcome_json(const runtime::outcome& o) {
  return {{"status", runtime::to_string(o.status)}, {"code", o.code}, {"message", o.message}, {"body", o.body}};
}

std::string verify_summary(const runtime::verify_report& r) {
  auto count = [](std::uint64_t n, const char* one, const char* many) {
    return std::to_string(n) + " " + (n == 1 ? one : many);
  };
  return "audit: " + count(r.records, "record", "records") + ", " +
         (r.chain_breaks == 0 ? std::string("chain ok") : count(r.chain_breaks, "chain break", "chain breaks")) + ", " +
         count(r.replayed, "decision", "decisions") + " replayed against " +
         count(r.policy_versions, "policy version", "policy versions") + ", " +
         count(r.mismatches, "mismatch", "mismatches");
}

std::function<void(std::uint64_t)> audit_progress(bool wanted) {
  if (!wanted || isatty(STDERR_FILENO) == 0) return {};
  return [](std::uint64_t n) { std::cerr << "\r  " << n << " audit records checked" << std::flush; };
}

void end_audit_progress(bool wanted) {
  if (wanted && isatty(STDERR_FILENO) != 0) std::cerr << "\r\033[K" << std::flush;
}

std::string reason_line(const json& reason) {
  const std::string kind = text_field(reason, "kind");
  const std::string rule = cell(field(reason, "rule"));
  const std::string message = text_field(reason, "message");
  if (kind == "forbidden") return "forbidden by " + rule + ": " + message;
  if (kind == "guard_false") return "guard false on " + rule;
  return message;
}

namespace {

// Display width: code points, so a title with accents does not shift its row.
std::size_t width(const std::string& s) {
  std::size_t n = 0;
  for (const char c : s) n += (static_cast<unsigned char>(c) & 0xc0) != 0x80;
  return n;
}

}  // namespace

void print_table(std::ostream& out, const std::vector<std::string>& header,
                 const std::vector<std::vector<std::string>>& rows) {
  std::vector<std::size_t> widths(header.size(), 0);
  auto measure = [&](const std::vector<std::string>& row) {
    for (std::size_t i = 0; i < row.size() && i < widths.size(); ++i) widths[i] = std::max(widths[i], width(row[i]));
  };
  measure(header);
  for (const auto& r : rows) measure(r);
  auto print = [&](const std::vector<std::string>& row) {
    std::string line;
    for (std::size_t i = 0; i < row.size(); ++i) {
      line += row[i];
      if (i + 1 < row.size()) line += std::string(widths[i] - width(row[i]) + 2, ' ');
    }
    out << line << "\n";
  };
  print(header);
  for (const auto& r : rows) print(r);
}

}  // namespace agentos::cli
