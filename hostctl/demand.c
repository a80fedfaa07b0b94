/* demand.c - the guest agent's demand report: each HyperTier process's
 * stats file, found as htstat finds it (the owner's runtime directory),
 * summed. A process that has not published yet is skipped. */
#include "demand.h"
#include "core/statsfile.h"
#include <ctype.h>
#include <dirent.h>
#include <stdlib.h>
#include <string.h>

static uint64_t add_sat(uint64_t a, uint64_t b) { return a > UINT64_MAX - b ? UINT64_MAX : a + b; }

void hc_demand_scan(struct hc_demand *d, const char *dir)
{
	memset(d, 0, sizeof(*d));
	DIR *p = opendir("/proc");
	struct dirent *e;
	char why[256];
	while (p && (e = readdir(p)) && d->procs < HC_DEMAND_MAX_PROCS) {
		if (!isdigit((unsigned char)e->d_name[0]))
			continue;
		int pid = atoi(e->d_name);
		struct ht_statsfile *f = ht_statsfile_open(dir, pid, why, sizeof(why));
		struct ht_sf_data s;
		if (!f)
			continue;
		if (ht_statsfile_read(f, &s) == 0) {
			d->procs++;
			d->hot_set = add_sat(d->hot_set, s.st.hot_set_bytes);
			d->fast_budget = add_sat(d->fast_budget, s.st.fast_budget);
			d->fast_used = add_sat(d->fast_used, s.st.fast_used);
		}
		ht_statsfile_close(f, 0);
	}
	if (p)
		closedir(p);
}
