-- wrk script for bench/search.sh: POST /api/v1/persons/search with a query picked at random
-- from the file named by the QUERIES environment variable (one JSON body a line, {"q": …}); the
-- session cookie in COOKIE and its CSRF token in TOKEN (sent as x-csrf-token).
local queries = {}
local path = os.getenv("QUERIES")
for line in io.lines(path) do
  if #line > 0 then queries[#queries + 1] = line end
end
local cookie = os.getenv("COOKIE")
local token = os.getenv("TOKEN")
math.randomseed(os.time())

request = function()
  local q = queries[math.random(#queries)]
  return wrk.format("POST", "/api/v1/persons/search", {
    ["Cookie"] = cookie,
    ["x-csrf-token"] = token,
    ["Content-Type"] = "application/json",
  }, q)
end

local errors = 0
response = function(status, headers, body)
  if status ~= 200 then
    errors = errors + 1
    if errors <= 3 then io.stderr:write("status " .. status .. ": " .. body:sub(1, 200) .. "\n") end
  end
end

done = function(summary, latency, requests)
  io.write(string.format("requests %d, errors (non-2xx) %d, %.0f req/s\n",
    summary.requests, summary.errors.status, summary.requests / (summary.duration / 1e6)))
  io.write(string.format("latency p50 %.2f ms, p90 %.2f ms, p99 %.2f ms, max %.2f ms\n",
    latency:percentile(50) / 1000, latency:percentile(90) / 1000,
    latency:percentile(99) / 1000, latency.max / 1000))
end
