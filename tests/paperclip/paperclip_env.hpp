// The real Paperclip the projection tests run against: started once for the whole binary by
// scripts/paperclip.sh on its own port and state directory, under the machine-wide lock that lets
// only one Paperclip run at a time (its embedded PostgreSQL always takes port 54329), and stopped
// at the end. main() (paperclip_main.cpp) exits 77 (ctest: skipped) when Paperclip is not
// installed, so the binary skips on a machine without the 1.5 GB install instead of failing.
//
// Environment: AGENTOS_PAPERCLIP_TEST_PORT (default 3111), AGENTOS_PAPERCLIP_STATE (default: a
// fresh directory), AGENTOS_PAPERCLIP_LOCK (default /tmp/agentos-paperclip-e2e.lock), and
// AGENTOS_PAPERCLIP_LOCK_HELD=1 when the caller already holds that lock (`flock LOCK
// paperclip_tests`: a second flock of the same file from this process would wait forever).
#pragma once

#include <gtest/gtest.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/file.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <string>

namespace agentos::testing {

inline std::string env_or(const char* name, const std::string& fallback) {
  const char* v = std::getenv(name);
  return v && *v ? std::string(v) : fallback;
}

inline int shell(const std::string& cmd) {
  const int status = std::system(cmd.c_str());
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

class paperclip_server {
 public:
  static paperclip_server& get() {
    static paperclip_server s;
    return s;
  }
  [[nodiscard]] std::string url() const { return "http://127.0.0.1:" + std::to_string(m_port); }
  [[nodiscard]] int port() const { return m_port; }
  [[nodiscard]] bool up() const { return m_up; }

  // Takes the lock (waiting for another user of Paperclip to finish) and starts a fresh server
  // (fresh data). False with a message on stderr when it could not start.
  bool start() {
    if (m_up) return true;
    if (m_lock < 0 && env_or("AGENTOS_PAPERCLIP_LOCK_HELD", "") != "1") {
      m_lock = ::open(m_lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0666);
      if (m_lock < 0) return false;
      if (::flock(m_lock, LOCK_EX | LOCK_NB) != 0) {
        std::cerr << "waiting for " << m_lock_path << " (another Paperclip user; if it is your own `flock`, set "
                  << "AGENTOS_PAPERCLIP_LOCK_HELD=1)" << std::endl;
        if (::flock(m_lock, LOCK_EX) != 0) return false;
      }
    }
    // A run of this binary that crashed left its server running: stop it (a no-op otherwise).
    shell(script("stop") + " > /dev/null 2>&1");
    const int rc = shell(script("start --port " + std::to_string(m_port)) + " > " + m_state + "/start.out 2>&1");
    if (rc != 0) {
      shell("cat " + m_state + "/start.out >&2");
      return false;
    }
    m_up = true;
    return true;
  }
  // Stops the server (its data goes with it); keeps the lock, so the next start() is ours.
  void stop() {
    shell(script("stop") + " > /dev/null 2>&1");
    m_up = false;
  }
  // Stops the server and gives the lock back.
  void release() {
    stop();
    if (m_lock >= 0) {
      ::flock(m_lock, LOCK_UN);
      ::close(m_lock);
      m_lock = -1;
    }
  }

  static bool installed() {
    return shell("'" + std::string(AGENTOS_SOURCE_DIR) + "/scripts/paperclip.sh' install --check > /dev/null 2>&1") == 0;
  }

 private:
  paperclip_server() {
    m_port = std::stoi(env_or("AGENTOS_PAPERCLIP_TEST_PORT", "3111"));
    m_lock_path = env_or("AGENTOS_PAPERCLIP_LOCK", "/tmp/agentos-paperclip-e2e.lock");
    m_state = env_or("AGENTOS_PAPERCLIP_STATE", "");
    if (m_state.empty()) {
      std::string tmpl = (std::filesystem::temp_directory_path() / "agentos-pc-state-XXXXXX").string();
      if (::mkdtemp(tmpl.data()) == nullptr) std::abort();
      m_state = tmpl;
      m_own_state = true;
    }
    std::filesystem::create_directories(m_state);
  }
  ~paperclip_server() {
    release();
    if (m_own_state) {
      std::error_code ec;
      std::filesystem::remove_all(m_state, ec);
    }
  }
  std::string script(const std::string& args) const {
    return "AGENTOS_PAPERCLIP_STATE='" + m_state + "' '" + std::string(AGENTOS_SOURCE_DIR) + "/scripts/paperclip.sh' " + args;
  }

  int m_port = 3111;
  std::string m_lock_path;
  std::string m_state;
  bool m_own_state = false;
  int m_lock = -1;
  bool m_up = false;
};

// Stops Paperclip after the last test (main() started it before the first).
class paperclip_environment : public ::testing::Environment {
 public:
  void TearDown() override { paperclip_server::get().release(); }
};

}  // namespace agentos::testing
