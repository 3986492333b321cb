// The IR graph: use lists, mutation, topological order, Verify and naming.
#include "ir/graph.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "testing/test_util.h"

namespace edgefit {
namespace {

Value* NewValue(Graph& g, const std::string& name) {
  auto v = g.CreateValue(name);
  EXPECT_TRUE(v.ok()) << v.status().ToString();
  return v.ok() ? *v : nullptr;
}

std::vector<std::string> NodeNames(const Graph& g) {
  std::vector<std::string> names;
  for (const auto& n : g.nodes()) names.push_back(n->name());
  return names;
}

bool HasUse(const Value* v, const Node* n, int index) {
  const auto& uses = v->uses();
  return std::find(uses.begin(), uses.end(), Use{const_cast<Node*>(n), index}) != uses.end();
}

// Every use recorded in a value matches the node's input list and vice versa.
void ExpectConsistentUses(const Graph& g) {
  size_t total_inputs = 0;
  for (const auto& n : g.nodes()) {
    for (size_t i = 0; i < n->num_inputs(); ++i) {
      Value* v = n->input(i);
      if (!v) continue;
      ++total_inputs;
      EXPECT_TRUE(HasUse(v, n.get(), static_cast<int>(i)))
          << n->Describe() << " input " << i << " missing from uses of " << v->name();
    }
    for (Value* v : n->implicit_inputs()) {
      ++total_inputs;
      EXPECT_TRUE(HasUse(v, n.get(), -1));
    }
    for (size_t i = 0; i < n->num_outputs(); ++i) {
      if (Value* v = n->output(i)) {
        EXPECT_EQ(v->producer(), n.get());
        EXPECT_EQ(v->producer_output_index(), static_cast<int>(i));
      }
    }
  }
  size_t total_uses = 0;
  for (Value* v : g.AllValues()) {
    for (const Use& u : v->uses()) {
      ++total_uses;
      if (u.input_index >= 0) {
        EXPECT_EQ(u.node->input(static_cast<size_t>(u.input_index)), v)
            << "stale use of " << v->name() << " by " << u.node->Describe();
      }
    }
  }
  EXPECT_EQ(total_uses, total_inputs);
}

// x -> A -> a -> B -> b -> C -> c (output); C also reads x.
struct Chain {
  Graph g;
  Value *x, *a, *b, *c;
  Node *A, *B, *C;
  Chain() {
    g.name = "chain";
    x = NewValue(g, "x");
    a = NewValue(g, "a");
    b = NewValue(g, "b");
    c = NewValue(g, "c");
    g.AddInput(x);
    A = g.AddNode("Relu", {x}, {a}, "A");
    B = g.AddNode("Neg", {a}, {b}, "B");
    C = g.AddNode("Add", {b, x}, {c}, "C");
    g.AddOutput(c);
  }
};

TEST(GraphUseListTest, AddNodeRecordsUsesAndProducers) {
  Chain ch;
  EXPECT_EQ(ch.a->producer(), ch.A);
  EXPECT_EQ(ch.x->producer(), nullptr);
  ASSERT_EQ(ch.x->uses().size(), 2u);
  EXPECT_TRUE(HasUse(ch.x, ch.A, 0));
  EXPECT_TRUE(HasUse(ch.x, ch.C, 1));
  EXPECT_TRUE(ch.x->is_graph_input());
  EXPECT_TRUE(ch.c->is_graph_output());
  ExpectConsistentUses(ch.g);
  EDGEFIT_EXPECT_OK(ch.g.Verify());
}

TEST(GraphUseListTest, SetInput) {
  Chain ch;
  ch.C->SetInput(0, ch.a);  // C reads a instead of b
  EXPECT_TRUE(ch.b->uses().empty());
  EXPECT_TRUE(HasUse(ch.a, ch.C, 0));
  EXPECT_TRUE(HasUse(ch.a, ch.B, 0));
  ExpectConsistentUses(ch.g);

  ch.C->SetInput(1, ch.a);  // the same value twice
  EXPECT_EQ(ch.a->uses().size(), 3u);
  EXPECT_EQ(ch.x->uses().size(), 1u);
  ExpectConsistentUses(ch.g);

  ch.C->SetInput(3, ch.x);  // grows, leaving an omitted input at 2
  ASSERT_EQ(ch.C->num_inputs(), 4u);
  EXPECT_EQ(ch.C->input(2), nullptr);
  EXPECT_TRUE(HasUse(ch.x, ch.C, 3));
  ExpectConsistentUses(ch.g);

  ch.C->SetInput(3, nullptr);
  EXPECT_FALSE(HasUse(ch.x, ch.C, 3));
  ch.C->TruncateInputs(1);
  EXPECT_EQ(ch.C->num_inputs(), 1u);
  EXPECT_EQ(ch.a->uses().size(), 2u);  // B and C:0
  ExpectConsistentUses(ch.g);
}

TEST(GraphUseListTest, ReplaceAllUsesWith) {
  Chain ch;
  Value* y = NewValue(ch.g, "y");
  ch.g.AddInput(y);
  ch.g.ReplaceAllUsesWith(ch.x, y);
  EXPECT_TRUE(ch.x->uses().empty());
  EXPECT_EQ(ch.A->input(0), y);
  EXPECT_EQ(ch.C->input(1), y);
  EXPECT_EQ(y->uses().size(), 2u);
  ExpectConsistentUses(ch.g);

  // Graph outputs follow too.
  ch.g.ReplaceAllUsesWith(ch.c, ch.b);
  ASSERT_EQ(ch.g.outputs().size(), 1u);
  EXPECT_EQ(ch.g.outputs()[0], ch.b);
  EXPECT_FALSE(ch.c->is_graph_output());
  EXPECT_TRUE(ch.b->is_graph_output());
  ExpectConsistentUses(ch.g);

  ch.g.ReplaceAllUsesWith(ch.b, ch.b);  // no-op
  EXPECT_TRUE(ch.b->is_graph_output());
}

TEST(GraphUseListTest, ReplaceAllUsesWithImplicitInputs) {
  Graph g;
  Value* x = NewValue(g, "x");
  Value* y = NewValue(g, "y");
  Value* out = NewValue(g, "out");
  g.AddInput(x);
  g.AddInput(y);
  Node* loop = g.AddNode("If", {x}, {out}, "if");
  g.SetImplicitInputs(loop, {x});
  EXPECT_TRUE(HasUse(x, loop, -1));
  g.ReplaceAllUsesWith(x, y);
  EXPECT_TRUE(x->uses().empty());
  EXPECT_TRUE(HasUse(y, loop, -1));
  EXPECT_TRUE(HasUse(y, loop, 0));
  ASSERT_EQ(loop->implicit_inputs().size(), 1u);
  EXPECT_EQ(loop->implicit_inputs()[0], y);
  ExpectConsistentUses(g);
}

TEST(GraphUseListTest, RemoveNode) {
  Chain ch;
  ch.g.RemoveNode(ch.B);
  EXPECT_EQ(ch.g.num_nodes(), 2u);
  EXPECT_TRUE(ch.a->uses().empty());
  EXPECT_EQ(ch.b->producer(), nullptr);
  EXPECT_EQ(ch.b->producer_output_index(), -1);
  ExpectConsistentUses(ch.g);
  // b is still read by C, so it stays; Verify now reports it as dangling.
  EXPECT_FALSE(ch.g.RemoveValueIfUnused(ch.b));
  Status st = ch.g.Verify();
  EXPECT_EQ(st.code(), StatusCode::kInvalidModel);
  EXPECT_NE(st.message().find("'b'"), std::string::npos) << st.message();

  ch.g.RemoveNode(ch.C);
  ch.g.RemoveNode(ch.A);
  EXPECT_EQ(ch.g.num_nodes(), 0u);
  EXPECT_TRUE(ch.x->uses().empty());
  EXPECT_TRUE(ch.g.RemoveValueIfUnused(ch.b));
  EXPECT_EQ(ch.g.FindValue("b"), nullptr);
  EXPECT_FALSE(ch.g.RemoveValueIfUnused(ch.x));  // graph input
  EXPECT_FALSE(ch.g.RemoveValueIfUnused(ch.c));  // graph output
  // Node names are free again.
  EXPECT_EQ(ch.g.UniqueNodeName("B"), "B");
}

TEST(GraphUseListTest, InsertNodeAndSetNodeOutput) {
  Chain ch;
  Value* t = NewValue(ch.g, "t");
  Node* n = ch.g.InsertNode(ch.B, "Identity", {ch.a}, {t}, "I");
  EXPECT_EQ(NodeNames(ch.g), (std::vector<std::string>{"A", "I", "B", "C"}));
  ch.B->SetInput(0, t);
  EXPECT_EQ(t->producer(), n);
  ch.g.SetNodeOutput(n, 0, nullptr);
  EXPECT_EQ(t->producer(), nullptr);
  ch.g.SetNodeOutput(n, 0, t);
  EXPECT_EQ(t->producer(), n);
  ExpectConsistentUses(ch.g);
  EDGEFIT_EXPECT_OK(ch.g.Verify());
}

TEST(TopologicalSortTest, KeepsValidOrder) {
  Chain ch;
  // Two independent nodes that read x: their relative order must be kept.
  Value* p = NewValue(ch.g, "p");
  Value* q = NewValue(ch.g, "q");
  ch.g.AddNode("Relu", {ch.x}, {q}, "Q");
  ch.g.AddNode("Relu", {ch.x}, {p}, "P");
  std::vector<std::string> before = NodeNames(ch.g);
  EDGEFIT_ASSERT_OK(ch.g.TopologicalSort());
  EXPECT_EQ(NodeNames(ch.g), before);
  EDGEFIT_EXPECT_OK(ch.g.Verify());
  ExpectConsistentUses(ch.g);
}

TEST(TopologicalSortTest, FixesShuffledOrder) {
  Graph g;
  g.name = "shuffled";
  Value* x = NewValue(g, "x");
  g.AddInput(x);
  Value *a = NewValue(g, "a"), *b = NewValue(g, "b"), *c = NewValue(g, "c"), *d = NewValue(g, "d");
  // Listed consumers first.
  g.AddNode("Add", {c, b}, {d}, "D");
  g.AddNode("Neg", {a}, {c}, "C");
  g.AddNode("Relu", {x}, {b}, "B");
  g.AddNode("Relu", {x}, {a}, "A");
  g.AddOutput(d);
  EDGEFIT_EXPECT_OK(g.Verify());  // an unusual order is not an error
  EDGEFIT_ASSERT_OK(g.TopologicalSort());
  // Stable: among ready nodes the original order (B before A) is kept.
  EXPECT_EQ(NodeNames(g), (std::vector<std::string>{"B", "A", "C", "D"}));
  // Every producer comes before its consumers.
  std::vector<const Node*> seen;
  for (const auto& n : g.nodes()) {
    for (Value* in : n->inputs()) {
      if (in && in->producer()) {
        EXPECT_NE(std::find(seen.begin(), seen.end(), in->producer()), seen.end())
            << n->Describe() << " before the producer of " << in->name();
      }
    }
    seen.push_back(n.get());
  }
  ExpectConsistentUses(g);
  // A node inserted before its producer afterwards is moved after it.
  Value* e = NewValue(g, "e");
  g.InsertNode(g.nodes().front().get(), "Neg", {d}, {e}, "E");
  EDGEFIT_ASSERT_OK(g.TopologicalSort());
  EXPECT_EQ(NodeNames(g).back(), "E");
}

TEST(TopologicalSortTest, ReportsCycle) {
  Graph g;
  g.name = "loopy";
  Value* x = NewValue(g, "x");
  g.AddInput(x);
  Value *t1 = NewValue(g, "t1"), *t2 = NewValue(g, "t2"), *y = NewValue(g, "y");
  g.AddNode("Add", {x, t2}, {t1}, "first");
  g.AddNode("Relu", {t1}, {t2}, "second");
  g.AddNode("Relu", {x}, {y}, "free");
  g.AddOutput(y);
  std::vector<std::string> before = NodeNames(g);
  Status st = g.TopologicalSort();
  ASSERT_EQ(st.code(), StatusCode::kInvalidModel);
  EXPECT_NE(st.message().find("cycle"), std::string::npos) << st.message();
  EXPECT_TRUE(st.message().find("'first'") != std::string::npos ||
              st.message().find("'second'") != std::string::npos)
      << st.message();
  EXPECT_TRUE(testing::IsOneLine(st.message()));
  EXPECT_EQ(NodeNames(g), before);  // unchanged on failure
}

TEST(VerifyTest, DanglingInput) {
  Graph g;
  g.name = "g";
  Value* x = NewValue(g, "x");
  Value* ghost = NewValue(g, "ghost");
  Value* y = NewValue(g, "y");
  g.AddInput(x);
  g.AddNode("Add", {x, ghost}, {y}, "add");
  g.AddOutput(y);
  Status st = g.Verify();
  ASSERT_EQ(st.code(), StatusCode::kInvalidModel);
  EXPECT_NE(st.message().find("'ghost'"), std::string::npos) << st.message();
  EXPECT_NE(st.message().find("Add 'add'"), std::string::npos) << st.message();
}

TEST(VerifyTest, DanglingGraphOutput) {
  Graph g;
  Value* y = NewValue(g, "y");
  g.AddOutput(y);
  Status st = g.Verify();
  ASSERT_EQ(st.code(), StatusCode::kInvalidModel);
  EXPECT_NE(st.message().find("graph output 'y'"), std::string::npos) << st.message();
}

TEST(VerifyTest, Cycle) {
  Graph g;
  g.name = "g";
  Value* x = NewValue(g, "x");
  g.AddInput(x);
  Value *t1 = NewValue(g, "t1"), *t2 = NewValue(g, "t2");
  g.AddNode("Add", {x, t2}, {t1}, "first");
  g.AddNode("Relu", {t1}, {t2}, "second");
  g.AddOutput(t2);
  Status st = g.Verify();
  ASSERT_EQ(st.code(), StatusCode::kInvalidModel);
  EXPECT_NE(st.message().find("cycle"), std::string::npos) << st.message();
}

TEST(VerifyTest, SelfLoop) {
  // A node reading its own output is a cycle of length one.
  Graph g;
  g.name = "g";
  Value* x = NewValue(g, "x");
  g.AddInput(x);
  Value* t = NewValue(g, "t");
  g.AddNode("Add", {x, t}, {t}, "self");
  g.AddOutput(t);
  Status st = g.Verify();
  ASSERT_EQ(st.code(), StatusCode::kInvalidModel) << "self-loop not detected";
  EXPECT_NE(st.message().find("'self'"), std::string::npos) << st.message();
  EXPECT_FALSE(g.TopologicalSort().ok());
}

TEST(VerifyTest, UnknownDtype) {
  Chain ch;
  ch.b->type() = TypeInfo::Tensor(static_cast<DataType>(99), {1});
  Status st = ch.g.Verify();
  ASSERT_EQ(st.code(), StatusCode::kInvalidModel);
  EXPECT_NE(st.message().find("'b'"), std::string::npos) << st.message();
  EXPECT_NE(st.message().find("99"), std::string::npos) << st.message();
  ch.b->type() = TypeInfo::Tensor(DataType::kUndefined, {1});  // "not known" is fine
  EDGEFIT_EXPECT_OK(ch.g.Verify());
}

TEST(VerifyTest, InitializerAlsoProduced) {
  Chain ch;
  ch.g.SetInitializer(ch.a, Tensor(DataType::kFloat, {1}));
  Status st = ch.g.Verify();
  ASSERT_EQ(st.code(), StatusCode::kInvalidModel);
  EXPECT_NE(st.message().find("'a'"), std::string::npos) << st.message();
}

TEST(VerifyTest, RecursesIntoSubgraphs) {
  Chain ch;
  auto sub = std::make_shared<Graph>(&ch.g);
  sub->name = "body";
  Value* outer = sub->GetOrCreateOuterRef("a");
  Value* missing = NewValue(*sub, "missing");
  Value* r = NewValue(*sub, "r");
  sub->AddNode("Add", {outer, missing}, {r}, "inner");
  sub->AddOutput(r);
  Attribute attr;
  attr.name = "then_branch";
  attr.type = AttrType::kGraph;
  attr.graphs.push_back(sub);
  ch.C->attributes().push_back(attr);
  Status st = ch.g.Verify();
  ASSERT_EQ(st.code(), StatusCode::kInvalidModel);
  EXPECT_NE(st.message().find("'missing'"), std::string::npos) << st.message();
  EXPECT_NE(st.message().find("body"), std::string::npos) << st.message();

  // An outer reference no enclosing graph defines.
  auto sub2 = std::make_shared<Graph>(&ch.g);
  Value* nowhere = sub2->GetOrCreateOuterRef("nowhere");
  Value* r2 = NewValue(*sub2, "r2");
  sub2->AddNode("Relu", {nowhere}, {r2}, "inner2");
  sub2->AddOutput(r2);
  ch.C->attributes()[0].graphs[0] = sub2;
  st = ch.g.Verify();
  ASSERT_EQ(st.code(), StatusCode::kInvalidModel);
  EXPECT_NE(st.message().find("'nowhere'"), std::string::npos) << st.message();
}

TEST(NamingTest, UniqueName) {
  Chain ch;
  EXPECT_EQ(ch.g.UniqueName("fresh"), "fresh");
  EXPECT_EQ(ch.g.UniqueName("a"), "a_1");
  NewValue(ch.g, "a_1");
  NewValue(ch.g, "a_2");
  EXPECT_EQ(ch.g.UniqueName("a"), "a_3");  // a name, not a reservation
  Value* v = ch.g.CreateUniqueValue("a");
  EXPECT_EQ(v->name().rfind("a_", 0), 0u) << v->name();
  EXPECT_NE(v, ch.a);
  EXPECT_NE(ch.g.CreateUniqueValue("a")->name(), v->name());
  EXPECT_EQ(ch.g.CreateUniqueValue("")->name(), "v");
  EXPECT_EQ(ch.g.CreateUniqueValue("")->name(), "v_1");

  // Names of enclosing graphs are taken too.
  Graph sub(&ch.g);
  EXPECT_EQ(sub.UniqueName("x"), "x_1");
  EXPECT_EQ(sub.UniqueName("local"), "local");

  auto dup = ch.g.CreateValue("a");
  ASSERT_FALSE(dup.ok());
  EXPECT_EQ(dup.status().code(), StatusCode::kInvalidModel);

  Value* init = ch.g.AddInitializer("w", Tensor(DataType::kFloat, {2}));
  EXPECT_EQ(init->name(), "w");
  EXPECT_EQ(ch.g.AddInitializer("w", Tensor(DataType::kFloat, {2}))->name(), "w_1");
  EXPECT_EQ(ch.g.initializers().size(), 2u);
  EXPECT_TRUE(init->type().IsStatic());
}

TEST(GraphInitializerTest, RemoveInitializersKeepsTheOthersInOrder) {
  Graph g;
  std::vector<Value*> inits;
  for (const char* name : {"a", "b", "c", "d", "e"})
    inits.push_back(g.AddInitializer(name, Tensor(DataType::kFloat, {1})));
  g.RemoveInitializers({inits[3], inits[0], inits[3]});  // repeats are harmless
  EXPECT_EQ(g.initializers(), (std::vector<Value*>{inits[1], inits[2], inits[4]}));
  EXPECT_FALSE(inits[0]->has_initializer());
  EXPECT_FALSE(inits[3]->has_initializer());
  EXPECT_TRUE(inits[1]->has_initializer());
  g.RemoveInitializers({});
  g.RemoveInitializers({inits[0]});  // no longer an initializer: nothing happens
  EXPECT_EQ(g.initializers().size(), 3u);
  EXPECT_TRUE(g.RemoveValueIfUnused(inits[0]));
}

TEST(NamingTest, UniqueNodeName) {
  Chain ch;
  EXPECT_EQ(ch.g.UniqueNodeName("A"), "A_1");
  EXPECT_EQ(ch.g.UniqueNodeName("Z"), "Z");
  EXPECT_EQ(ch.g.UniqueNodeName(""), "node");
}

TEST(TypeInfoTest, ShapesAndStrings) {
  TypeInfo t = TypeInfo::Tensor(DataType::kFloat, {1, 3});
  EXPECT_TRUE(t.IsStatic());
  EXPECT_EQ(*t.StaticShape(), (Shape{1, 3}));
  EXPECT_EQ(t.ShapeString(), "[1,3]");
  t.dims[0] = Dim::Symbolic("batch");
  EXPECT_FALSE(t.IsStatic());
  EXPECT_FALSE(t.StaticShape().has_value());
  t.dims.push_back(Dim{});
  EXPECT_EQ(t.ShapeString(), "[batch,3,?]");
  EXPECT_EQ(t.rank(), 3);
  TypeInfo unknown;
  EXPECT_EQ(unknown.rank(), -1);
  EXPECT_EQ(unknown.ShapeString(), "?");
  EXPECT_FALSE(unknown.IsStatic());
}

TEST(NodeTest, AttributesAndDescribe) {
  Chain ch;
  ch.A->SetAttribute(Attribute::Int("axis", 1));
  ch.A->SetAttribute(Attribute::Ints("perm", {0, 2, 1}));
  ch.A->SetAttribute(Attribute::Int("axis", 2));  // replaces
  EXPECT_EQ(ch.A->attributes().size(), 2u);
  EXPECT_EQ(ch.A->GetInt("axis", 0), 2);
  EXPECT_EQ(ch.A->GetInts("perm"), (std::vector<int64_t>{0, 2, 1}));
  EXPECT_EQ(ch.A->GetFloat("axis", 9.f), 9.f);  // wrong type -> default
  EXPECT_TRUE(ch.A->RemoveAttribute("axis"));
  EXPECT_FALSE(ch.A->RemoveAttribute("axis"));
  EXPECT_EQ(ch.A->Describe(), "Relu 'A'");
  ch.A->set_domain("com.microsoft");
  EXPECT_EQ(ch.A->Describe(), "com.microsoft.Relu 'A'");
}

TEST(ModelTest, OpsetVersion) {
  Model m;
  m.opset_imports = {{"", 13}, {"com.microsoft", 1}};
  EXPECT_EQ(m.OpsetVersion(), 13);
  EXPECT_EQ(m.OpsetVersion("ai.onnx"), 13);
  EXPECT_EQ(m.OpsetVersion("com.microsoft"), 1);
  EXPECT_EQ(m.OpsetVersion("ai.onnx.ml"), -1);
  m.SetOpsetVersion("ai.onnx", 14);
  EXPECT_EQ(m.OpsetVersion(), 14);
  EXPECT_EQ(m.opset_imports.size(), 2u);
  m.SetOpsetVersion("ai.onnx.ml", 3);
  EXPECT_EQ(m.OpsetVersion("ai.onnx.ml"), 3);
}

}  // namespace
}  // namespace edgefit
