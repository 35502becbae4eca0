-- Decisions without a write: POST /api/policy/evaluate (a dry run) for a seeded task.
dofile(os.getenv("AGENTOS_BENCH_LUA") .. "/common.lua")
local i = 0
function request()
  i = i % per_thread + 1
  return json_post("/api/policy/evaluate", "tok-claude", '{"event":"block","task_id":"' .. task_id(i) .. '"}')
end
