/* prom.c - the text exposition format: one family at a time, samples of a
 * family together, label values escaped (VM names come from the operator). */
#include "prom.h"
#include <inttypes.h>

const char *hc_prom_escape(const char *s, char *b, size_t n)
{
	size_t k = 0;
	for (; *s && k + 3 < n; s++) {
		if (*s == '\\' || *s == '"')
			b[k++] = '\\', b[k++] = *s;
		else if (*s == '\n')
			b[k++] = '\\', b[k++] = 'n';
		else
			b[k++] = *s;
	}
	b[k] = 0;
	return b;
}

static const struct { unsigned bit; const char *name, *help; } fam[] = {
	{ HC_PM_SIZE, "size", "Guest memory of the tier's NUMA node (backend size)." },
	{ HC_PM_QUOTA, "quota", "Quota in force for the tier." },
	{ HC_PM_BALLOON, "balloon", "Guest memory the agent holds in the tier's balloon." },
	{ HC_PM_BACKED, "host_backed", "Host memory backing the tier's backend file." },
	{ HC_PM_FREE, "guest_free", "Free memory the guest reports on the tier's node." },
	{ HC_PM_DEMAND, "demand", "Hot set the guest's HyperTier processes report (fast tier)." },
};

void hc_prom_write(FILE *f, const struct hc_prom_vm *v, size_t n)
{
	char e[256];
	fprintf(f, "# HELP hypertier_vm_agent_up Whether the VM's guest agent answered (1) or not (0).\n"
		   "# TYPE hypertier_vm_agent_up gauge\n");
	for (size_t i = 0; i < n; i++)
		fprintf(f, "hypertier_vm_agent_up{vm=\"%s\"} %d\n", hc_prom_escape(v[i].name, e, sizeof(e)), !!v[i].up);
	for (size_t k = 0; k < sizeof(fam) / sizeof(fam[0]); k++) {
		fprintf(f, "# HELP hypertier_vm_tier_%s_bytes %s\n# TYPE hypertier_vm_tier_%s_bytes gauge\n", fam[k].name,
			fam[k].help, fam[k].name);
		for (size_t i = 0; i < n; i++)
			for (int t = 0; t < HC_NTIERS; t++) {
				uint64_t x;
				if (!(v[i].t[t].has & fam[k].bit))
					continue;
				switch (fam[k].bit) {
				case HC_PM_SIZE: x = v[i].t[t].size; break;
				case HC_PM_QUOTA: x = v[i].t[t].quota; break;
				case HC_PM_BALLOON: x = v[i].t[t].balloon; break;
				case HC_PM_BACKED: x = v[i].t[t].backed; break;
				case HC_PM_FREE: x = v[i].t[t].free; break;
				default: x = v[i].t[t].demand; break;
				}
				fprintf(f, "hypertier_vm_tier_%s_bytes{vm=\"%s\",tier=\"%s\"} %" PRIu64 "\n", fam[k].name,
					hc_prom_escape(v[i].name, e, sizeof(e)), hc_tier_name[t], x);
			}
	}
}
