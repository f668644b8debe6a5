-- An error nobody catches, raised through a coroutine and a metamethod:
-- the message, the traceback on stderr and the exit status.
print("before")
local mt = {__index = function(_, k) error("no field '" .. k .. "'") end}
local co = coroutine.wrap(function()
  local t = setmetatable({}, mt)
  return t.missing
end)
local function outer() return co() end
outer()
print("never")
