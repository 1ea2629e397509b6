// destroy_order: build a tiny network with the TensorRT C++ API, then destroy the objects in the
// order named on the command line, and report what TensorRT logged and whether the plan survives.
//
//   destroy_order right|builder-first|runtime-first
//
// Output, one record per line, tab-separated (parsed by matrix/suite/checks/destroy_order.py):
//   LOG <severity> <message>     every message TensorRT gave the logger
//   STEP <name>                  progress, so a crash can be placed
//   RESULT plan_valid 0|1        the plan, copied out before the destruction, still deserializes
// Objects are released with destroy() on 8.x (as tensorrtx did) and with delete from 10.0, where
// destroy() no longer exists. Part of trt-matrix; compiled inside each image against its headers.

#include <NvInfer.h>
#include <NvInferVersion.h>

#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

namespace
{
using namespace nvinfer1;

class PrintingLogger : public ILogger
{
public:
    void log(Severity severity, AsciiChar const* msg) noexcept override
    {
        char const* name = "info";
        switch (severity)
        {
        case Severity::kINTERNAL_ERROR: name = "internal_error"; break;
        case Severity::kERROR: name = "error"; break;
        case Severity::kWARNING: name = "warning"; break;
        case Severity::kINFO: name = "info"; break;
        case Severity::kVERBOSE: name = "verbose"; break;
        }
        std::string text(msg ? msg : "");
        for (char& c : text)
        {
            if (c == '\n' || c == '\t')
                c = ' ';
        }
        std::printf("LOG\t%s\t%s\n", name, text.c_str());
        std::fflush(stdout);
    }
};

template <typename T>
void release(T* object)
{
    if (object == nullptr)
        return;
#if NV_TENSORRT_MAJOR < 10
    object->destroy();
#else
    delete object;
#endif
}

void step(char const* name)
{
    std::printf("STEP\t%s\n", name);
    std::fflush(stdout);
}

NetworkDefinitionCreationFlags explicitBatch()
{
#if NV_TENSORRT_MAJOR < 10
    return 1U << static_cast<uint32_t>(NetworkDefinitionCreationFlag::kEXPLICIT_BATCH);
#else
    return 0U; // networks are always explicit batch from 10.0 (the flag is ignored, then gone in 11.0)
#endif
}

// input 1x3x32x32 -> 3x3 convolution (8 maps) -> ReLU -> output
INetworkDefinition* buildNetwork(IBuilder* builder, std::vector<float>& weights, std::vector<float>& bias)
{
    INetworkDefinition* network = builder->createNetworkV2(explicitBatch());
    if (network == nullptr)
        return nullptr;
    ITensor* input = network->addInput("input", DataType::kFLOAT, Dims4{1, 3, 32, 32});
    weights.assign(8 * 3 * 3 * 3, 0.0F);
    for (size_t i = 0; i < weights.size(); ++i)
        weights[i] = static_cast<float>((i % 7) - 3) / 10.0F;
    bias.assign(8, 0.1F);
    Weights kernel{DataType::kFLOAT, weights.data(), static_cast<int64_t>(weights.size())};
    Weights biasWeights{DataType::kFLOAT, bias.data(), static_cast<int64_t>(bias.size())};
    IConvolutionLayer* conv = network->addConvolutionNd(*input, 8, Dims{2, {3, 3}}, kernel, biasWeights);
    IActivationLayer* relu = network->addActivation(*conv->getOutput(0), ActivationType::kRELU);
    relu->getOutput(0)->setName("output");
    network->markOutput(*relu->getOutput(0));
    return network;
}

bool planLoads(PrintingLogger& logger, std::vector<char> const& plan)
{
    IRuntime* runtime = createInferRuntime(logger);
    if (runtime == nullptr)
        return false;
    ICudaEngine* engine = runtime->deserializeCudaEngine(plan.data(), plan.size());
    bool ok = engine != nullptr;
    if (engine != nullptr)
    {
        IExecutionContext* context = engine->createExecutionContext();
        ok = context != nullptr;
        release(context);
    }
    release(engine);
    release(runtime);
    return ok;
}
} // namespace

int main(int argc, char** argv)
{
    std::string mode = argc > 1 ? argv[1] : "";
    if (mode != "right" && mode != "builder-first" && mode != "runtime-first")
    {
        std::fprintf(stderr, "usage: %s right|builder-first|runtime-first\n", argv[0]);
        return 2;
    }
    PrintingLogger logger;
    std::vector<float> weights;
    std::vector<float> bias;

    step("build");
    IBuilder* builder = createInferBuilder(logger);
    if (builder == nullptr)
        return 3;
    INetworkDefinition* network = buildNetwork(builder, weights, bias);
    IBuilderConfig* config = builder->createBuilderConfig();
    config->setMemoryPoolLimit(MemoryPoolType::kWORKSPACE, 1U << 26);
    IHostMemory* serialized = builder->buildSerializedNetwork(*network, *config);
    if (serialized == nullptr)
        return 4;
    std::vector<char> plan(static_cast<char const*>(serialized->data()),
        static_cast<char const*>(serialized->data()) + serialized->size());

    step("deserialize");
    IRuntime* runtime = createInferRuntime(logger);
    ICudaEngine* engine = runtime->deserializeCudaEngine(plan.data(), plan.size());
    if (engine == nullptr)
        return 5;
    IExecutionContext* context = engine->createExecutionContext();

    step(("destroy:" + mode).c_str());
    if (mode == "right")
    {
        release(context);
        release(engine);
        release(runtime);
        release(serialized);
        release(network);
        release(config);
        release(builder);
    }
    else if (mode == "builder-first")
    {
        // as tensorrtx's APIToModel did before its fix: the builder goes while what it made lives
        release(builder);
        release(network);
        release(config);
        release(serialized);
        release(context);
        release(engine);
        release(runtime);
    }
    else
    {
        // the runtime goes while the engine it deserialized (and that engine's context) live
        release(runtime);
        release(context);
        release(engine);
        release(serialized);
        release(network);
        release(config);
        release(builder);
    }

    step("reload");
    std::printf("RESULT\tplan_valid\t%d\n", planLoads(logger, plan) ? 1 : 0);
    std::fflush(stdout);
    return 0;
}
