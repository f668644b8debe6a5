-- expect: attempt to use a released list
-- A released handle raises, never touches freed memory.
local l = mw.list{1, 2, 3}
l:release()
print(l[1])
