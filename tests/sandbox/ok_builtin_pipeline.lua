-- expect: ok
-- A script may use the built-in pipelines, as examples/host/pipeline.lua
-- does: required frozen, their parameters read with pairs.
local pipeline = require "moonwatch.pipelines.default"
assert(pipeline == require "moonwatch.pipelines.default")
local params = {}
for k, v in pairs(pipeline.params) do params[k] = v end
params.warmup = 2
local p = pipeline.new(params)
local scores = p:run(mw.series{1, 2, 1, 2, 1, 50})
assert(#scores == 6 and scores[6] >= p.threshold, "the jump is an anomaly")
scores:release()
p:release()
