// tinygltf as poselift includes it: the configuration macros change TinyGLTF's members, so every
// file that includes tiny_gltf.h (and tiny_gltf.cpp, its implementation) goes through here.
// No image codecs: the export has no textures.
#pragma once

#ifndef TINYGLTF_NO_STB_IMAGE
#define TINYGLTF_NO_STB_IMAGE
#endif
#ifndef TINYGLTF_NO_STB_IMAGE_WRITE
#define TINYGLTF_NO_STB_IMAGE_WRITE
#endif
#ifndef TINYGLTF_NO_EXTERNAL_IMAGE
#define TINYGLTF_NO_EXTERNAL_IMAGE
#endif
#include <tiny_gltf.h>
