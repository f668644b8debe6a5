-- cli.lua: `moonwatch worker`'s options and errors, through the real
-- binary, without a server: help, usage errors (exit 2), a server that
-- is not there and a pipeline that cannot checkpoint (exit 1, one line).
--
--     moonwatch cli.lua <moonwatch>
local bin = assert(arg[1], "usage: cli.lua <moonwatch>")
if not mw.redis.available then
  print("SKIP: this build has no Redis support")
  os.exit(77)
end
local tmp = os.tmpname()

local function run(args)
  local p = io.popen(string.format("%q worker %s 2>%q; echo \"rc=$?\"", bin, args, tmp))
  local out = p:read("a")
  p:close()
  local fh = io.open(tmp)
  local err = fh:read("a")
  fh:close()
  return out:gsub("rc=%d+\n$", ""), tonumber(out:match("rc=(%d+)\n$")), err
end

local out, rc, err = run("--help")
assert(rc == 0 and out:find("^usage: moonwatch worker %-%-stream KEY") and out:find("--idle-exit SECONDS", 1, true))
out, rc, err = run("--stream s --group g")
assert(rc == 2 and err == "moonwatch worker: --consumer is required\nTry 'moonwatch worker --help'.\n", err)
out, rc, err = run("--stream s --group g --consumer c --bogus")
assert(rc == 2 and err:find("unknown option '%-%-bogus'"), err)
out, rc, err = run("--stream s --group g --consumer c --redis 'a:b:c'")
assert(rc == 2 and err:find("--redis 'a:b:c' is not HOST:PORT", 1, true), err)
out, rc, err = run("--stream s --group g --consumer c --lease 0")
assert(rc == 2 and err:find("--lease '0' must be a number >= 0.1", 1, true), err)
out, rc, err = run("--stream s --group g --consumer c --pipeline nosuch")
assert(rc == 1 and err:find("^moonwatch worker: no pipeline 'nosuch'"), err)
-- A pipeline that cannot save its state cannot be checkpointed.
local nosave = tmp .. ".lua"
local fh = assert(io.open(nosave, "w"))
fh:write("return {new = function() return {run = function(_, v) return v end} end}\n")
fh:close()
out, rc, err = run("--stream s --group g --consumer c --pipeline " .. nosave)
assert(rc == 1 and err:find("pipeline '.-' cannot save its state %(no method save%): workers checkpoint it"), err)
-- No server on port 1: refused, one line, after --retry seconds.
out, rc, err = run("--stream s --group g --consumer c --redis 127.0.0.1:1 --retry 0")
assert(rc == 1 and err == "moonwatch worker: cannot connect to 127.0.0.1:1 (Connection refused)\n", err)
out, rc, err = run("--stream s --group g --consumer c --redis 127.0.0.1:1 --retry 0.3")
assert(rc == 1 and err:find("retrying in [%d.]+ s\n") and
       err:find("moonwatch worker: cannot connect to 127.0.0.1:1 %(Connection refused%), gave up after 0.3 s\n$"), err)
os.remove(tmp)
os.remove(nosave)
print("cli: ok")
