using System.Security.Cryptography;
using System.Text;

namespace PolicyEngine.Redis;

/// <summary>
/// The server-side scripts of <see cref="RedisCounterStore"/>. Each is sent once (EVAL, on the first NOSCRIPT) and
/// then invoked by its SHA-1 (EVALSHA).
/// </summary>
/// <remarks>
/// Counts are kept as decimal strings and added with exact decimal arithmetic: Lua numbers are doubles, which are exact
/// only below 2^53, while a limit may be as large as <see cref="long.MaxValue"/>. Small operands (under 15 digits, where
/// sums of a few stay below 2^53) take the fast path through doubles.
/// </remarks>
internal static class CounterScripts
{
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

        -- a <= b for a canonical non-negative decimal a and a decimal b that may be negative.
        local function le(a, b)
          if string.byte(b, 1) == 45 then return false end
          if #a ~= #b then return #a < #b end
          return a <= b
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
    /// Checks, and when <c>ARGV[1] == '1'</c> charges, every counter atomically.
    /// KEYS[i]: the hash of request i (field = bucket start in Unix ms, value = count).
    /// ARGV[1]: '1' charge, '0' peek. ARGV[2]: the host's now (Unix ms). ARGV[3]: the largest clock skew allowed
    /// between host and server in ms ('0': not checked). Then 6 values per request: amount, max, bucket start,
    /// read-from, prune-before (fields older than this are deleted when charging), and time to live in ms (how long
    /// the key must outlive this charge, measured on the server's clock).
    /// Returns {'1'} when admitted; {'0', index, start, count, ...} with the counted buckets of the first request
    /// without room (0-based index) otherwise; {'0', index, 'h'} when that request is stamped behind the counter's
    /// horizon (it would count buckets already pruned).
    /// </summary>
    public static readonly Script Reserve = new(Arithmetic + """
        local commit = ARGV[1] == '1'
        local hostNow = tonumber(ARGV[2])
        local maxSkew = tonumber(ARGV[3])
        local serverNow = 0
        if commit or maxSkew > 0 then
          local t = redis.call('TIME')
          serverNow = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
          if maxSkew > 0 and math.abs(serverNow - hostNow) > maxSkew then
            return redis.error_reply('PECLOCKSKEW the host clock differs from the Redis server clock by ' .. string.format('%.0f', hostNow - serverNow) .. ' ms')
          end
        end

        -- Buckets of each key, loaded once; earlier requests of this call charge them tentatively, so a request naming
        -- one counter twice is checked against both amounts. Nothing is written unless every request fits.
        -- Field 'h' is the horizon: the newest bucket start ever pruned. A call stamped so far behind that it would count
        -- a pruned bucket is refused rather than guessed at.
        local loaded = {}
        local horizons = {}
        local function buckets(key)
          local list = loaded[key]
          if not list then
            list = {}
            local flat = redis.call('HGETALL', key)
            for j = 1, #flat, 2 do
              if flat[j] == 'h' then
                horizons[key] = tonumber(flat[j + 1])
              else
                list[#list + 1] = { tonumber(flat[j]), flat[j + 1], flat[j] }
              end
            end
            loaded[key] = list
          end
          return list
        end

        local n = #KEYS
        for i = 1, n do
          local base = 3 + (i - 1) * 6
          local amount, max = ARGV[base + 1], ARGV[base + 2]
          local startText = ARGV[base + 3]
          local start, readFrom = tonumber(startText), tonumber(ARGV[base + 4])
          local list = buckets(KEYS[i])
          if horizons[KEYS[i]] and readFrom <= horizons[KEYS[i]] then
            return { '0', tostring(i - 1), 'h' }
          end
          local used = '0'
          local own = nil
          for _, b in ipairs(list) do
            if b[1] >= readFrom and b[1] <= start then used = add(used, b[2]) end
            if b[1] == start then own = b end
          end
          if not le(add(used, amount), max) then
            local reply = { '0', tostring(i - 1) }
            for _, b in ipairs(list) do
              if b[1] >= readFrom and b[1] <= start then
                reply[#reply + 1] = b[3]
                reply[#reply + 1] = b[2]
              end
            end
            return reply
          end
          if own then
            own[2] = add(own[2], amount)
            own[4] = true
          else
            list[#list + 1] = { start, amount, startText, true }
          end
        end

        if not commit then return { '1' } end

        local expiry = {}
        for i = 1, n do
          local base = 3 + (i - 1) * 6
          local key = KEYS[i]
          local pruneBefore = tonumber(ARGV[base + 5])
          local expireAt = serverNow + tonumber(ARGV[base + 6])
          for _, b in ipairs(loaded[key]) do
            if b[4] then
              redis.call('HSET', key, b[3], b[2])
              b[4] = false
            elseif b[1] < pruneBefore and not b[5] then
              redis.call('HDEL', key, b[3])
              b[5] = true
              if not horizons[key] or horizons[key] < b[1] then
                horizons[key] = b[1]
                redis.call('HSET', key, 'h', b[3])
              end
            end
          end
          if not expiry[key] or expiry[key] < expireAt then expiry[key] = expireAt end
        end
        for key, expireAt in pairs(expiry) do
          local current = redis.call('PEXPIRETIME', key)
          if current < expireAt then redis.call('PEXPIREAT', key, string.format('%.0f', expireAt)) end
        end
        return { '1' }
        """);

    /// <summary>
    /// Returns charges: KEYS[i] and ARGV[2i-1] (amount), ARGV[2i] (bucket start). A bucket that no longer exists is
    /// left alone (never recreated); a count never goes below zero.
    /// </summary>
    public static readonly Script Release = new(Arithmetic + """
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
