/* thp.c - see thp.h. */
#include "thp.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int read_small(const char *root, const char *name, char *buf, size_t len)
{
	char path[512];
	snprintf(path, sizeof(path), "%s/sys/kernel/mm/transparent_hugepage/%s", root ? root : "", name);
	FILE *f = fopen(path, "re");
	if (!f)
		return -1;
	size_t n = fread(buf, 1, len - 1, f);
	fclose(f);
	buf[n] = 0;
	return 0;
}

uint64_t ht_thp_unit(const char *root)
{
	char mode[128], size[64];
	if (read_small(root, "enabled", mode, sizeof(mode)) < 0 || strstr(mode, "[never]"))
		return 0;
	if (!strstr(mode, "[always]") && !strstr(mode, "[madvise]"))
		return 0;
	/* hpage_pmd_size appeared in 4.x; before it x86-64's 2 MiB */
	if (read_small(root, "hpage_pmd_size", size, sizeof(size)) < 0)
		return 2ull << 20;
	uint64_t u = strtoull(size, NULL, 10);
	return u ? u : 2ull << 20;
}

int ht_thp_always(const char *root)
{
	char mode[128];
	return read_small(root, "enabled", mode, sizeof(mode)) == 0 && strstr(mode, "[always]") != NULL;
}

int ht_quota_check(uint64_t quota, uint64_t thp_unit, char *err, size_t len)
{
	if (!quota || !thp_unit || quota >= 2 * thp_unit)
		return 0;
	snprintf(err, len,
		 "fast_quota=%llu KiB is below %llu KiB, the smallest quota the engine can hold here: transparent huge pages "
		 "are on and move_pages moves a %llu KiB huge page whole",
		 (unsigned long long)(quota >> 10), (unsigned long long)(2 * thp_unit >> 10), (unsigned long long)(thp_unit >> 10));
	return -1;
}
