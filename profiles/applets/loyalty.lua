-- A loyalty counter: points earned at a till (at most a daily limit, by the card's trusted
-- date), spent under the holder's PIN, and a short history.
--
--   install(params)          params: 81 L PIN (4..16), 82 04 daily limit (default 1000)
--   80 10 00 00 04 points    earn (6A84 over today's limit; the day is the card's date)
--   80 20 00 80 Lc PIN       the holder's PIN (63Cx wrong, 6983 blocked)
--   80 12 00 00 04 points    spend, after the PIN (6A80 more than the balance)
--   80 14 00 00 04           the balance
--   80 16 0n 00 08           history entry n (1 = the newest of 5): kind (E/S), 3 bytes of
--                            points, date (3), 1 spare

local STATE, HISTORY = 0x0301, 0x0302

local function u32(s) return (">I4"):unpack(s) end
local function put32(v) return (">I4"):pack(v) end

local function state()
  local s = fs.read(STATE, 0, 15)
  return u32(s:sub(1, 4)), u32(s:sub(5, 8)), u32(s:sub(9, 12)), s:sub(13, 15)
end

local function save(balance, limit, today, day)
  fs.write(STATE, 0, put32(balance) .. put32(limit) .. put32(today) .. day)
end

local function amount(apdu)
  if apdu.p1 ~= 0 or apdu.p2 ~= 0 then card.throw(0x6A86) end
  if #apdu.data ~= 4 then card.throw(0x6700) end
  local n = u32(apdu.data)
  if n == 0 then card.throw(0x6A80) end
  return n
end

local function date()
  local d = card.date()
  if not d then return "\0\0\0" end
  return string.char(tonumber(d:sub(1, 2), 16), tonumber(d:sub(3, 4), 16),
                     tonumber(d:sub(5, 6), 16))
end

local function remember(kind, points, day)
  for n = 4, 1, -1 do fs.write_record(HISTORY, n + 1, fs.read_record(HISTORY, n)) end
  fs.write_record(HISTORY, 1, kind .. put32(points):sub(2) .. day .. "\0")
end

local M = {}

function M.install(params)
  local i, pin_value, limit = 1, nil, 1000
  while i <= #params do
    local tag, len = params:byte(i), params:byte(i + 1) or 0
    local v = params:sub(i + 2, i + 1 + len)
    if tag == 0x81 then pin_value = v elseif tag == 0x82 and len == 4 then limit = u32(v)
    else card.throw(0x6A80) end
    i = i + 2 + len
  end
  if not pin_value then card.throw(0x6A80) end
  pin.create(1, pin_value, 3)
  fs.create{fid = STATE, size = 15}
  fs.create{fid = HISTORY, size = 8, records = 5}
  save(0, limit, 0, "\0\0\0")
end

function M.process(apdu)
  if apdu.cla & 0x80 == 0 then card.throw(0x6E00) end
  local ins = apdu.ins
  if ins == 0x20 then
    if #apdu.data == 0 then card.throw(0x6700) end
    if pin.tries(1) == 0 then card.throw(0x6983) end
    local ok, left = pin.verify(1, apdu.data)
    if ok then return nil end
    return nil, 0x63C0 | left
  end
  local balance, limit, today, day = state()
  if ins == 0x10 then
    local n, now = amount(apdu), date()
    if now ~= day then today, day = 0, now end
    if today + n > limit then card.throw(0x6A84) end
    save(balance + n, limit, today + n, day)
    remember("E", n, now)
    return nil
  elseif ins == 0x12 then
    if not pin.verified(1) then card.throw(0x6982) end
    local n = amount(apdu)
    if n > balance then card.throw(0x6A80) end
    save(balance - n, limit, today, day)
    remember("S", n, date())
    return nil
  elseif ins == 0x14 then
    return put32(balance), nil, true
  elseif ins == 0x16 then
    if apdu.p1 < 1 or apdu.p1 > 5 then card.throw(0x6A83) end
    local entry = fs.read_record(HISTORY, apdu.p1)
    if #entry == 0 then card.throw(0x6A83) end
    return entry, nil, true
  end
  card.throw(0x6D00)
end

return M
