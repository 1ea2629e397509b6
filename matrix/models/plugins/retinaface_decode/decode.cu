// The RetinaFace decode kernel (see decode.h for the contract). Priors follow Pytorch_Retinaface's
// PriorBox: centre ((x + 0.5) * step, (y + 0.5) * step), sizes 16/32, 64/128, 256/512 for steps 8/16/32;
// decoding uses the variances 0.1 (centre, landmarks) and 0.2 (size).
#include "decode.h"

namespace
{
__constant__ float kMinSizes[TRTM_DECODE_LEVELS][TRTM_DECODE_ANCHORS] = {{16.f, 32.f}, {64.f, 128.f}, {256.f, 512.f}};
__constant__ float kSteps[TRTM_DECODE_LEVELS] = {8.f, 16.f, 32.f};

struct Level
{
    const float* data;
    int height;
    int width;
};

struct Levels
{
    Level level[TRTM_DECODE_LEVELS];
};

__global__ void decodeKernel(Levels levels, int perImage, int row, float threshold, float* out)
{
    const int item = blockIdx.y;
    int idx = blockIdx.x * blockDim.x + threadIdx.x;
    if (idx >= perImage)
    {
        return;
    }
    int l = 0;
    while (l < TRTM_DECODE_LEVELS - 1 && idx >= levels.level[l].height * levels.level[l].width * TRTM_DECODE_ANCHORS)
    {
        idx -= levels.level[l].height * levels.level[l].width * TRTM_DECODE_ANCHORS;
        ++l;
    }
    const Level lv = levels.level[l];
    const int plane = lv.height * lv.width;
    const int cell = idx / TRTM_DECODE_ANCHORS;
    const int a = idx % TRTM_DECODE_ANCHORS;
    const int y = cell / lv.width;
    const int x = cell % lv.width;
    const float* base = lv.data + static_cast<size_t>(item) * TRTM_DECODE_CHANNELS * plane + cell;

    const float background = base[(8 + a * 2) * plane];
    const float face = base[(8 + a * 2 + 1) * plane];
    const float score = 1.f / (1.f + expf(background - face));
    if (!(score >= threshold))
    {
        return;
    }
    float* rowBase = out + static_cast<size_t>(item) * row;
    const int slot = static_cast<int>(atomicAdd(rowBase, 1.f));
    float* rec = rowBase + 1 + static_cast<size_t>(slot) * TRTM_DECODE_RECORD;

    const float size = kMinSizes[l][a];
    const float cx = (x + 0.5f) * kSteps[l];
    const float cy = (y + 0.5f) * kSteps[l];
    const float* box = base + (a * 4) * plane;
    const float bx = cx + box[0] * 0.1f * size;
    const float by = cy + box[plane] * 0.1f * size;
    const float bw = size * expf(box[2 * plane] * 0.2f);
    const float bh = size * expf(box[3 * plane] * 0.2f);
    rec[0] = bx - bw * 0.5f;
    rec[1] = by - bh * 0.5f;
    rec[2] = bx + bw * 0.5f;
    rec[3] = by + bh * 0.5f;
    rec[4] = score;
    const float* lmk = base + (12 + a * 10) * plane;
    for (int k = 0; k < 5; ++k)
    {
        rec[5 + 2 * k] = cx + lmk[(2 * k) * plane] * 0.1f * size;
        rec[6 + 2 * k] = cy + lmk[(2 * k + 1) * plane] * 0.1f * size;
    }
}
} // namespace

extern "C" int trtm_retinaface_anchor_count(const int* heights, const int* widths)
{
    int n = 0;
    for (int l = 0; l < TRTM_DECODE_LEVELS; ++l)
    {
        n += heights[l] * widths[l] * TRTM_DECODE_ANCHORS;
    }
    return n;
}

extern "C" int trtm_retinaface_decode(const float* const* levels, const int* heights, const int* widths, int batch,
    float threshold, float* out, cudaStream_t stream)
{
    Levels lv;
    for (int l = 0; l < TRTM_DECODE_LEVELS; ++l)
    {
        lv.level[l].data = levels[l];
        lv.level[l].height = heights[l];
        lv.level[l].width = widths[l];
    }
    const int perImage = trtm_retinaface_anchor_count(heights, widths);
    const int row = 1 + perImage * TRTM_DECODE_RECORD;
    cudaError_t err = cudaMemsetAsync(out, 0, sizeof(float) * static_cast<size_t>(row) * batch, stream);
    if (err != cudaSuccess)
    {
        return static_cast<int>(err);
    }
    const int threads = 256;
    dim3 grid((perImage + threads - 1) / threads, batch);
    decodeKernel<<<grid, threads, 0, stream>>>(lv, perImage, row, threshold, out);
    return static_cast<int>(cudaGetLastError());
}
