// OpenBLAS core selection at load time.
//
// Why: Debian's OpenBLAS 0.3.21 (DYNAMIC_ARCH) does not know recent CPUs
// (e.g. Xeon family 6 model 207, Emerald Rapids) and falls back to the generic
// "Prescott" core: every gemm runs 3-5x slower than the CPU allows, silently.
//
// How: OpenBLAS picks its core in its own load-time constructor, which runs
// before this one (a shared library's initialisers run before those of the
// objects that depend on it). If the core it picked is a generic pre-AVX2 one
// while cpuid reports AVX-512 or AVX2, and OPENBLAS_CORETYPE is unset, we set
// OPENBLAS_CORETYPE (so child processes agree) and ask OpenBLAS to redo its
// dynamic-arch choice (gotoblas_dynamic_quit + gotoblas_dynamic_init, exported
// by DYNAMIC_ARCH builds; weak, so other builds and BLASes link too). This
// happens before main, single-threaded, before any BLAS call: measured to give
// the same sgemm rate as setting the variable by hand.
//
// Never overrides an OPENBLAS_CORETYPE that is set: some machines set it on
// purpose. ATTNBOUND_BLAS_AUTOCORE=0 turns the selection off.
#include "blas_core.h"
#include <stdlib.h>
#include <string.h>
#include <strings.h>

extern char *openblas_get_corename(void) __attribute__((weak));
extern char *openblas_get_config(void) __attribute__((weak));
extern void gotoblas_dynamic_init(void) __attribute__((weak));
extern void gotoblas_dynamic_quit(void) __attribute__((weak));
extern int blas_thread_shutdown_(void) __attribute__((weak));
extern int blas_server_avail __attribute__((weak));

static attnbound_blas_core_selection selection = ATTNBOUND_BLAS_CORE_NOT_OPENBLAS;
static char detected[32];

int attnbound_blas_core_is_generic(const char *name) {
    static const char *const generic[] = {
        "Unknown", "Katmai", "Coppermine", "Northwood", "Prescott", "Banias", "Core2", "Penryn", "Dunnington",
        "Nehalem", "Atom", "Nano", "Athlon", "Opteron", "Opteron_SSE3", "Barcelona", "Bobcat", "Sandybridge",
    };
    if (!name) return 0;
    for (size_t i = 0; i < sizeof generic / sizeof generic[0]; i++)
        if (strcasecmp(name, generic[i]) == 0) return 1;
    return 0;
}

const char *attnbound_blas_cpu_best_core(void) {
#if defined(__x86_64__) && (defined(__clang__) || defined(__GNUC__))
    __builtin_cpu_init();
    // __builtin_cpu_supports also checks that the OS saves the wide registers (xgetbv).
    if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
        __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512vl"))
        return "SkylakeX";
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return "Haswell";
#endif
    return "";
}

const char *attnbound_blas_corename(void) {
    if (!openblas_get_corename) return "";
    const char *n = openblas_get_corename();
    return n ? n : "";
}

const char *attnbound_blas_detected_corename(void) { return detected; }

const char *attnbound_blas_config(void) {
    if (!openblas_get_config) return "";
    const char *c = openblas_get_config();
    return c ? c : "";
}

attnbound_blas_core_selection attnbound_blas_core_selection_made(void) { return selection; }

// Why: an idle OpenBLAS pool thread spins (sched_yield) for 2^28 TSC ticks after the pool starts and after
// every threaded call before it sleeps. Our kernels run BLAS single-threaded inside their own workers, so on
// a 2-core machine that spinner takes a share of a core from them: measured 0.17 s -> 0.135 s for a whole
// `attention --do` process at n = 4096 (the same as OPENBLAS_THREAD_TIMEOUT=4, which we may not set for the
// user). OpenBLAS re-creates the pool by itself at the next threaded call or thread-count change
// (blas_thread_init, "lazy re-init" in exec_blas and goto_set_num_threads), so stopping it is always safe.
// Never while another thread may have work on the pool: a thread that finishes a job after the shutdown marked it
// resets its queue and is never joined. Callers stop only a pool that no one has used (at load, before any BLAS
// call; or one that openblas_set_num_threads has just started; see BLASThreads).
void attnbound_blas_release_idle_threads(void) {
    if (blas_thread_shutdown_) blas_thread_shutdown_();
}

int attnbound_blas_pool_running(void) { return &blas_server_avail != 0 && blas_server_avail != 0; }

static void attnbound_blas_select_core_once(void);

__attribute__((constructor)) static void attnbound_blas_select_core(void) {
    if (!openblas_get_corename) return;  // not OpenBLAS
    attnbound_blas_select_core_once();
    // No BLAS call has been made yet: the pool started at load would only spin beside the first work.
    attnbound_blas_release_idle_threads();
}

static void attnbound_blas_select_core_once(void) {
    strncpy(detected, attnbound_blas_corename(), sizeof detected - 1);
    const char *user = getenv("OPENBLAS_CORETYPE");
    if (user && *user) { selection = ATTNBOUND_BLAS_CORE_USER_SET; return; }
    const char *best = attnbound_blas_cpu_best_core();
    if (!attnbound_blas_core_is_generic(detected) || !*best) { selection = ATTNBOUND_BLAS_CORE_AS_DETECTED; return; }
    const char *opt = getenv("ATTNBOUND_BLAS_AUTOCORE");
    if ((opt && strcmp(opt, "0") == 0) || !gotoblas_dynamic_init || !gotoblas_dynamic_quit) {
        selection = ATTNBOUND_BLAS_CORE_GENERIC_KEPT;
        return;
    }
    setenv("OPENBLAS_CORETYPE", best, 0);
    gotoblas_dynamic_quit();
    gotoblas_dynamic_init();
    selection = attnbound_blas_core_is_generic(attnbound_blas_corename()) ? ATTNBOUND_BLAS_CORE_GENERIC_KEPT
                                                                          : ATTNBOUND_BLAS_CORE_AUTO_SELECTED;
}
