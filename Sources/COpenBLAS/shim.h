#ifndef REPRO_COPENBLAS_SHIM_H
#define REPRO_COPENBLAS_SHIM_H
#include <stddef.h>
#include <cblas.h>

// libopenblas exports the Fortran LAPACK routines but no LAPACKE. gfortran ABI: every
// argument by pointer, then one hidden size_t length per CHARACTER argument.

/// Symmetric tridiagonal eigenproblem (eigenvalues and, with compz = "I", eigenvectors).
void dsteqr_(const char *compz, const int *n, double *d, double *e, double *z,
             const int *ldz, double *work, int *info, size_t compz_len);

/// Dense symmetric eigenproblem (jobz = "N" or "V", uplo = "U" or "L").
void dsyev_(const char *jobz, const char *uplo, const int *n, double *a, const int *lda,
            double *w, double *work, const int *lwork, int *info,
            size_t jobz_len, size_t uplo_len);

#endif
