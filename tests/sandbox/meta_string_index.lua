-- expect: sandbox: the metatables of strings, libraries and moonwatch objects are locked
-- getmetatable('') gives a locked marker, not the metatable.
getmetatable("").__index.upper = function() return "pwned" end
