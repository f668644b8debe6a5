-- synth.lua: mw.synth makes the same series for the same seed, and its
-- anomalies change exactly the samples they cover, by the size asked.
local t = require "helper"

local a = mw.synth{n = 5000, period = 100, noise = 0.5, seed = 7}
local b = mw.synth{n = 5000, period = 100, noise = 0.5, seed = 7}
local c = mw.synth{n = 5000, period = 100, noise = 0.5, seed = 8}
t.eq((a - b):abs():max(), 0, "same seed, same series")
assert((a - c):abs():max() > 0, "another seed, another series")
t.eq(#a, 5000, "length")
assert(math.abs(a:std() - math.sqrt(0.5 ^ 2 + 0.5)) < 0.05, "noise and seasonality: std " .. a:std())

local spiked, list = mw.synth{n = 5000, period = 100, noise = 0.5, seed = 7, anomalies = {
  {kind = "spike", at = 1000, size = 10},
  {kind = "level", at = 2000, len = 100, size = 4},
  {kind = "variance", at = 3000, len = 200, size = 5},
}}
local d = spiked - a
t.eq(d[1000], 10 * 0.5, "a spike of 10 standard deviations")
t.eq(d[999], 0, "nothing before it"); t.eq(d[1001], 0, "nothing after it")
t.eq(d:slice(2000, 2099):mean(), 4 * 0.5, "a level shift over its length")
t.eq(d[2100], 0, "level shift ends")
assert(spiked:slice(3000, 3199):std() > 2 * a:slice(3000, 3199):std(), "variance change")
t.eq(#list, 3, "anomalies returned")
t.eq(list[2].kind, "level", "kind"); t.eq(list[2].at, 2000, "at"); t.eq(list[2].len, 100, "len")

local r, placed = mw.synth{n = 10000, anomalies = 6, seed = 3}
t.eq(#placed, 6, "random anomalies placed")
for i = 2, #placed do assert(placed[i].at > placed[i - 1].at + placed[i - 1].len, "apart") end
local r2, placed2 = mw.synth{n = 10000, anomalies = 6, seed = 3}
t.eq(placed2[4].at, placed[4].at, "placement is seeded too")

local ts = mw.synth{n = 3, start = 1000, step = 60000}
t.eq(ts:time(3), 121000, "timestamps from start and step")
t.raises("unknown parameter 'bogus'", function() mw.synth{n = 1, bogus = 1} end)
t.raises("n, the number of samples, is required", function() mw.synth{} end)
t.raises("anomaly kind 'dip'", function() mw.synth{n = 10, anomalies = {{kind = "dip", at = 1}}} end)
t.raises("noise = -1.0", function() mw.synth{n = 10, noise = -1} end)


-- Review cases: each was a bug once.
t.eq(mw.synth{n = 2, start = -120000, step = 60000}:time(2), -60000, "a negative start")
t.raises("len must not be negative", function() mw.synth{n = 10, anomalies = {{kind = "level", at = 1, len = -1}}} end)
t.raises("overflow", function() mw.synth{n = 3, start = 0, step = 9e18} end)
local _, quiet = mw.synth{n = 1000, noise = 0, anomalies = 6}
for _, a in ipairs(quiet) do assert(a.kind ~= "variance", "no variance change without noise") end

print("synth: ok")
