-- expect: ok
-- A normal detection script works in the sandbox: detectors, series,
-- thresholds, string methods, pairs over the libraries, coroutines under
-- the limit, load of text, a CSV under the readable directory.
local d = mw.detect.zscore{window = 4}
local values, scores = {}, {}
for row in mw.csv("data/series.csv") do
  values[#values + 1] = row.value
  scores[#scores + 1] = d:update(row.value)
end
assert(#values == 6 and scores[5] > 3, "the spike scores high")
local s = mw.series(values)
assert(s:max() == 40)
local names = {}
for k in pairs(string) do names[#names + 1] = k end
assert(#names >= 15 and string.dump == nil)
assert(("Hello %s"):format("x"):upper() == "HELLO X")
assert(("a,b,c"):gsub(",", ";") == "a;b;c")
local co = coroutine.wrap(function() for i = 1, 3 do coroutine.yield(i) end end)
assert(co() + co() + co() == 6)
local f = assert(load("local a, b = ... return a + b"))
assert(f(1, 2) == 3)
assert(type(mw.mem.stats()) == "table" and mw.mem.budget() > 0)
assert(#mw.fs.list("data", ".csv") == 1 and mw.fs.isdir("data"))
assert(math.floor(os.time() / 1) > 0 and os.date("!%Y", 0) == "1970")
local ok, err = pcall(error, "caught")
assert(not ok and err:find("caught"))
collectgarbage()
assert(collectgarbage("count") > 0)
