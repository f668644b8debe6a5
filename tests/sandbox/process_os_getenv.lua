-- expect: attempt to call a nil value (field 'getenv')
-- The host's environment is not the script's business.
print(os.getenv("HOME"))
