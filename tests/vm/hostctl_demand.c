/* hostctl_demand.c - in the guest: publish a stats file, as the runtime
 * does, with a hot set of HOT_MIB MiB, so that the agent's demand report
 * is known exactly. A new instance replaces the previous one (the hot set
 * changes by starting another). Runs until killed. */
#include "core/statsfile.h"
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static struct ht_statsfile *s;

/* A zombie still has its pid: the file must go before the process does. */
static void bye(int sig)
{
	(void)sig;
	ht_statsfile_close(s, 1);
	_exit(0);
}

int main(int argc, char **argv)
{
	if (argc != 2)
		return 2;
	FILE *f = fopen("/tmp/demand.pid", "r");
	int old = 0;
	char why[512], path[64];
	if (f && fscanf(f, "%d", &old) == 1 && old > 0 && kill(old, SIGTERM) == 0) {
		snprintf(path, sizeof(path), "/run/hypertier/%d.stats", old);
		for (int i = 0; i < 200 && access(path, F_OK) == 0; i++)
			usleep(50000);
	}
	if (f)
		fclose(f);
	s = ht_statsfile_create("", getpid(), why, sizeof(why));
	if (!s) {
		fprintf(stderr, "hostctl_demand: %s\n", why);
		return 1;
	}
	signal(SIGTERM, bye);
	struct ht_sf_data d;
	memset(&d, 0, sizeof(d));
	d.st.size = sizeof(d.st);
	d.st.enabled = 1;
	d.st.hot_set_bytes = strtoull(argv[1], NULL, 10) << 20;
	d.st.fast_budget = d.st.fast_used = d.st.hot_set_bytes;
	ht_statsfile_publish(s, &d);
	f = fopen("/tmp/demand.pid", "w");
	if (f)
		fprintf(f, "%d\n", getpid()), fclose(f);
	for (;;)
		pause();
}
