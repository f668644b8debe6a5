-- expect: sandbox: mw.redis.connect is not allowed (the network is outside the sandbox)
-- No sockets: a script cannot reach a server, local or not.
assert(mw.redis.available == false)
mw.redis.connect{host = "127.0.0.1", port = 6379}
