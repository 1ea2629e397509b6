// RetinaFaceDecode_TRTM: the RetinaFace decode step as a TensorRT plugin (IPluginV2IOExt), for this project.
//
// Contract: three inputs, one per level (strides 8, 16, 32), each the channel concatenation of the
// bbox / class / landmark heads ([32, H, W] per item, FP32, linear); one FP32 output row per item,
// [1 + 15 * anchors]: a record count, then records (see decode.h). Field "score_threshold" (float32,
// default 0.02, the threshold tensorrtx's decode plugin uses). It is an IPluginV2IOExt, the interface
// tensorrtx's DecodePlugin implements, so INT8 calibration meets the same plugin runner; it is written
// for explicit-batch networks: TensorRT hands an IPluginV2IOExt its dims without the batch dimension
// and the batch size to enqueue(), in 8.x, 10.x and 11.x alike. IPluginV2IOExt is deprecated from 10.0
// (still present in 11.x); isOutputBroadcastAcrossBatch/canBroadcastInputAcrossBatch exist up to 10.x.
// Built inside each image against that image's headers (Makefile); registered when the library loads.
#include "decode.h"

#include <NvInfer.h>
#include <NvInferVersion.h>

#include <cstring>
#include <string>
#include <vector>

#if defined(__GNUC__)
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
#endif

using namespace nvinfer1;

namespace trtm
{
static char const* const kName = "RetinaFaceDecode_TRTM";
static char const* const kVersion = "1";
static float const kDefaultThreshold = 0.02f;

class RetinaFaceDecode : public IPluginV2IOExt
{
public:
    explicit RetinaFaceDecode(float threshold)
        : mThreshold(threshold)
    {
        std::memset(mHeights, 0, sizeof(mHeights));
        std::memset(mWidths, 0, sizeof(mWidths));
    }

    RetinaFaceDecode(void const* data, size_t length)
        : RetinaFaceDecode(kDefaultThreshold)
    {
        if (length == serialSize())
        {
            char const* p = static_cast<char const*>(data);
            std::memcpy(&mThreshold, p, sizeof(float));
            std::memcpy(mHeights, p + sizeof(float), sizeof(mHeights));
            std::memcpy(mWidths, p + sizeof(float) + sizeof(mHeights), sizeof(mWidths));
        }
    }

    // --- IPluginV2 ---------------------------------------------------------------------------------------
    char const* getPluginType() const noexcept override { return kName; }
    char const* getPluginVersion() const noexcept override { return kVersion; }
    int32_t getNbOutputs() const noexcept override { return 1; }

    Dims getOutputDimensions(int32_t index, Dims const* inputs, int32_t nbInputDims) noexcept override
    {
        Dims out{};
        if (index != 0 || nbInputDims != TRTM_DECODE_LEVELS)
        {
            out.nbDims = -1;
            return out;
        }
        int heights[TRTM_DECODE_LEVELS];
        int widths[TRTM_DECODE_LEVELS];
        for (int l = 0; l < TRTM_DECODE_LEVELS; ++l)
        {
            // the last two dimensions are H and W, whether or not the batch dimension is included
            heights[l] = inputs[l].d[inputs[l].nbDims - 2];
            widths[l] = inputs[l].d[inputs[l].nbDims - 1];
        }
        out.nbDims = 1;
        out.d[0] = 1 + trtm_retinaface_anchor_count(heights, widths) * TRTM_DECODE_RECORD;
        return out;
    }

    int32_t initialize() noexcept override { return 0; }
    void terminate() noexcept override {}
    size_t getWorkspaceSize(int32_t) const noexcept override { return 0; }

    int32_t enqueue(int32_t batchSize, void const* const* inputs, void* const* outputs, void*,
        cudaStream_t stream) noexcept override
    {
        float const* levels[TRTM_DECODE_LEVELS];
        for (int l = 0; l < TRTM_DECODE_LEVELS; ++l)
        {
            levels[l] = static_cast<float const*>(inputs[l]);
        }
        return trtm_retinaface_decode(
            levels, mHeights, mWidths, batchSize, mThreshold, static_cast<float*>(outputs[0]), stream);
    }

    size_t getSerializationSize() const noexcept override { return serialSize(); }

    void serialize(void* buffer) const noexcept override
    {
        char* p = static_cast<char*>(buffer);
        std::memcpy(p, &mThreshold, sizeof(float));
        std::memcpy(p + sizeof(float), mHeights, sizeof(mHeights));
        std::memcpy(p + sizeof(float) + sizeof(mHeights), mWidths, sizeof(mWidths));
    }

    void destroy() noexcept override { delete this; }

    IPluginV2IOExt* clone() const noexcept override
    {
        auto* copy = new RetinaFaceDecode(*this);
        return copy;
    }

    void setPluginNamespace(char const* ns) noexcept override { mNamespace = ns ? ns : ""; }
    char const* getPluginNamespace() const noexcept override { return mNamespace.c_str(); }

    // --- IPluginV2Ext ------------------------------------------------------------------------------------
    DataType getOutputDataType(int32_t, DataType const*, int32_t) const noexcept override { return DataType::kFLOAT; }

#if NV_TENSORRT_MAJOR < 11
    bool isOutputBroadcastAcrossBatch(int32_t, bool const*, int32_t) const noexcept override { return false; }
    bool canBroadcastInputAcrossBatch(int32_t) const noexcept override { return false; }
#endif

    // --- IPluginV2IOExt ----------------------------------------------------------------------------------
    void configurePlugin(PluginTensorDesc const* in, int32_t nbInput, PluginTensorDesc const*, int32_t) noexcept override
    {
        for (int l = 0; l < TRTM_DECODE_LEVELS && l < nbInput; ++l)
        {
            mHeights[l] = in[l].dims.d[in[l].dims.nbDims - 2];
            mWidths[l] = in[l].dims.d[in[l].dims.nbDims - 1];
        }
    }

    bool supportsFormatCombination(int32_t pos, PluginTensorDesc const* inOut, int32_t, int32_t) const noexcept override
    {
        // FP32 and linear only, as tensorrtx's DecodePlugin: under INT8 the builder must feed it FP32
        return inOut[pos].format == TensorFormat::kLINEAR && inOut[pos].type == DataType::kFLOAT;
    }

private:
    static size_t serialSize() { return sizeof(float) + 2 * sizeof(int) * TRTM_DECODE_LEVELS; }

    float mThreshold;
    int mHeights[TRTM_DECODE_LEVELS];
    int mWidths[TRTM_DECODE_LEVELS];
    std::string mNamespace;
};

class RetinaFaceDecodeCreator : public IPluginCreator
{
public:
    RetinaFaceDecodeCreator()
    {
        mFields.emplace_back(PluginField("score_threshold", nullptr, PluginFieldType::kFLOAT32, 1));
        mCollection.nbFields = static_cast<int32_t>(mFields.size());
        mCollection.fields = mFields.data();
    }

    char const* getPluginName() const noexcept override { return kName; }
    char const* getPluginVersion() const noexcept override { return kVersion; }
    PluginFieldCollection const* getFieldNames() noexcept override { return &mCollection; }

    IPluginV2* createPlugin(char const* name, PluginFieldCollection const* fc) noexcept override
    {
        float threshold = kDefaultThreshold;
        for (int32_t i = 0; fc != nullptr && i < fc->nbFields; ++i)
        {
            PluginField const& f = fc->fields[i];
            if (std::strcmp(f.name, "score_threshold") == 0 && f.type == PluginFieldType::kFLOAT32 && f.length == 1
                && f.data != nullptr)
            {
                threshold = *static_cast<float const*>(f.data);
            }
        }
        auto* plugin = new RetinaFaceDecode(threshold);
        plugin->setPluginNamespace(mNamespace.c_str());
        (void) name;
        return plugin;
    }

    IPluginV2* deserializePlugin(char const* name, void const* data, size_t length) noexcept override
    {
        auto* plugin = new RetinaFaceDecode(data, length);
        plugin->setPluginNamespace(mNamespace.c_str());
        (void) name;
        return plugin;
    }

    void setPluginNamespace(char const* ns) noexcept override { mNamespace = ns ? ns : ""; }
    char const* getPluginNamespace() const noexcept override { return mNamespace.c_str(); }

private:
    std::vector<PluginField> mFields;
    PluginFieldCollection mCollection{};
    std::string mNamespace;
};

REGISTER_TENSORRT_PLUGIN(RetinaFaceDecodeCreator);
} // namespace trtm
