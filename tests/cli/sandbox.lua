-- sandbox.lua: `moonwatch --sandbox` and the limit options, through the
-- real binary: every red-team script of tests/sandbox gives its error
-- (or succeeds) under the command as under the library, and the options'
-- own rules hold. Usage: sandbox.lua <moonwatch> <tests/sandbox>
local bin = assert(arg[1], "usage: sandbox.lua <moonwatch> <tests/sandbox>")
local dir = assert(arg[2], "usage: sandbox.lua <moonwatch> <tests/sandbox>")

local function run(args, stdin)
  local input = "/dev/null"
  if stdin then
    input = os.tmpname()
    local fh = assert(io.open(input, "wb"))
    fh:write(stdin)
    fh:close()
  end
  local p = io.popen(string.format("cd %q && %q %s 2>&1 <%q; echo \"rc=$?\"", dir, bin, args, input))
  local out = p:read("a")
  p:close()
  if stdin then os.remove(input) end
  local rc = tonumber(out:match("rc=(%d+)\n$"))
  return out:gsub("rc=%d+\n$", ""), rc
end

local function check(args, want_rc, want_text, stdin)
  local out, rc = run(args, stdin)
  if rc ~= want_rc or not out:find(want_text, 1, true) then
    error(string.format("moonwatch %s: expected exit %d and '%s', got exit %s:\n%s",
                        args, want_rc, want_text, tostring(rc), out), 2)
  end
  return out
end

-- The red-team suite, each script as its own run of the command.
local listing = io.popen(string.format("ls %q", dir))
local n = 0
for name in listing:lines() do
  if name:match("%.lua$") then
    local fh = assert(io.open(dir .. "/" .. name))
    local text = fh:read("a")
    fh:close()
    local expect = assert(text:match("^%-%- expect: ([^\n]+)"), name)
    local limits = text:find("\n%-%- runtime: time\n") and "--max-time 0.3"
                   or "--max-instructions 2000000 --max-time 60"
    local args = string.format("--sandbox --allow-read data --max-mem 8M --max-coroutines 1000 %s %s",
                               limits, name)
    if expect == "ok" then
      check(args, 0, "")
    else
      check(args, 1, expect)
    end
    n = n + 1
  end
end
listing:close()
assert(n >= 35, "only " .. n .. " scripts in " .. dir)

-- The sandbox's defaults, and one environment for every chunk of a run.
check("--sandbox -e 'print(mw.mem.budget(), io, package)'", 0, "268435456\tnil\tnil")
check("--sandbox -e 'x = 41' -e 'print(x + 1)'", 0, "42")
check("--sandbox -e 'while true do end'", 1, "time limit exceeded (5 s)")
check("--sandbox -e 'for i = 1, 1e5 do coroutine.wrap(print) end'", 1,
      "coroutine limit exceeded (10000 coroutines)")
check("--sandbox -l mw2=moonwatch -e 'print(mw2 == mw)'", 0, "true")
check("--sandbox -l io", 1, "sandbox: require 'io' is not allowed")
check("--sandbox - a b", 0, "nil\tb", "print(io, arg[2])")
check("--sandbox -", 1, "attempt to load a binary chunk", "\27Lua")
-- what would run outside the sandbox is refused before anything runs
check("--sandbox -i -e 'print(1)'", 1, "--sandbox: the interactive prompt is not available")
check("--sandbox detect data", 1, "--sandbox: runs scripts, not the built-in commands")
check("--allow-read data -e 'print(1)'", 1, "--allow-read: only with --sandbox")
check("--sandbox --allow-read no/such/dir -e 'print(1)'", 1,
      "sandbox: readable directory 'no/such/dir': No such file or directory")
check("--sandbox --allow-read", 1, "'--allow-read' needs argument")
check("--sandbox -e 'for r in mw.csv(\"data/series.csv\") do end'", 1,
      "(readable directories: none)")
check("--sandbox --allow-read=data -e 'local n = 0 for r in mw.csv(\"data/series.csv\") do n = n + 1 end print(n)'",
      0, "6")

-- The limit options without the sandbox, and their values.
check("--max-time 0.2 -e 'while true do end'", 1, "time limit exceeded (0.2 s)")
check("--max-time=0.2 -e 'while true do end'", 1, "stack traceback:")
check("--max-instructions 100000 -e 'while true do pcall(function() while true do end end) end'",
      1, "instruction limit exceeded (100000 instructions)")
check("--max-coroutines 3 -e 'for i = 1, 4 do coroutine.create(print) end'", 1,
      "coroutine limit exceeded (3 coroutines)")
check("--max-time 5 -e 'print(io ~= nil, pcall(error, \"x\"))'", 0, "true\tfalse\tx")
check("--max-time 0 -e 'print(1)'", 1, "--max-time: '0' is not a positive number of seconds")
check("--max-time abc -e 'print(1)'", 1, "--max-time: 'abc' is not a positive number of seconds")
check("--max-instructions -5 -e 'print(1)'", 1, "--max-instructions: '-5' is not a positive integer")
check("--max-coroutines 1x -e 'print(1)'", 1, "--max-coroutines: '1x' is not a positive integer")
check("--max-time", 1, "'--max-time' needs argument")
check("--help", 0, "--sandbox")
print(string.format("sandbox.lua: %d red-team scripts and the options: ok", n))
