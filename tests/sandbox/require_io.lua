-- expect: sandbox: require 'io' is not allowed (only 'moonwatch' and the built-in pipelines
-- require gives the moonwatch module and nothing else.
local io = require("io")
