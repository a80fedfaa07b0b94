/* hostile_balance.h - the `hostctl balance`, demand and `status
 * --prometheus` cases of test_hostctl_hostile.c, included there to share
 * its fake VMs: A, B and a third, C, whose name needs escaping. The fast
 * capacity is 960 MiB for the three, so what one VM gains another gave. */
static struct vm C = { .name = "C" };
static const char *cname = "c\"q\\x";

/* The fast quota of a VM in the state file, in MiB (-1: none). */
static long long fast_mib(const char *name)
{
	json_object *s = json_object_from_file(state), *vms, *f, *q;
	long long r = -1;
	if (s && json_object_object_get_ex(s, "vms", &vms))
		for (size_t i = 0; i < json_object_array_length(vms); i++) {
			json_object *v = json_object_array_get_idx(vms, i), *n;
			if (json_object_object_get_ex(v, "name", &n) && !strcmp(json_object_get_string(n), name) &&
			    json_object_object_get_ex(v, "fast", &f) && json_object_object_get_ex(f, "quota", &q))
				r = json_object_get_int64(q) / (long long)MiB;
		}
	json_object_put(s);
	return r;
}

/* Steps of `balance` until nothing moves (at most max); every step must
 * keep B and C at or above their 128 MiB floors. */
static int steps(int max, int *floors_ok)
{
	int n = 0;
	for (; n < max; n++) {
		long long a = fast_mib("A"), b = fast_mib("B"), c = fast_mib(cname);
		int rc = run(NULL, "balance%s%s", "", "");
		*floors_ok &= fast_mib("B") >= 128 && fast_mib(cname) >= 128;
		if (rc || (a == fast_mib("A") && b == fast_mib("B") && c == fast_mib(cname)))
			break;
	}
	return n;
}

static void hostile_demand(int mode, const char *name)
{
	long long a = fast_mib("A");
	A.dmode = mode;
	int rc = run(NULL, "balance%s%s", "", "");
	ok(rc == 1 && strstr(out, "A: no demand report: refused agent reply") && fast_mib("A") == a && clean(out),
	   "demand reply with %s: refused, A's quota unchanged (exit %d)", name, rc);
	A.dmode = DEMAND_OK;
}

static void balance_cases(void)
{
	vm_init(&C);
	usleep(100000);
	A.mode = B.mode = HONEST;
	unlink(state); /* the cases before left a corrupt one */
	int rc = run(NULL, "grant %s --name A --fast 320M --fast-max 448M", A.qmp, "");
	rc |= run(NULL, "grant %s --name B --fast 320M --fast-min 128M", B.qmp, "");
	char nm[64];
	snprintf(nm, sizeof(nm), "--name %s", cname);
	rc |= run(NULL, "grant %s %s --fast 320M --fast-min 128M", C.qmp, nm);
	rc |= run(NULL, "rebalance --fast-capacity 960M%s%s", "", "");
	ok(rc == 0, "three VMs at 320 MiB fast each, capacity 960 MiB");
	A.hot = 440 * MiB, B.hot = 100 * MiB, C.hot = 300 * MiB;

	rc = run(NULL, "status A%s%s", "", "");
	ok(rc == 0 && strstr(out, "fast  demand: hot set 440.00 MiB in 2 processes") && strstr(out, "against quota 320.00 MiB"),
	   "status shows A's demand next to its quota");

	rc = run(NULL, "balance --dry-run%s%s", "", "");
	ok(rc == 0 && strstr(out, "A: +120.00 MiB fast, hot set 440.00 MiB > quota 320.00 MiB") && fast_mib("A") == 320,
	   "balance --dry-run: says what it would do, changes nothing");
	rc = run(NULL, "balance%s%s", "", "");
	ok(rc == 0 && strstr(out, "A: +120.00 MiB fast, hot set 440.00 MiB > quota 320.00 MiB") &&
	   strstr(out, "B: -128.00 MiB fast, hot set 100.00 MiB fits in quota 320.00 MiB") &&
	   strstr(out, "held at 320.00 MiB fast, hot set 300.00 MiB") && strstr(out, "A: fast (node 0): balloon"),
	   "balance step: A gains what B gives back, C within the hysteresis, every decision with its reason");
	is_int(fast_mib("A"), 440, "A's fast quota is its hot set");
	is_int(fast_mib("B"), 192, "B's fast quota one step lower");
	int floors = 1, n = steps(8, &floors);
	ok(floors && fast_mib("B") == 128 && fast_mib("A") == 440 && fast_mib(cname) == 320,
	   "converged in %d more steps: A 440, B at its floor 128, C 320; floors held at every step", n);

	/* the hot sets change once; the fast tier follows */
	A.hot = 100 * MiB, B.hot = 400 * MiB, C.hot = 310 * MiB;
	floors = 1;
	n = steps(10, &floors);
	/* tolerance: the hysteresis (32 MiB) */
	ok(floors && llabs(fast_mib("A") - 100) < 32 && llabs(fast_mib("B") - 400) < 32 && llabs(fast_mib(cname) - 310) < 32,
	   "after the change (%d steps): A %lld, B %lld, C %lld within 32 MiB of 100, 400, 310; floors held", n,
	   fast_mib("A"), fast_mib("B"), fast_mib(cname));

	/* a lying guest: A claims 512 TiB; capped at --fast-max 448M, B keeps its need */
	A.hot = 1ULL << 49;
	long long b0 = fast_mib("B"), c0 = fast_mib(cname);
	floors = 1;
	steps(10, &floors);
	ok(floors && fast_mib("A") <= 448 && fast_mib("B") == b0 && fast_mib(cname) == c0,
	   "liar A: %lld MiB, within its ceiling and only what no one else needs; B and C keep theirs", fast_mib("A"));
	run(NULL, "rebalance --fast-capacity 0%s%s", "", "");
	steps(10, &floors);
	ok(fast_mib("A") == 448, "liar A with no capacity limit: stops at --fast-max 448 MiB (%lld)", fast_mib("A"));

	hostile_demand(DEMAND_NEGATIVE, "a negative hot set");
	hostile_demand(DEMAND_STRING, "a string hot set");
	hostile_demand(DEMAND_MISSING, "no hot set");
	hostile_demand(DEMAND_HUGE, "a hot set over 1 PiB");
	A.dmode = DEMAND_STRING;
	rc = run(NULL, "status A%s%s", "", "");
	ok(rc == 0 && strstr(out, "fast  demand: unknown (refused agent reply"), "status: a malformed demand reply shown as unknown");
	A.dmode = DEMAND_OK;

	/* status --prometheus through the strict check */
	char pf[160], cmd[512];
	snprintf(pf, sizeof(pf), "%s/vms.prom", A.dir);
	rc = run(NULL, "status --prometheus%s%s", "", "");
	FILE *f = fopen(pf, "w");
	fputs(out, f);
	fclose(f);
	const char *src = getenv("abs_top_srcdir");
	snprintf(cmd, sizeof(cmd), "python3 %s/tests/unit/promcheck.py --dump %s > %s.dump 2>&1", src ? src : "../..", pf, pf);
	int pc = system(cmd);
	snprintf(cmd, sizeof(cmd), "%s.dump", pf);
	f = fopen(cmd, "r");
	size_t k = f ? fread(out, 1, sizeof(out) - 1, f) : 0;
	out[k] = 0;
	if (f)
		fclose(f);
	ok(rc == 0 && pc == 0, "status --prometheus: three VMs, passes the strict format check");
	ok(strstr(out, "hypertier_vm_tier_quota_bytes\t{\"tier\": \"fast\", \"vm\": \"A\"}\t469762048") &&
	   strstr(out, "hypertier_vm_tier_demand_bytes\t{\"tier\": \"fast\", \"vm\": \"B\"}\t419430400") &&
	   strstr(out, "hypertier_vm_tier_guest_free_bytes\t{\"tier\": \"slow\", \"vm\": \"c\\\"q\\\\x\"}\t400000000") &&
	   strstr(out, "hypertier_vm_tier_balloon_bytes") && strstr(out, "hypertier_vm_tier_host_backed_bytes") &&
	   strstr(out, "hypertier_vm_agent_up\t{\"vm\": \"c\\\"q\\\\x\"}\t1"),
	   "quota, demand, guest free, balloon, host-backed gauges; the quoted name parses back");
	if (!strstr(out, "469762048"))
		tap_diag("%s", out);
	char rm[512];
	snprintf(rm, sizeof(rm), "rm -rf %s %s %s", C.dir, C.fast, C.slow);
	if (system(rm) != 0)
		tap_diag("cleanup failed: %s", rm);
}
