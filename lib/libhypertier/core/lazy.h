/* lazy.h - the runtime's heavy libraries, loaded when it turns on (lazy.c). */
#ifndef HT_LAZY_H
#define HT_LAZY_H
#include <stddef.h>

/* Loads libnuma, libpfm4 and libunwind once; -1 with the reason in err if one is missing. */
int ht_lazy_load(char *err, size_t errlen);
#endif
