-- String patterns: find, match, gmatch, gsub with captures, %b, %f,
-- anchors, position captures, replacement tables and functions, errors.
local s = "THE (quick) fox [jumps] over {the} lazy dog; 2024-03-01 12:34"
print(s:find("quick"), s:find("(%a+)%s+(%a+)"), s:find("%((%a+)%)"))
print(s:find("o", 1, true), s:find("[jumps]", 1, true), s:find(".", -3))
print(s:match("(%d+)-(%d+)-(%d+)"), s:match("()fox()"), s:match("^THE"), s:match("^fox"))
print(s:match("%b()"), s:match("%b[]"), s:match("%b{}"), ("x(a(b)c)y"):match("%b()"))
print(("THE (quick) fox"):gsub("%f[%a]%a+", string.lower))
print(("hello world from lua"):gsub("%f[%w]%w+%f[%W]", "<%0>"))
print(("aaa bbb ccc"):gsub("(%w+)", "%1-%1", 2))
print(("$name is $age"):gsub("%$(%w+)", {name = "Ada", age = 36}))
print(("a,b,,c"):gsub(",", ";"), ("abc"):gsub("", "-"), ("abc"):gsub(".", {a = 1, b = false}))
print(("  trim me  "):match("^%s*(.-)%s*$") .. "|")
for k, v in ("a=1, b=22, c=333"):gmatch("(%w+)=(%w+)") do io.write(k, ":", v, " ") end
print()
for w in ("one two  three"):gmatch("%S+") do io.write("[", w, "]") end
print()
for pos in ("banana"):gmatch("()ana") do io.write(pos, " ") end
print()
print(("%d%%"):format(50), ("x"):rep(3, ","), ("abc"):rep(0), ("ab"):reverse())
print(("[%s]"):format(("\0a\0"):gsub("%z", "0")))
print(("key = value"):match("^(%w+)%s*=%s*(%w+)$"))
print(string.find("abc", "b", -10), string.find("abc", "", 10), string.find("abc", "", 4))
print(("x"):gsub("x", "%%"), ("hello"):gsub("l+", function(m) return #m end))
print(("CamelCaseString"):gsub("(%u)", " %1"))
print(("f(a,b)"):match("^(%w+)(%b())$"))
print(("[[nested]]"):match("%[(%b[])%]"))
print(("áé"):len(), ("x"):byte(), ("ABC"):byte(1, -1), string.char(72, 105))
for _, bad in ipairs({"%", "[a", "(()", "%b", "%f", "(%1)", "a)"}) do
  print(bad, pcall(string.find, "abc", bad))
end
print(pcall(string.gsub, "abc", "(b)", "%2"))
print(pcall(string.rep, "x", -1), ("x"):rep(-1) == "")
print(("%5.1s|%-5s|%5s"):format("abc", "ab", "ab"))
