#include "model/lifter.hpp"

#include "io/error.hpp"
#include "io/text.hpp"

namespace poselift::model {

namespace {
constexpr Family kFamilies[] = {Family::PoseFormer, Family::VideoPose3D, Family::PoseFormerV2, Family::MixSTE,
                                Family::MotionBERT};
}

const char* family_name(Family family) {
  switch (family) {
    case Family::PoseFormer: return "PoseFormer";
    case Family::VideoPose3D: return "VideoPose3D";
    case Family::PoseFormerV2: return "PoseFormerV2";
    case Family::MixSTE: return "MixSTE";
    case Family::MotionBERT: return "MotionBERT";
  }
  return "?";
}

Family family_from_name(const std::string& name) {
  const std::string wanted = io::to_lower(name);
  std::string known;
  for (Family family : kFamilies) {
    if (io::to_lower(family_name(family)) == wanted) return family;
    known += (known.empty() ? "" : ", ") + io::to_lower(family_name(family));
  }
  throw InputError("unknown model family '" + name + "' (expected one of " + known + ")");
}

std::int64_t LifterImpl::parameter_count() const {
  std::int64_t n = 0;
  for (const auto& p : parameters()) n += p.numel();
  return n;
}

}  // namespace poselift::model
