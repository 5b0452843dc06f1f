#include "format/status_words.h"

#include <gtest/gtest.h>

namespace tessera {
namespace {

TEST(StatusWords, DescribesKnownAndParameterisedWords) {
  EXPECT_EQ(sw::Describe(0x6A82), "6A82 FILE_NOT_FOUND: file or application not found");
  EXPECT_NE(sw::Describe(0x6110).find("(16 bytes)"), std::string::npos);
  EXPECT_NE(sw::Describe(0x6C00).find("Le=256"), std::string::npos);
  EXPECT_NE(sw::Describe(0x63C2).find("2 left"), std::string::npos);
  EXPECT_NE(sw::Describe(0x1234).find("UNKNOWN"), std::string::npos);
  EXPECT_TRUE(sw::IsSuccess(0x6105));
  EXPECT_FALSE(sw::IsSuccess(0x6A82));
  EXPECT_TRUE(sw::IsWarning(0x6283));
}

}  // namespace
}  // namespace tessera
