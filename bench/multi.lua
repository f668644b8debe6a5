-- multi.lua: every multivariate detector side by side in one run: learn
-- and score rows of 10 features one at a time from Lua (a reused table),
-- the same through d:run over a frame, and the memory each holds (its
-- d:bytes(), and the native bytes mw.mem.stats() sees it add).
--
--   build-release/src/moonwatch bench/multi.lua [rows]
local N = tonumber(arg and arg[1]) or 20000
local D = 10
local now = mw.time.now

-- Rows: 10 features, a few far rows.
local cols, rows = {}, {}
for k = 1, D do cols[k] = {} end
local seed = 12345
local function rand()
  seed = (seed * 6364136223846793005 + 1442695040888963407) & 0x7fffffffffffffff
  return (seed >> 11) / (1 << 52)
end
for i = 1, N do
  local row = {}
  for k = 1, D do
    local x = math.sin(i * 0.01 * k) + rand() * 0.3 + (i % 997 == 0 and 5 or 0)
    row[k] = x
    cols[k][i] = x
  end
  rows[i] = row
end
local frame = mw.frame{}
for k = 1, D do frame["f" .. k] = mw.series(cols[k]) end

local kinds = {
  {"hst", {}}, {"rrcf", {}}, {"iforest", {}}, {"hbos", {}}, {"loda", {}},
  {"knn", {}}, {"lof", {}},
}
print(string.format("%d rows of %d features; rows/s learning and scoring one row at a time", N, D))
print(string.format("%-8s %14s %14s %12s %12s", "kind", "update (Lua)", "run (frame)", "d:bytes()", "native +"))
for _, k in ipairs(kinds) do
  local name, params = k[1], k[2]
  -- Fewer rows for the slow ones, so the run stays short.
  local n = (name == "rrcf" or name == "lof") and math.min(N, 4000) or N
  collectgarbage()
  local before = mw.mem.stats().native
  local d = mw.detect[name](params)
  local row = {}
  local t0 = now()
  for i = 1, n do
    local src = rows[i]
    for j = 1, D do row[j] = src[j] end
    d:update(row)
  end
  local t_update = now() - t0
  local bytes, native = d:bytes(), mw.mem.stats().native - before
  local d2 = mw.detect[name](params)
  local sub = n < N and frame:slice(1, n) or frame
  t0 = now()
  local s = d2:run(sub)
  local t_run = now() - t0
  print(string.format("%-8s %14.0f %14.0f %12d %12d", name, n / t_update, n / t_run, bytes, native))
  s:release(); d:release(); d2:release()
end
