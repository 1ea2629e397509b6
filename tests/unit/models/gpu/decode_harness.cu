// Test harness (not shipped): runs the RetinaFace decode kernel on the GPU on maps read from a file.
// in:  int32 batch, then 3 x (int32 H, int32 W), then float32 level maps [batch, 32, H, W] in order
// out: float32 [batch, 1 + 15 * anchors], as the plugin's output row
#include "decode.h"

#include <cstdio>
#include <cstdlib>
#include <vector>

#define CHECK(x)                                                                                                       \
    do                                                                                                                 \
    {                                                                                                                  \
        cudaError_t e = (x);                                                                                           \
        if (e != cudaSuccess)                                                                                          \
        {                                                                                                              \
            std::fprintf(stderr, "%s: %s\n", #x, cudaGetErrorString(e));                                              \
            return 2;                                                                                                  \
        }                                                                                                              \
    } while (0)

int main(int argc, char** argv)
{
    if (argc != 4)
    {
        std::fprintf(stderr, "usage: %s IN OUT THRESHOLD\n", argv[0]);
        return 1;
    }
    FILE* in = std::fopen(argv[1], "rb");
    if (!in)
    {
        return 1;
    }
    int batch = 0;
    int hw[6];
    if (std::fread(&batch, 4, 1, in) != 1 || std::fread(hw, 4, 6, in) != 6)
    {
        return 1;
    }
    int heights[3] = {hw[0], hw[2], hw[4]};
    int widths[3] = {hw[1], hw[3], hw[5]};
    float* device[3];
    for (int l = 0; l < 3; ++l)
    {
        size_t n = static_cast<size_t>(batch) * TRTM_DECODE_CHANNELS * heights[l] * widths[l];
        std::vector<float> host(n);
        if (std::fread(host.data(), 4, n, in) != n)
        {
            return 1;
        }
        CHECK(cudaMalloc(&device[l], n * 4));
        CHECK(cudaMemcpy(device[l], host.data(), n * 4, cudaMemcpyHostToDevice));
    }
    std::fclose(in);
    const int row = 1 + trtm_retinaface_anchor_count(heights, widths) * TRTM_DECODE_RECORD;
    float* out = nullptr;
    CHECK(cudaMalloc(&out, static_cast<size_t>(row) * batch * 4));
    cudaStream_t stream;
    CHECK(cudaStreamCreate(&stream));
    const float* levels[3] = {device[0], device[1], device[2]};
    CHECK(static_cast<cudaError_t>(
        trtm_retinaface_decode(levels, heights, widths, batch, static_cast<float>(std::atof(argv[3])), out, stream)));
    CHECK(cudaStreamSynchronize(stream));
    std::vector<float> host(static_cast<size_t>(row) * batch);
    CHECK(cudaMemcpy(host.data(), out, host.size() * 4, cudaMemcpyDeviceToHost));
    FILE* o = std::fopen(argv[2], "wb");
    std::fwrite(host.data(), 4, host.size(), o);
    std::fclose(o);
    return 0;
}
