-- shuttle.lua: rows shaped like the ODDS 'shuttle' set, the same numbers
-- as tests/tools/iforest_ref.py's shuttle_like (the 64-bit LCG of
-- likelihood_ref.py, Box-Muller), for tests/lua/detect_iforest.lua and
-- bench/iforest.lua. Returns shuttle_like(n, seed): 9 columns (Lua
-- arrays) and labels (1: outlier).
local here = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
local lcg = dofile(here .. "helper.lua").lcg

local function shuttle_like(n, seed)
  n = n or 49097
  local g = lcg(seed or 2024)
  local uniform, normal = g.uniform, g.normal
  local centres = {{0, 0, 0, 0, 0, 0, 0, 0, 0}, {4, 4, 4, -3, -3, -3, 0, 0, 0},
                   {3, 0, 0, 0, 0, 0, -4, -4, -4}}
  local spreads = {1.0, 0.5, 0.7}
  local cols, labels = {}, {}
  for k = 1, 9 do cols[k] = {} end
  for i = 1, n do
    local u = uniform()
    if u < 0.07 then
      labels[i] = 1
      if u < 0.04 then
        for k = 1, 9 do cols[k][i] = 16.0 * uniform() - 8.0 end
      else
        for k = 1, 9 do cols[k][i] = 2.5 * normal() end
      end
    else
      labels[i] = 0
      local c = u < 0.75 and 1 or (u < 0.90 and 2 or 3)
      for k = 1, 9 do cols[k][i] = centres[c][k] + spreads[c] * normal() end
    end
  end
  return cols, labels
end

return shuttle_like
