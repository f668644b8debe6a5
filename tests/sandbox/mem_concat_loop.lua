-- expect: not enough memory
-- Doubling a string by concatenation.
local s = "x"
while true do s = s .. s end
