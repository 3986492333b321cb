// ThreadTeam: every part runs exactly once per Run, part 0 on the caller, parts capped at the
// team size, nested Runs run inline, and teams start and stop cleanly.
#include "runtime/thread_team.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <set>
#include <thread>
#include <vector>

namespace edgefit {
namespace {

TEST(ThreadTeamTest, EveryPartOnceOverManyRuns) {
  ThreadTeam team(3);
  ASSERT_EQ(team.size(), 3);
  const std::thread::id caller = std::this_thread::get_id();
  for (int run = 0; run < 5000; ++run) {
    const int parts = 1 + run % 4;  // 4 is capped at 3
    std::vector<std::atomic<int>> hits(4);
    std::vector<std::thread::id> who(4);
    team.Run(parts, [&](int k) {
      hits[k].fetch_add(1);
      who[k] = std::this_thread::get_id();
    });
    const int expected_parts = std::min(parts, 3);
    for (int k = 0; k < 4; ++k) ASSERT_EQ(hits[k].load(), k < expected_parts ? 1 : 0) << run;
    ASSERT_EQ(who[0], caller);
    std::set<std::thread::id> distinct(who.begin(), who.begin() + expected_parts);
    ASSERT_EQ(static_cast<int>(distinct.size()), expected_parts) << run;
  }
}

TEST(ThreadTeamTest, NestedRunRunsInline) {
  ThreadTeam team(2);
  std::atomic<int> inner{0};
  team.Run(2, [&](int) {
    const std::thread::id me = std::this_thread::get_id();
    team.Run(2, [&](int) {
      EXPECT_EQ(std::this_thread::get_id(), me);
      inner.fetch_add(1);
    });
  });
  EXPECT_EQ(inner.load(), 4);
}

TEST(ThreadTeamTest, SingleThreadTeamAndStartStop) {
  ThreadTeam one(1);
  int calls = 0;
  one.Run(5, [&](int k) {
    EXPECT_EQ(k, 0);
    ++calls;
  });
  EXPECT_EQ(calls, 1);
  for (int i = 0; i < 200; ++i) {
    ThreadTeam team(4);
    std::atomic<int> sum{0};
    team.Run(4, [&](int k) { sum.fetch_add(k + 1); });
    EXPECT_EQ(sum.load(), 10);
  }
}

}  // namespace
}  // namespace edgefit
