using Microsoft.Data.Sqlite;
using PolicyEngine.Sqlite;
using PolicyEngine.Stores.Tests;
using PolicyEngine.Tests.Approvals;

namespace PolicyEngine.Sqlite.Tests;

public sealed class SqliteApprovalStoreTests : ApprovalQueueContractTests, IDisposable
{
    private readonly List<string> _paths = [];

    protected override IApprovalQueue CreateStore()
    {
        var path = StoreTestEnvironment.TempDatabasePath();
        _paths.Add(path);
        return new SqliteApprovalStore(path);
    }

    protected override IApprovalQueue? Reopen(IApprovalQueue store)
    {
        SqliteConnection.ClearAllPools();
        return new SqliteApprovalStore(((SqliteApprovalStore)store).Path);
    }

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        foreach (var path in _paths)
        {
            StoreTestEnvironment.DeleteDatabase(path);
        }
    }
}
