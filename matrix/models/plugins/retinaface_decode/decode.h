// RetinaFace decode on the GPU: priors, box and landmark decoding and the score threshold, in one kernel.
//
// Contract: trtm_retinaface_decode() reads, per batch item and per level l (strides 8, 16, 32), a
// [32, H_l, W_l] float32 map laid out as the concatenation, on channels, of RetinaFace's three heads:
// bbox (2 anchors x 4), class logits (2 x [background, face]) and landmarks (2 x 10), exactly the
// 1x1-convolution outputs before Pytorch_Retinaface's permute/view. For every anchor whose softmax face
// score is >= threshold it appends one 15-float record (x1 y1 x2 y2 score, then 5 landmark x y pairs, in
// input pixels) to that item's output row, whose first float counts the records (order not fixed).
// Row size: 1 + 15 * (anchors of the three levels). Written for this project; no TensorRT needed here.
#ifndef TRTM_RETINAFACE_DECODE_H
#define TRTM_RETINAFACE_DECODE_H

#include <cuda_runtime_api.h>

#define TRTM_DECODE_LEVELS 3
#define TRTM_DECODE_ANCHORS 2
#define TRTM_DECODE_CHANNELS 32 /* 2 * (4 + 2 + 10) */
#define TRTM_DECODE_RECORD 15

#ifdef __cplusplus
extern "C" {
#endif

/* Anchors of one image: 2 per cell over the three levels. */
int trtm_retinaface_anchor_count(const int* heights, const int* widths);

/* levels[l]: device pointer to [batch, 32, heights[l], widths[l]]; out: device [batch, row]. Returns a
   cudaError_t value (0 on success). The output is cleared on `stream` first. */
int trtm_retinaface_decode(const float* const* levels, const int* heights, const int* widths, int batch,
    float threshold, float* out, cudaStream_t stream);

#ifdef __cplusplus
}
#endif

#endif
