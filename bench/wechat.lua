-- wrk script for bench/run.py: POST signed WeChat messages to /wechat, each with a fresh MsgId.
--   wrk ... URL -- TOKEN|TIMESTAMP TEMPLATES_FILE RUN_ID
-- Each request is signed as WeChat signs it, with a nonce of its own: the endpoint accepts a
-- (timestamp, nonce) pair with one body only (models/replay.py), so one signed query for every
-- message would be a replay. The signature covers token+timestamp+nonce, not the body.
-- TEMPLATES_FILE holds one inbound XML per line (built by handlers/terminal.py's inbound_xml) with
-- @OPENID@ and @MSGID@ placeholders; requests cycle through them.
-- A reply counts as bad unless it is HTTP 200 with an XML body (so "success" is bad too).

local bit = require("bit")
local band, bor, bxor, bnot, rol, lshift, rshift, tobit = bit.band, bit.bor, bit.bxor, bit.bnot,
   bit.rol, bit.lshift, bit.rshift, bit.tobit

-- SHA-1 (FIPS 180-4) of a short string, as 40 hex digits: WeChat's signature is sha1 of the sorted
-- token, timestamp and nonce, and wrk's LuaJIT has no hash of its own.
local function sha1(msg)
   local h0, h1, h2, h3, h4 = 0x67452301, 0xEFCDAB89, 0x98BADCFE, 0x10325476, 0xC3D2E1F0
   local bits = #msg * 8
   msg = msg .. "\128" .. string.rep("\0", (55 - #msg) % 64) .. string.char(0, 0, 0, 0,
      band(rshift(bits, 24), 255), band(rshift(bits, 16), 255), band(rshift(bits, 8), 255), band(bits, 255))
   local w = {}
   for chunk = 1, #msg, 64 do
      for i = 0, 15 do
         local a, b, c, d = msg:byte(chunk + i * 4, chunk + i * 4 + 3)
         w[i] = bor(lshift(a, 24), lshift(b, 16), lshift(c, 8), d)
      end
      for i = 16, 79 do
         w[i] = rol(bxor(w[i - 3], w[i - 8], w[i - 14], w[i - 16]), 1)
      end
      local a, b, c, d, e = h0, h1, h2, h3, h4
      for i = 0, 79 do
         local f, k
         if i < 20 then f, k = bor(band(b, c), band(bnot(b), d)), 0x5A827999
         elseif i < 40 then f, k = bxor(b, c, d), 0x6ED9EBA1
         elseif i < 60 then f, k = bor(band(b, c), band(b, d), band(c, d)), 0x8F1BBCDC
         else f, k = bxor(b, c, d), 0xCA62C1D6 end
         local temp = tobit(rol(a, 5) + f + e + k + w[i])
         e, d, c, b, a = d, c, rol(b, 30), a, temp
      end
      h0, h1, h2, h3, h4 = tobit(h0 + a), tobit(h1 + b), tobit(h2 + c), tobit(h3 + d), tobit(h4 + e)
   end
   return bit.tohex(h0, 8) .. bit.tohex(h1, 8) .. bit.tohex(h2, 8) .. bit.tohex(h3, 8) .. bit.tohex(h4, 8)
end

local function signed_query(token, timestamp, nonce)
   local parts = {token, timestamp, nonce}
   table.sort(parts)
   return "signature=" .. sha1(table.concat(parts)) .. "&timestamp=" .. timestamp .. "&nonce=" .. nonce
end

local threads = {}
local counter_base = 0

function setup(thread)
   counter_base = counter_base + 1
   thread:set("tid", counter_base)
   table.insert(threads, thread)
end

local token, timestamp, templates, run_id, n = nil, nil, {}, "0", 0
bad = 0
bad_status = 0

function init(args)
   token, timestamp = args[1]:match("^(.*)|(%d+)$")
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
   local query = signed_query(token, timestamp, string.format("%s%d-%d", run_id, tid, n))
   return wrk.format("POST", "/wechat?" .. query, {["Content-Type"] = "text/xml"}, body)
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
