-- expect: instruction limit exceeded
-- The plainest denial of service: the count hook ends it.
while true do end
