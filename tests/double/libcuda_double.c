/* The CUDA driver double: contexts only, no device. Built by tests/double/cuda/_build.py into
 * tests/double/nvidia/cuda_runtime/lib/libcuda.so.1, where matrix/suite/cuda.py already looks (a
 * sys.path entry's nvidia/cuda_runtime/lib). Current contexts are per thread, as in the driver API. */
#include <stdlib.h>
#include <string.h>

typedef int CUresult;
enum { OK = 0, INVALID_VALUE = 1, NOT_INITIALIZED = 3, INVALID_CONTEXT = 201, INVALID_DEVICE = 101 };
#define DEPTH 64
struct ctx { int device; int primary; };
static __thread struct ctx *stack[DEPTH];
static __thread int depth;
static int ready;
static struct ctx primary_ctx = {0, 1};

CUresult cuInit(unsigned flags) { (void)flags; ready = 1; return OK; }
CUresult cuGetErrorString(CUresult status, const char **text) {
    switch (status) {
    case OK: *text = "no error"; break;
    case INVALID_VALUE: *text = "invalid argument"; break;
    case NOT_INITIALIZED: *text = "initialization error"; break;
    case INVALID_CONTEXT: *text = "invalid device context"; break;
    case INVALID_DEVICE: *text = "invalid device ordinal"; break;
    default: *text = "unknown error";
    }
    return OK;
}
CUresult cuDeviceGet(int *device, int ordinal) {
    if (!ready) return NOT_INITIALIZED;
    if (ordinal != 0) return INVALID_DEVICE;
    *device = 0;
    return OK;
}
CUresult cuDeviceGetName(char *name, int len, int device) {
    if (device != 0 || len < 1) return INVALID_VALUE;
    strncpy(name, "TensorRT double device (host memory)", (size_t)len - 1);
    name[len - 1] = 0;
    return OK;
}
CUresult cuCtxCreate_v2(void **out, unsigned flags, int device) {
    struct ctx *c;
    (void)flags;
    if (!ready) return NOT_INITIALIZED;
    if (device != 0 || depth >= DEPTH) return INVALID_VALUE;
    c = calloc(1, sizeof *c);
    stack[depth++] = c;
    *out = c;
    return OK;
}
CUresult cuCtxPushCurrent_v2(void *c) {
    if (!c || depth >= DEPTH) return INVALID_CONTEXT;
    stack[depth++] = c;
    return OK;
}
CUresult cuCtxPopCurrent_v2(void **out) {
    if (depth == 0) return INVALID_CONTEXT;
    *out = stack[--depth];
    return OK;
}
CUresult cuCtxGetCurrent(void **out) { *out = depth ? stack[depth - 1] : NULL; return OK; }
CUresult cuCtxSetCurrent(void *c) {
    if (depth == 0) { if (c) stack[depth++] = c; } else if (c) stack[depth - 1] = c; else depth--;
    return OK;
}
CUresult cuDevicePrimaryCtxRetain(void **out, int device) {
    if (device != 0) return INVALID_DEVICE;
    *out = &primary_ctx;
    return OK;
}
CUresult cuCtxDestroy_v2(void *c) {
    int i;
    if (!c || c == (void *)&primary_ctx) return INVALID_CONTEXT;
    for (i = 0; i < depth; i++) if (stack[i] == c) stack[i] = NULL;
    free(c);
    return OK;
}
