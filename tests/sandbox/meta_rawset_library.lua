-- expect: sandbox: rawset on a read-only table
-- rawset refuses the proxies.
rawset(string, "upper", print)
