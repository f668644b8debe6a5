-- expect: invalid conversion
-- A huge format width is Lua's own error.
print(string.format("%99999d", 1))
