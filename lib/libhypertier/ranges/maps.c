/* maps.c - read /proc/self/maps and keep the mappings we manage. */
#include "rangemap.h"
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Which mappings to manage: anon private writable; with all, also files and stacks. */
static int wanted(const char *perms, unsigned long inode, const char *name, int all)
{
	if (all == 2)
		return 1;
	if (perms[0] != 'r' || perms[1] != 'w')
		return 0;
	if (name[0] == '[' && strcmp(name, "[heap]") && strncmp(name, "[stack", 6) && strncmp(name, "[anon", 5))
		return 0; /* vdso, vvar, vsyscall, uprobes */
	if (all)
		return 1;
	if (perms[3] != 'p')
		return 0; /* shared: other processes decide too */
	if (!strncmp(name, "[stack", 6))
		return 0;
	return inode == 0 && (name[0] == 0 || name[0] == '[');
}

long ht_maps_read(const char *path, int all, struct ht_mapping **out)
{
	FILE *f = fopen(path ? path : "/proc/self/maps", "re");
	if (!f)
		return -errno;
	size_t n = 0, cap = 0;
	struct ht_mapping *m = NULL;
	char line[4096];
	while (fgets(line, sizeof(line), f)) {
		uintptr_t s, e;
		char perms[8] = "";
		unsigned long inode = 0;
		int name_at = 0;
		if (sscanf(line, "%" SCNxPTR "-%" SCNxPTR " %7s %*s %*s %lu %n", &s, &e, perms, &inode, &name_at) < 4)
			continue;
		char *name = name_at ? line + name_at : line + strlen(line);
		name[strcspn(name, "\n")] = 0;
		if (!wanted(perms, inode, name, all) || e <= s)
			continue;
		if (n && m[n - 1].end == s) { /* adjacent: one span */
			m[n - 1].end = e;
			continue;
		}
		if (n == cap) {
			cap = cap ? cap * 2 : 64;
			struct ht_mapping *nm = realloc(m, cap * sizeof(*m));
			if (!nm) {
				free(m);
				fclose(f);
				return -ENOMEM;
			}
			m = nm;
		}
		m[n].start = s;
		m[n].end = e;
		n++;
	}
	fclose(f);
	*out = m;
	return (long)n;
}
