#include "rulake/core/chain_bound.hpp"

#include <gtest/gtest.h>

using rulake::core::ChainBound;
using rulake::core::ChainStep;

TEST(ChainBound, AcceptsAChainThatVisitsEveryBlockOnce) {
    ChainBound bound(4);
    for (uint32_t block : {1u, 3u, 2u, 0u}) {
        ASSERT_EQ(bound.check(block), ChainStep::Ok);
        bound.step();
    }
    EXPECT_EQ(bound.steps(), 4u);
}

TEST(ChainBound, RefusesALinkPastTheEnd) {
    ChainBound bound(4);
    EXPECT_EQ(bound.check(4), ChainStep::PastEnd);
    EXPECT_EQ(bound.check(0xFFFFFFFFu), ChainStep::PastEnd);  // InvalidBlockNumber
}

TEST(ChainBound, StopsACycleAfterAsManyStepsAsBlocks) {
    ChainBound bound(3);
    uint32_t block = 1;
    int steps = 0;
    while (bound.check(block) == ChainStep::Ok) {
        bound.step();
        block = block == 1 ? 2 : 1;  // 1 -> 2 -> 1 -> ...
        ASSERT_LT(++steps, 100);
    }
    EXPECT_EQ(bound.check(block), ChainStep::TooLong);
    EXPECT_EQ(steps, 3);
}

TEST(ChainBound, AnUnknownCountIsLearnedAndNeverLowered) {
    ChainBound bound;
    EXPECT_EQ(bound.check(0), ChainStep::PastEnd);
    bound.update_block_count(10);
    EXPECT_EQ(bound.check(9), ChainStep::Ok);
    bound.update_block_count(5);
    EXPECT_EQ(bound.check(9), ChainStep::Ok);
}
