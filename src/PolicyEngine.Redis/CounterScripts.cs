using System.Security.Cryptography;
using System.Text;

namespace PolicyEngine.Redis;

/// <summary>
/// The server-side scripts of <see cref="RedisCounterStore"/>. Each is sent once (EVAL, on the first NOSCRIPT) and
/// then invoked by its SHA-1 (EVALSHA).
/// </summary>
/// <remarks>
/// Counts are kept as decimal strings. Lua numbers are doubles, exact only below 2^53, while a limit may be as large as
/// <see cref="long.MaxValue"/>: the reservation script compares decimal strings, adds with Lua numbers only while every
/// term has at most 14 digits, and otherwise with exact decimal arithmetic; charges are Redis's own 64-bit HINCRBY.
/// </remarks>
internal static class CounterScripts
{
    /// <summary>Comparisons of canonical decimal strings without converting them to numbers (both scripts start with them).</summary>
    private const string Comparisons = """
        -- le: a <= b for a non-negative a and any b. lt: a < b for any a and b.
        local function le(a, b)
          if string.byte(b, 1) == 45 then return false end
          if #a ~= #b then return #a < #b end
          return a <= b
        end
        local function lt(a, b)
          local na, nb = string.byte(a, 1) == 45, string.byte(b, 1) == 45
          if na ~= nb then return na end
          if #a ~= #b then
            if na then return #a > #b end
            return #a < #b
          end
          if na then return a > b end
          return a < b
        end

        """;

    /// <summary>Exact decimal arithmetic on canonical decimal strings (uses <see cref="Comparisons"/>).</summary>
    private const string Arithmetic = """
        -- Least-significant-first digits to a canonical decimal string (no leading zeros).
        local function decimal(digits)
          local out = {}
          for k = #digits, 1, -1 do out[#out + 1] = string.char(48 + digits[k]) end
          local r = table.concat(out):gsub('^0+', '')
          if r == '' then return '0' end
          return r
        end

        local function add(a, b)
          if #a < 15 and #b < 15 then return string.format('%.0f', tonumber(a) + tonumber(b)) end
          local digits, carry, i, j = {}, 0, #a, #b
          while i > 0 or j > 0 or carry > 0 do
            local s = carry
            if i > 0 then s = s + string.byte(a, i) - 48 end
            if j > 0 then s = s + string.byte(b, j) - 48 end
            digits[#digits + 1] = s % 10
            carry = (s - s % 10) / 10
            i = i - 1
            j = j - 1
          end
          return decimal(digits)
        end

        -- max(0, a - b) for canonical non-negative decimals.
        local function sub(a, b)
          if le(a, b) then return '0' end
          if #a < 15 and #b < 15 then return string.format('%.0f', tonumber(a) - tonumber(b)) end
          local digits, borrow, i, j = {}, 0, #a, #b
          while i > 0 do
            local s = string.byte(a, i) - 48 - borrow
            if j > 0 then s = s - (string.byte(b, j) - 48) end
            if s < 0 then s = s + 10; borrow = 1 else borrow = 0 end
            digits[#digits + 1] = s
            i = i - 1
            j = j - 1
          end
          return decimal(digits)
        end

        """;

    /// <summary>
    /// The start of <see cref="Reserve"/>: one fixed-window request (most decisions name one counter) whose bucket
    /// already exists (every call of a window but its first) is decided from that one field (<c>HGET</c>), before any
    /// function or table of the general path is built: charged with one <c>HINCRBY</c> when it has room, otherwise
    /// refused with the same reply as the general path. Anything else (a new bucket, a sliding window, several
    /// requests, a clock check) goes on to the general path. Measured with callgrind on Redis 7.0 (instructions per
    /// EVALSHA, the whole command): 55,200 before, 36,300 with it for an admitted call; `return 1` costs 14,900.
    /// </summary>
    /// <remarks>
    /// No horizon check is needed here: every stored bucket starts after the counter's horizon (pruning deletes every
    /// field before its limit and records the newest deleted start as the horizon, and a call at or behind the horizon
    /// is refused before it can create a bucket), so a request whose bucket exists is never behind it. Nothing is pruned
    /// or expired either: the charge that created the bucket already pushed the expiry past it, and a bucket a late
    /// caller creates further back is pruned by the next charge that creates a bucket (until then it only costs a field).
    /// </remarks>
    private const string FastPath = """
        if #KEYS == 1 and ARGV[3] == '0' and ARGV[6] == ARGV[7] then
          local key, start = KEYS[1], ARGV[6]
          local count = redis.call('HGET', key, start)
          if count then
            local room = ARGV[5]
            if string.byte(room, 1) ~= 45 and (#count < #room or (#count == #room and count <= room)) then
              if ARGV[1] == '1' then redis.call('HINCRBY', key, start, ARGV[4]) end
              return 1
            end

            -- Refused: its own bucket and any newer one (later windows charged by callers stamped after it), the reply
            -- of the general path.
            local flat = redis.call('HGETALL', key)
            local reply = { '0', '0' }
            local from = tonumber(start)
            for j = 1, #flat, 2 do
              if flat[j] ~= 'h' and tonumber(flat[j]) >= from then
                reply[#reply + 1] = flat[j]
                reply[#reply + 1] = flat[j + 1]
              end
            end
            return reply
          end
        end

        """;

    /// <summary>
    /// Checks, and when <c>ARGV[1] == '1'</c> charges, every counter atomically.
    /// KEYS[i]: the hash of request i (field = bucket start in Unix ms, value = count).
    /// ARGV[1]: '1' charge, '0' peek. ARGV[2]: the host's now (Unix ms). ARGV[3]: the largest clock skew allowed
    /// between host and server in ms ('0': not checked, and the server's clock is not read). Then 6 values per request:
    /// amount, room (max minus amount: the most the counted buckets may already hold), bucket start, read-from (equal
    /// to the bucket start for a fixed window), prune-before (fields older than this are deleted when charging), and
    /// time to live in ms (how long the key must outlive this charge, measured on the server's clock). Every number
    /// is a canonical decimal.
    /// Returns 1 when admitted; {'0', index, start, count, ...} with the stored buckets from read-from on (newer ones
    /// included) of the first request without room (0-based index) otherwise; {'0', index, 'h', horizon, start, count,
    /// ...} when that request is stamped behind the counter's horizon (it would count buckets already pruned).
    /// </summary>
    /// <remarks>
    /// Redis runs this for every decision, so it avoids work: per counter key one <c>HGETALL</c>, and when charging one
    /// <c>HINCRBY</c> per request (exact 64-bit arithmetic in Redis; the check has already proved the sum is at most
    /// max), an <c>HSET</c> of the horizon and an <c>HDEL</c> only when something is pruned, and a <c>PEXPIRE</c> only
    /// when the charge creates a bucket (a new key, window or sliding bucket): the charge that created a bucket already
    /// pushed the key's expiry past the time that bucket stops counting, and expiry only ever moves later (<c>GT</c>).
    /// A fixed window is checked by comparing decimal strings (its only counted bucket against the room), without
    /// converting a number; a sliding window adds its counts as Lua numbers while every term has at most 14 digits
    /// (far below 2^53, so exact), and otherwise with exact decimal arithmetic. A sliding window counts every bucket
    /// from read-from on, including buckets newer than its own (charged by callers stamped later that reached Redis
    /// first): see <see cref="CounterSlot.Counts"/>, which this mirrors.
    /// </remarks>
    public static readonly Script Reserve = new(FastPath + Comparisons + """
        -- Exact decimal arithmetic, for counts too long to add as Lua numbers (built only when needed).
        local function decimals()
        """ + Arithmetic + """
          return { add = add }
        end

        if ARGV[3] ~= '0' then
          local maxSkew = tonumber(ARGV[3])
          local t = redis.call('TIME')
          local serverNow = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
          local hostNow = tonumber(ARGV[2])
          if math.abs(serverNow - hostNow) > maxSkew then
            return redis.error_reply('PECLOCKSKEW the host clock differs from the Redis server clock by ' .. string.format('%.0f', hostNow - serverNow) .. ' ms')
          end
        end

        -- Each key is loaded once (HGETALL: field, count, field, count, ...; field 'h' is the horizon, the newest bucket
        -- start ever pruned). Earlier requests of this call charge it tentatively, so a request naming one counter twice
        -- is checked against both amounts. Nothing is written unless every request fits. A call stamped so far behind
        -- that it would count a pruned bucket is refused rather than guessed at.
        -- states: key -> state, and in its array part the states in order of first use.
        local states = {}
        local arithmetic = nil

        -- A refusal: the reply so far, then every stored bucket from read-from on (newer ones included), from which the
        -- client computes a retry-after that is never optimistic.
        local function refusal(reply, flat, readFrom)
          for j = 1, #flat, 2 do
            if flat[j] ~= 'h' and tonumber(flat[j]) >= readFrom then
              reply[#reply + 1] = flat[j]
              reply[#reply + 1] = flat[j + 1]
            end
          end
          return reply
        end
        for i = 1, #KEYS do
          local base = 3 + (i - 1) * 6
          local key = KEYS[i]
          local amount, room, startText, readFromText = ARGV[base + 1], ARGV[base + 2], ARGV[base + 3], ARGV[base + 4]
          local state = states[key]
          local flat
          if not state then
            flat = redis.call('HGETALL', key)
            state = { key = key, flat = flat, existed = #flat > 0, firstPrune = ARGV[base + 5], ttl = ARGV[base + 6] }
            for j = 1, #flat, 2 do
              if flat[j] == 'h' then state.horizon = flat[j + 1] end
            end
            states[key] = state
            states[#states + 1] = state
          else
            flat = state.flat
            local prune, ttl = ARGV[base + 5], ARGV[base + 6]
            if not state.laterPrune or lt(state.laterPrune, prune) then state.laterPrune = prune end
            if lt(state.ttl, ttl) then state.ttl = ttl end
            if state.unapplied then
              arithmetic = arithmetic or decimals()
              flat[state.unapplied + 1] = arithmetic.add(flat[state.unapplied + 1], state.unappliedAmount)
              state.unapplied = nil
            end
          end

          if state.horizon and not lt(state.horizon, readFromText) then
            return refusal({ '0', tostring(i - 1), 'h', state.horizon }, flat, tonumber(readFromText))
          end

          local own = nil
          if readFromText == startText then
            -- Fixed window: the only counted bucket is the one charged.
            for j = 1, #flat, 2 do
              if flat[j] == startText then own = j end
            end
            if not le(own and flat[own + 1] or '0', room) then
              return refusal({ '0', tostring(i - 1) }, flat, tonumber(readFromText))
            end
          else
            local start, readFrom = tonumber(startText), tonumber(readFromText)
            local starts = state.starts
            if not starts then
              starts = {}
              state.starts = starts
            end
            local sum, exact, terms = 0, true, 0
            for j = 1, #flat, 2 do
              local s = starts[j]
              if not s and flat[j] ~= 'h' then
                s = tonumber(flat[j])
                starts[j] = s
              end
              if s and s >= readFrom then
                local c = flat[j + 1]
                if #c <= 14 and terms < 64 then
                  sum = sum + tonumber(c)
                  terms = terms + 1
                else
                  exact = false
                end
                if s == start then own = j end
              end
            end
            local fits
            if exact then
              if #room <= 15 then fits = sum <= tonumber(room) else fits = le(string.format('%.0f', sum), room) end
            else
              arithmetic = arithmetic or decimals()
              local used = '0'
              for j = 1, #flat, 2 do
                local s = starts[j]
                if s and s >= readFrom then used = arithmetic.add(used, flat[j + 1]) end
              end
              fits = le(used, room)
            end
            if not fits then
              return refusal({ '0', tostring(i - 1) }, flat, readFrom)
            end
          end

          -- Charge tentatively. An existing bucket's count text is only recomputed if a later request reads this key.
          if own then
            state.unapplied = own
            state.unappliedAmount = amount
          else
            own = #flat + 1
            flat[own] = startText
            flat[own + 1] = amount
            state.grew = true
          end
          if not state.own then
            state.own, state.field, state.amount = own, startText, amount
          else
            local more = state.more or {}
            more[#more + 1] = own
            more[#more + 1] = startText
            more[#more + 1] = amount
            state.more = more
          end
        end

        if ARGV[1] ~= '1' then return 1 end

        -- Per key: charge (HINCRBY: exact 64-bit arithmetic; the check proved every count stays at most max), then prune
        -- (after the charges, so that a key is never emptied and recreated without an expiry). A bucket charged here is
        -- pruned only by a later request of the same key, as if each request pruned in turn.
        for k = 1, #states do
          local state = states[k]
          local key, flat, more = state.key, state.flat, state.more
          redis.call('HINCRBY', key, state.field, state.amount)
          if more then
            for j = 1, #more, 3 do redis.call('HINCRBY', key, more[j + 1], more[j + 2]) end
          end
          local laterPrune = state.laterPrune
          local prune = state.firstPrune
          if laterPrune and lt(prune, laterPrune) then prune = laterPrune end
          local dels, horizon, newHorizon = nil, state.horizon, nil
          for j = 1, #flat, 2 do
            local field = flat[j]
            if field ~= 'h' then
              local limit = prune
              if j == state.own then
                limit = laterPrune
              elseif more then
                for m = 1, #more, 3 do
                  if more[m] == j then limit = laterPrune end
                end
              end
              if limit and lt(field, limit) then
                dels = dels or {}
                dels[#dels + 1] = field
                if not horizon or lt(horizon, field) then
                  horizon = field
                  newHorizon = field
                end
              end
            end
          end
          if newHorizon then redis.call('HSET', key, 'h', newHorizon) end
          if dels then redis.call('HDEL', key, unpack(dels)) end
          if state.grew then
            if state.existed then redis.call('PEXPIRE', key, state.ttl, 'GT') else redis.call('PEXPIRE', key, state.ttl) end
          end
        end
        return 1
        """);

    /// <summary>
    /// Returns charges: KEYS[i] and ARGV[2i-1] (amount), ARGV[2i] (bucket start). A bucket that no longer exists is
    /// left alone (never recreated); a count never goes below zero.
    /// </summary>
    public static readonly Script Release = new(Comparisons + Arithmetic + """
        for i = 1, #KEYS do
          local field = ARGV[2 * i]
          local current = redis.call('HGET', KEYS[i], field)
          if current then
            redis.call('HSET', KEYS[i], field, sub(current, ARGV[2 * i - 1]))
          end
        end
        return 1
        """);

    /// <summary>A Lua script and its SHA-1.</summary>
    internal sealed class Script(string text)
    {
        public string Text { get; } = text;

        public byte[] Sha1 { get; } = SHA1.HashData(Encoding.UTF8.GetBytes(text));
    }
}
