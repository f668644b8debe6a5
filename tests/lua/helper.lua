-- helper.lua: small assertions shared by the Lua tests.
local M = {}

-- Checks that fn(...) raises an error whose message contains `pattern`
-- (a plain substring); returns the message.
function M.raises(pattern, fn, ...)
  local ok, err = pcall(fn, ...)
  if ok then
    error("expected an error containing '" .. pattern .. "', got none", 2)
  end
  err = tostring(err)
  if not err:find(pattern, 1, true) then
    error("expected an error containing '" .. pattern .. "', got: " .. err, 2)
  end
  return err
end

function M.eq(got, want, what)
  if got ~= want then
    error(string.format("%s: expected %s, got %s", what or "value",
                        tostring(want), tostring(got)), 2)
  end
end

-- Runs Lua's collector to completion, then the native one: everything
-- unreachable from both sides is freed.
function M.fullgc()
  collectgarbage()
  collectgarbage()
  return mw.gc.collect()
end

-- mw_blob_checksum (src/detect/blob.c) in Lua integers: the checksum at
-- the end of a saved detector state.
function M.checksum(s)
  local n = #s
  local h = 0x6a09e667f3bcc909 ~ n
  local i = 1
  while i + 7 <= n do
    h = h ~ (string.unpack("<i8", s, i) * 0x9e3779b97f4a7c15)
    h = ((h << 27) | (h >> 37)) * 0xbf58476d1ce4e5b9
    i = i + 8
  end
  local tail = 0
  for k = n, i, -1 do tail = (tail << 8) | s:byte(k) end
  h = h ~ (tail * 0x94d049bb133111eb)
  h = h ~ (h >> 31)
  h = h * 0xbf58476d1ce4e5b9
  return h ~ (h >> 29)
end

-- body followed by its checksum: a saved state whose contents a test has
-- changed, that passes the container's check and reaches the kind's own
-- validation.
function M.reseal(body)
  return body .. string.pack("<i8", M.checksum(body))
end

-- Whether a and b are the same number (NaN counts as equal to NaN).
function M.same(a, b) return a == b or (a ~= a and b ~= b) end

-- Checks that two sequences (series or tables) hold the same numbers,
-- bit for bit (NaN matching NaN).
function M.equal_values(a, b, what)
  M.eq(#a, #b, what .. ": length")
  for i = 1, #a do
    if not M.same(a[i], b[i]) then
      error(string.format("%s: value %d differs: %.17g vs %.17g", what, i, a[i], b[i]), 2)
    end
  end
end

-- The ROC AUC of scores against labels (1 or true: an anomaly), from row
-- `from` (1) on: the rank statistic with ties given their average rank,
-- as sklearn.metrics.roc_auc_score. Returns it and the positives' count.
function M.roc_auc(scores, labels, from)
  local idx = {}
  for i = from or 1, #labels do idx[#idx + 1] = i end
  table.sort(idx, function(a, b) return scores[a] < scores[b] end)
  local rank_sum, pos, i = 0, 0, 1
  while i <= #idx do
    local j = i
    while j < #idx and scores[idx[j + 1]] == scores[idx[i]] do j = j + 1 end
    local rank = (i + j) / 2
    for k = i, j do
      local l = labels[idx[k]]
      if l == 1 or l == true then rank_sum, pos = rank_sum + rank, pos + 1 end
    end
    i = j + 1
  end
  local neg = #idx - pos
  assert(pos > 0 and neg > 0, "roc_auc: both classes must be present")
  return (rank_sum - pos * (pos + 1) / 2) / (pos * neg), pos
end

-- The tools' random numbers (tests/tools/*_ref.py): a 64-bit LCG and
-- Box-Muller, so Lua and Python make the same rows from a seed.
function M.lcg(seed)
  local state = seed
  local g = {}
  function g.uniform()
    state = state * 6364136223846793005 + 1442695040888963407
    return (state >> 11) * 2.0 ^ -53
  end
  function g.normal()
    local u1, u2 = g.uniform(), g.uniform()
    return math.sqrt(-2 * math.log(1 - u1)) * math.cos(2 * math.pi * u2)
  end
  return g
end

return M
