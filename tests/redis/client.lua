-- client.lua: mw.redis against a redis-server of the test's own: calls
-- and conversions (binary-safe, exact floats, errors), pipelines, the
-- read iterator (new entries, claiming idle ones, own pending ones), the
-- sink, bad arguments, and the reconnection with backoff and its log
-- when the server goes away and comes back.
package.path = arg[0]:gsub("[^/]+$", "") .. "?.lua;" .. package.path
local H = require "harness"
H.skip_unless_available()
math.randomseed(os.time() + math.floor(mw.time.now() * 1e6) % 100000)

local function raises(pattern, f, ...)
  local ok, err = pcall(f, ...)
  assert(not ok, "expected an error matching " .. pattern)
  assert(tostring(err):find(pattern), "error '" .. tostring(err) .. "' does not match " .. pattern)
end

local dir = H.tmpdir()
local redis
local ok, err = pcall(function()
  redis = H.start_redis(dir)
  local c = assert(mw.redis.connect{port = redis.port, timeout = 2})
  assert(tostring(c) == "redis connection (127.0.0.1:" .. redis.port .. ")")

  -- Conversions.
  assert(c:call("PING") == "PONG")
  assert(c:call("SET", "bin", "a\0b\255") == "OK")
  assert(c:call("GET", "bin") == "a\0b\255", "values are binary-safe")
  c:call("SET", "x", 0.1 + 0.2)
  assert(tonumber(c:call("GET", "x")) == 0.1 + 0.2, "floats go as %.17g: exact")
  c:call("SET", "i", 2^53 // 1)
  assert(c:call("GET", "i") == "9007199254740992")
  assert(c:call("INCR", "n") == 1 and math.type(c:call("INCR", "n")) == "integer")
  assert(c:call("GET", "missing") == nil)
  local none, msg = c:call("NOSUCHCOMMAND")
  assert(none == nil and msg:find("^ERR unknown command"), "an error reply is nil and the message")
  local r = c:call("MGET", "n", "missing")
  assert(r[1] == "2" and r[2] == false, "nil inside an array is false")

  -- Pipelines: one round trip, errors in place.
  local replies = c:pipeline{{"RPUSH", "l", 1, 2, 3}, {"LRANGE", "l", 0, -1}, {"BAD"}, {"GET", "missing"}}
  assert(replies[1] == 3 and replies[2][3] == "3" and replies[3].err:find("^ERR") and replies[4] == false)

  -- Bad arguments.
  raises("bad argument #2 to 'call' %(string or number expected, got table%)", function() return c:call("SET", {}, 1) end)
  raises("bad argument #1 to 'call' %(command expected%)", function() return c:call() end)
  raises("command 2 is a string, not a list", c.pipeline, c, {{"PING"}, "PING"})
  raises("bad argument #1 to 'connect' %(port must be an integer in 1..65535%)", mw.redis.connect, {port = 0})
  raises("bad argument #1 to 'read' %(stream must be a string or a list of strings%)", c.read, c,
         {group = "g", consumer = "c"})
  raises("bad argument #1 to 'read' %(group must be a string%)", c.read, c, {stream = "s", consumer = "c"})
  raises("bad argument #1 to 'sink' %(batch must be an integer >= 1%)", c.sink, c, {stream = "s", batch = 0})
  assert(mw.redis.shard("cpu", 16) == mw.redis.shard("cpu", 16) and mw.redis.shard("cpu", 1) == 0)
  raises("bad argument #2 to 'shard' %(shard count must be in 1..1000000%)", function() return mw.redis.shard("cpu", 0) end)

  -- Sink: batches of 4; ids come back from flush.
  assert(c:call("XGROUP", "CREATE", "s", "g", "0", "MKSTREAM") == "OK")
  local sink = c:sink{stream = "s", batch = 4}
  for i = 1, 10 do assert(sink:write{series = "a", value = i} == nil) end
  assert(sink:count() == 8, "two full batches went out")
  local ids = sink:flush()
  assert(#ids == 2 and sink:count() == 10)
  raises("a list of fields must be name, value pairs", sink.write, sink, {"series"})
  sink:close()
  raises("sink is closed", sink.write, sink, {value = 1})
  local one = c:sink{stream = "s"}
  assert(type(one:write({"series", "b", "value", 11})) == "string", "batch 1: write returns the id")
  assert(c:call("XLEN", "s") == 11)

  -- Read: every entry once, in order, with its fields.
  local seen = {}
  for id, fields, stream in c:read{stream = "s", group = "g", consumer = "c1", count = 3} do
    assert(stream == "s" and type(id) == "string")
    seen[#seen + 1] = tonumber(fields.value)
  end
  assert(#seen == 11 and seen[1] == 1 and seen[11] == 11, "read all 11 in order")
  -- Nothing acknowledged yet: c1's pending entries are read again with start = "0".
  local again = 0
  for id in c:read{stream = "s", group = "g", consumer = "c1", start = "0", count = 4} do
    again = again + 1
    if again <= 5 then assert(c:call("XACK", "s", "g", id) == 1) end
  end
  assert(again == 11, "own pending entries: " .. again)
  -- The 6 left are claimed by c2 once idle for 50 ms, not before.
  local n = 0
  for _ in c:read{stream = {"s"}, group = "g", consumer = "c2", claim_idle = 60000} do n = n + 1 end
  assert(n == 0, "not idle long enough")
  H.sleep(0.1)
  for _ in c:read{stream = {"s"}, group = "g", consumer = "c2", claim_idle = 50, count = 4} do n = n + 1 end
  assert(n == 6, "claimed " .. n)
  assert(c:call("XPENDING", "s", "g")[4][1][1] == "c2")
  -- A blocking read that finds nothing ends after its block time.
  local t0 = mw.time.now()
  for _ in c:read{stream = "s", group = "g", consumer = "c3", block = 200} do error("nothing to read") end
  assert(mw.time.now() - t0 >= 0.15)

  -- A server that is not there: nil and the reason, at once with retry = 0.
  local gone, why = mw.redis.connect{port = redis.port == 1 and 2 or 1, retry = 0}
  assert(gone == nil and why:find("^cannot connect to 127.0.0.1:%d+ %(Connection refused%)"), why)

  -- The server goes away and comes back: the call waits, retrying with
  -- growing pauses, logs each attempt, and succeeds.
  local lines = {}
  local rc = assert(mw.redis.connect{port = redis.port, retry = 30, log = function(l) lines[#lines + 1] = l end})
  assert(rc:call("SET", "k", "v") == "OK")
  H.stop_redis(redis)
  os.execute(string.format("(sleep 1; redis-server %s >/dev/null) &", redis.args))
  assert(rc:call("PING") == "PONG", "the call went through after the restart")
  assert(rc:reconnects() >= 1)
  assert(lines[1]:find("^lost connection to 127.0.0.1:" .. redis.port .. " %(.+%), retrying in [%d.]+ s$"), lines[1])
  assert(lines[#lines] == "reconnected to 127.0.0.1:" .. redis.port, lines[#lines])
  local p1 = tonumber(lines[1]:match("retrying in ([%d.]+) s"))
  local p3 = lines[3] and tonumber(lines[3]:match("retrying in ([%d.]+) s"))
  assert(not p3 or p3 > p1, "the pauses grow")
  print(string.format("reconnected after %d attempts: %s", #lines - 1, table.concat(lines, " | ")))
  redis.pid = H.sh(string.format("cat %q", dir .. "/redis.pid")):gsub("%s+$", "")
  -- Giving up: retry = 0.5 s against a server that stays away.
  local quiet = assert(mw.redis.connect{port = redis.port, retry = 0.5, log = false})
  H.stop_redis(redis)
  raises("lost connection to 127.0.0.1:%d+ %(.+%), gave up after 0.5 s", function() return quiet:call("PING") end)
  local t1 = mw.time.now()
  gone, why = mw.redis.connect{port = redis.port, retry = 0.3, log = false}
  assert(gone == nil and why:find("^cannot connect to 127.0.0.1:%d+ %(Connection refused%), gave up after 0.3 s$"), why)
  assert(mw.time.now() - t1 >= 0.25, "retried for 0.3 s")
  rc:close()
  raises("bad argument #1 to 'call' %(connection is closed%)", function() return rc:call("PING") end)
end)
H.stop_redis(redis)
os.execute(string.format("rm -rf %q", dir))
if not ok then error(err, 0) end
print("client: ok")
