-- gc_collect.lua: a full collection of N tracked containers, half of them
-- in garbage cycles, against CPython's gc.collect() on the same shape,
-- run from this script.
--
--   moonwatch bench/gc_collect.lua [N] [repeats]
--
-- Shape (N = 1,000,000): N/2 live lists held by one list, and N/4 garbage
-- pairs of lists that reference each other. Both collectors are disabled
-- while the shape is built, so the timed collection sees all of it.
local N = tonumber(arg and arg[1]) or 1000000
local REPEATS = tonumber(arg and arg[2]) or 5

local function now()
  return os.clock()
end

local function build()
  mw.gc.disable()
  local keep = mw.list{}
  for _ = 1, N // 2 do
    local l = mw.list()
    keep:append(l)
    l:release()
  end
  for _ = 1, N // 4 do
    local a = mw.list()
    local b = mw.list{a}
    a:append(b)
    a:release()
    b:release()
  end
  collectgarbage()
  return keep
end

local best, found = math.huge, 0
for _ = 1, REPEATS do
  local keep = build()
  local t0 = now()
  found = mw.gc.collect()
  local dt = now() - t0
  if dt < best then best = dt end
  keep:release()
  mw.gc.collect()
  mw.gc.enable()
end
assert(found == N // 2, "expected " .. N // 2 .. " garbage objects, found " .. found)

local py = [[
import gc, sys, time
n = int(sys.argv[1]); repeats = int(sys.argv[2])
best = float("inf"); found = 0
for _ in range(repeats):
    gc.disable()
    keep = [[] for _ in range(n // 2)]
    for _ in range(n // 4):
        a = []; b = [a]; a.append(b)
    del a, b
    t0 = time.process_time()
    found = gc.collect()
    best = min(best, time.process_time() - t0)
    del keep
    gc.collect()
print(best, found)
]]
local f = assert(io.open(os.tmpname(), "w"))
local pyfile = os.tmpname() .. ".py"
f:close()
f = assert(io.open(pyfile, "w"))
f:write(py)
f:close()
local p = io.popen(string.format("/usr/bin/python3 %s %d %d", pyfile, N, REPEATS))
local out = p and p:read("a") or ""
if p then p:close() end
os.remove(pyfile)
local py_best, py_found = out:match("^(%S+)%s+(%d+)")

print(string.format("gc_collect: %d containers, %d in garbage cycles, best of %d", N, N // 2, REPEATS))
print(string.format("  moonwatch mw.gc.collect(): %8.2f ms  %6.1f ns/object", best * 1e3, best * 1e9 / N))
if py_best then
  py_best = tonumber(py_best)
  print(string.format("  CPython gc.collect():      %8.2f ms  %6.1f ns/object  (found %s)",
                      py_best * 1e3, py_best * 1e9 / N, py_found))
  print(string.format("  ratio CPython / moonwatch: %.2fx", py_best / best))
else
  print("  CPython: /usr/bin/python3 not available, no baseline")
end
print(string.format("  target: under 50 ms: %s", best < 0.050 and "met" or "NOT met"))
