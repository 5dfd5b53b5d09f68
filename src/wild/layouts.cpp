#include "wild/layouts.hpp"

#include <algorithm>
#include <initializer_list>

namespace poselift::wild {

namespace {

// Where each named point sits in a detector layout (-1: the layout has no such point).
struct Indices {
  int nose, l_eye, r_eye, l_ear, r_ear, l_sho, r_sho, l_elb, r_elb, l_wri, r_wri, l_hip, r_hip, l_knee, r_knee, l_ank,
      r_ank, neck, mid_hip;
};

constexpr Indices kCoco17{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, -1, -1};
constexpr Indices kCoco18{0, 15, 14, 17, 16, 5, 2, 6, 3, 7, 4, 11, 8, 12, 9, 13, 10, 1, -1};
constexpr Indices kBody25{0, 16, 15, 18, 17, 5, 2, 6, 3, 7, 4, 12, 9, 13, 10, 14, 11, 1, 8};

Keypoint missing() { return {0.0f, 0.0f, 0.0f}; }

// The mean of the points, or missing when any of them is.
Keypoint mean_of(std::initializer_list<Keypoint> points) {
  Keypoint out{0.0f, 0.0f, 1e30f};
  for (const auto& p : points) {
    if (p[2] <= 0.0f) return missing();
    out[0] += p[0];
    out[1] += p[1];
    out[2] = std::min(out[2], p[2]);
  }
  out[0] /= static_cast<float>(points.size());
  out[1] /= static_cast<float>(points.size());
  return out;
}

Keypoint first_present(std::initializer_list<Keypoint> candidates) {
  for (const auto& p : candidates)
    if (p[2] > 0.0f) return p;
  return missing();
}

}  // namespace

H36mPose to_h36m(const std::vector<Keypoint>& keypoints, Layout layout, float min_confidence) {
  H36mPose out;
  const auto at = [&](int index) -> Keypoint {
    if (index < 0 || index >= static_cast<int>(keypoints.size())) return missing();
    const Keypoint& k = keypoints[static_cast<std::size_t>(index)];
    return k[2] >= min_confidence && k[2] > 0.0f ? k : missing();
  };
  if (layout == Layout::H36m17) {
    for (int j = 0; j < h36m::kJoints; ++j) out[static_cast<std::size_t>(j)] = at(j);
    return out;
  }
  const Indices& ix = layout == Layout::Coco17 ? kCoco17 : (layout == Layout::Coco18 ? kCoco18 : kBody25);
  const Keypoint pelvis = first_present({at(ix.mid_hip), mean_of({at(ix.l_hip), at(ix.r_hip)})});
  const Keypoint thorax = first_present({mean_of({at(ix.l_sho), at(ix.r_sho)}), at(ix.neck)});
  const Keypoint face = first_present({mean_of({at(ix.l_ear), at(ix.r_ear)}), mean_of({at(ix.l_eye), at(ix.r_eye)}),
                                       at(ix.nose)});
  Keypoint head = missing();
  if (face[2] > 0.0f && thorax[2] > 0.0f)
    head = {face[0] + 0.9f * (face[0] - thorax[0]), face[1] + 0.9f * (face[1] - thorax[1]), std::min(face[2], thorax[2])};
  out[0] = pelvis;
  out[1] = at(ix.r_hip);
  out[2] = at(ix.r_knee);
  out[3] = at(ix.r_ank);
  out[4] = at(ix.l_hip);
  out[5] = at(ix.l_knee);
  out[6] = at(ix.l_ank);
  out[7] = mean_of({pelvis, thorax});
  out[8] = thorax;
  out[9] = at(ix.nose);
  out[10] = head;
  out[11] = at(ix.l_sho);
  out[12] = at(ix.l_elb);
  out[13] = at(ix.l_wri);
  out[14] = at(ix.r_sho);
  out[15] = at(ix.r_elb);
  out[16] = at(ix.r_wri);
  return out;
}

}  // namespace poselift::wild
