-- LuaRocks: the moonwatch Lua C module (require "moonwatch") for Lua 5.4.
--
-- The build is Meson's, as for everything else (a "command" build): the
-- module is made of the same C sources, with the shipped pipelines built
-- in by a small tool that Meson compiles and runs first, which LuaRocks'
-- "builtin" type cannot do. Needs meson, ninja, a C11 compiler and the
-- Lua 5.4 headers found by pkg-config (Debian: liblua5.4-dev).
--
--   luarocks --lua-version=5.4 make --local moonwatch-0.1.0-1.rockspec
rockspec_format = "3.0"
package = "moonwatch"
version = "0.1.0-1"
source = {
   -- `luarocks make` builds the checkout it runs in and never reads this;
   -- the project has no public repository yet: set its URL on release.
   url = "git+https://REPLACE-WITH-THE-PUBLIC-REPOSITORY/moonwatch.git",
   tag = "v0.1.0",
}
description = {
   summary = "Anomaly detection for Lua 5.4: native heap, C detectors, exact memory accounting",
   detailed = [[
A native object heap with reference counting and a cycle collector,
columns of float64 with vectorised kernels, streaming CSV and JSON Lines
readers, streaming detectors and thresholders written in C (zscore, mad,
bocpd, holt_winters, iforest, lof, ...), scoring as the Numenta Anomaly
Benchmark does, and exact memory figures, budgets and profiling.
]],
   license = "MIT",
   labels = { "anomaly-detection", "time-series", "statistics" },
}
dependencies = {
   "lua >= 5.4, < 5.5",
}
build_dependencies = {}
build = {
   type = "command",
   build_command = [[
rm -rf build-luarocks &&
meson setup build-luarocks --buildtype=release -Dtests=false &&
ninja -C build-luarocks src/lua/moonwatch.so
]],
   install = {
      lib = { moonwatch = "build-luarocks/src/lua/moonwatch.so" },
   },
   copy_directories = { "docs" },
}
