-- expect: attempt to use a released series
-- Released by a to-be-closed variable, used after.
local keep
do
  local s <close> = mw.series{1, 2, 3}
  keep = s
end
print(keep:sum())
