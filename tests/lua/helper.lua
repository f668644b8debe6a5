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

return M
