// CardService: while the card runs in privileged mode (self-issuance), commands from every
// other source are refused with 6985 at once, not queued behind the running command; and the
// mode ends with the run.
#include "transport/card_service.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>

#include "card/application.h"
#include "card/card_test_support.h"

namespace tessera::transport {
namespace {

std::mutex g_mu;
std::condition_variable g_cv;
bool g_running = false;
bool g_release = false;

// A command that closes the card to outside sources, then waits (bounded) until the test has
// tried another source.
card::CardResult<card::Response> HandleLongRun(card::Card& card, card::ChannelState&,
                                               const CommandApdu&) {
  card.set_external_closed(true);
  std::unique_lock<std::mutex> lock(g_mu);
  g_running = true;
  g_cv.notify_all();
  g_cv.wait_for(lock, std::chrono::seconds(30), [] { return g_release; });
  card.set_external_closed(false);
  return card::Response{};
}

class CardServiceTest : public card::CardTest {};

TEST_F(CardServiceTest, PrivilegedModeRefusesOtherSourcesAtOnce) {
  ASSERT_TRUE(card_->AddCommand({0x3E, HandleLongRun}));
  CardService service(*card_);
  std::atomic<bool> run_finished{false};
  Bytes run_response;
  std::thread runner([&] {
    run_response = *service.Handle("contact", HexOrDie("803E0000"));
    run_finished = true;
  });
  {
    std::unique_lock<std::mutex> lock(g_mu);
    ASSERT_TRUE(g_cv.wait_for(lock, std::chrono::seconds(30), [] { return g_running; }));
  }
  // Another interface while the run holds the card: refused, and answered before the run
  // ended (the run waits for the release below).
  auto refused = service.Handle("contactless", HexOrDie("00A4000C023F00"));
  ASSERT_TRUE(refused.has_value());
  EXPECT_EQ(ToHex(*refused), "6985");
  EXPECT_FALSE(run_finished.load());
  {
    std::lock_guard<std::mutex> lock(g_mu);
    g_release = true;
  }
  g_cv.notify_all();
  runner.join();
  EXPECT_EQ(ToHex(run_response), "9000");
  // The mode ended with the run.
  EXPECT_EQ(ToHex(*service.Handle("contactless", HexOrDie("00A4000C023F00"))), "9000");
}

TEST_F(CardServiceTest, PowerOffEndsPrivilegedMode) {
  CardService service(*card_);
  card_->set_external_closed(true);
  EXPECT_EQ(ToHex(*service.Handle("contact", HexOrDie("00A4000C023F00"))), "6985");
  EXPECT_FALSE(service.Handle("contact", Bytes{0x00}).has_value());  // power off
  EXPECT_FALSE(service.Handle("contact", Bytes{0x01}).has_value());  // power on
  EXPECT_FALSE(card_->external_closed());
  EXPECT_EQ(ToHex(*service.Handle("contact", HexOrDie("00A4000C023F00"))), "9000");
}

}  // namespace
}  // namespace tessera::transport
