--[[
make_detload_seeds.lua: writes the seed corpus of the detload fuzz
target: a saved state of every detector and thresholder kind, a chain
and both scalers, each after learning a little, small parameters so that
the files stay small.

  moonwatch fuzz/make_detload_seeds.lua fuzz/corpus/detload

Each file is the target's control byte (bit 0: the checksum is appended
by the target, so it is left out here; bit 1: a scaler) and the state.
]]
local dir = assert(arg[1], "usage: make_detload_seeds.lua DIR")

local small = { height = 4, window = 16, window_size = 16, n_trees = 3, sample = 16, tree_size = 16,
                projections = 4, k = 3, n_neighbors = 3, period = 8, season = 8,
                max_anomalies = 3, min_periods = 4, bins = 5, warmup = 8,
                learning_period = 20, estimation_samples = 10, historic_window = 40,
                reestimation_period = 10, max_run = 20 }

local function params_for(info)
  local p = {}
  for _, spec in ipairs(info.params) do
    local v = small[spec.name]
    if v and (not spec.min or v >= spec.min) and (not spec.max or v <= spec.max) then
      p[spec.name] = v
    end
  end
  return p
end

local function write(name, control, state)
  local f = assert(io.open(dir .. "/" .. name, "wb"))
  f:write(string.char(control), state:sub(1, -9))
  f:close()
end

local function feed(d, rows)
  for i = 1, 120 do
    local x = math.sin(i / 5) * 3 + (i % 40 == 0 and 12 or 0)
    if rows then
      d:update({x, math.cos(i / 7), (i % 9) / 3})
    else
      d:update(x, i * 60000)
    end
  end
end

local n = 0
for _, group in ipairs({ { mw.detect, "" }, { mw.thresh, "thresh." } }) do
  local lib, prefix = group[1], group[2]
  for _, name in ipairs(lib.names) do
    local info = lib.info(name)
    local ok, d = pcall(lib[name], params_for(info))
    if not ok then
      ok, d = pcall(lib[name], {})
    end
    assert(ok, d)
    feed(d, info.rows)
    write(prefix .. name, 1 + 4 * (n % 8), d:save())
    n = n + 1
  end
end
local chain = mw.thresh.quantile{ q = 0.9, min_periods = 10 }:wrap(mw.detect.zscore{ window = 16 })
feed(chain)
write("chain", 1, chain:save())
-- one with its checksum, as saved
local f = assert(io.open(dir .. "/zscore_with_checksum", "wb"))
local z = mw.detect.zscore{ window = 8 }
feed(z)
f:write(string.char(0), z:save())
f:close()
for _, kind in ipairs({ "minmax", "standard" }) do
  local s = mw.scale[kind]()
  for i = 1, 30 do s:update({ i, math.sin(i), -i / 3 }) end
  write("scale." .. kind, 3, s:save())
end
print(string.format("make_detload_seeds: %d kinds, a chain, 2 scalers", n))
