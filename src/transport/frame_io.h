// Length-prefixed frames on a stream socket, as vpcd uses them (vsmartcard's vpcd.c): a 2-byte
// big-endian length, then the payload (at most 65535 bytes). A 1-byte payload is a control
// message: 00 power off, 01 power on, 02 reset, 04 get ATR.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>

#include "core/bytes.h"
#include "core/status.h"

namespace tessera::transport {

inline constexpr uint8_t kCtrlPowerOff = 0x00;
inline constexpr uint8_t kCtrlPowerOn = 0x01;
inline constexpr uint8_t kCtrlReset = 0x02;
inline constexpr uint8_t kCtrlGetAtr = 0x04;
// Tessera's socket framing only (never vpcd's): the card's one-byte answer to a connection that
// could not get the card because another client held it for too long. The connection closes
// after it.
inline constexpr uint8_t kCtrlBusy = 0xFF;
inline constexpr size_t kMaxFramePayload = 0xFFFF;

// Bounds on one frame read, for a reader that must not be held by a slow or stalled peer.
struct FrameLimits {
  // Once the frame's first byte has arrived, the whole frame must arrive within this: a peer
  // that stalls mid-frame fails the read ("timed out: frame not completed within N s").
  // 0: no bound.
  std::chrono::milliseconds frame_timeout{0};
  // Asked at least every 200 ms while no byte of the frame has arrived yet, with how long the
  // read has waited so far; true gives the read up ("timed out waiting for a frame").
  std::function<bool(std::chrono::milliseconds waited)> give_up_idle;
};

// Reads one frame. Errors: kIOError when the peer closed or failed, or a limit of `limits`
// expired (the message then starts with "timed out"; so does the one of an expired receive
// timeout of a blocking socket); kFailedPrecondition when `stop` became true while waiting.
// Polls `stop` every 200 ms. With neither `stop` nor limits the socket's own blocking reads
// are used.
Result<Bytes> ReadFrame(int fd, const std::atomic<bool>* stop = nullptr,
                        const FrameLimits& limits = {});
Status WriteFrame(int fd, ByteView payload);
// After every receive on a TCP socket: disable delayed ACKs again (Linux resets QUICKACK), so
// that vpcd's two-write frames are not held up by Nagle + delayed ACK.
void RearmQuickAck(int fd);
void SetNoDelay(int fd);

}  // namespace tessera::transport
