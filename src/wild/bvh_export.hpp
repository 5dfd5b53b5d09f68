// BVH text of a rig animation (wild/rig.hpp), so the motion opens in Blender, MotionBuilder or
// a game engine: the HIERARCHY of the rig's joints with their rest offsets and End Sites, then
// one MOTION line per frame: the root's position, then every joint's rotation relative to its
// parent as Zrotation Xrotation Yrotation (degrees; position channels on the root only).
// Units: metres; axes: the rig's output axes (RigOptions::up / forward).
#pragma once

#include <string>

#include "wild/rig.hpp"

namespace poselift::wild {

std::string bvh_text(const RigAnimation& animation);

}  // namespace poselift::wild
