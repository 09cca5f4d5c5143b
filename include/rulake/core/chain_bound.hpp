// Bounds a walk along a chain of linked blocks (each block names the next one) so that a corrupted
// link can neither point past the end of the file nor make the walk loop forever: a chain without a
// cycle visits each block at most once, so it takes fewer steps than the file has blocks.
#pragma once

#include <cstdint>

namespace rulake::core {

enum class ChainStep {
    Ok,       // the walk may go on to the block
    PastEnd,  // the block lies beyond the blocks known so far
    TooLong,  // more steps than blocks known so far: the chain has a cycle (or the count is stale)
};

class ChainBound {
  public:
    // block_count: the file's blocks as far as the caller knows; 0 when not known yet.
    explicit ChainBound(uint32_t block_count = 0) noexcept : block_count_(block_count) {}

    // Whether the walk may step onto `block` after the steps taken so far. Does not count the step.
    // A file that grows during the walk (other writers append) makes this fail spuriously: the caller
    // then re-reads the file's size, calls update_block_count and checks again before giving up.
    ChainStep check(uint32_t block) const noexcept {
        if (block >= block_count_) return ChainStep::PastEnd;
        if (steps_ >= block_count_) return ChainStep::TooLong;
        return ChainStep::Ok;
    }
    // Counts one step onto a block that check() accepted.
    void step() noexcept { ++steps_; }
    // Raises the known block count (never lowers it).
    void update_block_count(uint32_t block_count) noexcept {
        if (block_count > block_count_) block_count_ = block_count;
    }
    uint64_t steps() const noexcept { return steps_; }

  private:
    uint32_t block_count_;
    uint64_t steps_ = 0;
};

}  // namespace rulake::core

#ifdef POSTGRES_H
#error "core headers are pure C++: include them before postgres.h (see docs/cpp-boundary.md)"
#endif
