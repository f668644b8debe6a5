-- timeline.lua: mw.mem.timeline records memory over time from the
-- allocator's own figures: samples per interval, the peak inside each
-- interval kept, CSV and SVG written, and it runs beside the profiler.
local t = require "helper"

local function busy(seconds)
  local t0 = os.clock()
  while os.clock() - t0 < seconds do end
end

local dir = os.tmpname()
os.remove(dir)
local svg, csv = dir .. ".svg", dir .. ".csv"

t.fullgc()
local base = mw.mem.stats().total
local tl = mw.mem.timeline{interval = 0.005, svg = svg, csv = csv, title = "phases"}
local a = mw.series.zeros(1e6)          -- +8 MB
busy(0.03)
local b = mw.series.zeros(2e6)          -- +16 MB
busy(0.03)
a:release(); b:release()
busy(0.03)
tl:stop()

local samples = tl:samples()
assert(#samples >= 3, "samples: " .. #samples)
local highest = 0
for i, s in ipairs(samples) do
  t.eq(s.total, s.lua + s.native, "total = lua + native at sample " .. i)
  assert(s.peak >= s.total, "peak >= total")
  if i > 1 then assert(s.t > samples[i - 1].t, "time goes forward") end
  if s.peak > highest then highest = s.peak end
end
assert(highest >= base + 24e6, "both series at once: peak " .. highest .. " over base " .. base)
assert(samples[#samples].total < base + 2^20 + 65536, "released at the end (a pool arena stays): " .. samples[#samples].total .. " vs " .. base)

local f = assert(io.open(csv))
t.eq(f:read("l"), "t_seconds,lua_bytes,native_bytes,total_bytes,peak_bytes", "CSV header")
local rows = 0
for line in f:lines() do
  rows = rows + 1
  assert(line:match("^[%d.]+,%d+,%d+,%d+,%d+$"), "CSV row: " .. line)
end
f:close()
t.eq(rows, #samples, "a CSV row per sample")
f = assert(io.open(svg))
local text = f:read("a")
f:close()
assert(text:find("^<svg ") and text:find("</svg>\n$"), "an SVG document")
assert(text:find(">phases<", 1, true), "the title")
assert(text:find("MiB</text>", 1, true), "byte ticks")
os.remove(svg); os.remove(csv)

-- a peak inside one interval is kept though the figure at its end is low
t.fullgc()
local tl2 = mw.mem.timeline{interval = 60}
local c = mw.series.zeros(1e7)          -- +80 MB, gone at once
c:release()
tl2:stop()
local s2 = tl2:samples()
local peak = 0
for _, s in ipairs(s2) do if s.peak > peak then peak = s.peak end end
assert(peak >= s2[1].total + 80e6, "the short peak is kept: " .. peak)
assert(s2[#s2].total < peak - 79e6, "and the figure after it is low")
tl2:release()
t.raises("released timeline", function() tl2:samples() end)

-- beside the profiler: two observers at once
local tl3 = mw.mem.timeline{interval = 1e-9}   -- a sample per change: s[1] is the start
local prof = mw.mem.profile(function() local s = mw.series.zeros(1000) s:release() end, {quiet = true})
assert(prof and prof.files and #prof.files >= 1, "the profile ran")
tl3:stop()
local s3, peak3 = tl3:samples(), 0
for _, s in ipairs(s3) do if s.peak > peak3 then peak3 = s.peak end end
assert(peak3 >= s3[1].total + 8000,
       "the timeline saw the series made inside the profile: " .. peak3 .. " vs " .. s3[1].total)

t.raises("interval must be a positive number", mw.mem.timeline, {interval = 0})
t.raises("svg must be a string", mw.mem.timeline, {svg = 5})
do
  local closing <close> = mw.mem.timeline{}
end
print("timeline: ok")
