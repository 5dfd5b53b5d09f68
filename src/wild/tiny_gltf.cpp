// tinygltf's implementation, compiled once; its configuration macros come from CMake
// (src/wild/CMakeLists.txt) so that every file including tiny_gltf.h sees the same ones.
#define TINYGLTF_IMPLEMENTATION
#include <tiny_gltf.h>
