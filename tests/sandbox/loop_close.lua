-- expect: instruction limit exceeded
-- __close handlers run under the hook.
do
  local x <close> = setmetatable({}, {__close = function() while true do end end})
end
