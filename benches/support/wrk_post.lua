-- POSTs JSON bodies read from a file (one a line), each wrk thread sending its own share in
-- turn, and counts the answers by status (201 or other).
-- Usage: wrk -t THREADS -c CONNECTIONS -d SECONDS -s wrk_post.lua URL -- BODIES_FILE THREADS
local threads = {}
local count = 0

function setup(thread)
  thread:set("id", count)
  count = count + 1
  table.insert(threads, thread)
end

function init(args)
  local n, i = tonumber(args[2]), 0
  bodies = {}
  for line in io.lines(args[1]) do
    if i % n == id then
      bodies[#bodies + 1] = line
    end
    i = i + 1
  end
  at, created, other = 0, 0, 0
  wrk.method = "POST"
  wrk.headers["Content-Type"] = "application/json"
end

function request()
  at = at % #bodies + 1
  return wrk.format(nil, nil, nil, bodies[at])
end

function response(status, headers, body)
  if status == 201 then
    created = created + 1
  else
    other = other + 1
  end
end

function done(summary, latency, requests)
  local c, o = 0, 0
  for _, t in ipairs(threads) do
    c = c + t:get("created")
    o = o + t:get("other")
  end
  io.write(string.format("wrk-created %d\nwrk-other %d\n", c, o))
  for _, p in ipairs({50, 90, 99}) do
    io.write(string.format("wrk-p%d-ms %.2f\n", p, latency:percentile(p) / 1000))
  end
  io.write(string.format("wrk-max-ms %.2f\n", latency.max / 1000))
end
