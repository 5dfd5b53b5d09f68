// TensorFlow Lite model files (.tflite, FlatBuffers "TFL3"): the first subgraph as plain data.
//
// The reader knows the part of TFLite's schema that float inference needs: tensors (shape,
// element type, constant bytes, quantization, sparsity), operator codes and the options of the
// operators in `OperatorKind`. Every table, vector and string is checked by FlatBuffers' own
// Verifier before it is read, every tensor and operator index is range-checked and every size is
// checked arithmetic, so a hostile file ends in InputError, never in a crash. An operator outside
// the supported set is "FILE: unsupported operator NAME (builtin code N), operator K".
//
// Sparse constants (TFLite's SparsityParameters: traversal order, block map, dense and CSR
// dimensions) are expanded by `dense_bytes`; MediaPipe's pose detector stores its weights so.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace poselift::tflite {

// TFLite's TensorType codes, for the types a float model uses.
enum class ElementType : std::int8_t {
  Float32 = 0,
  Float16 = 1,
  Int32 = 2,
  UInt8 = 3,
  Int64 = 4,
  Int8 = 9,
};
std::size_t element_size(ElementType type);
const char* element_type_name(ElementType type);

// One dimension of a sparse tensor's storage, in traversal order.
struct SparseDimension {
  bool compressed = false;             // CSR: indices of the stored coordinates per segment
  std::int32_t dense_size = 0;         // size of a dense dimension
  std::vector<std::int32_t> segments;  // CSR: element k's coordinates are indices[segments[k]..segments[k+1])
  std::vector<std::int32_t> indices;
};

struct Sparsity {
  std::vector<std::int32_t> traversal_order;  // n + k entries for an n-d tensor with k-d blocks
  std::vector<std::int32_t> block_map;        // block dimension i refines tensor dimension block_map[i]
  std::vector<SparseDimension> dimensions;    // n + k, in traversal order
};

// Affine quantization: value = scale * (q - zero_point), per tensor or along `dimension`.
struct Quantization {
  std::vector<float> scale;
  std::vector<std::int64_t> zero_point;
  std::int32_t dimension = 0;
};

struct Tensor {
  std::string name;
  std::vector<std::int64_t> shape;  // TFLite's layout: NHWC for images
  ElementType type = ElementType::Float32;
  bool constant = false;            // has a data buffer
  std::vector<std::uint8_t> data;   // little-endian values; the stored (compressed) values when sparse
  std::optional<Sparsity> sparsity;
  std::optional<Quantization> quantization;

  std::int64_t element_count() const;  // product of the shape (checked when read)
};

enum class OperatorKind {
  Add,
  Concatenation,
  Conv2d,
  Densify,
  DepthToSpace,
  DepthwiseConv2d,
  Dequantize,
  Logistic,
  MaxPool2d,
  Pad,
  Reshape,
  ResizeBilinear,
};
const char* operator_name(OperatorKind kind);

enum class Padding : std::int8_t { Same = 0, Valid = 1 };
enum class Activation : std::int8_t { None = 0, Relu = 1, ReluN1To1 = 2, Relu6 = 3, Tanh = 4 };

// The options of every supported operator in one struct; each kind reads its own fields.
struct OperatorOptions {
  Padding padding = Padding::Same;
  std::int32_t stride_w = 1, stride_h = 1;
  std::int32_t dilation_w = 1, dilation_h = 1;
  std::int32_t filter_w = 1, filter_h = 1;  // pooling
  std::int32_t depth_multiplier = 1;
  Activation activation = Activation::None;
  std::int32_t axis = 0;                    // concatenation
  std::int32_t block_size = 0;              // depth to space
  bool align_corners = false, half_pixel_centers = false;
  std::vector<std::int32_t> new_shape;      // reshape without a shape input
};

struct Operator {
  OperatorKind kind;
  std::int32_t version = 1;
  std::vector<std::int32_t> inputs;  // tensor indices; -1 marks an omitted optional input
  std::vector<std::int32_t> outputs;
  OperatorOptions options;
};

struct Model {
  std::string source;  // the file name, for messages
  std::string description;
  std::vector<Tensor> tensors;
  std::vector<Operator> operators;  // in execution order: every input is a constant, a graph
                                    // input or the output of an earlier operator (checked)
  std::vector<std::int32_t> inputs;
  std::vector<std::int32_t> outputs;
};

// Limits for untrusted files; the defaults hold MediaPipe's largest pose model (28 MB) with room.
struct ReadLimits {
  std::uint64_t max_file_bytes = std::uint64_t{1} << 30;
  std::int64_t max_tensor_elements = std::int64_t{1} << 28;  // any one tensor, dense
  std::int32_t max_rank = 8;
};

Model parse_model(const std::uint8_t* data, std::size_t size, const std::string& source,
                  const ReadLimits& limits = {});
Model load_model(const std::string& path, const ReadLimits& limits = {});

// The dense little-endian bytes of a constant tensor: its data, or its sparse values expanded
// (zeros elsewhere). InputError names the tensor when the sparse metadata is inconsistent.
std::vector<std::uint8_t> dense_bytes(const Tensor& tensor, const std::string& source);

}  // namespace poselift::tflite
