--[[
repl.lua: the Lua half of the interactive prompt (src/cli/repl.c is the
other half: line editing, history, reading entries, running them).

Built into the command (tools/embed.c). repl.c runs this chunk once with
a table of C helpers and keeps the table it returns:

  show(...)          -> the text the prompt prints for an entry's values
  error(msg)         -> msg with its traceback shortened
  complete(text)     -> start, candidates: completions of the end of text
                        (the line up to the cursor); start is the byte
                        offset (0-based) where the word being completed
                        begins
  command(line)      -> runs a ":command"; true when the prompt must end

Everything here is best effort and never raises for a value it prints: a
__tostring or __index that fails gives a placeholder, not an error. It
must not keep references to the values it prints (so :gc can free them).
]]

local C = ...   -- listdir(dir) -> {name, isdir ...}; meter(on) -> bytes, allocs

local M = {}

-- Bounds of a printed table: items shown and characters of the whole.
local TABLE_ITEMS = 20
local TABLE_CHARS = 160
local STRING_CHARS = 60
-- Frames of a traceback kept when an error is printed.
local TRACEBACK_FRAMES = 6

local function safe_tostring(v)
  local ok, text = pcall(tostring, v)
  if ok and type(text) == "string" then
    return text
  end
  return "<" .. type(v) .. ": tostring failed>"
end

local function metatable(v)
  return debug.getmetatable(v)
end

local function type_name(v)
  local mt = metatable(v)
  local name = mt and rawget(mt, "__name")
  return type(name) == "string" and name or nil
end

local ESCAPES = { ["\n"] = "\\n", ["\t"] = "\\t", ["\r"] = "\\r", ['"'] = '\\"',
                  ["\\"] = "\\\\" }

local function quote(s)
  local cut = #s > STRING_CHARS
  if cut then
    s = s:sub(1, STRING_CHARS)
  end
  s = s:gsub('[%c"\\]', function(c)
    return ESCAPES[c] or string.format("\\%d", c:byte())
  end)
  return '"' .. s .. (cut and '..."' or '"')
end

local function is_identifier(k)
  return type(k) == "string" and k:match("^[%a_][%w_]*$") ~= nil
end

-- A value inside a table: scalars in full, containers by name only.
local function brief(v)
  local t = type(v)
  if t == "string" then
    return quote(v)
  elseif t == "table" then
    local mt = metatable(v)
    if mt and rawget(mt, "__tostring") then
      return safe_tostring(v)
    end
    return next(v) == nil and "{}" or "{...}"
  elseif t == "userdata" then
    local name = type_name(v)
    if name then
      return (name:gsub("^moonwatch%.", "")) .. "{...}"
    end
  end
  return safe_tostring(v)
end

-- Keys other than 1..n, in a stable order: numbers, then strings, then
-- the rest by their text.
local function sorted_keys(t, n)
  local keys = {}
  for k in next, t do
    if not (math.type(k) == "integer" and k >= 1 and k <= n) then
      keys[#keys + 1] = k
      if #keys > 4 * TABLE_ITEMS then
        break
      end
    end
  end
  local rank = { number = 1, string = 2 }
  table.sort(keys, function(a, b)
    local ra, rb = rank[type(a)] or 3, rank[type(b)] or 3
    if ra ~= rb then
      return ra < rb
    elseif ra == 3 then
      return tostring(a) < tostring(b)
    end
    return a < b
  end)
  return keys
end

-- {1, 2, x = 3}: one level deep, at most TABLE_ITEMS items and about
-- TABLE_CHARS characters.
local function show_table(t)
  local n = 0
  while n < TABLE_ITEMS * 4 and rawget(t, n + 1) ~= nil do
    n = n + 1
  end
  local parts, length, total = {}, 0, 0
  local function add(text)
    total = total + 1
    if #parts < TABLE_ITEMS and length + #text <= TABLE_CHARS then
      parts[#parts + 1] = text
      length = length + #text + 2
    end
  end
  for i = 1, n do
    add(brief(rawget(t, i)))
  end
  for _, k in ipairs(sorted_keys(t, n)) do
    local key = is_identifier(k) and k or "[" .. brief(k) .. "]"
    add(key .. " = " .. brief(rawget(t, k)))
  end
  -- Keys past the ones sorted are counted, not shown.
  local all = 0
  for _ in next, t do
    all = all + 1
  end
  if all > #parts then
    parts[#parts + 1] = "... (" .. all .. " items)"
  end
  return "{" .. table.concat(parts, ", ") .. "}"
end

local function number_text(x)
  if x ~= x then
    return "nan"
  end
  if math.type(x) == "float" and x == math.floor(x) and math.abs(x) < 1e15 then
    return string.format("%d", x)
  end
  return string.format("%.6g", x)
end

-- A series: its tostring (length, first and last values, sparkline) and a
-- line of summary statistics over the finite values.
local function show_series(s)
  local head = safe_tostring(s)
  local ok, text = pcall(function()
    local n = s:count()
    if n == 0 then
      return nil
    end
    return string.format("  min %s  max %s  mean %s  std %s  finite %d of %d",
                         number_text(s:min()), number_text(s:max()),
                         number_text(s:mean()), number_text(n > 1 and s:std() or 0),
                         n, #s)
  end)
  if ok and text then
    return head .. "\n" .. text
  end
  return head
end

local function show_value(v)
  local t = type(v)
  if t == "table" then
    local mt = metatable(v)
    if mt and rawget(mt, "__tostring") then
      return safe_tostring(v)
    end
    return show_table(v)
  elseif t == "userdata" and type_name(v) == "moonwatch.series" then
    return show_series(v)
  end
  return safe_tostring(v)
end

function M.show(...)
  local parts = {}
  for i = 1, select("#", ...) do
    parts[i] = show_value((select(i, ...)))
  end
  return table.concat(parts, "\t")
end

-- The traceback without the prompt's own frames and at most
-- TRACEBACK_FRAMES lines of it.
function M.error(msg)
  if type(msg) ~= "string" then
    return msg
  end
  local head, trace = msg:match("^(.-)\nstack traceback:\n(.*)$")
  if not head then
    return msg
  end
  local frames = {}
  for line in (trace .. "\n"):gmatch("(.-)\n") do
    if line ~= "\t[C]: in ?" and line ~= "\t[C]: in function 'error'"
       and not line:find("(moonwatch repl)", 1, true)
       and not line:find("in function 'xpcall'", 1, true) then
      frames[#frames + 1] = line
    end
  end
  local kept = {}
  for i = 1, math.min(#frames, TRACEBACK_FRAMES) do
    kept[i] = frames[i]
  end
  if #frames > TRACEBACK_FRAMES then
    kept[#kept + 1] = string.format("\t(%d more)", #frames - TRACEBACK_FRAMES)
  end
  if #kept == 0 then
    return head
  end
  return head .. "\nstack traceback:\n" .. table.concat(kept, "\n")
end

--------------------------------------------------------------------------
-- Completion
--------------------------------------------------------------------------

local KEYWORDS = {
  "and", "break", "do", "else", "elseif", "end", "false", "for", "function",
  "goto", "if", "in", "local", "nil", "not", "or", "repeat", "return", "then",
  "true", "until", "while",
}

-- If text ends inside a short string, returns the offset just after its
-- opening quote.
local function open_string(text)
  local quote_char, start
  local i = 1
  while i <= #text do
    local c = text:sub(i, i)
    if quote_char then
      if c == "\\" then
        i = i + 1
      elseif c == quote_char then
        quote_char = nil
      end
    elseif c == '"' or c == "'" then
      quote_char, start = c, i
    elseif c == "-" and text:sub(i, i + 1) == "--" then
      return nil   -- a comment: nothing to complete
    end
    i = i + 1
  end
  return quote_char and start or nil
end

local function complete_file(path)
  local dir, base = path:match("^(.*/)([^/]*)$")
  if not dir then
    dir, base = "", path
  end
  local listed = C.listdir(dir == "" and "." or dir)
  local out = {}
  for _, entry in ipairs(listed or {}) do
    local name = entry[1]
    if name:sub(1, #base) == base and (base:sub(1, 1) == "." or name:sub(1, 1) ~= ".")
       and name ~= "." and name ~= ".." then
      out[#out + 1] = dir .. name .. (entry[2] and "/" or "")
    end
  end
  return out
end

-- The fields a value offers: its own keys if it is a table, and those of
-- its __index (a table, or the method table a C __index closure keeps as
-- an upvalue, as moonwatch's handles do), a few levels up.
local function fields(v, out, depth)
  if depth > 4 then
    return
  end
  if type(v) == "table" then
    for k, x in next, v do
      if is_identifier(k) then
        out[k] = out[k] or x
      end
    end
  end
  local mt = metatable(v)
  local index = mt and rawget(mt, "__index")
  if type(index) == "table" then
    fields(index, out, depth + 1)
  elseif type(index) == "function" then
    for i = 1, 4 do
      local name, up = debug.getupvalue(index, i)
      if name == nil then
        break
      end
      if type(up) == "table" and up ~= _G then
        fields(up, out, depth + 1)
      end
    end
  end
  if type_name(v) == "moonwatch.frame" then
    local ok, names = pcall(function() return v:columns() end)
    if ok and type(names) == "table" then
      for _, name in ipairs(names) do
        if is_identifier(name) then
          out[name] = out[name] or true
        end
      end
    end
  end
end

-- Follows a.b.c from the globals; nil when a step fails.
local function resolve(path)
  local v = _G
  for name in path:gmatch("[^%.]+") do
    local ok, x = pcall(function() return v[name] end)
    if not ok or x == nil then
      return nil
    end
    v = x
  end
  return v
end

local function sorted_matching(names, prefix)
  local out, seen = {}, {}
  for _, name in ipairs(names) do
    if not seen[name] and name:sub(1, #prefix) == prefix then
      seen[name] = true
      out[#out + 1] = name
    end
  end
  table.sort(out)
  return out
end

function M.complete(text)
  local command = text:match("^%s*(:%a*)$")
  if command then
    return #text - #command, sorted_matching(M.command_names, command)
  end
  local load_at = text:match("^%s*:load%s+()")
  if load_at then
    return load_at - 1, complete_file(text:sub(load_at))
  end
  local quote_at = open_string(text)
  if quote_at then
    return quote_at, complete_file(text:sub(quote_at + 1))
  end
  local expr = text:match("[%a_][%w_%.:]*$")
  if expr == nil or text:sub(-#expr - 1, -#expr - 1):match("[%d%.:]") then
    return #text, {}
  end
  local head, sep, word = expr:match("^(.*)([%.:])([%w_]*)$")
  local names = {}
  if not head then
    word = expr
    local all = {}
    fields(_G, all, 1)
    for name in pairs(all) do
      names[#names + 1] = name
    end
    for _, k in ipairs(KEYWORDS) do
      names[#names + 1] = k
    end
  else
    if not head:match("^[%a_][%w_]*[%w_%.]*$") or head:find("..", 1, true) then
      return #text, {}
    end
    local v = resolve(head)
    if v == nil then
      return #text, {}
    end
    local all = {}
    fields(v, all, 1)
    for name, x in pairs(all) do
      if sep == "." or type(x) == "function" then
        names[#names + 1] = name
      end
    end
  end
  return #text - #word, sorted_matching(names, word)
end

--------------------------------------------------------------------------
-- Commands
--------------------------------------------------------------------------

local UNITS = { "B", "KiB", "MiB", "GiB", "TiB" }

local function bytes_text(n)
  local sign = n < 0 and "-" or ""
  n = math.abs(n)
  local unit = 1
  while n >= 1024 and unit < #UNITS do
    n = n / 1024
    unit = unit + 1
  end
  if unit == 1 then
    return string.format("%s%d B", sign, n)
  end
  return string.format("%s%.1f %s", sign, n, UNITS[unit])
end

-- Compiles code as an expression if it is one, else as a statement.
local function compile(code, chunkname)
  local f = load("return " .. code .. ";", chunkname)
  if f then
    return f
  end
  local g, msg = load(code, chunkname)
  if not g then
    error(msg, 0)
  end
  return g
end

local function print_results(...)
  if select("#", ...) > 0 then
    print(M.show(...))
  end
end

local commands = {}

local HELP = [[
Type Lua: expressions print their values, statements run; an incomplete
statement continues on the next line (>>). Tab completes names, fields,
methods (after : ) and file names inside strings; up and down arrows
walk the history (~/.moonwatch_history).
Ctrl-C stops a running statement, Ctrl-D on an empty line leaves.

  :help             this text
  :mem              memory figures (mw.mem.stats) as a table
  :gc               collect (Lua's collector, then the cycle collector)
                    and show what was freed
  :time <code>      run code; show wall time and bytes allocated
  :profile <code>   run code under the line-by-line memory profiler
  :load file.lua    run a file here; its results are printed
  :quit             leave (as Ctrl-D)]]

function commands.help()
  print(HELP)
end

function commands.quit()
  return true
end

function commands.mem()
  local s = mw.mem.stats()
  local rows = {
    { "lua", s.lua, s.lua_peak },
    { "native", s.native, s.native_peak },
    { "pool", s.pool },
    { "total", s.total, s.peak },
  }
  print(string.format("%-8s %12s %12s", "", "now", "peak"))
  for _, r in ipairs(rows) do
    print(string.format("%-8s %12s %12s", r[1], bytes_text(r[2]),
                        r[3] and bytes_text(r[3]) or ""))
  end
  print(string.format("%-8s %12s", "budget", s.budget and bytes_text(s.budget) or "none"))
  print(string.format("allocations %d, refused %d, frees %d", s.allocations, s.failed,
                      s.frees))
  local types = {}
  for name, o in pairs(s.objects or {}) do
    if o.count > 0 then
      types[#types + 1] = name
    end
  end
  table.sort(types, function(a, b) return s.objects[a].bytes > s.objects[b].bytes end)
  if #types > 0 then
    print(string.format("%-8s %12s %12s", "objects", "count", "bytes"))
    for _, name in ipairs(types) do
      local o = s.objects[name]
      print(string.format("  %-6s %12d %12s", name, o.count, bytes_text(o.bytes)))
    end
  end
end

function commands.gc()
  -- Lua's figure from collectgarbage, which allocates nothing, so that
  -- making the stats tables does not count as memory "freed".
  local lua_before = collectgarbage("count") * 1024
  local native_before = mw.mem.stats().native
  lua_before = lua_before + 0
  collectgarbage("collect")
  local unreachable = mw.gc.collect()
  collectgarbage("collect")
  local lua_after = collectgarbage("count") * 1024
  local after = mw.mem.stats()
  local lua_freed = math.floor(lua_before - lua_after)
  local native_freed = native_before - after.native
  print(string.format("freed %s (lua %s, native %s); %d unreachable native object%s "
                      .. "collected; %s in use",
                      bytes_text(lua_freed + native_freed), bytes_text(lua_freed),
                      bytes_text(native_freed), unreachable,
                      unreachable == 1 and "" or "s", bytes_text(after.total)))
end

local function pack(...)
  return { n = select("#", ...), ... }
end

function commands.time(code)
  if code == "" then
    error("usage: :time <expression or statement>", 0)
  end
  local f = compile(code, "=stdin")
  local start = mw.time.now()
  C.meter(true)
  local r = pack(xpcall(f, debug.traceback))
  local bytes, allocs = C.meter(false)
  local elapsed = mw.time.now() - start
  if not r[1] then
    error(r[2], 0)
  end
  print_results(table.unpack(r, 2, r.n))
  local when = elapsed < 1e-3 and string.format("%.1f us", elapsed * 1e6)
               or elapsed < 1 and string.format("%.2f ms", elapsed * 1e3)
               or string.format("%.3f s", elapsed)
  print(string.format("time %s, allocated %s in %d allocations", when,
                      bytes and bytes_text(bytes) or "(not measured)", allocs or 0))
end

function commands.profile(code)
  if code == "" then
    error("usage: :profile <statement>", 0)
  end
  -- The code is its own chunk name, so the report shows its lines.
  local f = compile(code, code)
  local r = pack(mw.mem.profile(f))
  print_results(table.unpack(r, 2, r.n))
end

commands["load"] = function(path)
  if path == "" then
    error("usage: :load file.lua", 0)
  end
  local f, msg = loadfile(path)
  if not f then
    error(msg, 0)
  end
  print_results(f())
end

function M.command(line)
  local name, rest = line:match("^%s*:(%S*)%s*(.-)%s*$")
  local fn = commands[name]
  if fn == nil then
    for full, candidate in pairs(commands) do
      if name ~= "" and full:sub(1, #name) == name then
        if fn then
          error("ambiguous command ':" .. name .. "' (see :help)", 0)
        end
        fn = candidate
      end
    end
  end
  if fn == nil then
    error("unknown command ':" .. name .. "' (see :help)", 0)
  end
  return fn(rest) == true
end

M.command_names = {}
for name in pairs(commands) do
  M.command_names[#M.command_names + 1] = ":" .. name
end
table.sort(M.command_names)

return M
