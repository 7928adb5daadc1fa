// A child process for the multi-process store tests. Modes (all write to stdout, one line per event, flushed):
//   hammer KIND TARGET KEYS MAXES ATTEMPTS [PREFIX] -> "ready", waits for a line on stdin, reserves ATTEMPTS times, prints "admitted N"
//   loop KIND TARGET KEYS MAXES [PREFIX]            -> reserves until refused, printing "ok" after each committed reservation, then "full"
//   stall redis-sharded TARGET KEYS MAXES STALLKEY PREFIX
//                                                   -> reserves once, and when the store is about to send the script call
//                                                      that charges STALLKEY's hash slot, prints "between" and hangs (the
//                                                      test then kills it: a reservation cut off between two slots)
// KIND: redis (single-slot layout), redis-sharded (sharded layout; TARGET may list cluster nodes) or sqlite (TARGET is
// a file). KEYS and MAXES are comma-separated (one reservation names every key, each with its max), fixed daily windows.
using System.Reflection;
using System.Runtime.ExceptionServices;
using PolicyEngine;
using PolicyEngine.Redis;
using PolicyEngine.Sqlite;
using StackExchange.Redis;

// Leasing workers (LeaseMode.cs) parse their own arguments.
if (args.Length > 0 && args[0] == "lease")
{
    return await PolicyEngine.Stores.Worker.LeaseMode.RunAsync(args);
}

var mode = args[0];
var kind = args[1];
var target = args[2];
var keys = args[3].Split(',');
var maxes = args[4].Split(',').Select(m => long.Parse(m, System.Globalization.CultureInfo.InvariantCulture)).ToArray();
var prefix = mode switch
{
    "hammer" => args.Length > 6 ? args[6] : null,
    "loop" => args.Length > 5 ? args[5] : null,
    "stall" => args[6],
    _ => null,
};

var timeout = TimeSpan.FromSeconds(10);
ICounterStore store = kind switch
{
    "redis" => RedisCounterStore.Connect(target, new RedisCounterStoreOptions { KeyPrefix = prefix ?? "{pe-worker}:", Timeout = timeout }),
    "redis-sharded" when mode == "stall" => StallingStore(target, prefix!, args[5]),
    "redis-sharded" => RedisCounterStore.Connect(target, new RedisCounterStoreOptions { Layout = RedisCounterLayout.Sharded, KeyPrefix = prefix ?? "pe-worker:", Timeout = timeout }),
    "sqlite" => new SqliteCounterStore(new SqliteCounterStoreOptions { Path = target, BusyTimeout = TimeSpan.FromSeconds(30) }),
    _ => throw new ArgumentException("unknown kind " + kind),
};
var request = keys.Select((key, i) => new CounterRequest(key, 1, maxes[i], TimeSpan.FromDays(1), LimitAlgorithm.Fixed)).ToArray();

// One fixed instant, not the real clock: every worker (and the test that checks their total) must charge the same
// day's window, also when a run crosses midnight UTC.
var now = new DateTimeOffset(2026, 3, 14, 10, 0, 20, 250, TimeSpan.Zero);
var output = Console.Out;

if (mode == "hammer")
{
    var attempts = int.Parse(args[5], System.Globalization.CultureInfo.InvariantCulture);
    output.WriteLine("ready");
    output.Flush();
    _ = Console.ReadLine();
    var admitted = 0;
    for (var i = 0; i < attempts; i++)
    {
        if (store.Reserve(request, now).Admitted)
        {
            admitted++;
        }
    }

    output.WriteLine($"admitted {admitted}");
    output.Flush();
    return 0;
}

if (mode == "loop")
{
    while (store.Reserve(request, now).Admitted)
    {
        output.WriteLine("ok");
        output.Flush();
    }

    output.WriteLine("full");
    output.Flush();
    return 0;
}

if (mode == "stall")
{
    var result = store.Reserve(request, now);
    output.WriteLine(result.Admitted ? "admitted" : "refused");
    output.Flush();
    return 0;
}

Console.Error.WriteLine("unknown mode " + mode);
return 2;

// A sharded store whose connection hangs (after printing "between") on the first script call naming STALLKEY.
static RedisCounterStore StallingStore(string target, string prefix, string stallKey)
{
    var options = new RedisCounterStoreOptions { Layout = RedisCounterLayout.Sharded, KeyPrefix = prefix, Timeout = TimeSpan.FromSeconds(10) };
    var connection = ConnectionMultiplexer.Connect(RedisStoreConnection.Configure(target, options.Timeout));
    var stallAt = (RedisKey)new RedisCounterStore(connection, options).RedisKeyOf(stallKey);
    var proxy = DispatchProxy.Create<IConnectionMultiplexer, Forwarder>();
    ((Forwarder)(object)proxy).Target = connection;
    ((Forwarder)(object)proxy).StallAt = stallAt;
    return new RedisCounterStore(proxy, options);
}

/// <summary>Forwards every call to <see cref="Target"/>; a database it hands out stalls on a script call naming <see cref="StallAt"/>.</summary>
public class Forwarder : DispatchProxy
{
    public object Target { get; set; } = null!;

    public RedisKey StallAt { get; set; }

    protected override object? Invoke(MethodInfo? targetMethod, object?[]? args)
    {
        if (targetMethod!.Name == "ScriptEvaluate" && args is [_, RedisKey[] scriptKeys, ..] && scriptKeys.Contains(StallAt))
        {
            Console.Out.WriteLine("between");
            Console.Out.Flush();
            Thread.Sleep(Timeout.Infinite);
        }

        object? result;
        try
        {
            result = targetMethod.Invoke(Target, args);
        }
        catch (TargetInvocationException ex) when (ex.InnerException is not null)
        {
            ExceptionDispatchInfo.Capture(ex.InnerException).Throw();
            throw;
        }

        if (targetMethod.Name == "GetDatabase" && result is IDatabase database)
        {
            var wrapped = Create<IDatabase, Forwarder>();
            ((Forwarder)(object)wrapped).Target = database;
            ((Forwarder)(object)wrapped).StallAt = StallAt;
            return wrapped;
        }

        return result;
    }
}
