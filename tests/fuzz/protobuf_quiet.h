// Protobuf logs an ERROR line for every string field that is not UTF-8 while parsing;
// fuzzed inputs hit that at every other run, which fills the logs and slows the run.
// The parse still fails as it should; only the line goes (fatal logs still abort).
//
// Defines LLVMFuzzerInitialize, which libFuzzer calls once before the first input:
// include it from the one .cc of a target that parses protobuf, and nowhere else.
#pragma once

#include <google/protobuf/stubs/logging.h>

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  google::protobuf::SetLogHandler(nullptr);
  return 0;
}
