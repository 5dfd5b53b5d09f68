// How long the Human3.6M test set takes a model, from one measured forward pass: the families
// table's projection. Pure arithmetic (no LibTorch), header-only.
//
// Protocol: flip test-time augmentation, two forwards per input (as given and mirrored).
// Sequence-to-sequence models (MixSTE, MotionBERT) cut each sequence into ceil(T / F) clips of
// F frames (the last one padded); window models (PoseFormer) run one window per output frame.
#pragma once

#include <cstdint>
#include <vector>

namespace poselift::bench {

// Forwards per input with flip test-time augmentation.
constexpr std::int64_t kFlipForwards = 2;

// Forward passes over sequences of `lengths` frames: per clip of `window` frames (sequence
// models) or per output frame (window models), times kFlipForwards. 0 for a window below 1.
inline std::int64_t test_set_forwards(const std::vector<std::int64_t>& lengths, std::int64_t window, bool per_clip) {
  if (window < 1) return 0;
  std::int64_t forwards = 0;
  for (const auto length : lengths) {
    if (length < 1) continue;
    forwards += per_clip ? (length + window - 1) / window : length;
  }
  return forwards * kFlipForwards;
}

// Hours for those forwards at `seconds_per_forward` (one clip or one window, batch 1 or the
// per-item share of a batch).
inline double projected_hours(const std::vector<std::int64_t>& lengths, std::int64_t window, bool per_clip,
                              double seconds_per_forward) {
  return static_cast<double>(test_set_forwards(lengths, window, per_clip)) * seconds_per_forward / 3600.0;
}

// The Human3.6M protocol test set (S9 and S11, 30 sequences each, four cameras: 240 sequences,
// 543,344 frames in all, bench::kH36mTestWindows). The individual lengths are not at hand here:
// equal lengths stand in (2,264 frames for the first 224, 2,263 for the rest). With 243-frame
// clips each gives 10 clips; real lengths (about 1,000 to 6,300 frames) waste on average half a
// clip per sequence instead, so the clip count is about 2% high.
inline std::vector<std::int64_t> h36m_test_sequence_lengths() {
  constexpr std::int64_t kSequences = 240, kFrames = 543344;
  std::vector<std::int64_t> lengths(kSequences, kFrames / kSequences);
  for (std::int64_t i = 0; i < kFrames % kSequences; ++i) ++lengths[static_cast<std::size_t>(i)];
  return lengths;
}

}  // namespace poselift::bench
