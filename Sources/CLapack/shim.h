// CBLAS + LAPACKE from Debian's OpenBLAS (libopenblas-dev, liblapacke-dev).
#include <cblas.h>
#include <lapacke.h>
