/* HYPERTIER_CONF parser: any string, over the defaults. Parses only: no
 * runtime is started. An error line must never echo a control byte. */
#include "fuzz.h"
#include "core/conf.h"
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char s[9000];
	char err[256] = "";
	struct ht_conf c;
	uint64_t u;
	if (size >= sizeof(s))
		return 0;
	memcpy(s, data, size);
	s[size] = 0;
	ht_conf_defaults(&c);
	if (ht_conf_parse(&c, s, err, sizeof(err)) < 0) {
		FUZZ_ASSERT(err[0]);
		for (const char *p = err; *p; p++)
			FUZZ_ASSERT((unsigned char)*p >= 0x20 && *p != 0x7f);
	} else {
		FUZZ_ASSERT(c.period_min <= c.period_max && !(c.ring_pages & (c.ring_pages - 1)));
		FUZZ_ASSERT(strlen(c.replay) < HT_CONF_STRLEN);
	}
	ht_parse_size(s, &u);
	ht_parse_dur_us(s, &u);
	ht_conf_enum_name("sample", (int)c.sample);
	return 0;
}
