-- Integer and float semantics: division, modulo, overflow, conversions,
-- comparisons, string coercions, and the errors of integer arithmetic.
print(7 // 2, -7 // 2, 7 // -2, 7.5 // 2, -7 % 3, 7 % -3, -7.5 % 2, 5.3 % 1 < 1)
print(math.maxinteger + 1 == math.mininteger, math.mininteger - 1, math.maxinteger * 2)
print(math.mininteger // -1, math.mininteger % -1)
print(1 / 0, -1 / 0, 0 / 0 ~= 0 / 0, 1 // 0.0, -1 % math.huge, 1 % -math.huge)
print(pcall(function() return 1 // 0 end))
print(pcall(function() return 1 % 0 end))
print(math.tointeger(3.0), math.tointeger(3.5), math.tointeger("8"), math.tointeger(2^63))
print(math.type(1), math.type(1.0), math.type("1"), math.type(nil))
print(3 == 3.0, 2^53 == 2^53 + 1, math.maxinteger < math.maxinteger + 0.0,
      math.maxinteger + 0.0 == 2^63, -0.0 == 0.0, 1 < 1.5, math.mininteger <= -2^63)
print(0x10, 0xff, 0x7fffffffffffffff, 0xffffffffffffffff, 0x1p4, 0x.8, 1e2, .5, 3.)
print("10" + 5, "3.5" * 2, "0x10" + 0, 10 .. 20, pcall(function() return "a" + 1 end))
print(tonumber("  12  "), tonumber("1e1"), tonumber("0x1P-2"), tonumber("z", 36), tonumber("777", 8),
      tonumber(""), tonumber("1 2"), tonumber("inf"), tonumber("nan"))
print(pcall(tonumber, "10", 99))
print(math.floor(-3.5), math.ceil(-3.5), math.floor(2^62), math.fmod(-7, 3), math.fmod(7, -3))
print(pcall(math.fmod, 1, 0))
print(math.fmod(1, 0.0) ~= math.fmod(1, 0.0), math.abs(math.mininteger), math.ult(1, -1))
print(math.max(1, 2.5, -1), math.min(3, 1.0), math.huge, -math.huge, math.pi)
print(string.format("%.17g", 0.1 + 0.2), 0.1 + 0.2 == 0.3, 100000000000000, 1e14)
print(2^31, 1 << 62, 1 << 63, 1 << 64, -1 >> 1, 3 & 5, 3 | 5, 3 ~ 5, ~0)
print(pcall(function() return 1.5 | 0 end))
print(pcall(function() return "3" | 0 end), pcall(function() return 2^64 | 0 end))
for _, v in ipairs({0.1, 1/3, 100, 1e300 * 10, -0.0, 123.456e-300, 2^-1074}) do io.write(tostring(v), " ") end
print()
print(string.format("%d", 3.0), pcall(string.format, "%d", 3.1))
print(#tostring(12345), 5 // 0.0, -5 // 0.0, 0/0 == 0/0)
for i = 3, 1, -1 do io.write(i, " ") end
for i = 1.0, 2 do io.write(i, " ") end
for i = math.maxinteger - 2, math.maxinteger do io.write(i, " ") end
print()
print(pcall(function() for i = 1, 10, 0 do end end))
