-- examples/host/pipeline.lua: the Lua side of examples/host/host.c.
--
-- The host calls score(x) with each value, in order, and reports the
-- rows whose score reaches threshold(). The scoring is moonwatch's
-- default pipeline (pipelines/default.lua), fed one value at a time: its
-- scores are causal, so a stream of single values gives the same scores
-- as the whole file at once.
local pipeline = require "moonwatch.pipelines.default"

local params = {}
for k, v in pairs(pipeline.params) do params[k] = v end
local p = pipeline.new(params)

function score(x)
  local scores = p:run(mw.series{x})
  local s = scores[1]
  scores:release()
  return s
end

function threshold()
  return p.threshold or 0.5
end
