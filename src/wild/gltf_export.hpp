// glTF 2.0 binary (.glb) export of a rig animation (wild/rig.hpp), for viewers, game engines and
// Blender's glTF importer.
//
// Content, all in the rig's output axes (glTF wants y up, +z forward: RigOptions' defaults),
// metres:
// - one node per rig joint, named as the joint, translation = its rest offset, children as the
//   rig's parents; the scene lists the root joint and the mesh node;
// - a skinned mesh so that a figure shows: a box 3.5 cm thick along each bone (from a joint to
//   each child with a non-zero offset, and from a joint to its end site), built in the rest
//   pose with flat normals, every vertex weighted 1.0 to the joint the bone starts at; a skin
//   over all the joints, inverse bind matrices the inverses of their rest world transforms; one
//   plain material;
// - one animation ("motion"): the root's translation and every joint's rotation (quaternions
//   x, y, z, w, signs kept continuous from frame to frame), LINEAR, key times frame / fps.
// Float32 throughout, as glTF stores them. asset.generator is "poselift".
#pragma once

#include <string>
#include <vector>

#include "wild/rig.hpp"

namespace poselift::wild {

// The .glb file's bytes. Throws InputError when the animation has no joints or no frames, sizes
// that disagree, a joint whose parent does not come before it, duplicate or empty names, or
// values that are not finite (rotations must be unit quaternions).
std::vector<unsigned char> glb_bytes(const RigAnimation& animation);

// glb_bytes, written atomically (temporary file + rename).
void write_glb(const std::string& path, const RigAnimation& animation);

}  // namespace poselift::wild
