-- docs_examples.lua: every Lua example of docs/lua-api.md runs, and shows
-- what it says it shows.
--
--     moonwatch tests/lua/docs_examples.lua docs/lua-api.md
--
-- run from the source root (meson runs it there), so that the examples'
-- relative paths (examples/data/...) resolve.
--
-- An example is a ```lua block. Each runs once, in order, as its own
-- chunk, in a fresh environment table whose __index is _G (so its globals
-- do not leak into the next one), after the setup block (the one preceded
-- by the line `<!-- examples: setup -->`, run in that same fresh
-- environment: it defines the data every example may use, such as `cpu`).
-- Line numbers in errors are the document's.
--
-- Markers, an HTML comment on the line just before the opening ```lua:
--   <!-- examples: setup -->      the setup block (at most one)
--   <!-- not run: REASON -->      skip this block (for the few that need a
--                                 terminal or a file that cannot be made
--                                 up); the reason is required
--
-- Shown results are checked: a line `print(a, b) --> 3.5 true` (a print
-- statement alone on its line, then `-->` and the expected output,
-- optionally followed by ` -- comment`) checks instead of printing. The
-- output and the expectation are split into words; a word that is a
-- number in the expectation matches a number within half a unit of its
-- last shown digit (`--> 0.86` accepts 0.8612), other words must be equal.
-- A `?` word stands for a result not written down yet: the runner prints
-- what the line printed and fails.
--
-- After each block the runner puts back the global settings an example
-- may change (memory budget, tracing, the collector's switches), so that a
-- failing example cannot spoil the next ones.
local path = assert(arg[1], "usage: docs_examples.lua docs/lua-api.md")
local fh = assert(io.open(path, "r"))
local lines = {}
for line in fh:lines() do lines[#lines + 1] = line end
fh:close()

-- The blocks: {first = line of the first code line, code, marker, section}.
local blocks, setup = {}, nil
do
  local section = "(top)"
  local i = 1
  while i <= #lines do
    local line = lines[i]
    local heading = line:match("^#+%s+(.*)$")
    if heading then section = heading end
    if line == "```lua" then
      local prev = lines[i - 1] or ""
      local start, body = i + 1, {}
      i = i + 1
      while i <= #lines and lines[i] ~= "```" do
        body[#body + 1] = lines[i]
        i = i + 1
      end
      assert(i <= #lines, string.format("%s:%d: unterminated ```lua block", path, start - 1))
      local b = {first = start, body = body, section = section}
      if prev:match("^<!%-%- examples: setup %-%->$") then
        assert(not setup, string.format("%s:%d: a second setup block", path, start - 1))
        setup = b
      else
        local reason = prev:match("^<!%-%- not run: (.-)%s*%-%->$")
        if prev:match("^<!%-%- not run") and not (reason and reason ~= "") then
          error(string.format("%s:%d: a 'not run' marker needs a reason", path, i))
        end
        b.skip = reason
      end
      blocks[#blocks + 1] = b
    end
    i = i + 1
  end
end

-- The chunk of a block: its lines, at their line numbers in the document,
-- `print(...) --> expected` lines turned into checks.
local nchecks = 0
local function chunk_text(b)
  local out = {string.rep("\n", b.first - 2)}
  for k, line in ipairs(b.body) do
    local indent, args, expected = line:match("^(%s*)print(%b())%s*%-%->%s*(.-)%s*$")
    if indent then
      expected = expected:gsub("%s+%-%-%s.*$", "")
      nchecks = nchecks + 1
      line = string.format("%s__expect(%d, %q%s%s)", indent, b.first + k - 1, expected,
                           #args > 2 and ", " or "", args:sub(2, -2))
    end
    out[#out + 1] = line
  end
  return table.concat(out, "\n")
end

local function words(s)
  local t = {}
  for w in s:gmatch("%S+") do t[#t + 1] = w end
  return t
end

-- Whether printed word `got` shows as the expected word `want`.
local function same(got, want)
  if got == want then return true end
  local mant, exp = want:match("^([-+]?%d+%.?%d*)[eE]([-+]?%d+)$")
  mant = mant or want:match("^[-+]?%d+%.?%d*$") and want
  local g, w = tonumber(got), tonumber(want)
  if not (mant and g and w) then return false end
  local decimals = #(mant:match("%.(%d*)$") or "")
  local tol = 0.5 * 10.0 ^ ((tonumber(exp) or 0) - decimals)
  return math.abs(g - w) <= tol * (1 + 1e-9)
end

local unfilled = 0
local function expect(line, expected, ...)
  local n = select("#", ...)
  local shown = {}
  for k = 1, n do shown[k] = tostring((select(k, ...))) end
  local got = table.concat(shown, "\t")
  local gw, ew = words(got), words(expected)
  for _, w in ipairs(ew) do
    if w == "?" then   -- results still to write down: show them, fail at the end
      io.stderr:write(string.format("%s:%d: --> ? printed: %s\n", path, line, got))
      unfilled = unfilled + 1
      return
    end
  end
  local ok = #gw == #ew
  for k = 1, #ew do ok = ok and same(gw[k], ew[k]) end
  if not ok then
    error(string.format("%s:%d: printed '%s', the example shows '%s'", path, line, got, expected), 0)
  end
end

local function restore()
  mw.mem.limit(false)
  mw.mem.trace(false)
  mw.gc.debug(false)
  mw.gc.enable()
  mw.gc.unfreeze()
  mw.gc.threshold(700, 10, 10)
end

for _, b in ipairs(blocks) do b.text = chunk_text(b) end

local function run(b, env)
  local fn, err = load(b.text, "@" .. path, "t", env)
  if not fn then error(err, 0) end
  local ok, e = xpcall(fn, function(e)   -- the message, and the example's own frames
    local out = {tostring(e)}
    for frame in debug.traceback("", 2):gmatch("[^\n]+") do
      if frame:find(path, 1, true) then out[#out + 1] = frame end
    end
    return table.concat(out, "\n")
  end)
  if not ok then error(e, 0) end
end

local ran, skipped, failures = 0, 0, {}
for _, b in ipairs(blocks) do
  if b.skip then
    skipped = skipped + 1
  else
    local env = setmetatable({__expect = expect}, {__index = _G})
    local ok, err = pcall(function()
      if setup and b ~= setup then run(setup, env) end
      run(b, env)
    end)
    restore()
    ran = ran + 1
    if not ok then
      failures[#failures + 1] = string.format("block at %s:%d (%s):\n%s", path, b.first - 1,
                                              b.section, tostring(err))
    end
  end
  collectgarbage()
  mw.gc.collect()
end

if unfilled > 0 then
  failures[#failures + 1] = string.format("%d results shown as '--> ?' (printed above)", unfilled)
end
if #failures > 0 then
  io.stderr:write(table.concat(failures, "\n\n"), "\n")
  io.stderr:write(string.format("docs_examples: %d of %d examples failed (%d skipped)\n",
                                #failures, ran, skipped))
  os.exit(1)
end
print(string.format("docs_examples: %d examples ran (%d results checked), %d skipped", ran, nchecks,
                    skipped))
