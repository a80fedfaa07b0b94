/* hostctl_budget.c - a program running under libhypertier in the guest
 * while the host changes its VM's fast quota. Every 100 ms it publishes
 * ht_stats()'s fast budget to /tmp/budget ("BUDGET EPOCHS ENABLED"). */
#include "hypertier.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int main(void)
{
	size_t len = 32 << 20;
	char *work = malloc(len);
	if (!work)
		return 1;
	for (unsigned long i = 0;; i++) {
		memset(work, (int)i, len); /* a working set the runtime manages */
		struct ht_stats st = { .size = sizeof(st) };
		ht_stats(&st);
		FILE *f = fopen("/tmp/budget.tmp", "w");
		if (f) {
			fprintf(f, "%llu %llu %u\n", (unsigned long long)st.fast_budget, (unsigned long long)st.epochs, st.enabled);
			fclose(f);
			rename("/tmp/budget.tmp", "/tmp/budget");
		}
		usleep(100000);
	}
}
