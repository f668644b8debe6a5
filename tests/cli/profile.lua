--[[
profile.lua: the moonwatch command's --mem-profile flags.

  moonwatch tests/cli/profile.lua <moonwatch> <tests/cli dir>

Runs fixtures under --mem-profile in its table, CSV and JSON formats, to
standard output and to a file; checks the report's figures, that the
script's own output and exit status are unchanged, and that a failing
script still gets its profile.
]]
local moonwatch, dir = arg[1], arg[2]
assert(moonwatch and dir, "usage: profile.lua <moonwatch> <tests/cli dir>")

local function q(s) return "'" .. s:gsub("'", "'\\''") .. "'" end

-- Runs the command; returns its stdout, stderr and whether it exited 0.
local function run(args)
  local err = os.tmpname()
  local pipe = io.popen("cd " .. q(dir) .. " && " .. q(moonwatch) .. " " .. args
                        .. " 2>" .. q(err))
  local out = pipe:read("a")
  local ok = pipe:close()
  local f = io.open(err)
  local errtext = f:read("a")
  f:close()
  os.remove(err)
  return out, errtext, ok == true
end

local function check(cond, what)
  if not cond then error("FAILED: " .. what, 2) end
end

-- Table on standard output, after the script's own output.
local out, err, ok = run("--mem-profile fixtures/profile_ok.lua")
check(ok, "exit status 0: " .. err)
check(out:find("^ran\t100\n"), "the script's output comes first")
check(out:find("File: fixtures/profile_ok.lua", 1, true), "a file section")
check(out:find("Line contents", 1, true), "the table header")
check(out:find("local s = mw.series.zeros(1000000)", 1, true), "line contents")
check(out:find("-7.6 MiB", 1, true), "the release's negative increment")

-- CSV to a file, exact bytes.
local tmp = os.tmpname()
out, err, ok = run("--mem-profile=" .. q(tmp) .. " --mem-profile-format=csv fixtures/profile_ok.lua")
check(ok, "CSV run: " .. err)
check(out == "ran\t100\n", "nothing but the script's output on stdout: " .. out)
local rows = {}
for l in io.lines(tmp) do rows[#rows + 1] = l end
check(rows[1]:find("^file,line,mem_usage"), "CSV header")
local by_line = {}
for k = 2, #rows do
  local file, line, inc_native, occ = rows[k]:match('^"([^"]*)",(%d+),%d+,%d+,%d+,%-?%d+,%-?%d+,(%-?%d+),%d+,%d+,(%d+),')
  check(file, "CSV row shape: " .. rows[k])
  if file ~= "" then by_line[tonumber(line)] = {native = tonumber(inc_native), occ = tonumber(occ)} end
end
check(by_line[1].native >= 8000000, "1e6 doubles charged to line 1")
check(by_line[2].native == -8000000, "release gives back the 8e6 bytes of doubles: " .. by_line[2].native)
check(by_line[4].occ == 100, "loop line occurrences: " .. by_line[4].occ)

-- JSON to a file, parsed by Python when present.
out, err, ok = run("--mem-profile-format=json --mem-profile=" .. q(tmp) .. " fixtures/profile_ok.lua")
check(ok, "JSON run: " .. err)
local py = io.open("/usr/bin/python3") and "/usr/bin/python3"
if py then
  local pipe = io.popen(py .. " -c 'import json,sys; d=json.load(open(sys.argv[1])); "
                        .. "print(d[\"files\"][0][\"lines\"][0][\"line\"])' " .. q(tmp))
  local first = pipe:read("a")
  check(pipe:close() == true, "python3 parses the JSON profile")
  check(tonumber(first) == 1, "first profiled line is 1")
end

-- A failing script: the error is reported, the exit status is 1, and the
-- profile is written anyway.
os.remove(tmp)
out, err, ok = run("--mem-profile=" .. q(tmp) .. " fixtures/profile_error.lua")
check(not ok, "a failing script exits non-zero")
check(err:find("boom in the script", 1, true), "the error is reported: " .. err)
local f = io.open(tmp)
check(f, "the profile file exists after an error")
local text = f:read("a")
f:close()
check(text:find("mw.series.zeros(1000)", 1, true), "the failing script's profile")
os.remove(tmp)

-- Bad options are usage errors.
out, err, ok = run("--mem-profile-format=xml fixtures/profile_ok.lua")
check(not ok and err:find("unrecognized option '--mem-profile-format=xml'", 1, true),
      "bad format rejected: " .. err)
out, err, ok = run("--mem-profilex fixtures/profile_ok.lua")
check(not ok and err:find("unrecognized option", 1, true), "unknown long option rejected")
print("profile: all checks passed")
