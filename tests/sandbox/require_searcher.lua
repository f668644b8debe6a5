-- expect: sandbox: require 'socket' is not allowed
-- Nor any module a searcher would find on disk.
require("socket")
