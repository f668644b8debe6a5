-- expect: returned at once
-- Lua's string.rep of the empty string loops n times in C without
-- allocating: the sandbox's answers at once.
assert(string.rep("", 1e15) == "" and ("").rep("", 2^62, "") == "")
error("returned at once")
