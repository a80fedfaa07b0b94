/* policy.c - the policies by name. */
#include <string.h>
#include "bench.h"

static const struct policy_ops *const all[] = {
	&pol_first_touch, &pol_hemem, &pol_memtis, &pol_tpp, &pol_hypertier,
	&pol_oracle_epoch, &pol_oracle_cost, &pol_oracle_static,
};

const struct policy_ops *policy_find(const char *name)
{
	for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++)
		if (!strcmp(all[i]->name, name))
			return all[i];
	return NULL;
}
