// What the projection loop hands each new Paperclip activity row to: the reconciler, which turns
// operator actions into backend transitions (docs/paperclip.md). The loop (projection_service)
// reads GET /companies/{cid}/activity back to the stored activity_cursor, offers the new rows
// oldest first, and moves the cursor past a row once handle() answered `done` for it.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

namespace agentos::runtime::projection {

enum class handle_status {
  done,   // handled, or deliberately ignored: the cursor moves past the row
  retry,  // a transient failure (Paperclip or the store unavailable): the loop backs off and
          // offers the same row again; nothing after it is offered meanwhile
};

struct handle_result {
  handle_status status = handle_status::done;
  std::string code;     // for retry: the failure's code (paperclip.unreachable, store.io, ...)
  std::string message;  // one line for the log
};

// Called only on the projection thread, never concurrently with the projector: what the
// projector last wrote (the mapping's status and assignee) is therefore settled when a row is
// handled, which is what echo suppression relies on.
struct activity_handler {
  virtual ~activity_handler();
  // `row`: one activity row as GET /companies/{cid}/activity returns it ({"id", "actorType",
  // "actorId", "action", "entityType", "entityId", "createdAt", "details", ...}).
  virtual handle_result handle(const nlohmann::json& row) = 0;
  // Called from another thread when the service stops: abandon a Paperclip call in flight
  // (paperclip_client::interrupt) so that handle() returns soon. The default does nothing.
  virtual void interrupt() {}
};

}  // namespace agentos::runtime::projection
