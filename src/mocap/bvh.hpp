// Biovision Hierarchy (.bvh, also gzipped) motion files.
//
// Supported: HIERARCHY with one or more ROOT blocks, nested JOINT and End Site blocks,
// OFFSET, CHANNELS with any subset/order of {X,Y,Z}position and {X,Y,Z}rotation; MOTION with
// `Frames:` and `Frame Time:` and one line of values per frame.
//
// Semantics:
//  - Euler angles are degrees, composed in the order of the CHANNELS line as intrinsic
//    rotations: R = R_first * R_second * R_third.
//  - The root's position channels are added to its OFFSET (iClone roots carry the hip height
//    in the OFFSET); on any other joint, position channels replace the matching OFFSET
//    components (Bandai animates every joint's translation).
#pragma once

#include <string>
#include <string_view>

#include "mocap/motion.hpp"

namespace poselift::mocap {

// Parses BVH text. `source` names the file in messages ("<source>:<line>: ...").
SkeletalMotion parse_bvh(std::string_view text, const std::string& source, const ReadLimits& limits = {});
// Reads a .bvh or gzipped .bvh file.
SkeletalMotion read_bvh(const std::string& path, const ReadLimits& limits = {});

}  // namespace poselift::mocap
