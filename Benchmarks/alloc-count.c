// Counts heap allocations for Benchmarks/allocations-per-message.sh: LD_PRELOADed into a process,
// it counts every malloc, calloc, realloc and aligned allocation and writes the total to the file
// named by ALLOC_COUNT_FILE when the process exits. valgrind's tools cannot run Swift binaries on
// this Debian (DWARF 5, libdispatch), and the machines have no hardware counters for perf.
//
// With ALLOC_SITES_FILE set it also samples one allocation in ALLOC_SITES_EVERY (default 61) and
// counts its call stack; at exit it writes each stack seen, as "count module+offset ...", for
// Benchmarks/allocation-sites.sh to name.
#define _GNU_SOURCE
#include <dlfcn.h>
#include <execinfo.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static atomic_ulong count;

#define SITE_DEPTH 14
#define SITE_SLOTS 16384
struct site { void *frames[SITE_DEPTH]; int depth; unsigned long hits; };
static struct site sites[SITE_SLOTS];
static atomic_flag sites_lock = ATOMIC_FLAG_INIT;
static int sampling = -1;  // -1: not yet decided
static unsigned long every = 61;
static __thread int in_sample;

// Called for every counted allocation: every `every`-th one records its stack.
static void sample(unsigned long n) {
    if (sampling == 0 || in_sample) return;
    if (sampling < 0) {
        const char *every_text = getenv("ALLOC_SITES_EVERY");
        if (every_text && atol(every_text) > 0) every = (unsigned long)atol(every_text);
        sampling = getenv("ALLOC_SITES_FILE") != NULL;
        if (!sampling) return;
    }
    if (n % every != 0) return;
    in_sample = 1;
    void *frames[SITE_DEPTH + 2];
    int depth = backtrace(frames, SITE_DEPTH + 2) - 2;  // without sample() and the allocator
    if (depth > 0) {
        uint64_t hash = 1469598103934665603ULL;
        for (int i = 0; i < depth; i++) hash = (hash ^ (uint64_t)frames[i + 2]) * 1099511628211ULL;
        while (atomic_flag_test_and_set_explicit(&sites_lock, memory_order_acquire)) {}
        for (unsigned long probe = 0; probe < SITE_SLOTS; probe++) {
            struct site *slot = &sites[(hash + probe) % SITE_SLOTS];
            if (slot->hits == 0) {
                memcpy(slot->frames, frames + 2, sizeof(void *) * depth);
                slot->depth = depth;
            } else if (slot->depth != depth || memcmp(slot->frames, frames + 2, sizeof(void *) * depth) != 0) {
                continue;
            }
            slot->hits++;
            break;
        }
        atomic_flag_clear_explicit(&sites_lock, memory_order_release);
    }
    in_sample = 0;
}

static void count_one(void) {
    unsigned long n = atomic_fetch_add_explicit(&count, 1, memory_order_relaxed);
    sample(n);
}
static void *(*real_malloc)(size_t);
static void *(*real_calloc)(size_t, size_t);
static void *(*real_realloc)(void *, size_t);
static int (*real_posix_memalign)(void **, size_t, size_t);
static void *(*real_aligned_alloc)(size_t, size_t);

// dlsym itself may calloc before real_calloc is known: serve it from a small static buffer.
static char early[4096];
static size_t early_used;

static void *early_alloc(size_t size) {
    size = (size + 15) & ~(size_t)15;
    if (early_used + size > sizeof early) return NULL;
    void *p = early + early_used;
    early_used += size;
    return p;
}

void *malloc(size_t size) {
    if (!real_malloc) real_malloc = dlsym(RTLD_NEXT, "malloc");
    count_one();
    return real_malloc(size);
}

void *calloc(size_t n, size_t size) {
    if (!real_calloc) {
        static int resolving;
        if (resolving) return early_alloc(n * size);
        resolving = 1;
        real_calloc = dlsym(RTLD_NEXT, "calloc");
        resolving = 0;
    }
    count_one();
    return real_calloc(n, size);
}

void *realloc(void *p, size_t size) {
    if (!real_realloc) real_realloc = dlsym(RTLD_NEXT, "realloc");
    count_one();
    return real_realloc(p, size);
}

int posix_memalign(void **p, size_t alignment, size_t size) {
    if (!real_posix_memalign) real_posix_memalign = dlsym(RTLD_NEXT, "posix_memalign");
    count_one();
    return real_posix_memalign(p, alignment, size);
}

void *aligned_alloc(size_t alignment, size_t size) {
    if (!real_aligned_alloc) real_aligned_alloc = dlsym(RTLD_NEXT, "aligned_alloc");
    count_one();
    return real_aligned_alloc(alignment, size);
}

void free(void *p) {
    static void (*real_free)(void *);
    if ((char *)p >= early && (char *)p < early + sizeof early) return;
    if (!real_free) real_free = dlsym(RTLD_NEXT, "free");
    real_free(p);
}

__attribute__((destructor)) static void report(void) {
    const char *path = getenv("ALLOC_COUNT_FILE");
    if (!path) return;
    FILE *file = fopen(path, "w");
    if (!file) return;
    fprintf(file, "%lu\n", atomic_load(&count));
    fclose(file);
    const char *sites_path = getenv("ALLOC_SITES_FILE");
    if (!sites_path) return;
    sampling = 0;
    FILE *out = fopen(sites_path, "w");
    if (!out) return;
    fprintf(out, "every %lu\n", every);
    for (int i = 0; i < SITE_SLOTS; i++) {
        if (sites[i].hits == 0) continue;
        fprintf(out, "%lu", sites[i].hits);
        for (int f = 0; f < sites[i].depth; f++) {
            Dl_info info;
            if (dladdr(sites[i].frames[f], &info) && info.dli_fname) {
                fprintf(out, " %s+0x%lx", info.dli_fname, (unsigned long)((char *)sites[i].frames[f] - (char *)info.dli_fbase) - 1);
            } else {
                fprintf(out, " ?");
            }
        }
        fprintf(out, "\n");
    }
    fclose(out);
}
