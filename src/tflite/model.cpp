// The reader uses FlatBuffers' generic Table and Verifier (Debian's libflatbuffers-dev) with the
// schema's field slots written out here, rather than code generated from TFLite's schema.fbs:
// no Debian package ships that schema, and the reader needs only ~60 of its fields.
#include "tflite/model.hpp"

#include <flatbuffers/flatbuffers.h>

#include <algorithm>
#include <cstring>
#include <limits>

#include "io/error.hpp"
#include "io/file.hpp"

namespace poselift::tflite {
namespace {

// A field's vtable offset from its slot number in the schema.
constexpr flatbuffers::voffset_t slot(int index) {
  return static_cast<flatbuffers::voffset_t>(4 + 2 * index);
}

// Slots of the tables the reader visits (TFLite schema, version 3).
namespace model_slot { constexpr int version = 0, operator_codes = 1, subgraphs = 2, description = 3, buffers = 4; }
namespace code_slot { constexpr int deprecated_builtin_code = 0, custom_code = 1, version = 2, builtin_code = 3; }
namespace subgraph_slot { constexpr int tensors = 0, inputs = 1, outputs = 2, operators = 3; }
namespace buffer_slot { constexpr int data = 0, offset = 1, size = 2; }
namespace tensor_slot { constexpr int shape = 0, type = 1, buffer = 2, name = 3, quantization = 4, sparsity = 6; }
namespace quant_slot { constexpr int scale = 2, zero_point = 3, details_type = 4, dimension = 6; }
namespace sparsity_slot { constexpr int traversal_order = 0, block_map = 1, dim_metadata = 2; }
namespace dim_slot { constexpr int format = 0, dense_size = 1, segments_type = 2, segments = 3, indices_type = 4, indices = 5; }
namespace operator_slot { constexpr int opcode_index = 0, inputs = 1, outputs = 2, options_type = 3, options = 4; }

// BuiltinOperator codes and BuiltinOptions union members of the supported operators.
struct KnownOperator {
  std::int32_t code;
  OperatorKind kind;
  std::uint8_t options_type;  // 0: the operator has no options table
};
constexpr KnownOperator kKnownOperators[] = {
    {0, OperatorKind::Add, 11},          {2, OperatorKind::Concatenation, 10},
    {3, OperatorKind::Conv2d, 1},        {4, OperatorKind::DepthwiseConv2d, 2},
    {5, OperatorKind::DepthToSpace, 94}, {6, OperatorKind::Dequantize, 38},
    {14, OperatorKind::Logistic, 0},     {17, OperatorKind::MaxPool2d, 5},
    {22, OperatorKind::Reshape, 17},     {23, OperatorKind::ResizeBilinear, 15},
    {34, OperatorKind::Pad, 22},         {124, OperatorKind::Densify, 99},
};

// Names of common builtin operators the executor does not run, for the "unsupported" message.
const char* builtin_name(std::int32_t code) {
  switch (code) {
    case 1: return "AVERAGE_POOL_2D";
    case 8: return "FLOOR";
    case 9: return "FULLY_CONNECTED";
    case 11: return "L2_NORMALIZATION";
    case 16: return "LSTM";
    case 18: return "MUL";
    case 19: return "RELU";
    case 21: return "RELU6";
    case 25: return "SOFTMAX";
    case 26: return "SPACE_TO_DEPTH";
    case 28: return "TANH";
    case 32: return "CUSTOM";
    case 36: return "GATHER";
    case 39: return "TRANSPOSE";
    case 40: return "MEAN";
    case 41: return "SUB";
    case 42: return "DIV";
    case 43: return "SQUEEZE";
    case 45: return "STRIDED_SLICE";
    case 47: return "EXP";
    case 49: return "SPLIT";
    case 53: return "CAST";
    case 54: return "PRELU";
    case 55: return "MAXIMUM";
    case 57: return "MINIMUM";
    case 60: return "PADV2";
    case 65: return "SLICE";
    case 67: return "TRANSPOSE_CONV";
    case 70: return "EXPAND_DIMS";
    case 83: return "PACK";
    case 97: return "RESIZE_NEAREST_NEIGHBOR";
    case 98: return "LEAKY_RELU";
    case 100: return "MIRROR_PAD";
    case 114: return "QUANTIZE";
    case 117: return "HARD_SWISH";
    case 126: return "BATCH_MATMUL";
    default: return nullptr;
  }
}

// A verified table: every accessor checks the field with the Verifier before reading it and
// throws InputError "<source>: <where>: <what>" when the file is malformed.
class TableReader {
 public:
  TableReader(const flatbuffers::Table* table, flatbuffers::Verifier& verifier, const std::uint8_t* base,
              std::string where, const std::string& source)
      : table_(table), verifier_(&verifier), base_(base), where_(std::move(where)), source_(&source) {
    if (!table_->VerifyTableStart(*verifier_)) fail("malformed table");
    // The reader's own nesting is fixed by the schema; only the table count bounds the work.
    verifier_->EndTable();
  }

  const std::string& where() const { return where_; }

  [[noreturn]] void fail(const std::string& what) const {
    throw InputError(*source_ + ": " + where_ + ": " + what);
  }

  bool has(int index) const { return table_->GetOptionalFieldOffset(slot(index)) != 0; }

  template <typename T>
  T scalar(int index, T fallback, const char* field) const {
    if (!table_->VerifyField<T>(*verifier_, slot(index), sizeof(T))) fail(std::string("field ") + field + " out of bounds");
    return table_->GetField<T>(slot(index), fallback);
  }

  std::optional<TableReader> table(int index, const std::string& field) const {
    if (!has(index)) return std::nullopt;
    if (!table_->VerifyOffset(*verifier_, slot(index))) fail("field " + field + " out of bounds");
    return TableReader(table_->GetPointer<const flatbuffers::Table*>(slot(index)), *verifier_, base_,
                       where_ + "." + field, *source_);
  }

  template <typename T>
  const flatbuffers::Vector<T>* raw_vector(int index, const std::string& field) const {
    if (!has(index)) return nullptr;
    if (!table_->VerifyOffset(*verifier_, slot(index))) fail("field " + field + " out of bounds");
    const auto* vector = table_->GetPointer<const flatbuffers::Vector<T>*>(slot(index));
    if (!verifier_->VerifyVector(vector)) fail("vector " + field + " out of bounds");
    return vector;
  }

  template <typename T>
  std::vector<T> scalars(int index, const std::string& field) const {
    std::vector<T> out;
    if (const auto* vector = raw_vector<T>(index, field)) {
      // Copied bytewise: the Verifier checks the alignment of the length, not of 8-byte elements.
      out.resize(vector->size());
      if (!out.empty()) std::memcpy(out.data(), vector->Data(), out.size() * sizeof(T));
    }
    return out;
  }

  std::vector<TableReader> tables(int index, const std::string& field) const {
    std::vector<TableReader> out;
    const auto* vector = raw_vector<flatbuffers::Offset<flatbuffers::Table>>(index, field);
    if (!vector) return out;
    out.reserve(vector->size());
    for (flatbuffers::uoffset_t i = 0; i < vector->size(); ++i) {
      // Each element is an offset relative to its own position: verify it before following it.
      const auto* element = reinterpret_cast<const std::uint8_t*>(vector->Data()) + 4 * std::size_t{i};
      if (!verifier_->VerifyOffset(static_cast<std::size_t>(element - base_))) {
        fail(field + "[" + std::to_string(i) + "] out of bounds");
      }
      out.emplace_back(vector->Get(i), *verifier_, base_, where_ + "." + field + "[" + std::to_string(i) + "]", *source_);
    }
    return out;
  }

  std::string string(int index, const std::string& field) const {
    if (!has(index)) return {};
    if (!table_->VerifyOffset(*verifier_, slot(index))) fail("field " + field + " out of bounds");
    const auto* text = table_->GetPointer<const flatbuffers::String*>(slot(index));
    if (!verifier_->VerifyString(text)) fail("string " + field + " out of bounds");
    return text->str();
  }


 private:
  const flatbuffers::Table* table_;
  flatbuffers::Verifier* verifier_;
  const std::uint8_t* base_;  // start of the buffer the verifier covers
  std::string where_;
  const std::string* source_;
};

ElementType parse_element_type(std::int8_t code, const TableReader& tensor) {
  switch (code) {
    case 0: return ElementType::Float32;
    case 1: return ElementType::Float16;
    case 2: return ElementType::Int32;
    case 3: return ElementType::UInt8;
    case 4: return ElementType::Int64;
    case 9: return ElementType::Int8;
    default:
      tensor.fail("element type code " + std::to_string(code) +
                  " is not supported (expected float32, float16, int32, int64, int8 or uint8)");
  }
}

std::vector<std::int32_t> index_vector(const TableReader& dimension, int type_slot, int values_slot,
                                       const char* field) {
  const auto type = dimension.scalar<std::uint8_t>(type_slot, 0, field);
  const auto values = dimension.table(values_slot, field);
  if (type == 0 || !values) dimension.fail(std::string(field) + " is missing for a compressed dimension");
  std::vector<std::int32_t> out;
  switch (type) {
    case 1: out = values->scalars<std::int32_t>(0, "values"); break;
    case 2: for (auto v : values->scalars<std::uint16_t>(0, "values")) out.push_back(v); break;
    case 3: for (auto v : values->scalars<std::uint8_t>(0, "values")) out.push_back(v); break;
    default: dimension.fail(std::string(field) + " has unknown index vector type " + std::to_string(type));
  }
  return out;
}

Sparsity parse_sparsity(const TableReader& table) {
  Sparsity sparsity;
  sparsity.traversal_order = table.scalars<std::int32_t>(sparsity_slot::traversal_order, "traversal_order");
  sparsity.block_map = table.scalars<std::int32_t>(sparsity_slot::block_map, "block_map");
  for (const TableReader& dimension : table.tables(sparsity_slot::dim_metadata, "dim_metadata")) {
    SparseDimension parsed;
    const auto format = dimension.scalar<std::int8_t>(dim_slot::format, 0, "format");
    if (format != 0 && format != 1) dimension.fail("format " + std::to_string(format) + " (expected DENSE 0 or SPARSE_CSR 1)");
    parsed.compressed = format == 1;
    if (parsed.compressed) {
      parsed.segments = index_vector(dimension, dim_slot::segments_type, dim_slot::segments, "array_segments");
      parsed.indices = index_vector(dimension, dim_slot::indices_type, dim_slot::indices, "array_indices");
    } else {
      parsed.dense_size = dimension.scalar<std::int32_t>(dim_slot::dense_size, 0, "dense_size");
    }
    sparsity.dimensions.push_back(std::move(parsed));
  }
  return sparsity;
}

Activation parse_activation(std::int8_t code, const TableReader& options) {
  if (code < 0 || code > 4) {
    options.fail("fused_activation_function " + std::to_string(code) +
                 " is not supported (expected NONE, RELU, RELU_N1_TO_1, RELU6 or TANH)");
  }
  return static_cast<Activation>(code);
}

Padding parse_padding(std::int8_t code, const TableReader& options) {
  if (code != 0 && code != 1) options.fail("padding " + std::to_string(code) + " (expected SAME 0 or VALID 1)");
  return static_cast<Padding>(code);
}

// Strides, dilations and window sizes: at least 1, and small enough that index arithmetic on
// them cannot overflow.
std::int32_t positive(std::int32_t value, const char* field, const TableReader& options) {
  if (value < 1 || value > 4096) {
    options.fail(std::string(field) + " = " + std::to_string(value) + " (expected 1 to 4096)");
  }
  return value;
}

OperatorOptions parse_options(OperatorKind kind, const TableReader& options) {
  OperatorOptions out;
  switch (kind) {
    case OperatorKind::Conv2d:
      out.padding = parse_padding(options.scalar<std::int8_t>(0, 0, "padding"), options);
      out.stride_w = positive(options.scalar<std::int32_t>(1, 0, "stride_w"), "stride_w", options);
      out.stride_h = positive(options.scalar<std::int32_t>(2, 0, "stride_h"), "stride_h", options);
      out.activation = parse_activation(options.scalar<std::int8_t>(3, 0, "fused_activation_function"), options);
      out.dilation_w = positive(options.scalar<std::int32_t>(4, 1, "dilation_w_factor"), "dilation_w_factor", options);
      out.dilation_h = positive(options.scalar<std::int32_t>(5, 1, "dilation_h_factor"), "dilation_h_factor", options);
      break;
    case OperatorKind::DepthwiseConv2d:
      out.padding = parse_padding(options.scalar<std::int8_t>(0, 0, "padding"), options);
      out.stride_w = positive(options.scalar<std::int32_t>(1, 0, "stride_w"), "stride_w", options);
      out.stride_h = positive(options.scalar<std::int32_t>(2, 0, "stride_h"), "stride_h", options);
      // Recent converters leave depth_multiplier 0: the filter's channel count decides it.
      out.depth_multiplier = options.scalar<std::int32_t>(3, 0, "depth_multiplier");
      out.activation = parse_activation(options.scalar<std::int8_t>(4, 0, "fused_activation_function"), options);
      out.dilation_w = positive(options.scalar<std::int32_t>(5, 1, "dilation_w_factor"), "dilation_w_factor", options);
      out.dilation_h = positive(options.scalar<std::int32_t>(6, 1, "dilation_h_factor"), "dilation_h_factor", options);
      break;
    case OperatorKind::MaxPool2d:
      out.padding = parse_padding(options.scalar<std::int8_t>(0, 0, "padding"), options);
      out.stride_w = positive(options.scalar<std::int32_t>(1, 0, "stride_w"), "stride_w", options);
      out.stride_h = positive(options.scalar<std::int32_t>(2, 0, "stride_h"), "stride_h", options);
      out.filter_w = positive(options.scalar<std::int32_t>(3, 0, "filter_width"), "filter_width", options);
      out.filter_h = positive(options.scalar<std::int32_t>(4, 0, "filter_height"), "filter_height", options);
      out.activation = parse_activation(options.scalar<std::int8_t>(5, 0, "fused_activation_function"), options);
      break;
    case OperatorKind::Concatenation:
      out.axis = options.scalar<std::int32_t>(0, 0, "axis");
      out.activation = parse_activation(options.scalar<std::int8_t>(1, 0, "fused_activation_function"), options);
      break;
    case OperatorKind::Add:
      out.activation = parse_activation(options.scalar<std::int8_t>(0, 0, "fused_activation_function"), options);
      break;
    case OperatorKind::ResizeBilinear:
      out.align_corners = options.scalar<std::uint8_t>(2, 0, "align_corners") != 0;
      out.half_pixel_centers = options.scalar<std::uint8_t>(3, 0, "half_pixel_centers") != 0;
      break;
    case OperatorKind::Reshape:
      out.new_shape = options.scalars<std::int32_t>(0, "new_shape");
      break;
    case OperatorKind::DepthToSpace:
      out.block_size = positive(options.scalar<std::int32_t>(0, 0, "block_size"), "block_size", options);
      break;
    default:
      break;
  }
  return out;
}

// Operators whose options table is required for a meaningful run (the schema has no defaults
// for strides or window sizes).
bool options_required(OperatorKind kind) {
  return kind == OperatorKind::Conv2d || kind == OperatorKind::DepthwiseConv2d || kind == OperatorKind::MaxPool2d ||
         kind == OperatorKind::DepthToSpace;
}

// Input counts: {least, most}.
std::pair<std::size_t, std::size_t> input_count(OperatorKind kind) {
  switch (kind) {
    case OperatorKind::Add: return {2, 2};
    case OperatorKind::Concatenation: return {1, 4096};
    case OperatorKind::Conv2d:
    case OperatorKind::DepthwiseConv2d: return {2, 3};
    case OperatorKind::Pad:
    case OperatorKind::ResizeBilinear: return {2, 2};
    case OperatorKind::Reshape: return {1, 2};
    default: return {1, 1};
  }
}

}  // namespace

std::size_t element_size(ElementType type) {
  switch (type) {
    case ElementType::Float32:
    case ElementType::Int32: return 4;
    case ElementType::Float16: return 2;
    case ElementType::Int64: return 8;
    case ElementType::UInt8:
    case ElementType::Int8: return 1;
  }
  return 1;
}

const char* element_type_name(ElementType type) {
  switch (type) {
    case ElementType::Float32: return "float32";
    case ElementType::Float16: return "float16";
    case ElementType::Int32: return "int32";
    case ElementType::UInt8: return "uint8";
    case ElementType::Int64: return "int64";
    case ElementType::Int8: return "int8";
  }
  return "?";
}

const char* operator_name(OperatorKind kind) {
  switch (kind) {
    case OperatorKind::Add: return "ADD";
    case OperatorKind::Concatenation: return "CONCATENATION";
    case OperatorKind::Conv2d: return "CONV_2D";
    case OperatorKind::Densify: return "DENSIFY";
    case OperatorKind::DepthToSpace: return "DEPTH_TO_SPACE";
    case OperatorKind::DepthwiseConv2d: return "DEPTHWISE_CONV_2D";
    case OperatorKind::Dequantize: return "DEQUANTIZE";
    case OperatorKind::Logistic: return "LOGISTIC";
    case OperatorKind::MaxPool2d: return "MAX_POOL_2D";
    case OperatorKind::Pad: return "PAD";
    case OperatorKind::Reshape: return "RESHAPE";
    case OperatorKind::ResizeBilinear: return "RESIZE_BILINEAR";
  }
  return "?";
}

std::int64_t Tensor::element_count() const {
  std::int64_t count = 1;
  for (std::int64_t d : shape) count *= d;  // checked when the model was read
  return count;
}

Model parse_model(const std::uint8_t* data, std::size_t size, const std::string& source, const ReadLimits& limits) {
  if (size < 8 || std::memcmp(data + 4, "TFL3", 4) != 0) {
    throw InputError(source + ": not a TensorFlow Lite model (expected the FlatBuffers identifier \"TFL3\" at byte 4)");
  }
  if (size >= FLATBUFFERS_MAX_BUFFER_SIZE) throw InputError(source + ": larger than FlatBuffers' 2 GiB limit");
  flatbuffers::Verifier::Options verifier_options;
  verifier_options.max_depth = std::numeric_limits<flatbuffers::uoffset_t>::max();
  verifier_options.max_tables = 4000000;
  flatbuffers::Verifier verifier(data, size, verifier_options);
  const flatbuffers::uoffset_t root_offset = verifier.VerifyOffset(0);
  if (root_offset == 0) throw InputError(source + ": root table offset out of bounds");
  const TableReader root(reinterpret_cast<const flatbuffers::Table*>(data + root_offset), verifier, data, "model",
                         source);

  Model model;
  model.source = source;
  const auto version = root.scalar<std::uint32_t>(model_slot::version, 0, "version");
  if (version != 3) root.fail("schema version " + std::to_string(version) + " (expected 3)");
  model.description = root.string(model_slot::description, "description");

  struct Code {
    std::int32_t builtin;
    std::string custom;
    std::int32_t version;
  };
  std::vector<Code> codes;
  for (const TableReader& code : root.tables(model_slot::operator_codes, "operator_codes")) {
    const auto deprecated = code.scalar<std::int8_t>(code_slot::deprecated_builtin_code, 0, "deprecated_builtin_code");
    const auto extended = code.scalar<std::int32_t>(code_slot::builtin_code, 0, "builtin_code");
    // Writers fill one of the two fields; TFLite itself takes the larger.
    codes.push_back({std::max<std::int32_t>(deprecated, extended), code.string(code_slot::custom_code, "custom_code"),
                     code.scalar<std::int32_t>(code_slot::version, 1, "version")});
  }

  const std::vector<TableReader> buffers = root.tables(model_slot::buffers, "buffers");
  const std::vector<TableReader> subgraphs = root.tables(model_slot::subgraphs, "subgraphs");
  if (subgraphs.empty()) root.fail("no subgraphs");
  const TableReader& graph = subgraphs[0];

  const std::vector<TableReader> tensors = graph.tables(subgraph_slot::tensors, "tensors");
  std::uint64_t sparse_dense_bytes = 0;
  for (const TableReader& table : tensors) {
    Tensor tensor;
    tensor.name = table.string(tensor_slot::name, "name");
    const std::string label = "tensor \"" + tensor.name + "\" (" + table.where() + ")";
    const auto shape = table.scalars<std::int32_t>(tensor_slot::shape, "shape");
    if (shape.size() > static_cast<std::size_t>(limits.max_rank)) {
      table.fail("rank " + std::to_string(shape.size()) + " exceeds " + std::to_string(limits.max_rank));
    }
    std::int64_t count = 1;
    for (std::int32_t d : shape) {
      if (d < 0) table.fail("shape has a negative dimension " + std::to_string(d));
      if (d != 0 && count > limits.max_tensor_elements / d) {
        table.fail("shape holds more than " + std::to_string(limits.max_tensor_elements) + " elements");
      }
      count *= d;
      tensor.shape.push_back(d);
    }
    tensor.type = parse_element_type(table.scalar<std::int8_t>(tensor_slot::type, 0, "type"), table);
    if (auto quantization = table.table(tensor_slot::quantization, "quantization")) {
      if (quantization->scalar<std::uint8_t>(quant_slot::details_type, 0, "details_type") != 0) {
        quantization->fail("custom quantization details are not supported");
      }
      Quantization parsed;
      parsed.scale = quantization->scalars<float>(quant_slot::scale, "scale");
      parsed.zero_point = quantization->scalars<std::int64_t>(quant_slot::zero_point, "zero_point");
      parsed.dimension = quantization->scalar<std::int32_t>(quant_slot::dimension, 0, "quantized_dimension");
      if (!parsed.scale.empty()) tensor.quantization = std::move(parsed);
    }
    if (auto sparsity = table.table(tensor_slot::sparsity, "sparsity")) tensor.sparsity = parse_sparsity(*sparsity);

    const auto buffer_index = table.scalar<std::uint32_t>(tensor_slot::buffer, 0, "buffer");
    if (buffer_index >= buffers.size() && buffer_index != 0) {
      table.fail("buffer index " + std::to_string(buffer_index) + " out of range (" + std::to_string(buffers.size()) +
                 " buffers)");
    }
    if (buffer_index != 0) {
      const TableReader& buffer = buffers[buffer_index];
      const std::uint8_t* bytes = nullptr;
      std::uint64_t length = 0;
      if (const auto* vector = buffer.raw_vector<std::uint8_t>(buffer_slot::data, "data")) {
        bytes = vector->data();
        length = vector->size();
      }
      const auto offset = buffer.scalar<std::uint64_t>(buffer_slot::offset, 0, "offset");
      if (offset > 1) {
        // Data kept after the FlatBuffer (models over 2 GiB): offset and size from the file's start.
        const auto extra = buffer.scalar<std::uint64_t>(buffer_slot::size, 0, "size");
        if (offset > size || extra > size - offset) buffer.fail("external data out of the file's bounds");
        bytes = data + offset;
        length = extra;
      }
      if (bytes != nullptr && length > 0) {
        tensor.constant = true;
        const std::uint64_t expected = static_cast<std::uint64_t>(count) * element_size(tensor.type);
        if (tensor.sparsity) {
          if (length % element_size(tensor.type) != 0) {
            table.fail("sparse data of " + std::to_string(length) + " bytes is not a whole number of " +
                       element_type_name(tensor.type) + " values");
          }
          sparse_dense_bytes += expected;
          if (sparse_dense_bytes > std::max<std::uint64_t>(std::uint64_t{1} << 30, 64 * std::uint64_t{size})) {
            table.fail("sparse tensors expand to more than 64 times the file's size");
          }
        } else if (length != expected) {
          throw InputError(source + ": " + label + ": data of " + std::to_string(length) + " bytes, expected " +
                           std::to_string(expected) + " for " + std::to_string(count) + " " +
                           element_type_name(tensor.type) + " values");
        }
        tensor.data.assign(bytes, bytes + length);
      }
    }
    if (tensor.sparsity && !tensor.constant) table.fail("a sparse tensor without data");
    model.tensors.push_back(std::move(tensor));
  }

  const auto tensor_count = static_cast<std::int64_t>(model.tensors.size());
  auto check_index = [&](std::int32_t index, bool optional, const std::string& where) {
    if ((index == -1 && optional) || (index >= 0 && index < tensor_count)) return;
    throw InputError(source + ": " + where + ": tensor index " + std::to_string(index) + " out of range (" +
                     std::to_string(tensor_count) + " tensors)");
  };
  model.inputs = graph.scalars<std::int32_t>(subgraph_slot::inputs, "inputs");
  model.outputs = graph.scalars<std::int32_t>(subgraph_slot::outputs, "outputs");
  for (auto i : model.inputs) check_index(i, false, "subgraph inputs");
  for (auto i : model.outputs) check_index(i, false, "subgraph outputs");

  std::vector<bool> available(model.tensors.size(), false);
  for (std::size_t i = 0; i < model.tensors.size(); ++i) available[i] = model.tensors[i].constant;
  for (auto i : model.inputs) {
    if (model.tensors[i].constant) throw InputError(source + ": subgraph input " + std::to_string(i) + " is a constant");
    available[i] = true;
  }

  const std::vector<TableReader> operators = graph.tables(subgraph_slot::operators, "operators");
  for (std::size_t k = 0; k < operators.size(); ++k) {
    const TableReader& table = operators[k];
    const auto opcode_index = table.scalar<std::uint32_t>(operator_slot::opcode_index, 0, "opcode_index");
    if (opcode_index >= codes.size()) {
      table.fail("opcode_index " + std::to_string(opcode_index) + " out of range (" + std::to_string(codes.size()) +
                 " operator codes)");
    }
    const Code& code = codes[opcode_index];
    const KnownOperator* known = nullptr;
    for (const KnownOperator& candidate : kKnownOperators) {
      if (candidate.code == code.builtin) known = &candidate;
    }
    if (known == nullptr) {
      std::string name = code.builtin == 32 ? "CUSTOM \"" + code.custom + "\"" : "";
      if (name.empty()) name = builtin_name(code.builtin) ? builtin_name(code.builtin) : "unknown";
      throw InputError(source + ": unsupported operator " + name + " (builtin code " + std::to_string(code.builtin) +
                       "), operator " + std::to_string(k));
    }
    Operator op{known->kind, code.version, {}, {}, {}};
    const std::string where = table.where() + " (" + operator_name(op.kind) + ")";
    op.inputs = table.scalars<std::int32_t>(operator_slot::inputs, "inputs");
    op.outputs = table.scalars<std::int32_t>(operator_slot::outputs, "outputs");
    const auto [least, most] = input_count(op.kind);
    if (op.inputs.size() < least || op.inputs.size() > most) {
      throw InputError(source + ": " + where + ": " + std::to_string(op.inputs.size()) + " inputs (expected " +
                       std::to_string(least) + (most > least ? " to " + std::to_string(most) : "") + ")");
    }
    if (op.outputs.size() != 1) {
      throw InputError(source + ": " + where + ": " + std::to_string(op.outputs.size()) + " outputs (expected 1)");
    }
    const auto options_type = table.scalar<std::uint8_t>(operator_slot::options_type, 0, "builtin_options_type");
    const auto options = table.table(operator_slot::options, "builtin_options");
    if (options && options_type != known->options_type) {
      throw InputError(source + ": " + where + ": builtin_options of union type " + std::to_string(options_type) +
                       " (expected " + std::to_string(known->options_type) + ")");
    }
    if (options) {
      op.options = parse_options(op.kind, *options);
    } else if (options_required(op.kind)) {
      throw InputError(source + ": " + where + ": builtin_options missing");
    }
    for (std::size_t i = 0; i < op.inputs.size(); ++i) {
      const bool optional = i == 2 && (op.kind == OperatorKind::Conv2d || op.kind == OperatorKind::DepthwiseConv2d);
      check_index(op.inputs[i], optional, where + " input " + std::to_string(i));
      if (op.inputs[i] >= 0 && !available[op.inputs[i]]) {
        throw InputError(source + ": " + where + ": input tensor " + std::to_string(op.inputs[i]) +
                         " is used before any operator computes it");
      }
    }
    const std::int32_t output = op.outputs[0];
    check_index(output, false, where + " output");
    if (available[output]) {
      throw InputError(source + ": " + where + ": output tensor " + std::to_string(output) +
                       " is a constant, a graph input or already computed");
    }
    available[output] = true;
    model.operators.push_back(std::move(op));
  }
  for (auto i : model.outputs) {
    if (!available[i]) throw InputError(source + ": subgraph output " + std::to_string(i) + " is never computed");
  }
  return model;
}

Model load_model(const std::string& path, const ReadLimits& limits) {
  const std::vector<std::uint8_t> bytes = io::read_file(path, limits.max_file_bytes);
  return parse_model(bytes.data(), bytes.size(), path, limits);
}

std::vector<std::uint8_t> dense_bytes(const Tensor& tensor, const std::string& source) {
  if (!tensor.sparsity) return tensor.data;
  const Sparsity& sparsity = *tensor.sparsity;
  const std::string where = source + ": sparse tensor \"" + tensor.name + "\"";
  const std::size_t rank = tensor.shape.size();
  const std::size_t blocks = sparsity.block_map.size();
  const std::size_t levels = rank + blocks;
  if (sparsity.traversal_order.size() != levels || sparsity.dimensions.size() != levels) {
    throw InputError(where + ": traversal_order has " + std::to_string(sparsity.traversal_order.size()) +
                     " entries and dim_metadata " + std::to_string(sparsity.dimensions.size()) + ", expected " +
                     std::to_string(levels) + " (rank plus block dimensions)");
  }
  // traversal_order must be a permutation whose first `rank` entries are the tensor's dimensions.
  std::vector<bool> seen(levels, false);
  for (std::size_t l = 0; l < levels; ++l) {
    const std::int32_t d = sparsity.traversal_order[l];
    const bool in_range = l < rank ? (d >= 0 && static_cast<std::size_t>(d) < rank)
                                   : (static_cast<std::size_t>(d) >= rank && static_cast<std::size_t>(d) < levels);
    if (d < 0 || !in_range || seen[d]) throw InputError(where + ": traversal_order is not a valid permutation");
    seen[d] = true;
  }
  // Size of every expanded dimension: the block dimensions' sizes come from their (dense) metadata.
  std::vector<std::int64_t> extent(levels, 0);
  for (std::size_t l = 0; l < levels; ++l) {
    const std::int32_t d = sparsity.traversal_order[l];
    if (static_cast<std::size_t>(d) >= rank) {
      const SparseDimension& dim = sparsity.dimensions[l];
      if (dim.compressed || dim.dense_size < 1) throw InputError(where + ": a block dimension must be dense and non-empty");
      extent[d] = dim.dense_size;
    }
  }
  std::vector<std::int64_t> block_of(rank, -1);
  for (std::size_t i = 0; i < rank; ++i) extent[i] = tensor.shape[i];
  for (std::size_t b = 0; b < blocks; ++b) {
    const std::int32_t d = sparsity.block_map[b];
    if (d < 0 || static_cast<std::size_t>(d) >= rank || block_of[d] >= 0) throw InputError(where + ": invalid block_map");
    block_of[d] = static_cast<std::int64_t>(rank + b);
    const std::int64_t block = extent[rank + b];
    if (tensor.shape[d] % block != 0) throw InputError(where + ": dimension " + std::to_string(d) + " is not a whole number of blocks");
    extent[d] = tensor.shape[d] / block;
  }
  // Validate every level and count its nodes; a dense level's size must match its dimension.
  std::int64_t nodes = 1;
  for (std::size_t l = 0; l < levels; ++l) {
    const SparseDimension& dim = sparsity.dimensions[l];
    const std::int64_t size = extent[sparsity.traversal_order[l]];
    if (!dim.compressed) {
      if (dim.dense_size != size) {
        throw InputError(where + ": dim_metadata[" + std::to_string(l) + "].dense_size " + std::to_string(dim.dense_size) +
                         ", expected " + std::to_string(size));
      }
      nodes *= size;  // bounded by the tensor's element count
      continue;
    }
    if (dim.segments.size() != static_cast<std::size_t>(nodes) + 1 || dim.segments.front() != 0) {
      throw InputError(where + ": dim_metadata[" + std::to_string(l) + "].array_segments has " +
                       std::to_string(dim.segments.size()) + " entries starting at " +
                       (dim.segments.empty() ? std::string("nothing") : std::to_string(dim.segments.front())) +
                       ", expected " + std::to_string(nodes + 1) + " starting at 0");
    }
    for (std::size_t s = 1; s < dim.segments.size(); ++s) {
      if (dim.segments[s] < dim.segments[s - 1]) throw InputError(where + ": array_segments decrease");
    }
    if (static_cast<std::size_t>(dim.segments.back()) != dim.indices.size()) {
      throw InputError(where + ": array_segments end at " + std::to_string(dim.segments.back()) + " but array_indices has " +
                       std::to_string(dim.indices.size()) + " entries");
    }
    for (std::int32_t index : dim.indices) {
      if (index < 0 || index >= size) throw InputError(where + ": array_indices entry " + std::to_string(index) + " outside 0.." + std::to_string(size - 1));
    }
    nodes = static_cast<std::int64_t>(dim.indices.size());
  }
  const std::size_t value_size = element_size(tensor.type);
  if (static_cast<std::uint64_t>(nodes) * value_size != tensor.data.size()) {
    throw InputError(where + ": the metadata describes " + std::to_string(nodes) + " stored values, the data holds " +
                     std::to_string(tensor.data.size() / value_size));
  }

  std::vector<std::uint8_t> dense(static_cast<std::size_t>(tensor.element_count()) * value_size, 0);
  std::vector<std::int64_t> stride(rank, 1);
  for (std::size_t i = rank; i-- > 1;) stride[i - 1] = stride[i] * tensor.shape[i];
  // Depth-first walk of the storage tree; coordinates in expanded dimensions.
  std::vector<std::int64_t> coordinate(levels, 0);
  auto emit = [&](std::int64_t value_index) {
    std::int64_t offset = 0;
    for (std::size_t d = 0; d < rank; ++d) {
      std::int64_t c = coordinate[d];
      if (block_of[d] >= 0) c = c * extent[block_of[d]] + coordinate[block_of[d]];
      offset += c * stride[d];
    }
    std::memcpy(dense.data() + offset * value_size, tensor.data.data() + value_index * value_size, value_size);
  };
  auto walk = [&](auto&& self, std::size_t level, std::int64_t node) -> void {
    if (level == levels) {
      emit(node);
      return;
    }
    const SparseDimension& dim = sparsity.dimensions[level];
    const std::int32_t d = sparsity.traversal_order[level];
    if (!dim.compressed) {
      for (std::int64_t i = 0; i < dim.dense_size; ++i) {
        coordinate[d] = i;
        self(self, level + 1, node * dim.dense_size + i);
      }
    } else {
      for (std::int64_t k = dim.segments[node]; k < dim.segments[node + 1]; ++k) {
        coordinate[d] = dim.indices[k];
        self(self, level + 1, k);
      }
    }
  };
  walk(walk, 0, 0);
  return dense;
}

}  // namespace poselift::tflite
