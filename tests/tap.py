"""TAP for the Python parts of the shell tests (tap.h's counterpart):
ok() prints one numbered test point and returns the condition, plan() the
closing 1..N. Shell tests put this folder on PYTHONPATH."""
n = 0


def ok(cond, msg):
    global n
    n += 1
    print(("ok %d - %s" if cond else "not ok %d - %s") % (n, msg), flush=True)
    return cond


def plan():
    print("1..%d" % n)
