// tinygltf's implementation, compiled once.
#define TINYGLTF_IMPLEMENTATION
#include "wild/tinygltf.hpp"
