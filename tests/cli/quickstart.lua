-- quickstart.lua: examples/quickstart.lua, run through the real binary,
-- prints the anomalies of the shipped series with their timestamps, finds
-- the labelled window and writes its plot.
-- Usage: quickstart.lua <moonwatch> <examples/quickstart.lua>
local bin, script = assert(arg[1]), assert(arg[2])
os.remove("quickstart.svg")
local p = io.popen(string.format("%q %q 2>&1; echo rc=$?", bin, script))
local out = p:read("a")
p:close()
local function check(cond, what) if not cond then error(what .. ":\n" .. out, 2) end end
check(out:match("rc=0\n$"), "exit 0")
check(out:find("ec2_cpu_utilization_825cc2.csv: 4032 samples", 1, true), "the series")
check(out:find("2014-04-15 15:44:00", 1, true) and out:find("yes", 1, true), "an anomaly in the window")
local inside, found = out:match("(%d+) of (%d+) anomalies fall inside it")
check(inside and tonumber(inside) >= 1 and tonumber(inside) * 2 > tonumber(found), "most anomalies inside")
local score = tonumber(out:match("NAB standard score for this file: ([%d.]+)"))
check(score and score > 50, "a NAB score for the file")
local fh = io.open("quickstart.svg")
check(fh, "quickstart.svg written")
local svg = fh:read("a")
fh:close()
check(svg:find("^<svg") or svg:find("<svg", 1, true), "an SVG")
check(select(2, svg:gsub("<circle", "")) >= 5, "anomaly markers in the plot")
print("quickstart: ok")
