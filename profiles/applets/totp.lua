-- TOTP (RFC 6238) with HMAC-SHA-256, the way an OATH token answers: the card keeps the shared
-- secret, the host sends the time step (it knows the time; the card only has a date).
--
--   install(params)        params: the secret (16..64 bytes); 8 digits
--   80 10 00 00 08 T Le    the 8-digit code (ASCII) for time step T (8 bytes, big-endian:
--                          floor(unix time / 30))
--   80 12 00 00 Lc secret  replaces the secret (only in an SCP03 session with the applet:
--                          install it with privileges 800000)
-- The secret is never answered. Known answers: tests/cli/applet_cli_test.sh (RFC 6238, App. B).

local DIGITS = 8

local function code(secret, step)
  local mac = card.hmac_sha256(secret, step)
  local offset = (mac:byte(#mac) & 0x0F) + 1
  local binary = ((mac:byte(offset) & 0x7F) << 24) | (mac:byte(offset + 1) << 16) |
                 (mac:byte(offset + 2) << 8) | mac:byte(offset + 3)
  return string.format("%0" .. DIGITS .. "d", binary % 10 ^ DIGITS // 1)
end

local M = {}

function M.install(params)
  if #params < 16 or #params > 64 then card.throw(0x6A80) end
  store.set("secret", params)
end

function M.process(apdu)
  if apdu.cla & 0x80 == 0 then card.throw(0x6E00) end
  if apdu.ins == 0x10 then
    if apdu.p1 ~= 0 or apdu.p2 ~= 0 then card.throw(0x6A86) end
    if #apdu.data ~= 8 then card.throw(0x6700) end
    return code(store.get("secret"), apdu.data)
  elseif apdu.ins == 0x12 then
    if not card.secured() then card.throw(0x6982) end
    if #apdu.data < 16 or #apdu.data > 64 then card.throw(0x6A80) end
    store.set("secret", apdu.data)
    return nil
  end
  card.throw(0x6D00)
end

return M
