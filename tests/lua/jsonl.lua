-- jsonl.lua: mw.jsonl reads JSON Lines of flat objects as records.
local t = require "helper"

local tmp = os.tmpname()
local function write(text)
  local f = assert(io.open(tmp, "wb"))
  f:write(text)
  f:close()
  return tmp
end

write('{"ts": "2024-01-01T00:00:00Z", "cpu": 0.5, "n": 3, "host": "db-1", "up": true}\n' ..
      '\n' ..
      '{"cpu": -1.5e2, "host": "a\\"b\\\\c\\n\\u00e9\\ud83d\\ude00", "gone": null, "up": false}\r\n' ..
      '{}')
local rows = {}
for r in mw.jsonl(tmp) do rows[#rows + 1] = r end
t.eq(#rows, 3, "three objects, the empty line skipped")
t.eq(rows[1].cpu, 0.5, "number"); t.eq(math.type(rows[1].n), "integer", "integral numbers are integers")
t.eq(rows[1].host, "db-1", "string"); t.eq(rows[1].up, true, "true")
t.eq(rows[2].cpu, -150, "exponent"); t.eq(rows[2].up, false, "false")
t.eq(rows[2].host, 'a"b\\c\n\xc3\xa9\xf0\x9f\x98\x80', "escapes and surrogate pairs")
t.eq(rows[2].gone, nil, "null is nil")
t.eq(next(rows[3]), nil, "an empty object")

-- Errors name the file, the line and the column; or are skipped.
write('{"a": 1}\n{"a": [1]}\n{"a" 2}\n{"a": 3}\n')
local ok, err = pcall(function() for _ in mw.jsonl(tmp) do end end)
assert(not ok and err:find(tmp .. ": line 2, column 7: nested objects and arrays are not supported", 1, true), err)
local it = mw.jsonl(tmp, {on_error = "skip"})
local kept = {}
for r in it do kept[#kept + 1] = r.a end
t.eq(table.concat(kept, ","), "1,3", "bad lines skipped")
t.eq(it:errors(), 2, "and counted")
t.raises("cannot open", function() mw.jsonl(tmp .. ".missing") end)
t.raises("unknown option 'bogus'", function() mw.jsonl(tmp, {bogus = 1}) end)

-- Into batches through the combinator.
write('{"x": 1, "y": 2}\n{"x": 3, "y": 4}\n{"x": 5}\n')
local b = mw.jsonl(tmp):batch(10)()
t.eq(#b, 3, "batch rows"); t.eq(b.x:sum(), 9, "batch column")
assert(b.y[3] ~= b.y[3], "a missing field is NaN in a frame")
os.remove(tmp)


-- Review cases: each was a bug once.
write('{"a": 01}\n{"a": 1.}\n{"a": -.5}\n{"a": -inf}\n{"a": 2, "a": null}\n{"a": 1e400}\n')
local jit = mw.jsonl(tmp, {on_error = "skip"})
local got = {}
for r in jit do got[#got + 1] = r end
t.eq(jit:errors(), 4, "invalid JSON numbers are errors")
t.eq(got[1].a, nil, "the last value of a key wins (null)")
t.eq(got[2].a, math.huge, "1e400 overflows to infinity, as JSON parsers do")
os.remove(tmp)

print("jsonl: ok")
