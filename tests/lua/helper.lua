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

return M
