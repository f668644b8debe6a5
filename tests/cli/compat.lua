--[[
compat.lua: checks that the moonwatch command behaves like the reference
`lua` interpreter for plain Lua.

  moonwatch tests/cli/compat.lua <moonwatch> <lua5.4> <tests/cli dir> [scripts dir]

Each compared case runs through both binaries, from the tests/cli directory
(so fixture paths and chunk names are "fixtures/..."), with LUA_INIT*,
LUA_PATH* and LUA_CPATH* unset unless the case sets them, and compares
stdout, stderr and the exit status. Each binary's path is replaced with
"<prog>" first: it is the progname that starts every message, and what
arg[-1] or arg[0] hold. A few checks are of moonwatch alone: what it adds
(the `mw` global, its version line), its REPL with -i on piped input
(the system lua5.4 uses readline, which echoes piped input), and Lua 5.4.6
behaviour that an older system lua5.4 lacks. The prompt a terminal gets
(line editing, completion, :commands) is tested by tests/test_repl.c.

With a scripts directory (tests/compat), every *.lua file in it is one
more compared case, run as "<prog> ../compat/name.lua" from tests/cli
(a directory elsewhere by its absolute path):
plain Lua programs covering the standard library (issue #12), whose
stdout, stderr and exit status must be byte for byte lua5.4's.

Exit status: 0 when every case passes; 1 with a report of each mismatch;
77 (skipped) when the lua5.4 binary does not exist. It uses only the
standard library and a POSIX shell, so lua5.4 can run it too.
]]

local USAGE = "usage: compat.lua <moonwatch> <lua5.4> <tests/cli dir> [scripts dir]\n"
local SKIPPED = 77

local function shell_quote(s)
  return "'" .. (s:gsub("'", "'\\''")) .. "'"
end

-- Returns the first line a shell command prints, or nil.
local function shell_line(command)
  local pipe = io.popen(command)
  local line = pipe:read("l")
  pipe:close()
  return line
end

local cwd = assert(shell_line("pwd"), "cannot find the current directory")

-- The tests run from another directory, so relative paths are made
-- absolute, and a bare name ("lua5.4") is looked up in PATH.
local function resolve(path)
  if path:sub(1, 1) == "/" then
    return path
  elseif not path:find("/", 1, true) then
    return shell_line("command -v " .. shell_quote(path) .. " 2>/dev/null")
  end
  return cwd .. "/" .. path
end

local function is_executable(path)
  return path ~= nil and os.execute("test -x " .. shell_quote(path)) == true
end

if #arg < 3 then
  io.stderr:write(USAGE)
  os.exit(2)
end
local moonwatch = resolve(arg[1])
local lua = resolve(arg[2])
local test_dir = resolve(arg[3])
if not is_executable(moonwatch) then
  io.stderr:write("compat.lua: moonwatch binary '", arg[1], "' not found\n")
  os.exit(2)
end
if not is_executable(lua) then
  print("compat.lua: skipped: no lua5.4 binary at '" .. arg[2] .. "'")
  os.exit(SKIPPED)
end

--------------------------------------------------------------------------
-- Running a case
--------------------------------------------------------------------------

local stdin_path = os.tmpname()
local stdout_path = os.tmpname()
local stderr_path = os.tmpname()
local ready_path = os.tmpname()

local CLEAN_ENV = "unset LUA_INIT LUA_INIT_5_4 LUA_PATH LUA_PATH_5_4"
                  .. " LUA_CPATH LUA_CPATH_5_4"

-- How long an interrupt case may take to start before the test gives up
-- waiting (in 0.05 s steps), and how long it lets the loop run first.
local READY_POLLS = 200
local SETTLE_SECONDS = "0.2"

local function read_file(path)
  local file = assert(io.open(path, "rb"))
  local text = file:read("a")
  file:close()
  return text
end

local function write_file(path, text)
  local file = assert(io.open(path, "wb"))
  file:write(text)
  file:close()
end

-- Replaces every occurrence of `path` in text (no pattern characters).
local function replace_plain(text, path, placeholder)
  local parts, pos = {}, 1
  while true do
    local first, last = text:find(path, pos, true)
    if not first then
      break
    end
    parts[#parts + 1] = text:sub(pos, first - 1)
    parts[#parts + 1] = placeholder
    pos = last + 1
  end
  parts[#parts + 1] = text:sub(pos)
  return table.concat(parts)
end

-- The shell command running prog for case c, its output to the temporary
-- files. An interrupt case runs prog in the background and sends it SIGINT
-- once the chunk has created the ready file (and run a little longer), so
-- the signal arrives while Lua code runs; a bounded wait keeps a broken
-- binary from hanging the test.
local function case_command(prog, c)
  local words = {}
  local names = {}
  for name in pairs(c.env or {}) do
    names[#names + 1] = name
  end
  table.sort(names)
  for _, name in ipairs(names) do
    words[#words + 1] = name .. "=" .. shell_quote(c.env[name])
  end
  if c.interrupt then
    words[#words + 1] = "MW_COMPAT_READY=" .. shell_quote(ready_path)
  end
  words[#words + 1] = shell_quote(prog)
  for _, word in ipairs(c.args) do
    words[#words + 1] = shell_quote(word)
  end
  local run = table.concat(words, " ")
              .. " <" .. shell_quote(stdin_path)
              .. " >" .. shell_quote(stdout_path)
              .. " 2>" .. shell_quote(stderr_path)
  local prefix = "cd " .. shell_quote(test_dir) .. " || exit 125; "
                 .. CLEAN_ENV .. "; "
  if not c.interrupt then
    return prefix .. run
  end
  return prefix .. run .. " & pid=$!; n=0; "
         .. "while [ ! -e " .. shell_quote(ready_path) .. " ] && "
         .. "[ \"$n\" -lt " .. READY_POLLS .. " ]; do sleep 0.05; n=$((n+1)); done; "
         .. "sleep " .. SETTLE_SECONDS .. "; kill -INT \"$pid\"; wait \"$pid\""
end

-- Runs case c with prog; returns {stdout, stderr, status}, with prog's
-- path in the output replaced by "<prog>". status is the exit code, or
-- "signal N".
local function run_case(prog, c)
  write_file(stdin_path, c.stdin or "")
  os.remove(ready_path)
  local _, how, code = os.execute(case_command(prog, c))
  local status = how == "exit" and code or (tostring(how) .. " " .. tostring(code))
  return {
    stdout = replace_plain(read_file(stdout_path), prog, "<prog>"),
    stderr = replace_plain(read_file(stderr_path), prog, "<prog>"),
    status = status,
  }
end

--------------------------------------------------------------------------
-- Reporting
--------------------------------------------------------------------------

local failures = {}

local function split_lines(text)
  local lines = {}
  for line in (text .. "\n"):gmatch("(.-)\n") do
    lines[#lines + 1] = line
  end
  return lines
end

local function show(s)
  return s == nil and "(no line)" or string.format("%q", s)
end

-- Appends to report, line by line, where two outputs differ.
local function diff_lines(report, stream, got, want, got_name, want_name)
  if got == want then
    return
  end
  local got_lines, want_lines = split_lines(got), split_lines(want)
  local shown = 0
  for i = 1, math.max(#got_lines, #want_lines) do
    if got_lines[i] ~= want_lines[i] then
      report[#report + 1] = string.format("  %s line %d:\n    %-9s %s\n    %-9s %s",
        stream, i, got_name .. ":", show(got_lines[i]),
        want_name .. ":", show(want_lines[i]))
      shown = shown + 1
      if shown == 10 then
        report[#report + 1] = "    (further differences not shown)"
        break
      end
    end
  end
end

local function describe(c)
  local words = {}
  for _, word in ipairs(c.args) do
    words[#words + 1] = shell_quote(word)
  end
  local text = "  command: <prog> " .. table.concat(words, " ")
  if c.stdin then
    text = text .. "\n  stdin: " .. show(c.stdin)
  end
  if c.env then
    for name, value in pairs(c.env) do
      text = text .. "\n  env: " .. name .. "=" .. value
    end
  end
  return text
end

local function fail(c, report)
  failures[#failures + 1] = "FAIL " .. c.name .. "\n" .. describe(c) .. "\n"
                            .. table.concat(report, "\n")
end

--------------------------------------------------------------------------
-- The cases compared with lua5.4
--------------------------------------------------------------------------

local LUA_PATH = { LUA_PATH = "fixtures/?.lua" }

local compared = {
  -- arg and ...
  { name = "script with arguments: arg and ...",
    args = { "fixtures/args.lua", "a", "b c", "it's", "", "-e" } },
  { name = "options before the script go to negative indices",
    args = { "-W", "-e", "x = 1", "-lstring", "fixtures/args.lua", "z" } },
  { name = "no script: arg[0] is the interpreter",
    args = { "-e", "for i = -1, #arg do print(i, arg[i]) end" } },
  { name = "a script without arguments",
    args = { "fixtures/args.lua" } },

  -- -e
  { name = "-e several, then a script",
    args = { "-e", "print('first')", "-e", "x = 42; print('second', x)",
             "fixtures/args.lua", "-e", "not an option" } },
  { name = "-e with the statement attached",
    args = { "-eprint('attached')" } },
  { name = "-e runtime error",
    args = { "-e", "local t = nil; print(t.x)" } },
  { name = "-e syntax error",
    args = { "-e", "x = = 1" } },
  { name = "-e error stops the later options",
    args = { "-e", "error('first')", "-e", "print('never')" } },
  { name = "-e without its argument",
    args = { "-e" } },
  { name = "-e followed by another option",
    args = { "-e", "-v" } },

  -- -l
  { name = "-l mod with LUA_PATH",
    args = { "-l", "mymod", "-e", "print(mymod.name, mymod.twice(21))" },
    env = LUA_PATH },
  { name = "-lmod attached",
    args = { "-lmymod", "-e", "print(mymod.name)" }, env = LUA_PATH },
  { name = "-l g=mod",
    args = { "-l", "m=mymod", "-e", "print(m.name, mymod)" }, env = LUA_PATH },
  { name = "-l of a missing module",
    args = { "-l", "nosuchmod", "-e", "print('never')" }, env = LUA_PATH },
  { name = "-l of a module that raises",
    args = { "-l", "badmod" }, env = LUA_PATH },
  { name = "-l without its argument",
    args = { "-l" } },

  -- -E and LUA_INIT
  { name = "-E ignores LUA_INIT",
    args = { "-E", "-e", "print('main')" },
    env = { LUA_INIT = "print('LUA_INIT ran')" } },
  { name = "-E ignores LUA_PATH",
    args = { "-E", "-e", "print(package.path); print(package.cpath)" },
    env = LUA_PATH },
  { name = "LUA_INIT code runs first",
    args = { "-e", "print('main')", "fixtures/args.lua", "x" },
    env = { LUA_INIT = "print('LUA_INIT ran', #arg)" } },
  { name = "LUA_INIT @file",
    args = { "-e", "print(init_marker)" },
    env = { LUA_INIT = "@fixtures/init.lua" } },
  { name = "LUA_INIT_5_4 takes precedence over LUA_INIT",
    args = { "-e", "print('main')" },
    env = { LUA_INIT_5_4 = "print('LUA_INIT_5_4 ran')",
            LUA_INIT = "print('LUA_INIT ran')" } },
  { name = "LUA_INIT error stops everything",
    args = { "-e", "print('never')" },
    env = { LUA_INIT = "error('bad init')" } },
  { name = "LUA_INIT @file that does not exist",
    args = { "-e", "print('never')" },
    env = { LUA_INIT = "@fixtures/no_such_init.lua" } },

  -- -W and warn
  { name = "-W turns warnings on",
    args = { "-W", "-e", "warn('one', ' two') warn('@off') warn('hidden') "
                         .. "warn('@on') warn('three')" } },
  { name = "warnings are off by default",
    args = { "-e", "warn('hidden') warn('@on') warn('shown', '!') "
                   .. "warn('@unknown') warn('@off') warn('hidden too')" } },

  -- stdin, - and --
  { name = "- reads the script from stdin",
    args = { "-", "a", "b" },
    stdin = "print('from stdin', ...)\nprint(arg[0], arg[-1], #arg)\n" },
  { name = "-- ends the options",
    args = { "--", "fixtures/args.lua", "-e", "x" } },
  { name = "-e then --",
    args = { "-e", "print('e ran')", "--", "fixtures/args.lua", "--" } },
  { name = "after --, - is a file named '-', not stdin",
    args = { "--", "-" }, stdin = "print('stdin must not run')\n" },
  { name = "-- alone runs stdin",
    args = { "--" }, stdin = "print('stdin after --', arg[1])\n" },
  { name = "no arguments and stdin not a terminal: runs stdin",
    args = {}, stdin = "print('piped', #arg, ...)\nerror('at the end')\n" },
  -- Piped input is a script, never the interactive prompt (which is for
  -- a terminal: tests/test_repl.c): no values printed, no ':' commands.
  { name = "a program piped into -",
    args = { "-" },
    stdin = "local t = {1, 2, 3}\nfor i, v in ipairs(t) do\n  print(i, v)\nend\n"
            .. "print(#t, select('#', ...))\nreturn t\n" },
  { name = "a program piped in without arguments",
    args = {},
    stdin = "local function f(n)\n  if n < 2 then return n end\n"
            .. "  return f(n - 1) + f(n - 2)\nend\nprint(f(20))\nio.write('no newline')" },
  { name = "piped expressions are not printed: a syntax error, as in lua",
    args = { "-" }, stdin = "x = 1\nx\n" },
  { name = "piped ':' commands are not commands",
    args = {}, stdin = ":mem\n" },
  { name = "a piped program that fails half-way",
    args = { "-" }, stdin = "print('before')\nlocal t = nil\nprint(t.x)\nprint('after')\n" },
  { name = "stdin piped into a script",
    args = { "fixtures/read_stdin.lua" }, stdin = "alpha\nbeta\n\ngamma" },

  -- errors
  { name = "string error with a traceback",
    args = { "fixtures/raise.lua", "string" } },
  { name = "string error at level 0",
    args = { "fixtures/raise.lua", "level0" } },
  { name = "number error",
    args = { "fixtures/raise.lua", "number" } },
  { name = "error with a table value",
    args = { "fixtures/raise.lua", "table" } },
  { name = "error object with __tostring",
    args = { "fixtures/raise.lua", "tostring" } },
  { name = "error object whose __tostring gives no string",
    args = { "fixtures/raise.lua", "tostring_not_string" } },
  { name = "error(nil)",
    args = { "fixtures/raise.lua", "nil" } },
  { name = "runtime error",
    args = { "fixtures/raise.lua", "runtime" } },
  { name = "syntax error in the script",
    args = { "fixtures/syntax_error.lua" } },
  { name = "missing script file",
    args = { "fixtures/no_such_script.lua", "a" } },
  { name = "'arg' replaced before the script",
    args = { "-e", "arg = nil", "fixtures/to_end.lua" } },
  { name = "unknown option: usage",
    args = { "-x", "fixtures/to_end.lua" } },
  { name = "unknown long option: usage",
    args = { "--x" } },
  { name = "extra characters after an option: usage",
    args = { "-Wx" } },

  -- exit statuses
  { name = "os.exit(3)", args = { "fixtures/exit.lua", "3" } },
  { name = "os.exit(true)", args = { "fixtures/exit.lua", "true" } },
  { name = "os.exit(false)", args = { "fixtures/exit.lua", "false" } },
  { name = "os.exit(5, true) closes the state",
    args = { "fixtures/exit.lua", "close" } },
  { name = "a script that runs to the end",
    args = { "fixtures/to_end.lua" } },

  -- SIGINT
  { name = "SIGINT interrupts a running chunk",
    args = { "-e", "io.open(os.getenv('MW_COMPAT_READY'), 'w'):close() "
                   .. "local x = 0 for i = 1, 3e9 do x = x + i end "
                   .. "print('not interrupted')" },
    interrupt = true },

  -- plain Lua programs
  -- (plain Lua programs are the files of tests/compat, compared below)
  { name = "the collector runs in generational mode",
    args = { "-e", "print(collectgarbage('isrunning'), "
                   .. "collectgarbage('incremental'), "
                   .. "collectgarbage('generational'))" } },
}

-- The scripts of the scripts directory, by name, with paths relative to
-- tests/cli (the chunk names in messages).
if arg[4] then
  local dir = resolve(arg[4])
  local pipe = io.popen("cd " .. shell_quote(dir) .. " && ls -1 -- *.lua")
  local names = {}
  for name in pipe:lines() do
    names[#names + 1] = name
  end
  pipe:close()
  if #names == 0 then
    io.stderr:write("compat.lua: no scripts in '", arg[4], "'\n")
    os.exit(2)
  end
  -- a sibling of tests/cli by a relative path, anything else absolute
  local parent, base = dir:match("^(.*)/([^/]+)$")
  local prefix = parent == test_dir:match("^(.*)/[^/]+$") and "../" .. base or dir
  for _, name in ipairs(names) do
    compared[#compared + 1] = { name = "script " .. base .. "/" .. name,
                                args = { prefix .. "/" .. name } }
  end
end

-- -v: the first line differs by design (moonwatch names itself), so only
-- the exit status and the Lua release are compared.
local version_case = { name = "-v", args = { "-v" } }

local function compare(c)
  local got = run_case(moonwatch, c)
  local want = run_case(lua, c)
  local report = {}
  if got.status ~= want.status then
    report[#report + 1] = string.format("  exit status: moonwatch %s, lua5.4 %s",
                                        got.status, want.status)
  end
  diff_lines(report, "stdout", got.stdout, want.stdout, "moonwatch", "lua5.4")
  diff_lines(report, "stderr", got.stderr, want.stderr, "moonwatch", "lua5.4")
  if #report > 0 then
    fail(c, report)
  end
end

local function compare_version(c)
  local got = run_case(moonwatch, c)
  local want = run_case(lua, c)
  local report = {}
  for _, result in ipairs({ { "moonwatch", got }, { "lua5.4", want } }) do
    local who, r = result[1], result[2]
    if r.status ~= 0 then
      report[#report + 1] = "  " .. who .. " exit status " .. r.status
    end
    if not r.stdout:find("Lua 5.4", 1, true) then
      report[#report + 1] = "  " .. who .. " stdout lacks 'Lua 5.4': " .. show(r.stdout)
    end
  end
  if #report > 0 then
    fail(c, report)
  end
end

--------------------------------------------------------------------------
-- The cases of moonwatch alone
--------------------------------------------------------------------------

local VERSION_LINE = "^moonwatch %d+%.%d+%.%d+ %-%- Lua 5%.4%.%d+  "
                     .. "Copyright %(C%) 1994%-%d+ Lua%.org, PUC%-Rio\n"

-- Each check gives what to expect: `status` and exact `stdout`/`stderr`,
-- or a Lua pattern in `stdout_match`; `stdout_after_version` is the exact
-- stdout after a version line matching VERSION_LINE.
local alone = {
  { name = "mw is the moonwatch module",
    args = { "-e", "assert(type(mw) == 'table' and package.loaded.moonwatch == mw)" },
    status = 0, stdout = "", stderr = "" },
  { name = "mw is set with -E too",
    args = { "-E", "-e", "assert(type(mw) == 'table' and package.loaded.moonwatch == mw)" },
    status = 0, stdout = "", stderr = "" },
  { name = "mw exists when LUA_INIT runs",
    args = { "-e", "" },
    env = { LUA_INIT = "assert(type(mw) == 'table')" },
    status = 0, stdout = "", stderr = "" },
  { name = "-v names moonwatch and the Lua release",
    args = { "-v" }, status = 0, stdout_match = VERSION_LINE .. "$", stderr = "" },
  { name = "-l mod-suffix names the global without the suffix (Lua 5.4.6)",
    args = { "-l", "mymod-v2", "-e", "print(mymod.version, _G['mymod-v2'])" },
    env = LUA_PATH, status = 0, stdout = "2\tnil\n", stderr = "" },
  { name = "REPL: expressions, statements, continuation lines",
    args = { "-i" },
    stdin = "1 + 1\nx = 5\nx\nfunction f()\nreturn 7 end\nf()\n=f() * 2\n",
    status = 0, stderr = "",
    stdout_after_version = "> 2\n> > 5\n> >> > 7\n> 14\n> \n" },
  { name = "REPL: errors have no progname; EOF ends an incomplete statement",
    args = { "-i" }, stdin = "error('boom')\nprint(\n",
    status = 0,
    stdout_after_version = "> > >> > \n",
    stderr = "stdin:1: boom\nstack traceback:\n\t[C]: in function 'error'\n"
             .. "\tstdin:1: in main chunk\n\t[C]: in ?\n"
             .. "stdin:1: unexpected symbol near <eof>\n" },
  { name = "REPL: _PROMPT and _PROMPT2",
    args = { "-i", "-e", "_PROMPT = 'P> ' _PROMPT2 = 10" },
    stdin = "if true then\nend\n",
    status = 0, stderr = "",
    stdout_after_version = "P> 10P> \n" },
}

local function check_alone(c)
  local got = run_case(moonwatch, c)
  local report = {}
  if got.status ~= c.status then
    report[#report + 1] = string.format("  exit status: %s, expected %s",
                                        got.status, c.status)
  end
  if c.stdout then
    diff_lines(report, "stdout", got.stdout, c.stdout, "moonwatch", "expected")
  end
  if c.stdout_match and not got.stdout:find(c.stdout_match) then
    report[#report + 1] = "  stdout " .. show(got.stdout)
                          .. " does not match " .. show(c.stdout_match)
  end
  if c.stdout_after_version then
    local version = got.stdout:match(VERSION_LINE)
    if not version then
      report[#report + 1] = "  stdout does not start with the version line: "
                            .. show(got.stdout)
    else
      diff_lines(report, "stdout", got.stdout:sub(#version + 1),
                 c.stdout_after_version, "moonwatch", "expected")
    end
  end
  if c.stderr then
    diff_lines(report, "stderr", got.stderr, c.stderr, "moonwatch", "expected")
  end
  if #report > 0 then
    fail(c, report)
  end
end

--------------------------------------------------------------------------

local n_cases = 0
for _, c in ipairs(compared) do
  compare(c)
  n_cases = n_cases + 1
end
compare_version(version_case)
n_cases = n_cases + 1
for _, c in ipairs(alone) do
  check_alone(c)
  n_cases = n_cases + 1
end

for _, path in ipairs({ stdin_path, stdout_path, stderr_path, ready_path }) do
  os.remove(path)
end

if #failures > 0 then
  io.stderr:write(table.concat(failures, "\n\n"), "\n\n")
  io.stderr:write(string.format("compat.lua: %d of %d cases failed\n",
                                #failures, n_cases))
  os.exit(1)
end
print(string.format("compat.lua: all %d cases passed", n_cases))
