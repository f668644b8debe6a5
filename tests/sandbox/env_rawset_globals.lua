-- expect: sandbox: rawset on a read-only table
-- rawset does not reach behind the proxy either.
rawset(getmetatable(_G).__index, "tostring", print)
