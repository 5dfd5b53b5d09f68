// Writes small TFLite model files for tests, with FlatBuffers' own builder and the schema's field
// slots (the same numbering src/tflite/model.cpp reads, written independently here from TFLite's
// schema.fbs). Buffers, tensors with quantization and sparsity, operators with their options.
#pragma once

#include <flatbuffers/flatbuffers.h>

#include <cstdint>
#include <cstring>
#include <limits>
#include <optional>
#include <string>
#include <vector>

namespace poselift::testing {

struct TestSparseDimension {
  bool compressed = false;
  std::int32_t dense_size = 0;
  std::vector<std::int32_t> segments, indices;
  std::uint8_t index_type = 1;  // 1 Int32Vector, 2 Uint16Vector, 3 Uint8Vector
};

struct TestTensor {
  std::string name;
  std::vector<std::int32_t> shape;
  std::int8_t type = 0;  // TensorType: 0 float32, 1 float16, 2 int32, 3 uint8, 9 int8
  std::vector<std::uint8_t> data;  // empty: an activation
  std::vector<float> scale;
  std::vector<std::int64_t> zero_point;
  std::int32_t quantized_dimension = 0;
  std::vector<std::int32_t> traversal_order, block_map;  // sparsity when traversal_order is set
  std::vector<TestSparseDimension> dimensions;
};

// One scalar field of an options table: slot number, size in bytes (1 or 4), value.
struct TestField {
  int slot;
  int bytes;
  std::int32_t value;
};

struct TestOperator {
  std::int32_t builtin = 0;
  std::string custom;  // for builtin 32 (CUSTOM)
  std::vector<std::int32_t> inputs, outputs;
  std::uint8_t options_type = 0;  // BuiltinOptions union member; 0: no options table
  std::vector<TestField> options;
  std::vector<std::int32_t> new_shape;  // ReshapeOptions.new_shape (slot 0)
};

struct TestModel {
  std::vector<TestTensor> tensors;
  std::vector<TestOperator> operators;
  std::vector<std::int32_t> inputs, outputs;
  std::uint32_t version = 3;
  std::string description = "poselift test model";
};

template <typename T>
std::vector<std::uint8_t> bytes_of(const std::vector<T>& values) {
  std::vector<std::uint8_t> out(values.size() * sizeof(T));
  if (!out.empty()) std::memcpy(out.data(), values.data(), out.size());
  return out;
}

inline std::vector<std::uint8_t> write_tflite(const TestModel& model) {
  namespace fb = flatbuffers;
  auto field = [](int index) { return static_cast<fb::voffset_t>(4 + 2 * index); };
  fb::FlatBufferBuilder builder;

  // Operator codes: one per distinct (builtin, custom) pair, in first-use order.
  std::vector<std::pair<std::int32_t, std::string>> codes;
  std::vector<std::uint32_t> opcode_of;
  for (const TestOperator& op : model.operators) {
    std::size_t k = 0;
    while (k < codes.size() && (codes[k].first != op.builtin || codes[k].second != op.custom)) ++k;
    if (k == codes.size()) codes.emplace_back(op.builtin, op.custom);
    opcode_of.push_back(static_cast<std::uint32_t>(k));
  }
  std::vector<fb::Offset<fb::Table>> code_tables;
  for (const auto& [builtin, custom] : codes) {
    const auto custom_string = custom.empty() ? fb::Offset<fb::String>() : builder.CreateString(custom);
    const auto start = builder.StartTable();
    builder.AddElement<std::int8_t>(field(0), static_cast<std::int8_t>(builtin < 127 ? builtin : 127), 0);
    if (!custom.empty()) builder.AddOffset(field(1), custom_string);
    builder.AddElement<std::int32_t>(field(2), 1, 1);
    builder.AddElement<std::int32_t>(field(3), builtin, 0);
    code_tables.push_back(fb::Offset<fb::Table>(builder.EndTable(start)));
  }

  // Buffers: 0 is the schema's empty sentinel; each constant tensor gets its own.
  std::vector<fb::Offset<fb::Table>> buffer_tables;
  {
    const auto start = builder.StartTable();
    buffer_tables.push_back(fb::Offset<fb::Table>(builder.EndTable(start)));
  }
  std::vector<std::uint32_t> buffer_of;
  for (const TestTensor& tensor : model.tensors) {
    if (tensor.data.empty()) {
      buffer_of.push_back(0);
      continue;
    }
    builder.ForceVectorAlignment(tensor.data.size(), 1, 16);
    const auto data = builder.CreateVector(tensor.data);
    const auto start = builder.StartTable();
    builder.AddOffset(field(0), data);
    buffer_of.push_back(static_cast<std::uint32_t>(buffer_tables.size()));
    buffer_tables.push_back(fb::Offset<fb::Table>(builder.EndTable(start)));
  }

  auto index_vector = [&](const std::vector<std::int32_t>& values, std::uint8_t type) {
    fb::Offset<fb::Vector<std::uint8_t>> vector;
    if (type == 1) {
      vector = fb::Offset<fb::Vector<std::uint8_t>>(builder.CreateVector(values).o);
    } else if (type == 2) {
      std::vector<std::uint16_t> narrow(values.begin(), values.end());
      vector = fb::Offset<fb::Vector<std::uint8_t>>(builder.CreateVector(narrow).o);
    } else {
      std::vector<std::uint8_t> narrow(values.begin(), values.end());
      vector = builder.CreateVector(narrow);
    }
    const auto start = builder.StartTable();
    builder.AddOffset(field(0), vector);
    return fb::Offset<fb::Table>(builder.EndTable(start));
  };

  std::vector<fb::Offset<fb::Table>> tensor_tables;
  for (std::size_t t = 0; t < model.tensors.size(); ++t) {
    const TestTensor& tensor = model.tensors[t];
    const auto shape = builder.CreateVector(tensor.shape);
    const auto name = builder.CreateString(tensor.name);
    fb::Offset<fb::Table> quantization;
    if (!tensor.scale.empty()) {
      const auto scale = builder.CreateVector(tensor.scale);
      const auto zero_point = builder.CreateVector(tensor.zero_point);
      const auto start = builder.StartTable();
      builder.AddOffset(field(2), scale);
      builder.AddOffset(field(3), zero_point);
      builder.AddElement<std::int32_t>(field(6), tensor.quantized_dimension, 0);
      quantization = fb::Offset<fb::Table>(builder.EndTable(start));
    }
    fb::Offset<fb::Table> sparsity;
    if (!tensor.traversal_order.empty()) {
      std::vector<fb::Offset<fb::Table>> dims;
      for (const TestSparseDimension& dim : tensor.dimensions) {
        fb::Offset<fb::Table> segments, indices;
        if (dim.compressed) {
          segments = index_vector(dim.segments, dim.index_type);
          indices = index_vector(dim.indices, dim.index_type);
        }
        const auto start = builder.StartTable();
        builder.AddElement<std::int8_t>(field(0), dim.compressed ? 1 : 0, 0);
        builder.AddElement<std::int32_t>(field(1), dim.dense_size, 0);
        if (dim.compressed) {
          builder.AddElement<std::uint8_t>(field(2), dim.index_type, 0);
          builder.AddOffset(field(3), segments);
          builder.AddElement<std::uint8_t>(field(4), dim.index_type, 0);
          builder.AddOffset(field(5), indices);
        }
        dims.push_back(fb::Offset<fb::Table>(builder.EndTable(start)));
      }
      const auto traversal = builder.CreateVector(tensor.traversal_order);
      const auto block_map = builder.CreateVector(tensor.block_map);
      const auto dim_vector = builder.CreateVector(dims);
      const auto start = builder.StartTable();
      builder.AddOffset(field(0), traversal);
      builder.AddOffset(field(1), block_map);
      builder.AddOffset(field(2), dim_vector);
      sparsity = fb::Offset<fb::Table>(builder.EndTable(start));
    }
    const auto start = builder.StartTable();
    builder.AddOffset(field(0), shape);
    builder.AddElement<std::int8_t>(field(1), tensor.type, 0);
    builder.AddElement<std::uint32_t>(field(2), buffer_of[t], 0);
    builder.AddOffset(field(3), name);
    if (!quantization.IsNull()) builder.AddOffset(field(4), quantization);
    if (!sparsity.IsNull()) builder.AddOffset(field(6), sparsity);
    tensor_tables.push_back(fb::Offset<fb::Table>(builder.EndTable(start)));
  }

  std::vector<fb::Offset<fb::Table>> operator_tables;
  for (std::size_t k = 0; k < model.operators.size(); ++k) {
    const TestOperator& op = model.operators[k];
    fb::Offset<fb::Table> options;
    if (op.options_type != 0) {
      const auto new_shape = op.new_shape.empty() ? fb::Offset<fb::Vector<std::int32_t>>()
                                                  : builder.CreateVector(op.new_shape);
      const auto start = builder.StartTable();
      for (const TestField& f : op.options) {
        if (f.bytes == 1) {
          builder.AddElement<std::int8_t>(field(f.slot), static_cast<std::int8_t>(f.value), -128);
        } else {
          builder.AddElement<std::int32_t>(field(f.slot), f.value, std::numeric_limits<std::int32_t>::min());
        }
      }
      if (!op.new_shape.empty()) builder.AddOffset(field(0), new_shape);
      options = fb::Offset<fb::Table>(builder.EndTable(start));
    }
    const auto inputs = builder.CreateVector(op.inputs);
    const auto outputs = builder.CreateVector(op.outputs);
    const auto start = builder.StartTable();
    builder.AddElement<std::uint32_t>(field(0), opcode_of[k], 0);
    builder.AddOffset(field(1), inputs);
    builder.AddOffset(field(2), outputs);
    if (op.options_type != 0) {
      builder.AddElement<std::uint8_t>(field(3), op.options_type, 0);
      builder.AddOffset(field(4), options);
    }
    operator_tables.push_back(fb::Offset<fb::Table>(builder.EndTable(start)));
  }

  const auto tensors = builder.CreateVector(tensor_tables);
  const auto graph_inputs = builder.CreateVector(model.inputs);
  const auto graph_outputs = builder.CreateVector(model.outputs);
  const auto operators = builder.CreateVector(operator_tables);
  const auto graph_start = builder.StartTable();
  builder.AddOffset(field(0), tensors);
  builder.AddOffset(field(1), graph_inputs);
  builder.AddOffset(field(2), graph_outputs);
  builder.AddOffset(field(3), operators);
  const auto graph = fb::Offset<fb::Table>(builder.EndTable(graph_start));

  const auto code_vector = builder.CreateVector(code_tables);
  const auto subgraphs = builder.CreateVector(std::vector<fb::Offset<fb::Table>>{graph});
  const auto description = builder.CreateString(model.description);
  const auto buffers = builder.CreateVector(buffer_tables);
  const auto root_start = builder.StartTable();
  builder.AddElement<std::uint32_t>(field(0), model.version, 0);
  builder.AddOffset(field(1), code_vector);
  builder.AddOffset(field(2), subgraphs);
  builder.AddOffset(field(3), description);
  builder.AddOffset(field(4), buffers);
  builder.Finish(fb::Offset<fb::Table>(builder.EndTable(root_start)), "TFL3");
  return {builder.GetBufferPointer(), builder.GetBufferPointer() + builder.GetSize()};
}

}  // namespace poselift::testing
