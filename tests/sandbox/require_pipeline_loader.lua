-- expect: sandbox: require 'moonwatch.pipeline' is not allowed
-- moonwatch.pipeline loads pipeline files by path with the real io: it
-- is the host's (mw_runtime_pipeline), not the scripts'.
local loader = require("moonwatch.pipeline")
print(loader.load("/etc/passwd"))
