-- pipeline.lua: `require "moonwatch.pipeline"`, loading and running
-- pipelines, shared by the moonwatch command (detect, eval) and the C
-- API's sample feed (mw_runtime_push, src/api/feed.c).
--
-- A pipeline definition is a table {name, summary, params, new}: a
-- built-in one (package.preload["moonwatch.pipelines.<name>"]) or a Lua
-- file returning one. new(params) makes a pipeline, an object whose
-- run(self, values [, times [, rows]]) returns the scores of the values
-- (a series or a list) and optionally flags (non-zero: an anomaly); with
-- no flags a row is an anomaly when its score reaches the pipeline's
-- `threshold` field (0.5 if it has none).
--
-- Saving (optional, for checkpoints: the Redis stream workers need it):
-- a pipeline with a method save(self) returns a string holding all it
-- has learned, and new(params, state) with that string makes a pipeline
-- that continues exactly where the saved one stopped (same scores, bit
-- for bit). A pipeline without save cannot be restored: make refuses a
-- state for it rather than start from nothing silently.
--
-- Errors are raised as plain messages (level 0) that name what was wrong;
-- the command shows them as its one-line errors.
local M = {}

local function sorted_keys(t)
  local keys = {}
  for k in pairs(t) do keys[#keys + 1] = k end
  table.sort(keys)
  return keys
end

--- "window=500" -> "window", 500 (integers stay integers; true/false are
--- booleans; anything else is a string). Returns nil and a message for
--- text that is not NAME=VALUE.
function M.parse_param(text)
  local name, value = text:match("^([%a_][%w_]*)=(.*)$")
  if not name then return nil, string.format("'%s' is not NAME=VALUE", text) end
  if value == "true" then return name, true end
  if value == "false" then return name, false end
  return name, math.tointeger(tonumber(value)) or tonumber(value) or value
end

--- The names of the built-in pipelines, sorted.
function M.builtin_names()
  local names = {}
  for key in pairs(package.preload) do
    local name = key:match("^moonwatch%.pipelines%.(.+)$")
    if name then names[#names + 1] = name end
  end
  table.sort(names)
  return names
end

--- Loads a definition: a built-in name, or a Lua file (a spec with a "/"
--- or ending in ".lua" is always a file). Fills in name and params.
function M.load(spec)
  local chunk, err
  local builtin = package.preload["moonwatch.pipelines." .. spec]
  if not spec:find("/", 1, true) and not spec:find("%.lua$") and builtin then
    chunk = builtin
  else
    local fh = io.open(spec, "r")
    if not fh then
      error(string.format("no pipeline '%s': not a file, and the built-in ones are %s", spec,
                          table.concat(M.builtin_names(), ", ")), 0)
    end
    fh:close()
    chunk, err = loadfile(spec, "t")
  end
  if not chunk then error(string.format("pipeline '%s' does not load: %s", spec, err), 0) end
  local ok, def = pcall(chunk)
  if not ok then
    error(string.format("pipeline '%s' failed while loading: %s", spec, tostring(def)), 0)
  end
  if type(def) ~= "table" or type(def.new) ~= "function" then
    error(string.format("pipeline '%s' must return a table with a function 'new' (got %s)", spec,
                        type(def)), 0)
  end
  def.name = def.name or spec:match("([^/]+)%.lua$") or spec
  def.params = def.params or {}
  return def
end

--- The parameters of def with given[name] for each name of order (the
--- names in the order given) in place of the defaults. Every name must
--- be a parameter of def, with a value of its default's type.
function M.configure(def, given, order)
  local merged = {}
  for k, v in pairs(def.params) do merged[k] = v end
  for _, name in ipairs(order) do
    local default = def.params[name]
    if default == nil then
      local names = sorted_keys(def.params)
      error(string.format("pipeline '%s' has no parameter '%s'; its parameters are %s", def.name,
                          name, #names > 0 and table.concat(names, ", ") or "none"), 0)
    end
    local value = given[name]
    if type(value) ~= type(default) then
      error(string.format("parameter '%s' of pipeline '%s' must be a %s, got '%s'", name, def.name,
                          type(default), tostring(value)), 0)
    end
    if math.type(default) == "integer" and math.type(value) ~= "integer" then
      error(string.format("parameter '%s' of pipeline '%s' must be an integer, got %s", name,
                          def.name, tostring(value)), 0)
    end
    merged[name] = value
  end
  return merged
end

--- A new pipeline of def with params (from M.configure); with state (a
--- string from p:save()), one that continues where the saved one stopped.
function M.make(def, params, state)
  if state ~= nil and type(state) ~= "string" then
    error(string.format("pipeline '%s': a saved state is a string, got %s", def.name, type(state)), 0)
  end
  local ok, p = pcall(def.new, params, state)
  if not ok then error(string.format("pipeline '%s': %s", def.name, tostring(p)), 0) end
  if (type(p) ~= "table" and type(p) ~= "userdata") or p.run == nil then
    error(string.format("pipeline '%s': new must return an object with a method run", def.name), 0)
  end
  if state ~= nil and p.save == nil then
    if p.release then p:release() end
    error(string.format("pipeline '%s' cannot restore a saved state (it has no method save)", def.name), 0)
  end
  return p
end

--- Whether pipelines of def can be saved and restored (their objects
--- have a method save): makes one to find out.
function M.can_save(def, params)
  local p = M.make(def, params)
  local yes = p.save ~= nil
  if p.release then p:release() end
  return yes
end

-- {====================================================================
-- A feed: one pipeline per named series, fed values as they come
-- ======================================================================

local Feed = {}
Feed.__index = Feed

--- A feed of the pipeline spec (a built-in name or a file; nil: "default")
--- with params, a text "name=value,..." (nil or "": the defaults).
function M.feed(spec, params)
  local def = M.load(spec or "default")
  local given, order = {}, {}
  for text in (params or ""):gmatch("[^,]+") do
    text = text:match("^%s*(.-)%s*$")
    local name, value = M.parse_param(text)
    if not name then error("parameter " .. value, 0) end
    if given[name] == nil then order[#order + 1] = name end
    given[name] = value
  end
  local merged = M.configure(def, given, order)
  return setmetatable({def = def, params = merged, pipes = {}, count = 0}, Feed)
end

--- Scores values (a series, with times a series of the same length or
--- nil) as the next rows of series `name` (a string), making its pipeline
--- at the first push. Returns the scores (a series or list) and a list
--- of the indices of the anomalies among them.
function Feed:push(name, values, times)
  local p = self.pipes[name]
  if p == nil then
    p = M.make(self.def, self.params)
    self.pipes[name] = p
    self.count = self.count + 1
  end
  local scores, flags = p:run(values, times)
  if not scores or #scores ~= #values then
    error(string.format("pipeline '%s' gave %s scores for %d values", self.def.name,
                        scores and #scores or "no", #values), 0)
  end
  local threshold = p.threshold or 0.5
  local hits = {}
  for i = 1, #values do
    local a
    if flags then a = flags[i] ~= 0 and flags[i] == flags[i] else a = scores[i] >= threshold end
    if a then hits[#hits + 1] = i end
  end
  if flags and flags ~= scores and flags.release then flags:release() end
  return scores, hits
end

--- The state of series `name`'s pipeline (p:save()), or nil when the
--- feed has not seen that series.
function Feed:save(name)
  local p = self.pipes[name]
  if p == nil then return nil end
  if p.save == nil then
    error(string.format("pipeline '%s' cannot save its state (it has no method save)", self.def.name), 0)
  end
  return p:save()
end

--- Makes series `name`'s pipeline from a saved state (from Feed:save or
--- p:save()), replacing (and releasing) the one it had.
function Feed:restore(name, state)
  local p = M.make(self.def, self.params, state)
  local old = self.pipes[name]
  if old == nil then
    self.count = self.count + 1
  elseif old.release then
    old:release()
  end
  self.pipes[name] = p
end

--- Forgets series `name` (releasing its pipeline): its next push starts
--- afresh, or from a restore.
function Feed:drop(name)
  local p = self.pipes[name]
  if p == nil then return end
  if p.release then p:release() end
  self.pipes[name] = nil
  self.count = self.count - 1
end

--- Releases every pipeline of the feed (those with a release method).
function Feed:release()
  for _, name in ipairs(sorted_keys(self.pipes)) do
    local p = self.pipes[name]
    if p.release then p:release() end
  end
  self.pipes = {}
  self.count = 0
end

-- }====================================================================

return M
