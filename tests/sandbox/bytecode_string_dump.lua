-- expect: attempt to call a nil value (field 'dump')
-- string.dump is gone: no bytecode out.
local f = load(string.dump(function() return 1 end))
