-- expect: attempt to call a nil value (field 'execute')
-- os keeps clock, time, date and difftime only.
os.execute("touch /tmp/moonwatch-sandbox-pwned")
