// What the CLI's end-to-end tests share: a fresh temporary directory per test, files written into
// it, and a runner that executes the real `agentos` binary there with stdin, stdout and stderr
// captured through files.
#pragma once

#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/wait.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

namespace agentos::testing {

struct run_result {
  int code = -1;
  std::string out;
  std::string err;
};

// Single-quotes `s` for /bin/sh.
inline std::string quote(const std::string& s) {
  std::string out = "'";
  for (const char c : s) {
    if (c == '\'')
      out += "'\\''";
    else
      out += c;
  }
  return out + "'";
}

inline std::string slurp(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

class agentos_cli_test : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(std::filesystem::exists(AGENTOS_BINARY)) << "agentos binary not built: " << AGENTOS_BINARY;
    std::string templ = (std::filesystem::temp_directory_path() / "agentos-cli-XXXXXX").string();
    ASSERT_NE(::mkdtemp(templ.data()), nullptr);
    m_dir = templ;
  }
  void TearDown() override {
    std::error_code ec;
    if (!m_dir.empty()) std::filesystem::remove_all(m_dir, ec);
  }

  std::filesystem::path write(const std::string& name, const std::string& text) {
    const std::filesystem::path p = m_dir / name;
    std::filesystem::create_directories(p.parent_path());
    std::ofstream(p, std::ios::binary) << text;
    return p;
  }
  std::string path(const std::string& name) const { return (m_dir / name).string(); }

  // Runs agentos with `args` (each quoted) in the temporary directory; `input` goes to stdin.
  // `env` is prepended to the command line (e.g. "PATH=/nonexistent" or "env -u VAR").
  run_result run_agentos(const std::vector<std::string>& args, const std::string& input, const std::string& env) {
    write(".stdin", input);
    std::string cmd = "cd " + quote(m_dir.string()) + " && " + env + (env.empty() ? "" : " ") + quote(AGENTOS_BINARY);
    for (const auto& a : args) cmd += " " + quote(a);
    cmd += " < .stdin > .stdout 2> .stderr";
    const int status = std::system(cmd.c_str());
    run_result r;
    r.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    r.out = slurp(m_dir / ".stdout");
    r.err = slurp(m_dir / ".stderr");
    return r;
  }

  std::filesystem::path m_dir;
};

}  // namespace agentos::testing
