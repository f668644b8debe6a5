-- expect: sandbox: cannot set 'new' of 'moonwatch.pipelines.default'
-- A built-in pipeline is shared by every script that requires it: it
-- comes frozen, like the libraries.
local p = require("moonwatch.pipelines.default")
p.new = function() error("planted") end
