// Unpickling what CPython/NumPy write (protocols 0-5) and pickling what Python can load.
#include <cmath>
#include <cstring>

#include "io/numpy_pickle.hpp"
#include "io/pickle.hpp"
#include "test_io_support.hpp"

namespace poselift::io {
namespace {

using namespace testing;

ValuePtr load(const std::string& bytes, const UnpickleHooks& hooks = {}, const UnpickleLimits& limits = {}) {
  return unpickle(reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size(), "test.pkl", with_numpy(hooks),
                  limits);
}

ValuePtr load_file(const std::string& path, const UnpickleHooks& hooks = {}) {
  const auto bytes = file_bytes(path);
  return unpickle(bytes.data(), bytes.size(), path, with_numpy(hooks));
}

std::vector<std::int64_t> ints_of(const Value& v) {
  std::vector<std::int64_t> out;
  for (const auto& item : v.as_sequence("ints")) out.push_back(item->as_int("int"));
  return out;
}

template <class T>
std::vector<T> values_of(const NdArray& a) {
  const T* p = a.data<T>();
  return std::vector<T>(p, p + a.numel());
}

// ints (small, 64-bit edges, big), floats with inf and nan.
void check_python_numbers(const Value& root) {
  const auto& ints = root.at("ints", "root").as_sequence("ints");
  const std::vector<std::int64_t> small = {0, 1, -1, 255, 256, 65535, 65536, -2147483648ll, 2147483647, 2147483648ll,
                                           1ll << 62, std::numeric_limits<std::int64_t>::min()};
  ASSERT_EQ(ints.size(), small.size() + 3);
  for (std::size_t i = 0; i < small.size(); ++i) EXPECT_EQ(ints[i]->as_int("int"), small[i]) << i;
  EXPECT_EQ(ints[small.size()]->kind, Value::Kind::BigInt);
  EXPECT_EQ(ints[small.size()]->text, "9223372036854775808");
  EXPECT_EQ(ints[small.size() + 1]->text, "1180591620717411303424");
  EXPECT_EQ(ints[small.size() + 2]->text, "-1180591620717411303424");

  const auto& floats = root.at("floats", "root").as_sequence("floats");
  ASSERT_EQ(floats.size(), 5u);
  EXPECT_EQ(floats[0]->as_float("f"), 0.0);
  EXPECT_EQ(floats[1]->as_float("f"), -1.5);
  EXPECT_EQ(floats[2]->as_float("f"), 1e300);
  EXPECT_EQ(floats[3]->as_float("f"), INFINITY);
  EXPECT_EQ(floats[4]->as_float("f"), -INFINITY);
  EXPECT_TRUE(std::isnan(root.at("nan", "root").as_float("nan")));
}

// str, bytes, bytearray, booleans and None.
void check_python_text(const Value& root) {
  EXPECT_EQ(root.at("text", "root").as_str("text"), "h\xC3\xA9llo w\xC3\xB6rld \xE2\x9C\x93 \xF0\x9F\x98\x80 \n\\ \"q\"");
  EXPECT_EQ(root.at("bytes", "root").kind, Value::Kind::Bytes);
  EXPECT_EQ(root.at("bytes", "root").text, std::string("\x00\x01\xff raw", 7));
  EXPECT_EQ(root.at("empty_bytes", "root").kind, Value::Kind::Bytes);
  EXPECT_EQ(root.at("empty_bytes", "root").text, "");
  EXPECT_EQ(root.at("bytearray", "root").text, "ba");

  const auto& flags = root.at("flags", "root").as_sequence("flags");
  ASSERT_EQ(flags.size(), 3u);
  EXPECT_EQ(flags[0]->kind, Value::Kind::Bool);
  EXPECT_TRUE(flags[0]->boolean);
  EXPECT_FALSE(flags[1]->boolean);
  EXPECT_TRUE(flags[2]->is_none());
}

// Non-string keys, nesting, sets, OrderedDicts and memo sharing.
void check_python_containers(const Value& root) {
  const Value& mixed = root.at("mixed_keys", "root");
  ASSERT_EQ(mixed.entries.size(), 4u);
  EXPECT_EQ(mixed.entries[0].first->kind, Value::Kind::Tuple);
  EXPECT_EQ(mixed.entries[0].first->items[0]->as_int("k"), 1);
  EXPECT_EQ(mixed.entries[0].first->items[1]->as_str("k"), "a");
  EXPECT_EQ(mixed.entries[0].second->as_str("v"), "tuple");
  EXPECT_EQ(mixed.entries[1].first->as_int("k"), 7);
  EXPECT_EQ(mixed.entries[2].first->as_str("k"), "x");
  EXPECT_EQ(mixed.entries[3].first->as_float("k"), 2.5);

  const Value& nested = root.at("nested", "root");
  const auto& deep = nested.at("list", "nested").as_sequence("list");
  ASSERT_EQ(deep.size(), 2u);
  EXPECT_EQ(deep[0]->as_sequence("l")[1]->as_sequence("l")[1]->as_sequence("l")[0]->as_int("3"), 3);
  EXPECT_EQ(deep[1]->kind, Value::Kind::Tuple);
  EXPECT_TRUE(deep[1]->items.empty());
  EXPECT_EQ(nested.at("one", "nested").kind, Value::Kind::Tuple);
  EXPECT_EQ(ints_of(nested.at("many", "nested")), (std::vector<std::int64_t>{1, 2, 3, 4}));

  EXPECT_EQ(root.at("set", "root").kind, Value::Kind::Set);
  EXPECT_EQ(root.at("set", "root").items.size(), 3u);
  EXPECT_EQ(root.at("frozenset", "root").kind, Value::Kind::Set);

  const Value& ordered = root.at("ordered", "root");
  EXPECT_EQ(ordered.kind, Value::Kind::Dict);
  EXPECT_EQ(ordered.str_keys("ordered"), (std::vector<std::string>{"z", "a"}));
  const Value& state_dict = root.at("state_dict", "root");  // OrderedDict with _metadata (ignored)
  EXPECT_EQ(state_dict.kind, Value::Kind::Dict);
  EXPECT_EQ(state_dict.str_keys("state_dict"), (std::vector<std::string>{"w"}));

  const auto& shared = root.at("shared", "root").as_sequence("shared");
  ASSERT_EQ(shared.size(), 2u);
  EXPECT_EQ(shared[0].get(), shared[1].get());  // memo: one object referenced twice
}

// numpy arrays (byte orders, Fortran order, 0-d), numpy scalars, object arrays.
void check_python_arrays(const Value& root) {
  const NdArray& f4 = root.at("f4", "root").as_array("f4");
  EXPECT_EQ(f4.shape, (std::vector<std::int64_t>{2, 3}));
  EXPECT_EQ(values_of<float>(f4), (std::vector<float>{0, 1, 2, 3, 4, 5}));
  EXPECT_EQ(values_of<double>(root.at("f8_be", "root").as_array("f8_be")), (std::vector<double>{0, 1, 2, 3}));
  const NdArray& fortran = root.at("i8_fortran", "root").as_array("i8_fortran");
  EXPECT_EQ(fortran.shape, (std::vector<std::int64_t>{2, 3}));
  EXPECT_EQ(values_of<std::int64_t>(fortran), (std::vector<std::int64_t>{0, 1, 2, 3, 4, 5}));
  EXPECT_EQ(root.at("bool_arr", "root").as_array("b").bytes, (std::vector<std::uint8_t>{1, 0, 1}));
  const NdArray& zero_d = root.at("u1_0d", "root").as_array("u1_0d");
  EXPECT_TRUE(zero_d.shape.empty());
  EXPECT_EQ(zero_d.bytes, (std::vector<std::uint8_t>{200}));

  const auto& scalars = root.at("scalars", "root").as_sequence("scalars");
  ASSERT_EQ(scalars.size(), 7u);
  EXPECT_EQ(scalars[0]->as_float("s"), 2.5);
  EXPECT_EQ(scalars[0]->kind, Value::Kind::Float);
  EXPECT_EQ(scalars[1]->as_float("s"), -0.25);
  EXPECT_EQ(scalars[2]->as_int("s"), -7);
  EXPECT_EQ(scalars[3]->as_int("s"), 9);
  EXPECT_EQ(scalars[4]->kind, Value::Kind::Bool);
  EXPECT_TRUE(scalars[4]->boolean);
  EXPECT_EQ(scalars[5]->as_int("s"), 250);
  EXPECT_EQ(scalars[6]->as_float("s"), 1.5);

  const auto& objects = root.at("object_arr", "root").as_sequence("object_arr");  // object ndarray -> list
  ASSERT_EQ(objects.size(), 2u);
  EXPECT_EQ(objects[0]->at("k", "o").as_int("k"), 1);
  EXPECT_EQ(objects[1]->as_str("o"), "two");
}

// An instance of a class, and long containers.
void check_python_objects(const Value& root) {
  const Value& thing = root.at("thing", "root");
  ASSERT_EQ(thing.kind, Value::Kind::Object);
  EXPECT_EQ(thing.object->module, "__main__");
  EXPECT_EQ(thing.object->name, "Thing");
  ASSERT_TRUE(thing.object->state);
  EXPECT_EQ(thing.object->state->at("a", "thing").as_int("a"), 1);

  EXPECT_EQ(root.at("long_list", "root").as_sequence("long_list").size(), 2500u);
  EXPECT_EQ(root.at("long_list", "root").as_sequence("long_list")[2499]->as_int("i"), 2499);
  const Value& big_dict = root.at("big_dict", "root");
  EXPECT_EQ(big_dict.entries.size(), 1500u);
  EXPECT_EQ(big_dict.at("1499", "big_dict").as_int("v"), 1499);
}

// The structure written by the Python script in ReadsEveryProtocol, checked field by field.
void check_python_structure(const Value& root) {
  ASSERT_EQ(root.kind, Value::Kind::Dict);
  const std::vector<std::string> keys = root.str_keys("root");
  ASSERT_GE(keys.size(), 10u);
  EXPECT_EQ(keys.front(), "ints");  // insertion order

  ASSERT_NO_FATAL_FAILURE(check_python_numbers(root));
  ASSERT_NO_FATAL_FAILURE(check_python_text(root));
  ASSERT_NO_FATAL_FAILURE(check_python_containers(root));
  ASSERT_NO_FATAL_FAILURE(check_python_arrays(root));
  check_python_objects(root);
}

const char* kPythonStructure = R"PY(
import pickle, collections, numpy as np
class Thing:
    def __init__(self):
        self.a = 1
        self.b = [1, 2]
shared_list = [1, 2]
state_dict = collections.OrderedDict(w=np.zeros(2, dtype=np.float32))
state_dict._metadata = collections.OrderedDict({'': {'version': 1}})
data = {
    'ints': [0, 1, -1, 255, 256, 65535, 65536, -2**31, 2**31 - 1, 2**31, 2**62, -2**63, 2**63, 2**70, -2**70],
    'floats': [0.0, -1.5, 1e300, float('inf'), float('-inf')],
    'nan': float('nan'),
    'text': 'h\u00e9llo w\u00f6rld \u2713 \U0001F600 \n\\ "q"',
    'bytes': b'\x00\x01\xff raw',
    'empty_bytes': b'',
    'bytearray': bytearray(b'ba'),
    'flags': [True, False, None],
    'mixed_keys': {(1, 'a'): 'tuple', 7: 'int', 'x': 'str', 2.5: 'float'},
    'nested': {'list': [[1, [2, [3]]], ()], 'one': (1,), 'many': (1, 2, 3, 4)},
    'set': {3, 1, 2},
    'frozenset': frozenset(['a']),
    'ordered': collections.OrderedDict([('z', 1), ('a', 2)]),
    'state_dict': state_dict,
    'shared': [shared_list, shared_list],
    'f4': np.arange(6, dtype='<f4').reshape(2, 3),
    'f8_be': np.arange(4, dtype='>f8'),
    'i8_fortran': np.asfortranarray(np.arange(6, dtype=np.int64).reshape(2, 3)),
    'bool_arr': np.array([True, False, True]),
    'u1_0d': np.array(200, dtype=np.uint8),
    'scalars': [np.float32(2.5), np.float64(-0.25), np.int64(-7), np.int32(9), np.bool_(True), np.uint8(250),
                np.float16(1.5)],
    'object_arr': np.array([{'k': 1}, 'two'], dtype=object),
    'thing': Thing(),
    'long_list': list(range(2500)),
    'big_dict': {str(i): i for i in range(1500)},
}
)PY";

TEST(IoPickle, ReadsEveryProtocol) {
  POSELIFT_REQUIRE_NUMPY();
  const std::string dir = scratch_dir();
  run_python(dir, std::string(kPythonStructure) + R"PY(
for protocol in range(6):
    with open('p%d.pkl' % protocol, 'wb') as f:
        pickle.dump(data, f, protocol=protocol)
# NumPy 2 spells its modules numpy._core: the same pickle with the new names.
with open('numpy2.pkl', 'wb') as f:
    f.write(pickle.dumps(data, protocol=2).replace(b'numpy.core.', b'numpy._core.'))
)PY");
  for (const char* name : {"p0", "p1", "p2", "p3", "p4", "p5", "numpy2"}) {
    SCOPED_TRACE(name);
    const ValuePtr root = load_file(dir + "/" + name + ".pkl");
    check_python_structure(*root);
  }
}

TEST(IoPickle, RefusesWhatItCannotRepresent) {
  POSELIFT_REQUIRE_NUMPY();
  const std::string dir = scratch_dir();
  run_python(dir, R"PY(
import pickle, numpy as np
buffers = []
with open('oob.pkl', 'wb') as f:
    f.write(pickle.dumps(np.arange(4.0), protocol=5, buffer_callback=buffers.append))
loop = []
loop.append(loop)
with open('loop.pkl', 'wb') as f:
    pickle.dump(loop, f, protocol=2)
d = {}
d['self'] = [d]
with open('dict_loop.pkl', 'wb') as f:
    pickle.dump(d, f, protocol=0)
)PY");
  EXPECT_INPUT_ERROR(load_file(dir + "/oob.pkl"), "oob.pkl", "NEXT_BUFFER", "out-of-band");
  EXPECT_INPUT_ERROR(load_file(dir + "/loop.pkl"), "loop.pkl", "self-referencing");
  EXPECT_INPUT_ERROR(load_file(dir + "/dict_loop.pkl"), "dict_loop.pkl", "self-referencing");
}

TEST(IoPickle, HandWrittenOpcodes) {
  using namespace std::string_literals;
  EXPECT_EQ(load("\x80\x02K\x07."s)->as_int("v"), 7);
  EXPECT_TRUE(load("I01\n."s)->boolean);
  EXPECT_EQ(load("I123456789012345678901234567890\n."s)->text, "123456789012345678901234567890");
  EXPECT_EQ(load("L-123L\n."s)->as_int("v"), -123);
  EXPECT_EQ(load("\x8a\x09\x00\x00\x00\x00\x00\x00\x00\x00\x40."s)->text, "1180591620717411303424");
  EXPECT_EQ(load("\x8a\x02\xff\x7f."s)->as_int("v"), 32767);
  EXPECT_EQ(load("\x8a\x01\x80."s)->as_int("v"), -128);
  EXPECT_EQ(load("\x8a\x00."s)->as_int("v"), 0);
  EXPECT_EQ(load("F1e400\n."s)->as_float("v"), INFINITY);
  EXPECT_EQ(load("F-2.5\n."s)->as_float("v"), -2.5);
  EXPECT_EQ(load("S'a\\x41\\n\\'\\101'\n."s)->as_str("v"), "aA\n'A");
  EXPECT_EQ(load("V\\u00e9\\\\u0041\n."s)->as_str("v"), "\xC3\xA9\\\\u0041");
  EXPECT_EQ(load("\x80\x04\x95\x05\x00\x00\x00\x00\x00\x00\x00\x8c\x01x\x94."s)->as_str("v"), "x");
  // POP, POP_MARK, DUP, memo.
  auto list = load("(K\x01K\x02\x31]\x32q\x00\x30h\x00."s);
  EXPECT_EQ(list->kind, Value::Kind::List);
  // Duplicate keys keep the first position and the last value, as a Python dict does.
  auto dict = load("}(X\x01\x00\x00\x00" "aK\x01X\x01\x00\x00\x00" "bK\x02X\x01\x00\x00\x00" "aK\x03u."s);
  ASSERT_EQ(dict->entries.size(), 2u);
  EXPECT_EQ(dict->str_keys("d"), (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(dict->at("a", "d").as_int("a"), 3);
  auto numbers = load("}(K\x01K\x01\x88K\x02G?\xf0\x00\x00\x00\x00\x00\x00K\x03u."s);  // 1, True, 1.0: one key
  ASSERT_EQ(numbers->entries.size(), 1u);
  EXPECT_EQ(numbers->entries[0].second->as_int("v"), 3);
  // An unknown class is kept as data, never a failure.
  auto object = load("\x80\x02" "cmy.module\nKlass\n)\x81}X\x01\x00\x00\x00" "aK\x01sb."s);
  ASSERT_EQ(object->kind, Value::Kind::Object);
  EXPECT_EQ(object->object->module, "my.module");
  EXPECT_EQ(object->object->name, "Klass");
  EXPECT_EQ(object->object->state->at("a", "state").as_int("a"), 1);
  auto instance = load("(K\x05imod\nCls\n."s);
  EXPECT_EQ(instance->object->args.size(), 1u);
}

TEST(IoPickle, MalformedInputIsRefusedWithContext) {
  using namespace std::string_literals;
  EXPECT_INPUT_ERROR(load("\x80\x02\xff"s), "test.pkl", "unknown opcode 0xff", "at byte 2");
  EXPECT_INPUT_ERROR(load("\x80\x06."s), "unsupported protocol 6");
  EXPECT_INPUT_ERROR(load("\x80\x02\x82\x01."s), "EXT1", "extension registry");
  EXPECT_INPUT_ERROR(load("\x80\x02K\x01\x61."s), "APPEND", "stack underflow");
  EXPECT_INPUT_ERROR(load("(K\x01\x30\x30\x30."s), "stack underflow");
  EXPECT_INPUT_ERROR(load("]K\x01t."s), "TUPLE", "no MARK");
  EXPECT_INPUT_ERROR(load("\x80\x02h\x05."s), "BINGET", "memo index 5");
  EXPECT_INPUT_ERROR(load("\x80\x02q\x00."s), "BINPUT", "stack underflow");
  EXPECT_INPUT_ERROR(load("\x80\x04\x8d\x00\x00\x00\x00\x00\x00\x00\x40xyz."s), "BINUNICODE8", "needs 4611686018427387904 bytes");
  EXPECT_INPUT_ERROR(load("\x80\x04\x8e\xff\xff\xff\xff\xff\xff\xff\xff."s), "BINBYTES8");
  EXPECT_INPUT_ERROR(load("X\x10\x00\x00\x00short."s), "BINUNICODE", "only 6 remain");
  EXPECT_INPUT_ERROR(load("\x8b\x00\x00\x00\x40."s), "LONG4", "exceeds the limit");
  EXPECT_INPUT_ERROR(load("T\xff\xff\xff\xff."s), "BINSTRING", "negative");
  EXPECT_INPUT_ERROR(load("\x80\x02K"s), "BININT1", "only 0 remain");
  EXPECT_INPUT_ERROR(load("\x80\x02N"s), "truncated", "no STOP");
  EXPECT_INPUT_ERROR(load(""s), "test.pkl", "no STOP");
  EXPECT_INPUT_ERROR(load("X\x02\x00\x00\x00\xc3\x28."s), "BINUNICODE", "UTF-8");
  EXPECT_INPUT_ERROR(load("}K\x01u."s), "SETITEMS", "no MARK");
  EXPECT_INPUT_ERROR(load("}(K\x01u."s), "SETITEMS", "odd number");
  EXPECT_INPUT_ERROR(load(")K\x01\x61."s), "APPEND", "cannot append to a tuple");
  EXPECT_INPUT_ERROR(load("Ixyz\n."s), "INT", "malformed integer");
  EXPECT_INPUT_ERROR(load("Fabc\n."s), "FLOAT", "malformed float");
  EXPECT_INPUT_ERROR(load("S'abc\n."s), "STRING", "quoted");
  EXPECT_INPUT_ERROR(load("cmodule_without_newline"s), "GLOBAL", "newline");
  EXPECT_INPUT_ERROR(load("K\x01Q."s), "BINPERSID", "persistent ids are not supported");
  EXPECT_INPUT_ERROR(load("\x80\x02K\x01K\x02R."s), "REDUCE", "must be a tuple");
  // numpy array states that lie about their size.
  EXPECT_INPUT_ERROR(load("\x80\x02" "cnumpy.core.multiarray\n_reconstruct\ncnumpy\nndarray\nK\x00\x85"
                          "C\x01""b\x87R(K\x01J\x00\x00\x01\x00\x85" "cnumpy\ndtype\nX\x02\x00\x00\x00""f8\x89\x88\x87R"
                          "\x89" "C\x08\x00\x00\x00\x00\x00\x00\x00\x00tb."s),
                     "BUILD", "needs 524288 bytes but 8 are present");
}

TEST(IoPickle, NestingIsBounded) {
  // Nested lists built bottom-up on the stack.
  const std::string deep = std::string(600, ']') + std::string(599, 'a') + ".";
  EXPECT_INPUT_ERROR(load(deep), "nest deeper than the limit of 512");
  EXPECT_EQ(load(std::string(500, ']') + std::string(499, 'a') + ".")->kind, Value::Kind::List);
  EXPECT_INPUT_ERROR(load(std::string(600, '(')), "MARKs nest deeper");
  UnpickleLimits tight;
  tight.max_depth = 10;
  EXPECT_INPUT_ERROR(load(std::string(20, ']') + std::string(19, 'a') + ".", {}, tight), "limit of 10");

  // 200000 lists chained top-down through the memo (each appended into the previous one after
  // the fact): refused, and freeing the chain must not overflow the stack.
  std::string chain;
  const int count = 200000;
  auto put_index = [](std::string& out, char op, std::uint32_t index) {
    out += op;
    for (int i = 0; i < 4; ++i) out += static_cast<char>((index >> (8 * i)) & 0xFF);
  };
  for (int i = 0; i < count; ++i) {
    chain += ']';
    put_index(chain, 'r', static_cast<std::uint32_t>(i));  // LONG_BINPUT
    chain += '0';                                         // POP
  }
  for (int i = 0; i + 1 < count; ++i) {
    put_index(chain, 'j', static_cast<std::uint32_t>(i));      // LONG_BINGET parent
    put_index(chain, 'j', static_cast<std::uint32_t>(i + 1));  // LONG_BINGET child
    chain += "a0";                                             // APPEND, POP
  }
  put_index(chain, 'j', 0);
  chain += '.';
  EXPECT_INPUT_ERROR(load(chain), "nest deeper");
}

TEST(IoPickle, HooksRebuildValues) {
  using namespace std::string_literals;
  UnpickleHooks hooks;
  std::vector<std::string> pids;
  hooks.persistent_load = [&pids](const ValuePtr& pid) {
    pids.push_back(pid->repr());
    return Value::from_int(42);
  };
  std::vector<std::string> calls;
  hooks.reduce = [&calls](const std::string& module, const std::string& name,
                          const std::vector<ValuePtr>& args) -> ValuePtr {
    calls.push_back(module + "." + name + "/" + std::to_string(args.size()));
    if (name == "_rebuild_tensor_v2") return Value::from_str("tensor");
    return nullptr;
  };
  auto root = load("\x80\x02(X\x03\x00\x00\x00""abcQPxyz\nctorch._utils\n_rebuild_tensor_v2\n(K\x01K\x02tR"
                   "ctorch\nOther\n)\x81"
                   "ccollections\nOrderedDict\n)Rl."s,
                   hooks);
  ASSERT_EQ(root->items.size(), 5u);
  EXPECT_EQ(root->items[0]->as_int("pid"), 42);
  EXPECT_EQ(root->items[1]->as_int("pid"), 42);
  EXPECT_EQ(root->items[2]->as_str("tensor"), "tensor");
  EXPECT_TRUE(root->items[3]->is_object_of("torch", "Other"));  // hook declined: opaque object
  EXPECT_EQ(root->items[4]->kind, Value::Kind::Dict);             // built-in after the hook declined
  EXPECT_EQ(pids, (std::vector<std::string>{"'abc'", "'xyz'"}));
  EXPECT_EQ(calls, (std::vector<std::string>{"torch._utils._rebuild_tensor_v2/2", "torch.Other/0",
                                             "collections.OrderedDict/0"}));
}

ValuePtr sample_value() {
  auto big = std::make_shared<Value>();
  big->kind = Value::Kind::BigInt;
  big->text = "-1180591620717411303424";
  auto huge = std::make_shared<Value>();
  huge->kind = Value::Kind::BigInt;
  huge->text = "340282366920938463463374607431768211456";
  std::vector<ValuePtr> ints;
  for (std::int64_t v : std::vector<std::int64_t>{0, 255, 256, 65535, 65536, -1, -2147483648ll, 2147483648ll,
                                                  std::numeric_limits<std::int64_t>::min(),
                                                  std::numeric_limits<std::int64_t>::max()})
    ints.push_back(Value::from_int(v));
  std::vector<ValuePtr> long_list;
  for (int i = 0; i < 2500; ++i) long_list.push_back(Value::from_int(i));
  std::vector<std::pair<ValuePtr, ValuePtr>> many;
  for (int i = 0; i < 1200; ++i) many.emplace_back(Value::from_str(std::to_string(i)), Value::from_int(i));
  NdArray flags = NdArray::zeros(DType::Bool, {3});
  flags.bytes = {1, 0, 1};
  return Value::dict({
      {Value::from_str("none"), Value::none()},
      {Value::from_str("true"), Value::from_bool(true)},
      {Value::from_str("ints"), Value::list(ints)},
      {Value::from_str("big"), big},
      {Value::from_str("huge"), huge},
      {Value::from_str("floats"), Value::list({Value::from_float(1.5), Value::from_float(INFINITY),
                                               Value::from_float(-0.0)})},
      {Value::from_str("str"), Value::from_str("h\xC3\xA9llo \xE2\x9C\x93")},
      {Value::from_str("bytes"), Value::from_bytes(std::string("\x00\xff\x80", 3))},
      {Value::from_str("long_bytes"), Value::from_bytes(std::string(300, '\x81'))},
      {Value::from_str("tuples"), Value::list({Value::tuple(), Value::tuple({Value::from_int(1)}),
                                               Value::tuple({Value::from_int(1), Value::from_int(2), Value::from_int(3),
                                                             Value::from_int(4)})})},
      {Value::from_str("set"), Value::set({Value::from_int(1), Value::from_int(2)})},
      {Value::from_str("long_list"), Value::list(long_list)},
      {Value::from_str("many"), Value::dict(many)},
      {Value::tuple({Value::from_int(1), Value::from_str("a")}), Value::from_str("tuple key")},
      {Value::from_int(7), Value::from_str("int key")},
      {Value::from_str("f4"), Value::from_array(NdArray::from_vector<float>({2, 3}, {0, 1, 2, 3, 4, 5.5f}))},
      {Value::from_str("i8_0d"), Value::from_array(NdArray::from_vector<std::int64_t>({}, {-9}))},
      {Value::from_str("bool"), Value::from_array(flags)},
      {Value::from_str("empty"), Value::from_array(NdArray::zeros(DType::Float64, {0, 2}))},
      {Value::from_str("ordered"), Value::ordered_dict({{Value::from_str("z"), Value::from_int(1)},
                                                        {Value::from_str("a"), Value::from_int(2)}})},
      {Value::from_str("fraction"), Value::make_object("fractions", "Fraction", {Value::from_str("3/4")})},
      {Value::from_str("class"), Value::global("collections", "OrderedDict")},
  });
}

const char* kPythonExpected = R"PY(
import pickle, collections, fractions, math, numpy as np
expected = {
    'none': None, 'true': True,
    'ints': [0, 255, 256, 65535, 65536, -1, -2**31, 2**31, -2**63, 2**63 - 1],
    'big': -2**70, 'huge': 2**128,
    'floats': [1.5, math.inf, -0.0],
    'str': 'h\u00e9llo \u2713',
    'bytes': b'\x00\xff\x80', 'long_bytes': b'\x81' * 300,
    'tuples': [(), (1,), (1, 2, 3, 4)],
    'set': {1, 2},
    'long_list': list(range(2500)),
    'many': {str(i): i for i in range(1200)},
    (1, 'a'): 'tuple key', 7: 'int key',
    'ordered': collections.OrderedDict([('z', 1), ('a', 2)]),
    'fraction': fractions.Fraction(3, 4),
    'class': collections.OrderedDict,
}
arrays = {
    'f4': np.array([[0, 1, 2], [3, 4, 5.5]], dtype=np.float32),
    'i8_0d': np.array(-9, dtype=np.int64),
    'bool': np.array([True, False, True]),
    'empty': np.zeros((0, 2)),
}
def check(obj, name):
    assert list(obj.keys()) == list(expected.keys())[:2] + ['ints', 'big', 'huge', 'floats', 'str', 'bytes',
        'long_bytes', 'tuples', 'set', 'long_list', 'many', (1, 'a'), 7, 'f4', 'i8_0d', 'bool', 'empty', 'ordered',
        'fraction', 'class'], (name, list(obj.keys()))
    for key, want in expected.items():
        assert obj[key] == want and type(obj[key]) == type(want), (name, key, obj[key])
    assert math.copysign(1, obj['floats'][2]) == -1
    for key, want in arrays.items():
        got = obj[key]
        assert isinstance(got, np.ndarray) and got.dtype == want.dtype and got.shape == want.shape, (name, key, got)
        assert np.array_equal(got, want), (name, key, got)
)PY";

TEST(IoPickle, PythonLoadsWhatWeWrite) {
  POSELIFT_REQUIRE_NUMPY();
  const std::string dir = scratch_dir();
  const ValuePtr value = sample_value();
  for (int protocol : {2, 3}) {
    Pickler pickler;
    pickler.protocol = protocol;
    const std::string bytes = pickler.dump(*value);
    write_bytes(dir + "/p" + std::to_string(protocol) + ".pkl", std::vector<std::uint8_t>(bytes.begin(), bytes.end()));
  }
  const std::string out = run_python(dir, std::string(kPythonExpected) + R"PY(
for name in ['p2.pkl', 'p3.pkl']:
    with open(name, 'rb') as f:
        check(pickle.load(f), name)
print('ok')
)PY");
  EXPECT_EQ(out, "ok\n");
}

TEST(IoPickle, RoundTripsThroughOurOwnReader) {
  const ValuePtr value = sample_value();
  for (int protocol : {2, 3}) {
    SCOPED_TRACE(protocol);
    Pickler pickler;
    pickler.protocol = protocol;
    const ValuePtr back = load(pickler.dump(*value));
    // The OrderedDict object reads back as a plain dict; everything else is identical.
    EXPECT_EQ(back->at("ordered", "v").kind, Value::Kind::Dict);
    EXPECT_EQ(back->at("fraction", "v").object->args[0]->as_str("f"), "3/4");
    for (const char* key : {"ints", "big", "huge", "str", "bytes", "long_bytes", "tuples", "set", "f4", "i8_0d", "bool",
                            "empty", "class"})
      EXPECT_EQ(back->at(key, "v").repr(100000), value->at(key, "v").repr(100000)) << key;
    EXPECT_EQ(back->at("f4", "v").as_array("f4").bytes, value->at("f4", "v").as_array("f4").bytes);
    EXPECT_EQ(back->at("long_list", "v").items.size(), 2500u);
    EXPECT_EQ(back->at("many", "v").entries.size(), 1200u);
    EXPECT_TRUE(std::signbit(back->at("floats", "v").items[2]->real));
  }
}

struct FakeStorage : Extension {
  std::string key;
  std::string type_name() const override { return "FakeStorage"; }
};

TEST(IoPickle, PersistentIdsForExtensions) {
  auto storage = std::make_shared<FakeStorage>();
  storage->key = "7";
  auto root = Value::ordered_dict({{Value::from_str("weight"), Value::from_extension(storage)}});
  Pickler pickler;
  EXPECT_INPUT_ERROR(pickler.dump(*root), "FakeStorage", "persistent_id");
  pickler.persistent_id = [](const Value& v) -> ValuePtr {
    if (v.kind != Value::Kind::Extension) return nullptr;
    const auto* fake = dynamic_cast<const FakeStorage*>(v.extension.get());
    return Value::tuple({Value::from_str("storage"), Value::global("torch", "FloatStorage"), Value::from_str(fake->key),
                         Value::from_str("cpu"), Value::from_int(4)});
  };
  const std::string bytes = pickler.dump(*root);
  UnpickleHooks hooks;
  hooks.persistent_load = [](const ValuePtr& pid) { return Value::from_str("loaded " + pid->items.at(2)->text); };
  EXPECT_EQ(load(bytes, hooks)->at("weight", "root").as_str("weight"), "loaded 7");

  if (!numpy_available()) return;
  const std::string dir = scratch_dir();
  write_bytes(dir + "/pid.pkl", std::vector<std::uint8_t>(bytes.begin(), bytes.end()));
  const std::string out = run_python(dir, R"PY(
import pickle, collections
class Loader(pickle.Unpickler):
    def persistent_load(self, pid):
        return ('PID',) + pid[:1] + (pid[1].__name__ if isinstance(pid[1], type) else pid[1],) + pid[2:]
    def find_class(self, module, name):
        if module == 'torch':
            return type(name, (), {})
        return super().find_class(module, name)
with open('pid.pkl', 'rb') as f:
    obj = Loader(f).load()
assert type(obj) is collections.OrderedDict, type(obj)
print(obj['weight'])
)PY");
  EXPECT_EQ(out, "('PID', 'storage', 'FloatStorage', '7', 'cpu', 4)\n");
}

TEST(IoPickle, WriterRefusesWhatPythonCouldNotRead) {
  Pickler pickler;
  ValuePtr deep = Value::none();
  for (int i = 0; i < 2000; ++i) deep = Value::list({deep});
  EXPECT_INPUT_ERROR(pickler.dump(*deep), "nest deeper than 1000");
  EXPECT_INPUT_ERROR(pickler.dump(*Value::global("a\nb", "c")), "newline");
  pickler.protocol = 4;
  EXPECT_INPUT_ERROR(pickler.dump(*Value::none()), "protocol 4");
  pickler.protocol = 2;
  auto bad = std::make_shared<Value>();
  bad->kind = Value::Kind::BigInt;
  bad->text = "12x";
  EXPECT_INPUT_ERROR(pickler.dump(*bad), "big integer");
}

}  // namespace
}  // namespace poselift::io
