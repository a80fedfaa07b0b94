/* size.h - "1G", "512M", "4096" <-> bytes. */
#ifndef HC_SIZE_H
#define HC_SIZE_H
#include <stdint.h>
/* K/M/G/T suffixes (powers of 1024, optional "iB"); -1 on junk or overflow. */
int hc_parse_size(const char *s, uint64_t *out);
/* Human form into buf ("1.50 GiB"); returns buf. */
const char *hc_fmt_size(uint64_t v, char *buf, int len);
#endif
