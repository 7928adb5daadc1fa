// A child process for the multi-process store tests. Modes (all write to stdout, one line per event, flushed):
//   hammer redis|sqlite TARGET KEY MAX ATTEMPTS  -> "ready", waits for a line on stdin, reserves ATTEMPTS times, prints "admitted N"
//   loop sqlite PATH KEY MAX                     -> reserves until refused, printing "ok" after each committed reservation, then "full"
using PolicyEngine;
using PolicyEngine.Redis;
using PolicyEngine.Sqlite;

// Leasing workers (LeaseMode.cs) parse their own arguments.
if (args.Length > 0 && args[0] == "lease")
{
    return await PolicyEngine.Stores.Worker.LeaseMode.RunAsync(args);
}

var mode = args[0];
ICounterStore store = args[1] == "redis"
    ? RedisCounterStore.Connect(args[2], new RedisCounterStoreOptions { KeyPrefix = args.Length > 6 ? args[6] : "{pe-worker}:", Timeout = TimeSpan.FromSeconds(10) })
    : new SqliteCounterStore(new SqliteCounterStoreOptions { Path = args[2], BusyTimeout = TimeSpan.FromSeconds(30) });
var key = args[3];
var max = long.Parse(args[4], System.Globalization.CultureInfo.InvariantCulture);
var request = new CounterRequest[] { new(key, 1, max, TimeSpan.FromDays(1), LimitAlgorithm.Fixed) };

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

Console.Error.WriteLine("unknown mode " + mode);
return 2;
