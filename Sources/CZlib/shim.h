#ifndef REPRO_CZLIB_SHIM_H
#define REPRO_CZLIB_SHIM_H
#include <zlib.h>
#endif
