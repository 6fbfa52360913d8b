-- wrk script for the survey benchmark: POST step 1 (the one-tap rating) to
-- /s/<code>, spread at random over the counters listed in the targets file.
--
--   wrk -t1 -c50 -d15s --latency -s bench/survey_post.lua http://127.0.0.1:PORT -- TARGETS [RUN]
--
-- TARGETS has one counter a line, tab-separated:
--   /s/<code>  <session cookie>  <csrf_token>  <signed started field>
-- (all three taken from a GET of that counter's page, so the CSRF token matches
-- the session cookie). Every request carries its own User-Agent, so the app's
-- duplicate check (a hash of client address + User-Agent per counter) runs its
-- query but never matches: each request looks like a different phone (RUN, a
-- different word for every wrk run, keeps them unique across runs).
--
-- Only 303 (stored, go to step 2) counts as a success. done() prints one line
-- "BENCH_RESULT {json}" with the counts and latency percentiles (microseconds).

local threads = {}
local next_id = 1

function setup(thread)
   thread:set("id", next_id)
   next_id = next_id + 1
   table.insert(threads, thread)
end

-- globals, not locals: done() reads them from each thread with thread:get()
sent, ok, other = 0, 0, 0
by_status = {}
local targets = {}
local brands = { "SM-A546E", "SM-A145F", "Redmi Note 12", "vivo Y17s", "OPPO A58",
                 "Pixel 7", "iPhone; CPU iPhone OS 17_1 like Mac OS X", "Nokia G21" }

function init(args)
   local file = args[1]
   if not file then error("give the targets file after --") end
   run = args[2] or tostring(os.time())  -- keeps User-Agents unique across wrk runs
   for line in io.lines(file) do
      local path, cookie, csrf, started = line:match("^([^\t]+)\t([^\t]+)\t([^\t]+)\t([^\t]*)$")
      if path then
         table.insert(targets, {
            path = path,
            headers = {
               ["Content-Type"] = "application/x-www-form-urlencoded",
               ["Cookie"] = cookie,
               ["Accept-Language"] = "vi-VN,vi;q=0.9",
            },
            prefix = "csrf_token=" .. csrf .. "&started=" .. started .. "&overall=",
         })
      end
   end
   if #targets == 0 then error("no targets in " .. file) end
   math.randomseed(os.time() * 1000 + id * 7919)
end

function request()
   sent = sent + 1
   local t = targets[math.random(#targets)]
   local headers = {}
   for k, v in pairs(t.headers) do headers[k] = v end
   headers["User-Agent"] = string.format(
      "Mozilla/5.0 (Linux; Android %d; %s) AppleWebKit/537.36 Chrome/%d.0 Mobile Safari/537.36 b%s-%d-%d",
      10 + math.random(0, 4), brands[math.random(#brands)], 110 + math.random(0, 9), run, id, sent)
   return wrk.format("POST", t.path, headers, t.prefix .. math.random(1, 5))
end

function response(status, headers, body)
   if status == 303 then
      ok = ok + 1
   else
      other = other + 1
      by_status[status] = (by_status[status] or 0) + 1
   end
end

function done(summary, latency, requests)
   -- wrk calls request() once on the first thread to check it before the run
   local total_sent, total_ok, total_other = -1, 0, 0
   local statuses = {}
   for _, thread in ipairs(threads) do
      total_sent = total_sent + thread:get("sent")
      total_ok = total_ok + thread:get("ok")
      total_other = total_other + thread:get("other")
      local s = thread:get("by_status")
      for code, n in pairs(s) do statuses[code] = (statuses[code] or 0) + n end
   end
   local parts = {}
   for code, n in pairs(statuses) do table.insert(parts, string.format('"%d": %d', code, n)) end
   local e = summary.errors
   io.write(string.format(
      'BENCH_RESULT {"duration_us": %d, "requests": %d, "sent": %d, "ok_303": %d, "other": %d, ' ..
      '"by_status": {%s}, "errors": {"connect": %d, "read": %d, "write": %d, "status": %d, "timeout": %d}, ' ..
      '"latency_us": {"min": %d, "mean": %.1f, "stdev": %.1f, "p50": %d, "p90": %d, "p99": %d, "max": %d}}\n',
      summary.duration, summary.requests, total_sent, total_ok, total_other,
      table.concat(parts, ", "), e.connect, e.read, e.write, e.status, e.timeout,
      latency.min, latency.mean, latency.stdev,
      latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max))
end
