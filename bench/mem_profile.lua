-- mem_profile.lua: the overhead of --mem-profile on bench/profile_ref.lua,
-- against the unprofiled run of the same command, and memory_profiler's
-- overhead on the same work in Python (bench/profile_ref.py), when
-- python3 and its memory_profiler module are installed.
--
--   moonwatch bench/mem_profile.lua <moonwatch> <project dir> [repeats]
--
-- Prints one table: wall seconds unprofiled and profiled, and the ratio.
local moonwatch, root = arg[1], arg[2]
local repeats = tonumber(arg[3]) or 200
assert(moonwatch and root, "usage: mem_profile.lua <moonwatch> <project dir> [repeats]")

local function q(s) return "'" .. s:gsub("'", "'\\''") .. "'" end

-- Wall seconds of a shell command run from the project directory (best
-- of 3, to keep scheduler noise out).
local function wall(cmd)
  local best = math.huge
  for _ = 1, 3 do
    local pipe = io.popen("cd " .. q(root) .. " && s=$(date +%s%N) && " .. cmd
                          .. " >/dev/null 2>&1; e=$(date +%s%N); echo $((e - s))")
    local ns = tonumber(pipe:read("l"))
    pipe:close()
    best = math.min(best, ns / 1e9)
  end
  return best
end

local rows = {}
local plain = wall(q(moonwatch) .. " bench/profile_ref.lua " .. repeats)
local prof = wall(q(moonwatch) .. " --mem-profile=/dev/null bench/profile_ref.lua " .. repeats)
rows[#rows + 1] = {"moonwatch --mem-profile", plain, prof}
if os.execute("/usr/bin/python3 -c 'import memory_profiler' >/dev/null 2>&1") then
  local py_repeats = math.max(1, repeats // 20)
  local py_plain = wall("/usr/bin/python3 bench/profile_ref.py " .. py_repeats)
  local py_prof = wall("/usr/bin/python3 -m memory_profiler bench/profile_ref.py " .. py_repeats)
  rows[#rows + 1] = {string.format("python3 -m memory_profiler (%d repeats)", py_repeats),
                     py_plain, py_prof}
end
print(string.format("%-44s %10s %10s %8s", "tool (" .. repeats .. " repeats)", "plain s", "profiled s", "ratio"))
for _, r in ipairs(rows) do
  print(string.format("%-44s %10.3f %10.3f %7.1fx", r[1], r[2], r[3], r[3] / r[2]))
end
