-- expect: instruction limit exceeded
-- Exponential backtracking inside the matcher: the counted matcher charges each step.
print(string.find(string.rep("a", 5e4), string.rep("a*", 20) .. "b"))
