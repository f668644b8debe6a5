-- expect: instruction limit exceeded
-- gsub over a backtracking pattern.
print(("a"):rep(2e4):gsub(("a?"):rep(30) .. ("a"):rep(30) .. "b", ""))
