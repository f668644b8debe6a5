-- handles.lua: one handle per object, explicit release, __close, and use
-- after release.
local t = require "helper"

local l = mw.list{1, 2}
local m = mw.map{l = l}
t.eq(m.l, l, "same object gives the same handle")
t.eq(rawequal(m.l, l), true, "rawequal")
local seen = {}
seen[m.l] = true
t.eq(seen[l], true, "handles work as table keys")

-- Release drops the reference now; the map still holds the list.
l:release()
t.eq(mw.isreleased(l), true, "isreleased")
t.raises("attempt to use a released list", function() return l[1] end)
t.raises("attempt to use a released list", function() return #l end)
t.raises("attempt to use a released list", function() l:append(3) end)
t.raises("attempt to use a released list", function() l[1] = 0 end)
t.eq(tostring(l), "list (released)", "tostring of a released handle")
l:release()   -- releasing twice does nothing
mw.release(l)
local again = m.l
t.eq(again[2], 2, "the map kept the list alive")
t.eq(again ~= l, true, "a released handle is not the object's handle")
t.raises("cannot store a released object in a map", function() m.x = l end)

-- mw.release works on maps whose keys shadow the method.
local shadow = mw.map{release = "key"}
mw.release(shadow)
t.raises("attempt to use a released map", function() return shadow.x end)
t.raises("bad argument #1 to 'release' (moonwatch object expected, got table)",
         function() mw.release({}) end)

-- __close releases at the end of the block.
local before = mw.mem.stats().objects.list.count
do
  local scoped <close> = mw.list.rep(1000, 1)
  t.eq(mw.mem.stats().objects.list.count, before + 1, "inside the block")
end
t.eq(mw.mem.stats().objects.list.count, before, "freed by __close")

-- Wrong handle type.
local append = mw.list{}.append
t.raises("bad argument #1 to 'append' (list expected, got moonwatch.map)",
         function() append(mw.map{}, 1) end)
t.raises("list expected, got nil", function() append(nil, 1) end)

-- Dropping the last Lua reference frees the object at Lua's next
-- collection.
do
  local tmp = mw.list.rep(10, 0)
  tmp = nil
end
collectgarbage(); collectgarbage()
t.eq(mw.mem.stats().objects.list.count, before, "freed by __gc")


-- The metatable is out of scripts' reach, so __gc cannot be called on
-- other userdata (io.stdout, say).
t.eq(getmetatable(mw.list{}), false, "list metatable protected")
t.eq(getmetatable(mw.map{}), false, "map metatable protected")

-- A released handle still answers its methods (release, tostring) but
-- not data.
local r = mw.map{x = 1}
r:release()
r:release()
t.eq(type(r.release), "function", "methods found on a released map")
t.raises("attempt to use a released map", function() return r.x end)
t.raises("attempt to use a released map", function() return #r end)

print("handles: ok")
