-- PURSE as an applet: the APDU interface of the built-in PURSE module (docs/applications.md
-- §6.2), byte for byte, so that one transcript runs against both. Install it with the
-- security-domain privilege (C5 800000): CREDIT is accepted only in an SCP03 session opened with
-- the purse itself (its administrator's key set, or the issuer's).
--
-- The OS's READ BINARY and READ RECORD of the built-in's files are answered for the forms with
-- an SFI (what a terminal sends); an applet has no current EF of the OS's to read without one.
--
-- Files: EF 0201 the state (balance, transaction counter, limit: 4 bytes each), EF 0202 the log
-- (10 records of 16 bytes: type 01 credit / 02 debit, amount, balance after, counter, date),
-- EF 0203 where the log's newest record is (slot, count); PIN 1.

local STATE, LOG, HEAD = 0x0201, 0x0202, 0x0203
local LOG_RECORDS, LOG_SIZE = 10, 16
local DEFAULT_LIMIT = 100000000

local function u32(s, at) return (">I4"):unpack(s, at or 1) end
local function put32(v) return (">I4"):pack(v) end

local function tlv(params)
  local out, i = {}, 1
  while i <= #params do
    local tag, len = params:byte(i), params:byte(i + 1)
    if not len or len > 127 or out[tag] then card.throw(0x6A80) end
    out[tag] = params:sub(i + 2, i + 1 + len)
    if #out[tag] ~= len then card.throw(0x6A80) end
    i = i + 2 + len
  end
  return out
end

local function load_state()
  return (">I4I4I4"):unpack(fs.read(STATE, 0, 12))
end

local function save_state(balance, counter, limit)
  fs.write(STATE, 0, (">I4I4I4"):pack(balance, counter, limit))
end

-- Appends to the log: record 1 is always the newest.
local function log(kind, amount, balance, counter)
  local head = fs.read(HEAD, 0, 2)
  local slot, count = head:byte(1), head:byte(2)
  slot = count == 0 and 1 or slot % LOG_RECORDS + 1
  count = math.min(count + 1, LOG_RECORDS)
  local d = card.date()
  local date_bytes = "\0\0\0"
  if d then
    date_bytes = string.char(tonumber(d:sub(1, 2), 16), tonumber(d:sub(3, 4), 16),
                             tonumber(d:sub(5, 6), 16))
  end
  fs.write_record(LOG, slot, (">BI4I4I4"):pack(kind, amount, balance, counter) .. date_bytes)
  fs.write(HEAD, 0, string.char(slot, count))
end

local function amount_of(apdu)
  if apdu.p1 ~= 0 or apdu.p2 ~= 0 then card.throw(0x6A86) end
  if #apdu.data ~= 4 then card.throw(0x6700) end
  local amount = u32(apdu.data)
  if amount == 0 then card.throw(0x6A80) end
  return amount
end

local M = {}

function M.install(params)
  local p = tlv(params)
  for tag in pairs(p) do
    if tag ~= 0x80 and tag ~= 0x81 and tag ~= 0x83 then card.throw(0x6A80) end
  end
  if (p[0x80] and #p[0x80] ~= 4) or (p[0x83] and #p[0x83] ~= 4) then card.throw(0x6A80) end
  local balance = p[0x80] and u32(p[0x80]) or 0
  local limit = p[0x83] and u32(p[0x83]) or DEFAULT_LIMIT
  if balance > limit then card.throw(0x6A80) end
  if p[0x81] and (#p[0x81] < 4 or #p[0x81] > 16) then card.throw(0x6A80) end
  fs.create{fid = STATE, size = 12}
  fs.create{fid = LOG, size = LOG_SIZE, records = LOG_RECORDS}
  fs.create{fid = HEAD, size = 2}
  if p[0x81] then pin.create(1, p[0x81], 3) end
  save_state(balance, 0, limit)
end

local function verify(apdu)
  if apdu.p1 ~= 0 or apdu.p2 ~= 0x80 then card.throw(0x6A86) end
  local ok, left = pcall(pin.tries, 1)
  if not ok then card.throw(0x6984) end  -- no PIN yet
  if #apdu.data == 0 then
    if pin.verified(1) then return nil end
    return nil, 0x63C0 | left
  end
  if left == 0 then card.throw(0x6983) end
  local good, now = pin.verify(1, apdu.data)
  if good then return nil end
  return nil, 0x63C0 | now
end

-- What the OS answers for the purse's files while it is selected: READ BINARY of the state by
-- SFI 1, READ RECORD of the log by SFI 2.
local function read_binary(apdu)
  if #apdu.data ~= 0 or not apdu.le then card.throw(0x6700) end
  if apdu.p1 & 0x80 == 0 then card.throw(0x6986) end
  local sfi = apdu.p1 & 0x1F
  if apdu.p1 & 0x60 ~= 0 or sfi == 0 or sfi == 0x1F then card.throw(0x6A86) end
  if sfi == 2 then card.throw(0x6981) end
  if sfi ~= 1 then card.throw(0x6A82) end
  if apdu.p2 > 12 then card.throw(0x6B00) end
  local available = 12 - apdu.p2
  if available == 0 then return nil, 0x6282 end
  local n = math.min(available, apdu.le)
  local data = fs.read(STATE, apdu.p2, n)
  if n < apdu.le and apdu.le ~= 256 and apdu.le ~= 65536 then return data, 0x6282 end
  return data
end

local function read_record(apdu)
  if #apdu.data ~= 0 or not apdu.le then card.throw(0x6700) end
  local sfi, mode = apdu.p2 >> 3, apdu.p2 & 7
  if sfi == 1 then card.throw(0x6981) end
  if sfi ~= 2 then card.throw(0x6A82) end
  if mode ~= 4 or apdu.p1 == 0 then card.throw(0x6A86) end
  local head = fs.read(HEAD, 0, 2)
  local slot, count = head:byte(1), head:byte(2)
  if apdu.p1 > count then card.throw(0x6A83) end
  return fs.read_record(LOG, (slot - apdu.p1) % LOG_RECORDS + 1), nil, true
end

function M.process(apdu)
  local ins, proprietary = apdu.ins, apdu.cla & 0x80 ~= 0
  if ins == 0x20 then return verify(apdu) end
  if not proprietary then
    if ins == 0xB0 then return read_binary(apdu) end
    if ins == 0xB2 then return read_record(apdu) end
    card.throw(0x6D00)
  end
  if ins == 0x5C then
    if apdu.p1 ~= 0 or apdu.p2 ~= 0 then card.throw(0x6A86) end
    local balance = load_state()
    return put32(balance), nil, true
  elseif ins == 0x52 then
    if not card.secured() then card.throw(0x6982) end
    local amount = amount_of(apdu)
    local balance, counter, limit = load_state()
    if balance + amount > limit then card.throw(0x6A80) end
    balance, counter = balance + amount, counter + 1
    save_state(balance, counter, limit)
    log(1, amount, balance, counter)
    return nil
  elseif ins == 0x54 then
    if not pin.verified(1) then card.throw(0x6982) end
    local amount = amount_of(apdu)
    local balance, counter, limit = load_state()
    if amount > balance then card.throw(0x6A80) end
    balance, counter = balance - amount, counter + 1
    save_state(balance, counter, limit)
    log(2, amount, balance, counter)
    return nil
  end
  card.throw(0x6D00)
end

return M
