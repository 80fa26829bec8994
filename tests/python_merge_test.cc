// MergePythonFrames: which native eval-loop frame gets which Python frames.
#include "daemon/python_merge.h"

#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace tracectl {
namespace {

SymbolizedFrame Native(const std::string& function) {
  SymbolizedFrame frame;
  frame.function = function;
  frame.module = "python3.11";
  frame.kind = v1::MODULE_EXECUTABLE;
  return frame;
}

python::PythonFrame Py(const std::string& function, bool is_entry,
                       bool incomplete = false) {
  python::PythonFrame frame;
  frame.function = function;
  frame.file = "app.py";
  frame.line = 7;
  frame.is_entry = is_entry;
  frame.incomplete = incomplete;
  return frame;
}

std::vector<std::string> Names(const std::vector<SymbolizedFrame>& frames) {
  std::vector<std::string> names;
  for (const SymbolizedFrame& f : frames) names.push_back(f.function);
  return names;
}

TEST(PythonMergeTest, EachEvalCallGetsItsOwnFrames) {
  // Leaf first: a C extension called back into Python (a second eval call).
  const std::vector<SymbolizedFrame> native = {
      Native("memcpy"),          Native("_PyEval_EvalFrameDefault"),
      Native("ext_callback"),    Native("_PyEval_EvalFrameDefault"),
      Native("PyEval_EvalCode"), Native("main")};
  // Innermost first: `inner` ran in the second eval call, whose entry frame
  // it is; `outer` and `<module>` in the first.
  const std::vector<python::PythonFrame> python = {
      Py("inner", true), Py("outer", false), Py("<module>", true)};
  const MergeResult merged = MergePythonFrames(native, python);
  EXPECT_FALSE(merged.unmatched_python);
  EXPECT_EQ(
      Names(merged.frames),
      (std::vector<std::string>{"memcpy", "inner", "ext_callback", "outer",
                                "<module>", "PyEval_EvalCode", "main"}));
  EXPECT_EQ(merged.frames[1].kind, v1::MODULE_PYTHON);
  EXPECT_EQ(merged.frames[1].file, "app.py");
  EXPECT_EQ(merged.frames[1].line, 7u);
}

TEST(PythonMergeTest, ColdPartOfTheEvalLoopIsTheEvalLoop) {
  EXPECT_TRUE(IsEvalLoopFrame(Native("_PyEval_EvalFrameDefault.cold")));
  EXPECT_FALSE(IsEvalLoopFrame(Native("_PyEval_EvalFrameDefaultX")));
  EXPECT_FALSE(IsEvalLoopFrame(Native("PyEval_EvalCode")));
}

TEST(PythonMergeTest, IncompleteFrameEndsItsCallButIsNotShown) {
  // The innermost call has only a frame still being set up: its native
  // eval frame stays, and the next call's frames go to the next one.
  const std::vector<SymbolizedFrame> native = {
      Native("_PyEval_EvalFrameDefault"), Native("ext"),
      Native("_PyEval_EvalFrameDefault"), Native("main")};
  const std::vector<python::PythonFrame> python = {
      Py("starting", true, /*incomplete=*/true), Py("<module>", true)};
  const MergeResult merged = MergePythonFrames(native, python);
  EXPECT_EQ(Names(merged.frames),
            (std::vector<std::string>{"_PyEval_EvalFrameDefault", "ext",
                                      "<module>", "main"}));
}

TEST(PythonMergeTest, CallsBeyondACutNativeStackGoToTheRoot) {
  // The native unwind stopped before the outer eval call.
  const std::vector<SymbolizedFrame> native = {
      Native("_PyEval_EvalFrameDefault"), Native("ext")};
  const std::vector<python::PythonFrame> python = {Py("inner", true),
                                                   Py("<module>", true)};
  const MergeResult merged = MergePythonFrames(native, python);
  EXPECT_TRUE(merged.unmatched_python);
  EXPECT_EQ(Names(merged.frames),
            (std::vector<std::string>{"inner", "ext", "<module>"}));
}

TEST(PythonMergeTest, EvalFramesBeyondThePythonCallsStayNative) {
  // A chain cut at its frame limit: the outer eval calls keep their
  // native frames.
  const std::vector<SymbolizedFrame> native = {
      Native("_PyEval_EvalFrameDefault"), Native("ext"),
      Native("_PyEval_EvalFrameDefault"), Native("ext2"),
      Native("_PyEval_EvalFrameDefault"), Native("main")};
  const std::vector<python::PythonFrame> python = {
      Py("a", false), Py("b", true), Py("c", false)};
  const MergeResult merged = MergePythonFrames(native, python);
  EXPECT_FALSE(merged.unmatched_python);
  EXPECT_EQ(Names(merged.frames),
            (std::vector<std::string>{"a", "b", "ext", "c", "ext2",
                                      "_PyEval_EvalFrameDefault", "main"}));
}

}  // namespace
}  // namespace tracectl
