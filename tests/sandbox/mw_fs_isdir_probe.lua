-- expect: sandbox: reading '/nonexistent/dir' is not allowed
-- isdir does not tell what exists outside the readable directories.
print(mw.fs.isdir("/nonexistent/dir"))
