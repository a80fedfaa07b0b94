/* mtree.c - parse `info mtree -f`. QEMU 7.2 prints, per flat view, the
 * address spaces that share it, then one line per range:
 *   "  0000000000100000-000000001fffffff (prio 0, ram): mfast @0000000000100000"
 * (" @offset" only when the offset is not zero; an accelerator name or
 * owner may follow). We want the view that AS "memory" renders. */
#include "mtree.h"
#include "chan.h"
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int parse_line(const char *l, struct hc_seg *s)
{
	unsigned long long a, b, off = 0;
	int prio, n = 0;
	char type[32], name[64];
	if (sscanf(l, " %llx-%llx (prio %d, %31[^)]): %63s%n", &a, &b, &prio, type, name, &n) != 5)
		return -1;
	if (b < a)
		return -1;
	const char *rest = l + n;
	while (*rest == ' ')
		rest++;
	if (*rest == '@' && sscanf(rest + 1, "%llx", &off) != 1)
		return -1;
	memset(s, 0, sizeof(*s));
	s->gpa = a;
	s->len = b - a + 1;
	if (s->len == 0) /* the whole 64-bit space: not RAM anyway */
		return -1;
	s->off = off;
	s->ram = strcmp(type, "ram") == 0;
	snprintf(s->mr, sizeof(s->mr), "%s", name);
	return 0;
}

static int cmp_seg(const void *a, const void *b)
{
	const struct hc_seg *x = a, *y = b;
	return x->gpa < y->gpa ? -1 : x->gpa > y->gpa;
}

int hc_mtree_parse(const char *text, struct hc_seg **segs, size_t *n, char *why)
{
	const char *p = text;
	int in_memory_view = 0, in_entries = 0, found = 0;
	size_t cap = 0, cnt = 0;
	struct hc_seg *v = NULL;
	while (*p) {
		const char *e = strchr(p, '\n');
		size_t len = e ? (size_t)(e - p) : strlen(p);
		char line[512];
		snprintf(line, sizeof(line), "%.*s", (int)(len < sizeof(line) ? len : sizeof(line) - 1), p);
		p += len + (e ? 1 : 0);
		if (!strncmp(line, "FlatView #", 10)) {
			if (found)
				break; /* done with the view we wanted */
			in_memory_view = in_entries = 0;
			continue;
		}
		if (!strncmp(line, " AS \"memory\",", 13)) {
			in_memory_view = 1;
			continue;
		}
		if (!in_memory_view)
			continue;
		if (!strncmp(line, " Root memory region:", 20)) {
			in_entries = found = 1;
			continue;
		}
		if (!in_entries || line[0] == 0)
			continue;
		struct hc_seg s;
		if (parse_line(line, &s) < 0)
			continue; /* "No rendered FlatView" and the like */
		if (cnt == cap) {
			cap = cap ? cap * 2 : 64;
			struct hc_seg *nv = realloc(v, cap * sizeof(*v));
			if (!nv) {
				free(v);
				snprintf(why, HC_WHY, "out of memory");
				return -1;
			}
			v = nv;
		}
		v[cnt++] = s;
	}
	if (!found || cnt == 0) {
		free(v);
		snprintf(why, HC_WHY, "no flat view for address space \"memory\" in `info mtree -f`");
		return -1;
	}
	qsort(v, cnt, sizeof(*v), cmp_seg);
	for (size_t i = 1; i < cnt; i++)
		if (v[i].gpa < v[i - 1].gpa + v[i - 1].len) {
			snprintf(why, HC_WHY, "overlapping ranges in the flat view at 0x%" PRIx64, v[i].gpa);
			free(v); /* after the message: it reads v[i] */
			return -1;
		}
	*segs = v;
	*n = cnt;
	return 0;
}
