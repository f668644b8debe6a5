-- expect: sandbox: metatables with __gc are not allowed
-- Finalizers run with hooks off, past every limit: refused at setmetatable.
setmetatable({}, {__gc = function() while true do end end})
