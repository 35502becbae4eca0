-- Durable transitions: block and unblock (both allowed to the assignee) over the seeded tasks,
-- round robin, so the k-th visit of a task blocks it when k is odd and unblocks it when even.
-- With many more tasks per thread than connections, a task's previous transition has been
-- answered long before its next one is sent.
dofile(os.getenv("AGENTOS_BENCH_LUA") .. "/common.lua")
local i, round = 0, 0
local primed = false
function request()
  -- wrk asks each thread for one request before it connects and may not send it: give it a
  -- harmless one, so no task's block/unblock sequence loses a step.
  if not primed then
    primed = true
    return json_get("/health", "")
  end
  i = i + 1
  if i > per_thread then i, round = 1, round + 1 end
  local event = (round % 2 == 0) and "block" or "unblock"
  return json_post("/api/tasks/" .. task_id(i) .. "/transitions", "tok-claude", '{"event":"' .. event .. '"}')
end
