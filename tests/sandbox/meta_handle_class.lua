-- expect: sandbox: the metatables of strings, libraries and moonwatch objects are locked
-- moonwatch objects share a metatable per class: it is out of reach.
getmetatable(mw.list()).__index = function() return "pwned" end
