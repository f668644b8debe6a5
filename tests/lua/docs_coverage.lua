-- docs_coverage.lua: every function the module registers appears in
-- docs/lua-api.md inside a Lua example (a ```lua block).
--
--     moonwatch tests/lua/docs_coverage.lua docs/lua-api.md
--
-- "Registers": every function reachable from the module table (mw.*),
-- from require "moonwatch.pipeline", and every method of every kind of
-- object the module makes, found through their metatables' __index (a
-- table, or the method table a C __index closure keeps as an upvalue).
-- A module function counts as shown when its full name is called in an
-- example (mw.series.zeros(...), or mw.gc.count as a value); a method when
-- some example calls it as `:name(` (or `.name(` for the pipeline module).
local path = assert(arg[1], "usage: docs_coverage.lua docs/lua-api.md")
local fh = assert(io.open(path, "r"))
local text = fh:read("a")
fh:close()

-- The examples: the text of every ```lua block.
local examples = {}
for block in text:gmatch("```lua\n(.-)```") do examples[#examples + 1] = block end
local code = table.concat(examples, "\n")

local function plain(s) return (s:gsub("%p", "%%%0")) end

local missing = {}
local count = 0

-- Module functions, by their full name.
local seen = {}
local function walk(t, prefix)
  if seen[t] then return end
  seen[t] = true
  for k, v in pairs(t) do
    if type(k) == "string" then
      local name = prefix .. "." .. k
      if type(v) == "function" then
        count = count + 1
        if not code:find(plain(name) .. "[^%w_]") then missing[#missing + 1] = name end
      elseif type(v) == "table" then
        walk(v, name)
      end
    end
  end
end
walk(mw, "mw")
local pipeline = require "moonwatch.pipeline"
for k, v in pairs(pipeline) do
  if type(v) == "function" then
    count = count + 1
    if not code:find("pipeline%." .. k .. "%(") then missing[#missing + 1] = "moonwatch.pipeline." .. k end
  end
end

-- Methods, through one object of each kind.
local function method_tables(v)
  local mt = debug.getmetatable(v)
  local index = mt and rawget(mt, "__index")
  local out = {}
  if type(index) == "table" then out[1] = index end
  if type(index) == "function" then
    for i = 1, 8 do
      local name, up = debug.getupvalue(index, i)
      if name == nil then break end
      if type(up) == "table" then out[#out + 1] = up end
    end
  end
  return out
end

local s = mw.series{1, 2, 3, 4, 5}
local objects = {
  list = mw.list{1}, map = mw.map{a = 1}, series = s,
  frame = mw.frame{x = {1, 2}}, ring = mw.ring(4),
  rolling = s:rolling(2), ewm = s:ewm(0.5),
  iter = mw.range(1, 3), detector = mw.detect.zscore{},
  thresholder = mw.thresh.constant{threshold = 1}, scaler = mw.scale.minmax{},
  feed = pipeline.feed("gaussian"),
}
local checked = {}
for kind, obj in pairs(objects) do
  for _, methods in ipairs(method_tables(obj)) do
    for name, fn in pairs(methods) do
      if type(name) == "string" and type(fn) == "function" and not checked[kind .. name] then
        checked[kind .. name] = true
        count = count + 1
        if not code:find(":" .. plain(name) .. "[%(%{\"]") then
          missing[#missing + 1] = kind .. ":" .. name
        end
      end
    end
  end
end

table.sort(missing)
if #missing > 0 then
  io.stderr:write(string.format("%d of %d functions have no example in %s:\n  %s\n", #missing,
                                count, path, table.concat(missing, "\n  ")))
  os.exit(1)
end
print(string.format("docs_coverage: all %d functions have an example in %s", count, path))
