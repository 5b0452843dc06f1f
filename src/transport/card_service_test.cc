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

#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "card/kernel/application.h"
#include "support/card_fixture.h"
#include "transport/endpoint.h"
#include "transport/frame_io.h"
#include "transport/socket_server.h"

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

int g_counted = 0;  // executions of INS 3F
card::CardResult<card::Response> HandleCounted(card::Card&, card::ChannelState&,
                                               const CommandApdu&) {
  ++g_counted;
  return card::Response{};
}

class CardServiceTest : public card::CardTest {
 protected:
  void SetUp() override {
    card::CardTest::SetUp();
    g_running = g_release = false;
    g_counted = 0;
  }
};

// Through tessera-card's socket server: connection A owns the card and runs stored commands;
// connection B sends a command meanwhile. B is answered 6985 during the run, and its command
// never runs, neither then nor after the run (docs/self-issuance.md §5).
TEST_F(CardServiceTest, ASocketClientDuringARunIsRefusedNotQueued) {
  ASSERT_TRUE(card_->AddCommand({0x3E, HandleLongRun}));
  ASSERT_TRUE(card_->AddCommand({0x3F, HandleCounted}));
  CardService service(*card_, nullptr, {std::chrono::milliseconds(60000)});
  char tmpl[] = "/tmp/card_service_testXXXXXX";
  ASSERT_NE(mkdtemp(tmpl), nullptr);
  auto ep = ParseEndpoint(std::string("unix:") + tmpl + "/card.sock");
  ASSERT_TRUE(ep.ok());
  auto listener = Listen(*ep);
  ASSERT_TRUE(listener.ok()) << listener.status().ToString();
  std::atomic<bool> stop{false};
  std::thread server([&] { RunSocketServer(*listener, "test", service, stop, [](auto&) {}); });
  auto a = Connect(*ep);
  ASSERT_TRUE(a.ok());
  Bytes run_answer;
  std::thread run([&] {
    if (WriteFrame(*a, HexOrDie("803E0000")).ok()) {
      auto r = ReadFrame(*a);
      if (r.ok()) run_answer = *r;
    }
  });
  {
    std::unique_lock<std::mutex> lock(g_mu);
    ASSERT_TRUE(g_cv.wait_for(lock, std::chrono::seconds(60), [] { return g_running; }));
  }
  auto b = Connect(*ep);
  ASSERT_TRUE(b.ok());
  // Bounded: a B that waited for the card would otherwise wait for ever (the run waits for us).
  const timeval bound{60, 0};
  ::setsockopt(*b, SOL_SOCKET, SO_RCVTIMEO, &bound, sizeof bound);
  // B begins as a reader driver does, with power control: that too is answered during the
  // run (power on takes no answer, GET ATR gets the ATR), not held until the run ends.
  ASSERT_TRUE(WriteFrame(*b, Bytes{kCtrlPowerOn}).ok());
  ASSERT_TRUE(WriteFrame(*b, Bytes{kCtrlGetAtr}).ok());
  auto atr = ReadFrame(*b);
  ASSERT_TRUE(atr.ok()) << atr.status().ToString();
  EXPECT_EQ(*atr, card::Card::Atr());
  ASSERT_TRUE(WriteFrame(*b, HexOrDie("803F0000")).ok());
  auto refused = ReadFrame(*b);  // answered while the run still holds the card
  ASSERT_TRUE(refused.ok()) << refused.status().ToString();
  EXPECT_EQ(ToHex(*refused), "6985");
  EXPECT_EQ(g_counted, 0);
  {
    std::lock_guard<std::mutex> lock(g_mu);
    g_release = true;
  }
  g_cv.notify_all();
  run.join();
  EXPECT_EQ(ToHex(run_answer), "9000");
  ::close(*a);  // A's session ends; B may now have the card
  ASSERT_TRUE(WriteFrame(*b, HexOrDie("00A4000C023F00")).ok());
  auto after = ReadFrame(*b);
  ASSERT_TRUE(after.ok());
  EXPECT_EQ(ToHex(*after), "9000");
  EXPECT_EQ(g_counted, 0) << "the command sent during the run ran after it";
  ::close(*b);
  stop = true;
  server.join();
  ::close(*listener);
  std::remove((std::string(tmpl) + "/card.sock").c_str());
  ::rmdir(tmpl);
}

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
