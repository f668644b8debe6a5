-- options.lua: moonwatch's own options, run through the real binary:
-- --max-mem (both forms, bad values, Lua and native failures under it),
-- --help. Usage: options.lua <moonwatch>
local bin = assert(arg[1], "usage: options.lua <moonwatch>")

local function run(args)
  local p = io.popen(string.format("%q %s 2>&1; echo \"rc=$?\"", bin, args))
  local out = p:read("a")
  p:close()
  local rc = tonumber(out:match("rc=(%d+)\n$"))
  return out:gsub("rc=%d+\n$", ""), rc
end

local function check(args, want_rc, want_text)
  local out, rc = run(args)
  if rc ~= want_rc or not out:find(want_text, 1, true) then
    error(string.format("moonwatch %s: expected exit %d and '%s', got exit %s:\n%s",
                        args, want_rc, want_text, tostring(rc), out), 2)
  end
end

check("--max-mem 64M -e 'print(mw.mem.limit())'", 0, "67108864")
check("--max-mem=64M -e 'print(mw.mem.limit())'", 0, "67108864")
-- a value that looks like an option is the option's value, not code
check("--max-mem 1e9 -e 'print(mw.mem.limit())'", 0, "1000000000")
check("--max-mem 8M -e 'local t = {} for i = 1, 1e7 do t[i] = i end'", 1,
      "not enough memory (memory limit exceeded: limit 8.0 MiB, requested ")
check("--max-mem 64M -e 'mw.series.zeros(1e8)'", 1,
      "memory limit exceeded (limit 64.0 MiB, requested 800000000 bytes)")
check("--max-mem 64M -e 'print(pcall(mw.series.zeros, 1e8)) print(#mw.series.zeros(10))'", 0,
      "false\tmemory limit exceeded (limit 64.0 MiB, requested 800000000 bytes)\n10")
check("--max-mem abc -e 'print(1)'", 1, "--max-mem: 'abc' is not a size")
check("--max-mem 1K -e 'print(1)'", 1, "--max-mem: 1.0 KiB is below the")
check("--max-mem", 1, "'--max-mem' needs argument")
check("--max-memory 1G", 1, "unrecognized option '--max-memory'")
check("--help", 0, "--max-mem size")
-- --mem-timeline: the chart and the samples beside it, also on failure
local base = os.tmpname()
os.remove(base)
check("--mem-timeline " .. base .. ".svg -e 'local s = mw.series.zeros(1e6) s:release()'", 0, "")
local svg = assert(io.open(base .. ".svg")):read("a")
assert(svg:find("^<svg ") and svg:find("</svg>\n$"), "--mem-timeline writes an SVG")
local csv = assert(io.open(base .. ".csv")):read("a")
assert(csv:find("^t_seconds,lua_bytes,native_bytes,total_bytes,peak_bytes\n%d"), "and the CSV")
os.remove(base .. ".svg"); os.remove(base .. ".csv")
check("--mem-timeline=" .. base .. ".svg -e 'error(\"boom\")'", 1, "boom")
assert(io.open(base .. ".svg"), "a failing run still gets its chart")
os.remove(base .. ".svg"); os.remove(base .. ".csv")
check("--mem-timeline /nonexistent/dir/x.svg -e 'print(1)'", 1,
      "--mem-timeline: cannot write '/nonexistent/dir/x.svg'")
check("--mem-timeline", 1, "'--mem-timeline' needs argument")

-- the script and its arguments after the option
local script = os.tmpname()
local f = assert(io.open(script, "w"))
f:write("print(arg[1], arg[2], mw.mem.limit())\n")
f:close()
check("--max-mem 32M " .. script .. " a b", 0, "a\tb\t33554432")
os.remove(script)
print("options: ok")
