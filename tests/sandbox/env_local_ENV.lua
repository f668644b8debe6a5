-- expect: sandbox: cannot set 'x' of '_G'
-- Nor does making the proxy the chunk's _ENV.
local _ENV = getmetatable(_G).__index
x = 1
