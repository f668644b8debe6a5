-- expect: sandbox: mw.mem.timeline is not allowed
-- So does the timeline.
mw.mem.timeline{svg = "/tmp/t.svg"}
