// What the store commands (task, store, audit) share: opening the task store in a data directory
// with the right policy, reading TIME arguments, and reporting errors and outcomes the one way
// docs/cli.md describes (`agentos: error[CODE]: message` on stderr, exit codes by outcome status).
// Everything here prints; nothing throws.
#pragma once

#include <CLI/CLI.hpp>
#include <cstdint>
#include <functional>
#include <iosfwd>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "runtime/service/store.hpp"

namespace agentos::cli {

inline constexpr const char* default_data_dir = "./var";

// `--data DIR`, with its default.
void add_data_option(CLI::App& cmd, std::string& data);

// `agentos: error[CODE]: MESSAGE` on stderr.
void print_error(std::string_view code, std::string_view message);

// Prints a store error (with the advice a person needs for `locked`) and returns exit_usage.
int report_store_error(const runtime::store_error& e);

enum class store_access {
  read,   // the store must exist; its own policy (if any) is used; nothing is activated
  write,  // with `policy` non-empty: load it and make it active (creating the store when needed);
          // without: the store's active policy, and an error naming --policy when it has none
};

// Opens the task store in `data`. On failure prints why and sets `exit_code` (1 for a policy
// with errors, 2 otherwise) and returns null.
std::unique_ptr<runtime::task_store> open_store(const std::string& data, const std::string& policy, store_access access,
                                                int& exit_code, const runtime::store_options& options = {});

// TIME: milliseconds since the epoch, or RFC 3339 (engine/units.hpp). Empty: the wall clock.
std::optional<std::int64_t> parse_time(std::string_view text);
std::int64_t wall_clock_ms();
// Parses option `name`'s value `text` into `out`, or prints an error and returns false.
bool time_option(std::string_view name, const std::string& text, std::int64_t& out);
bool time_option(std::string_view name, const std::string& text, std::optional<std::int64_t>& out);

// j[key] when j is an object that has it, else null: reading what the store returns never throws.
nlohmann::json field(const nlohmann::json& j, std::string_view key);
// j[key] when it is a string, else "".
std::string text_field(const nlohmann::json& j, std::string_view key);

// RFC 3339 UTC for a JSON integer of milliseconds; "-" for anything else (null, missing).
std::string show_time(const nlohmann::json& ms);
// A JSON scalar as a table cell: strings bare, null/missing as "-".
std::string cell(const nlohmann::json& v);

// Reads a file, or stdin for "-".
bool read_input(const std::string& name, std::string& text);

// The exit code for an outcome: applied 0, denied 3, conflict 4, anything else 2.
int exit_for(const runtime::outcome& o);
// An outcome that is neither applied nor denied, as an error on stderr (with every request
// problem of an invalid one, by JSON pointer).
void print_failure(const runtime::outcome& o);
// The outcome as one JSON document: {"status", "code", "message", "body"}.
nlohmann::json outcome_json(const runtime::outcome& o);

// "audit: 1234 records, chain ok, 1200 decisions replayed against 2 policy versions, 0 mismatches".
std::string verify_summary(const runtime::verify_report& r);

// Progress of a long audit walk on stderr ("\r  N audit records checked"), when `wanted` and
// stderr is a terminal; else an empty function. end_audit_progress() clears the line.
std::function<void(std::uint64_t)> audit_progress(bool wanted);
void end_audit_progress(bool wanted);

// A deny reason of the decision JSON as a person reads it ("forbidden by RULE: text").
std::string reason_line(const nlohmann::json& reason);

// Left-aligned columns separated by two spaces; the last column is not padded.
void print_table(std::ostream& out, const std::vector<std::string>& header,
                 const std::vector<std::vector<std::string>>& rows);

}  // namespace agentos::cli
