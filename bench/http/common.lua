-- Shared by the load scripts of bench/http_load.sh. Each wrk thread owns the tasks
-- L<thread>-1 .. L<thread>-N (N = AGENTOS_TASKS_PER_THREAD), so threads never race on a task.
local counter = 1
threads = {}

function setup(thread)
  thread:set("id", counter)
  table.insert(threads, thread)
  counter = counter + 1
end

per_thread = tonumber(os.getenv("AGENTOS_TASKS_PER_THREAD") or "1024")

function task_id(i)
  return "L" .. id .. "-" .. i
end

function json_post(path, token, body)
  return wrk.format("POST", path, {["Authorization"] = "Bearer " .. token,
                                   ["Content-Type"] = "application/json"}, body)
end

function json_get(path, token)
  return wrk.format("GET", path, {["Authorization"] = "Bearer " .. token})
end

-- Counts answers by class (wrk itself counts only non-2xx/3xx).
ok, other = 0, 0

function response(status, headers, body)
  if status >= 200 and status < 300 then
    ok = ok + 1
  else
    other = other + 1
    if other <= 3 then io.stderr:write("non-2xx answer " .. status .. ": " .. body:sub(1, 300) .. "\n") end
  end
end

function done(summary, latency, requests)
  local o, x = 0, 0
  for _, t in ipairs(threads) do
    o = o + t:get("ok")
    x = x + t:get("other")
  end
  io.write(string.format("answers: %d 2xx, %d other\n", o, x))
end
