#include "consensus/block_tree.h"

#include <gtest/gtest.h>

#include "consensus_test_util.h"

namespace reel::consensus {
namespace {

using namespace testing;

TEST(BlockTree, PathsAndPruningKeepOnlyDescendantsOfTheNewRoot) {
  TestApp app;
  Block g = MakeGenesisBlock(kChain, 1);
  BlockTree tree(g, MakeGenesisQc(g));
  Block a1 = MakeBlock(g, MakeGenesisQc(g), 1, 4, app, "a1");
  Block a2 = MakeBlock(a1, MakeQc(a1, {0, 1, 2}), 2, 4, app, "a2");
  Block b2 = MakeBlock(a1, MakeQc(a1, {0, 1, 2}), 3, 4, app, "b2");  // fork at a1
  Block c1 = MakeBlock(g, MakeGenesisQc(g), 4, 4, app, "c1");        // fork at genesis
  for (const Block* b : {&a1, &a2, &b2, &c1}) tree.Insert(*b);
  EXPECT_EQ(tree.size(), 5u);
  auto path = tree.PathFromRoot(a2.id);
  ASSERT_EQ(path.size(), 2u);
  EXPECT_EQ(path[0]->id, a1.id);
  EXPECT_EQ(path[1]->id, a2.id);
  EXPECT_EQ(tree.QcFor(a1.id), nullptr);
  tree.Certify(MakeQc(a1, {0, 1, 2}));
  ASSERT_NE(tree.QcFor(a1.id), nullptr);

  tree.PruneTo(a1.id);
  EXPECT_EQ(tree.root().id, a1.id);
  EXPECT_EQ(tree.size(), 3u);  // a1, a2, b2
  EXPECT_EQ(tree.Find(g.id), nullptr);
  EXPECT_EQ(tree.Find(c1.id), nullptr);
  EXPECT_NE(tree.Find(b2.id), nullptr);
  tree.PruneTo(tree.root().id);  // the root itself, by a reference into the tree
  EXPECT_EQ(tree.size(), 3u);
  tree.PruneTo(a2.id);
  EXPECT_EQ(tree.size(), 1u);
  EXPECT_EQ(tree.root().id, a2.id);
}

}  // namespace
}  // namespace reel::consensus
