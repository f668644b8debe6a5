-- expect: attempt to index a nil value (field 'io')
-- Nor through _G.
print(_G.io.popen("id"):read("a"))
