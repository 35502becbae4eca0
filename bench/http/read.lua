-- Reads: GET /api/tasks/{id} over the seeded tasks, round robin.
dofile(os.getenv("AGENTOS_BENCH_LUA") .. "/common.lua")
local i = 0
function request()
  i = i % per_thread + 1
  return json_get("/api/tasks/" .. task_id(i), "tok-claude")
end
