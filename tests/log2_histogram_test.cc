#include "daemon/log2_histogram.h"

#include <gtest/gtest.h>

namespace tracectl {
namespace {

TEST(Log2QuantileTest, EmptyIsZero) {
  EXPECT_EQ(Log2Quantile({}, 0.5, 0), 0u);
  EXPECT_EQ(Log2Quantile({0, 0, 0}, 0.99, 0), 0u);
}

TEST(Log2QuantileTest, UpperBoundOfTheBucketHoldingTheRank) {
  // 90 values in [8, 16), 10 in [1024, 2048).
  std::vector<uint64_t> h(11, 0);
  h[3] = 90;
  h[10] = 10;
  EXPECT_EQ(Log2Quantile(h, 0.50, 5000), 15u);
  EXPECT_EQ(Log2Quantile(h, 0.90, 5000), 15u);
  EXPECT_EQ(Log2Quantile(h, 0.91, 5000), 2047u);
  EXPECT_EQ(Log2Quantile(h, 0.99, 5000), 2047u);
}

TEST(Log2QuantileTest, CappedAtTheExactMaximum) {
  std::vector<uint64_t> h(11, 0);
  h[10] = 3;  // all in [1024, 2048), and the largest was 1100
  EXPECT_EQ(Log2Quantile(h, 0.99, 1100), 1100u);
}

}  // namespace
}  // namespace tracectl
