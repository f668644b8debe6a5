-- expect: pattern too complex
-- The matcher's own recursion limit.
print(("a"):rep(300):find(("a?"):rep(300) .. "$"))
