-- worker.lua: a stream worker written with mw.redis, to copy and adapt.
--
--     moonwatch examples/worker.lua [HOST:PORT] [STREAM] [CONSUMER]
--
-- Reads entries (fields series, value) from one stream as a member of
-- the consumer group "scorers", scores each series with its own default
-- pipeline, writes the anomalies to STREAM:anomalies and acknowledges an
-- entry only once its result is written (at-least-once: a worker that
-- dies after writing and before acknowledging has that entry scored
-- again by whoever claims it). Entries another member left pending for
-- 30 s are claimed. Malformed entries are acknowledged into
-- STREAM:dead with the reason. Runs until interrupted.
--
-- This is the simple design: one stream, so when several of these run
-- the entries of one series can be scored by different workers, each
-- with a pipeline that saw only part of the series. `moonwatch worker`
-- (docs/scaling.md) shards series across streams, owns each shard with
-- a lease and checkpoints the pipelines, so that a group gives the
-- results of one process.
local pipeline = require "moonwatch.pipeline"

local host, port = (arg[1] or "127.0.0.1:6379"):match("^(.-):(%d+)$")
local stream = arg[2] or "metrics"
local consumer = arg[3] or ("worker-" .. tostring(os.time()))
local group = "scorers"

local conn = assert(mw.redis.connect{host = host, port = tonumber(port),
                                     log = function(line) io.stderr:write("worker: ", line, "\n") end})
local ok, err = conn:call("XGROUP", "CREATE", stream, group, "0", "MKSTREAM")
assert(ok or err:find("BUSYGROUP"), err)

local feed = pipeline.feed("default")
local out = conn:sink{stream = stream .. ":anomalies"}
local dead = conn:sink{stream = stream .. ":dead"}
local scored = 0

while true do
  -- One batch: up to 500 entries, waiting at most 2 s for them.
  local batch = {}
  for id, fields in conn:read{stream = stream, group = group, consumer = consumer,
                              count = 500, block = 2000, claim_idle = 30000} do
    batch[#batch + 1] = {id = id, fields = fields}
    if #batch == 500 then break end
  end
  local acks = {}
  for _, e in ipairs(batch) do
    local value = tonumber(e.fields.value)
    if not e.fields.series or not value then
      dead:write{id = e.id, error = "needs fields series and a numeric value"}
    else
      local _, hits = feed:push(e.fields.series, mw.series{value})
      if #hits > 0 then out:write{series = e.fields.series, id = e.id, value = value} end
      scored = scored + 1
    end
    acks[#acks + 1] = e.id
  end
  if #acks > 0 then
    conn:call("XACK", stream, group, table.unpack(acks))
    io.stderr:write(string.format("worker: %s: %d entries scored\n", consumer, scored))
  end
end
