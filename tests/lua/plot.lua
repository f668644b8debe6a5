-- plot.lua: mw.plot.svg, detection plots: columns as series or tables,
-- anomalies as a mask or as row numbers, windows as bands, time labels
-- from a CSV's timestamps, the text returned or written to a file, and
-- every error message.
local t = require "helper"

local function count(s, pattern)
  local n = 0
  for _ in s:gmatch(pattern) do n = n + 1 end
  return n
end

-- The markers: circles inside the anomalies group.
local function markers(svg)
  local group = svg:match('<g class="anomalies".-</g>')
  return group and count(group, "<circle ") or 0
end

local function windows(svg)
  return count(svg, '<rect class="window"')
end

local value, score = {}, {}
for i = 1, 12 do
  value[i] = 10 + i % 3
  score[i] = i <= 3 and 0/0 or i / 4
end
value[7] = 30

-- the smallest plot: a value line, rows on x, a well-formed document
local svg = mw.plot.svg{value = value}
assert(svg:find('^<svg xmlns="http://www.w3.org/2000/svg" width="1000" height="520"'), svg:sub(1, 80))
assert(svg:find("</svg>\n$"), "the document ends")
t.eq(count(svg, "<path "), 1, "one line")
assert(svg:find(">row</text>", 1, true), "row numbers on x")
assert(not svg:find('class="score"', 1, true), "no score panel without scores")
t.eq(markers(svg), 0, "no markers")

-- everything, from tables: anomalies as a mask of booleans
local mask = {}
for i = 1, 12 do mask[i] = i == 7 or i == 11 end
svg = mw.plot.svg{
  value = value, score = score, anomalies = mask, threshold = 2,
  windows = {{6, 8}, {20, 30}}, title = "job <1> & co", width = 640, height = 360,
}
assert(svg:find('width="640" height="360"', 1, true), "the size")
assert(svg:find(">job &lt;1&gt; &amp; co</text>", 1, true), "the title, escaped")
t.eq(markers(svg), 2, "a marker per anomaly")
t.eq(windows(svg), 2, "the window in range, a band in each panel")
assert(svg:find(">threshold 2</text>", 1, true), "the threshold, labelled")
assert(svg:find(">labelled window</text>", 1, true), "the legend's window entry")
assert(svg:find('<path class="score"', 1, true), "a score panel")
-- the warm-up's NaN scores are left out: the score line starts at row 4
local d = svg:match('<path class="score"[^>]-d="([^"]*)"')
t.eq(count(d, "M"), 1, "one piece of score line")

-- anomalies as row numbers (a table shorter than value), and as numbers
t.eq(markers(mw.plot.svg{value = value, anomalies = {7, 11, 2}}), 3, "indices")
t.eq(markers(mw.plot.svg{value = value, anomalies = {}}), 0, "no indices")
local numeric = {}
for i = 1, 12 do numeric[i] = i % 4 == 0 and 1 or 0 end
t.eq(markers(mw.plot.svg{value = value, anomalies = numeric}), 3, "a mask of numbers")

-- series: a mask from a comparison, row numbers as a series
local vs, ss = mw.series(value), mw.series(score)
t.eq(markers(mw.plot.svg{value = vs, score = ss, anomalies = ss:gt(2)}), 4, "mask series")
t.eq(markers(mw.plot.svg{value = vs, anomalies = mw.series{1, 12}}), 2, "index series")

-- a NAB file through the CSV reader: dates on x, windows in epoch ms
local f = mw.csv("../../examples/data/art_daily_jumpsup.csv", {batch = 65536})()
local scores = mw.detect.zscore{window = 288}:run(f.value)
local start = f.timestamp[1]
svg = mw.plot.svg{
  value = f.value, time = f.timestamp, score = scores, anomalies = scores:gt(4),
  threshold = 4, windows = {{start + 86400000 * 3, start + 86400000 * 4}},
}
assert(svg:find(">time (UTC)</text>", 1, true), "time on x")
local labels = {}
for label in svg:gmatch('class="xtick"[^>]*>([^<]*)<') do labels[#labels + 1] = label end
assert(#labels >= 5, "x labels: " .. #labels)
for _, label in ipairs(labels) do
  assert(label:match("^%d%d%d%d%-%d%d%-%d%d$"), "a date: " .. label)
end
t.eq(windows(svg), 2, "the window, in ms, in both panels")
assert(markers(svg) >= 1, "the jump is found")
assert(#svg < 300 * 1024, "a small file: " .. #svg)

-- a file: the same text, and true
local path = os.tmpname()
t.eq(mw.plot.svg{value = value, score = score, title = "to a file", file = path}, true, "returns true")
local fh = assert(io.open(path, "rb"))
local written = fh:read("a")
fh:close()
t.eq(written, mw.plot.svg{value = value, score = score, title = "to a file"}, "the file's text")
os.remove(path)
t.raises("cannot write '/nonexistent-dir/x.svg': No such file or directory",
         mw.plot.svg, {value = value, file = "/nonexistent-dir/x.svg"})
local dir = os.tmpname()
os.remove(dir)
assert(os.execute("mkdir " .. dir))
t.raises("cannot write '" .. dir .. "': Is a directory", mw.plot.svg, {value = value, file = dir})
os.remove(dir)

-- errors, each naming the field
local svg_fn = mw.plot.svg
t.raises("table expected, got no value", svg_fn)
t.raises("bad argument #1 to 'svg' (unknown field 'colour'; valid: value, time, score, " ..
         "anomalies, threshold, windows, title, width, height, file)",
         svg_fn, {value = value, colour = "red"})
t.raises("unknown field '1'", svg_fn, {value, value = value})
t.raises("bad argument #1 to 'svg' (field 'value' is required)", svg_fn, {score = score})
t.raises("bad argument #1 to 'svg' (field 'value' must be a series or a table of numbers, got string)",
         svg_fn, {value = "x"})
t.raises("bad argument #1 to 'svg' (field 'value' must be a series or a table of numbers, got frame)",
         svg_fn, {value = f})
t.raises("bad argument #1 to 'svg' (field 'value': element 2 is a string, not a number)",
         svg_fn, {value = {1, "2"}})
t.raises("bad argument #1 to 'svg' (field 'score' has 10 values, 'value' has 12)",
         svg_fn, {value = value, score = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10}})
t.raises("bad argument #1 to 'svg' (field 'time' has 2 values, 'value' has 12)",
         svg_fn, {value = value, time = {1, 2}})
t.raises("bad argument #1 to 'svg' (field 'time' goes back at row 3)",
         svg_fn, {value = {1, 2, 3}, time = {10, 20, 15}})
t.raises("bad argument #1 to 'svg' (field 'time': row 2 is infinite)",
         svg_fn, {value = {1, 2, 3}, time = {10, 1/0, 30}})
t.raises("bad argument #1 to 'svg' (field 'anomalies' has 13 values, 'value' has 12)",
         svg_fn, {value = value, anomalies = mw.series.zeros(13)})
t.raises("bad argument #1 to 'svg' (field 'anomalies' must be a series or a table, got number)",
         svg_fn, {value = value, anomalies = 3})
t.raises("bad argument #1 to 'svg' (field 'anomalies': element 2 is a string, not a boolean or a number)",
         svg_fn, {value = {1, 2}, anomalies = {true, "yes"}})
t.raises("bad argument #1 to 'svg' (field 'anomalies': index 2 is 0, not a row from 1 to 12)",
         svg_fn, {value = value, anomalies = {1, 0}})
t.raises("bad argument #1 to 'svg' (field 'anomalies': index 1 is 2.5, not a row from 1 to 12)",
         svg_fn, {value = value, anomalies = mw.series{2.5}})
t.raises("bad argument #1 to 'svg' (field 'anomalies': index 1 is a boolean, not a row number)",
         svg_fn, {value = value, anomalies = {true}})
t.raises("bad argument #1 to 'svg' (field 'threshold' must be a finite number)",
         svg_fn, {value = value, threshold = "high"})
t.raises("bad argument #1 to 'svg' (field 'threshold' must be a finite number)",
         svg_fn, {value = value, threshold = 0/0})
t.raises("bad argument #1 to 'svg' (field 'windows' must be a table of {start, end} pairs, got number)",
         svg_fn, {value = value, windows = 5})
t.raises("bad argument #1 to 'svg' (field 'windows': window 2 must be {start, end}, got number)",
         svg_fn, {value = value, windows = {{1, 2}, 3}})
t.raises("bad argument #1 to 'svg' (field 'windows': window 1 must be {start, end}, two finite numbers)",
         svg_fn, {value = value, windows = {{1}}})
t.raises("bad argument #1 to 'svg' (field 'windows': window 1 ends before it starts)",
         svg_fn, {value = value, windows = {{5, 2}}})
t.raises("bad argument #1 to 'svg' (field 'title' must be a string, got number)",
         svg_fn, {value = value, title = 5})
t.raises("bad argument #1 to 'svg' (field 'file' must be a string, got boolean)",
         svg_fn, {value = value, file = true})
t.raises("bad argument #1 to 'svg' (field 'width' must be an integer from 300 to 10000)",
         svg_fn, {value = value, width = 100})
t.raises("bad argument #1 to 'svg' (field 'width' must be an integer from 300 to 10000)",
         svg_fn, {value = value, width = 640.5})
t.raises("bad argument #1 to 'svg' (field 'height' must be an integer from 200 to 10000)",
         svg_fn, {value = value, height = "tall"})
local gone = mw.series{1, 2, 3}
gone:release()
t.raises("attempt to use a released series", svg_fn, {value = gone})

-- nothing stays behind after errors: the series made from tables are
-- freed with their handles
t.fullgc()
local before = mw.mem.stats().native
for _ = 1, 20 do
  pcall(svg_fn, {value = value, score = score, anomalies = {1, 99}})
  pcall(svg_fn, {value = value, windows = {{1, 2}, {3}}})
end
t.fullgc()
t.eq(mw.mem.stats().native, before, "native bytes after failed plots")
print("plot: ok")
