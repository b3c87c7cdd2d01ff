#ifndef ATTNBOUND_BLAS_CORE_H
#define ATTNBOUND_BLAS_CORE_H

/// What happened to OpenBLAS's core choice when this library was loaded.
typedef enum {
    ATTNBOUND_BLAS_CORE_AS_DETECTED = 0,  ///< OpenBLAS's own choice stands (it is not a generic fallback).
    ATTNBOUND_BLAS_CORE_USER_SET = 1,     ///< OPENBLAS_CORETYPE was set by the user: never overridden.
    ATTNBOUND_BLAS_CORE_AUTO_SELECTED = 2,///< A generic fallback was replaced by a core the CPU supports.
    ATTNBOUND_BLAS_CORE_GENERIC_KEPT = 3, ///< A generic fallback remains on a CPU with AVX2/AVX-512 (opt-out or no DYNAMIC_ARCH).
    ATTNBOUND_BLAS_CORE_NOT_OPENBLAS = 4  ///< openblas_get_corename is absent: some other BLAS.
} attnbound_blas_core_selection;

/// The selection made at load time (see blas_core.c).
attnbound_blas_core_selection attnbound_blas_core_selection_made(void);

/// OpenBLAS's core name now in use (e.g. "SkylakeX"), or "" when not OpenBLAS.
const char *attnbound_blas_corename(void);

/// The core OpenBLAS had chosen by itself before any selection, or "".
const char *attnbound_blas_detected_corename(void);

/// openblas_get_config(): library version and build options, or "".
const char *attnbound_blas_config(void);

/// Best core for this CPU by cpuid: "SkylakeX" (AVX-512 F/BW/DQ/VL), "Haswell" (AVX2+FMA), or "".
const char *attnbound_blas_cpu_best_core(void);

/// 1 when `name` is one of OpenBLAS's pre-AVX2 cores (Prescott, Core2, Nehalem, Katmai, …).
int attnbound_blas_core_is_generic(const char *name);

/// Stops OpenBLAS's idle pool threads (which spin with sched_yield for about 0.1 s after each threaded call
/// before they sleep); OpenBLAS starts them again at its next threaded call. No-op for other BLASes.
/// Only for a pool no other thread can be using (see blas_core.c).
void attnbound_blas_release_idle_threads(void);

/// 1 when OpenBLAS's thread pool exists (0 after a release, or for other BLASes).
int attnbound_blas_pool_running(void);

#endif
