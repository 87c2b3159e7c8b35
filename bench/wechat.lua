-- wrk script for bench/run.py: POST signed WeChat messages to /wechat, each with a fresh MsgId.
--   wrk ... URL -- QUERIES TEMPLATES_FILE RUN_ID
-- QUERIES.<thread> (one file per wrk thread) holds signed query strings, one per line, each with a nonce
-- of its own: the server binds a (timestamp, nonce) to the first body it came with (models/replay.py),
-- as WeChat signs only token+timestamp+nonce, not the body.
-- TEMPLATES_FILE holds one inbound XML per line (built by handlers/terminal.py's inbound_xml) with
-- @OPENID@ and @MSGID@ placeholders; requests cycle through them.
-- A reply counts as bad unless it is HTTP 200 with an XML body (so "success" is bad too).

local threads = {}
local counter_base = 0

function setup(thread)
   counter_base = counter_base + 1
   thread:set("tid", counter_base)
   table.insert(threads, thread)
end

local queries, templates, run_id, n, k = {}, {}, "0", 0, 0
bad = 0
bad_status = 0

function init(args)
   for line in io.lines(args[1] .. "." .. tid) do
      if #line > 0 then table.insert(queries, line) end
   end
   for line in io.lines(args[2]) do
      if #line > 0 then table.insert(templates, line) end
   end
   run_id = args[3] or "0"
   -- start each thread somewhere else in the mix
   n = tid * 7
end

function request()
   n = n + 1
   local template = templates[(n % #templates) + 1]
   -- texts: 64 users per thread, so "下一页" finds pages; events: a new user each (events are
   -- deduplicated by FromUserName + CreateTime, and CreateTime is the same second for the run).
   local openid
   if template:find("<MsgType>event</MsgType>", 1, true) then
      openid = string.format("o_bench_%s_%d_e%d", run_id, tid, n)
   else
      openid = string.format("o_bench_%s_%d_u%d", run_id, tid, n % 64)
   end
   local msgid = string.format("%d%02d%09d", 7, tid, n)
   local body = template:gsub("@OPENID@", openid):gsub("@MSGID@", msgid)
   k = k + 1  -- past the end the nonces repeat with other bodies: refused (403), counted as errors
   return wrk.format("POST", "/wechat?" .. queries[((k - 1) % #queries) + 1], {["Content-Type"] = "text/xml"}, body)
end

function response(status, headers, body)
   if status ~= 200 then
      bad_status = bad_status + 1
      bad = bad + 1
   elseif not body or not body:find("^%s*<xml>") then
      bad = bad + 1
   end
end

function done(summary, latency, requests)
   local bad_total, bad_status_total = 0, 0
   for _, thread in ipairs(threads) do
      bad_total = bad_total + (thread:get("bad") or 0)
      bad_status_total = bad_status_total + (thread:get("bad_status") or 0)
   end
   local e = summary.errors
   io.write(string.format(
      "BENCH requests=%d duration_us=%d p50_us=%d p90_us=%d p99_us=%d max_us=%d mean_us=%.0f " ..
      "bad=%d bad_status=%d connect=%d read=%d write=%d status=%d timeout=%d\n",
      summary.requests, summary.duration, latency:percentile(50), latency:percentile(90),
      latency:percentile(99), latency.max, latency.mean, bad_total, bad_status_total,
      e.connect, e.read, e.write, e.status, e.timeout))
   -- the latency distribution as 1000 quantiles, so bench/run.py can merge several rounds
   local q = {}
   for i = 1, 1000 do q[i] = string.format("%d", latency:percentile((i - 0.5) / 10)) end
   io.write("QUANTILES " .. table.concat(q, ",") .. "\n")
end
