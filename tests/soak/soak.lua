--[[
soak.lua: the long-run soak of issue #12 (docs/RELIABILITY.md).

  moonwatch tests/soak/soak.lua SAMPLES STATE_FILE [SAVE_EVERY]

Streams SAMPLES synthetic samples (mw.synth, in chunks of 65536: a
season of 256 samples, unit noise, a spike in every chunk and a level
shift in every fourth, each chunk generated from its own seed, so any
chunk can be made again alone) through a z-score detector and a
constant threshold chained together (t:wrap(d)), and counts the
anomalies: the samples the threshold fires on, with a checksum of their
positions.

Every SAVE_EVERY chunks (default 16: about a million samples) it saves
the position in the stream, the anomaly count and checksum, and the
chain's state (both stages) to STATE_FILE, atomically (a temporary file
renamed over it). If STATE_FILE exists at the start, the run resumes
from it: a run killed at any point (kill -9) and started again ends with
the anomalies of a run never interrupted (tests/soak/kill_resume.sh).

Memory must stay flat: each chunk's series are released as soon as they
are used. The last lines report the allocator's figures and the
process's resident memory after the first million samples and at the
end, then "anomalies COUNT CHECKSUM".
]]
local samples = math.tointeger(tonumber(arg[1]))
local state_path = arg[2]
local save_every = math.tointeger(tonumber(arg[3] or "16"))
if not samples or samples < 1 or not state_path or not save_every or save_every < 1 then
  io.stderr:write("usage: soak.lua SAMPLES STATE_FILE [SAVE_EVERY]\n")
  os.exit(2)
end

local CHUNK = 65536
local SEED = 20240301
local n_chunks = (samples + CHUNK - 1) // CHUNK

-- The process's resident memory (kB) and its peak, from /proc.
local function rss()
  local f = io.open("/proc/self/status", "r")
  if not f then return 0, 0 end
  local text = f:read("a")
  f:close()
  return tonumber(text:match("VmRSS:%s*(%d+)")) or 0, tonumber(text:match("VmHWM:%s*(%d+)")) or 0
end

local function new_alarm()
  return mw.thresh.constant{threshold = 6}:wrap(mw.detect.zscore{window = 1000})
end

-- The state file: a line "chunk count checksum", then the chain's state.
local next_chunk, count, checksum, alarm = 0, 0, 0, nil
local f = io.open(state_path, "rb")
if f then
  local line = f:read("l")
  local state = f:read("a")
  f:close()
  local c, n, h = line:match("^(%d+) (%d+) (%-?%d+)$")
  assert(c, "bad state file " .. state_path)
  next_chunk, count, checksum = math.tointeger(tonumber(c)), math.tointeger(tonumber(n)),
                                math.tointeger(tonumber(h))
  alarm = mw.detect.load(state)
  print(string.format("soak: resuming at chunk %d of %d (%d anomalies so far)", next_chunk,
                      n_chunks, count))
else
  alarm = new_alarm()
end

local function save(chunk)
  local tmp = state_path .. ".tmp"
  local out = assert(io.open(tmp, "wb"))
  out:write(string.format("%d %d %d\n", chunk, count, checksum), alarm:save())
  assert(out:close())
  assert(os.rename(tmp, state_path))
end

local first = {}
local t0 = os.clock()
for k = next_chunk, n_chunks - 1 do
  local n = math.min(CHUNK, samples - k * CHUNK)
  local anomalies = {{kind = "spike", at = 2000 + (k * 7919) % 60000, size = 10 + k % 5}}
  if k % 4 == 3 then
    anomalies[2] = {kind = "level", at = 1000 + (k * 104729) % 60000, len = 200, size = 8}
  end
  for i = #anomalies, 1, -1 do
    if anomalies[i].at > n then table.remove(anomalies, i) end
  end
  local s <close> = mw.synth{n = n, period = 256, noise = 1, seed = SEED + k,
                             anomalies = anomalies}
  local fired <close> = alarm:run(s)
  local hits = math.tointeger(fired:sum())
  if hits > 0 then
    -- positions in the whole stream, 1-based: their sum is exact (< 2^53)
    local at <close> = mw.series.range(k * CHUNK + 1, k * CHUNK + n)
    local weighted <close> = at * fired
    local sum = math.tointeger(weighted:sum())
    count = count + hits
    checksum = checksum * 1000003 + sum * 31 + hits   -- wraps: deterministic
  end
  if (k + 1) % save_every == 0 or k == n_chunks - 1 then
    save(k + 1)
  end
  if not first.rss and (k + 1) * CHUNK >= 1000000 then
    local stats = mw.mem.stats()
    first.current, first.peak = stats.total, stats.peak
    first.rss, first.hwm = rss()
  end
end
local stats = mw.mem.stats()
local now_rss, hwm = rss()
print(string.format("soak: %d samples in %d chunks, %.1f s of CPU in this run", samples, n_chunks,
                    os.clock() - t0))
if first.rss then
  print(string.format("soak: after 1e6 samples: allocator %d bytes (peak %d), RSS %d kB (peak %d kB)",
                      first.current, first.peak, first.rss, first.hwm))
end
print(string.format("soak: at the end:       allocator %d bytes (peak %d), RSS %d kB (peak %d kB)",
                    stats.total, stats.peak, now_rss, hwm))
print(string.format("anomalies %d %d", count, checksum))
