-- expect: not enough memory
-- table.concat of elements a C metamethod (tostring) makes up: counted,
-- and the buffer meets the budget first here.
print(#table.concat(setmetatable({}, {__index = tostring}), "", 1, 1e15))
