#ifndef REPRO_CCAIRO_SHIM_H
#define REPRO_CCAIRO_SHIM_H
#include <cairo/cairo.h>
#include <cairo/cairo-svg.h>
#endif
