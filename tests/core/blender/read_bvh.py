# Run by Blender in background mode: imports a BVH with Blender's own importer (its default
# axes: the file's y up, -z forward) and writes every bone's head in world space at each frame
# as JSON: {"frames": N, "bones": {name: [[x, y, z] per frame]}}.
#   blender -b --factory-startup --python-exit-code 1 --python read_bvh.py -- IN.bvh OUT.json
import builtins
import json
import sys

import bpy

# Debian's Blender 3.4 runs on Python 3.11, where open() no longer accepts mode "rU", which its
# BVH importer still passes: drop the "U" (universal newlines are the default since Python 3).
_open = builtins.open
builtins.open = lambda file, mode="r", *args, **kwargs: _open(file, mode.replace("U", ""), *args, **kwargs)

bvh_path, json_path = sys.argv[sys.argv.index("--") + 1:][:2]
bpy.ops.wm.read_factory_settings(use_empty=True)
bpy.ops.import_anim.bvh(filepath=bvh_path, global_scale=1.0, frame_start=1, use_fps_scale=False, rotate_mode="NATIVE")
armature = next(o for o in bpy.context.scene.objects if o.type == "ARMATURE")
action = armature.animation_data.action
first, last = (int(round(v)) for v in action.frame_range)
bones = {b.name: [] for b in armature.pose.bones}
for frame in range(first, last + 1):
    bpy.context.scene.frame_set(frame)
    for b in armature.pose.bones:
        head = armature.matrix_world @ b.head
        bones[b.name].append([head.x, head.y, head.z])
with open(json_path, "w") as f:
    json.dump({"frames": last - first + 1, "bones": bones}, f)
