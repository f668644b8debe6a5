-- expect: sandbox: writing '/tmp/moonwatch-sandbox.svg' is not allowed
-- A chart can be returned as a string, not written.
mw.plot.svg{value = {1, 2, 3}, file = "/tmp/moonwatch-sandbox.svg"}
