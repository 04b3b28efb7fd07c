// The .NET side of benchmarks/bench_sendto.py: the same workload (32-byte UDP
// datagrams to a loopback receiver that never reads), timed inside the process.
// Usage: SendToBench.exe WAY COUNT   (WAY: sync | begin_64)
// Prints one JSON line: {"rate": datagrams per second}.
using System;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Threading;

static class SendToBench
{
    static int Main(string[] args)
    {
        string way = args.Length > 0 ? args[0] : "begin_64";
        int n = args.Length > 1 ? int.Parse(args[1]) : 200000;
        var payload = new byte[32];
        var receiver = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        receiver.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        EndPoint target = receiver.LocalEndPoint;
        var sender = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        var watch = Stopwatch.StartNew();
        if (way == "sync")
        {
            for (int i = 0; i < n; i++) sender.SendTo(payload, 0, 32, SocketFlags.None, target);
        }
        else
        {
            // 64 in flight, each callback calls EndSendTo; the caller keeps 64 outstanding.
            var slots = new SemaphoreSlim(64);
            var done = new ManualResetEvent(false);
            int completed = 0;
            AsyncCallback callback = ar =>
            {
                ((Socket)ar.AsyncState).EndSendTo(ar);
                slots.Release();
                if (Interlocked.Increment(ref completed) == n) done.Set();
            };
            for (int i = 0; i < n; i++)
            {
                slots.Wait();
                sender.BeginSendTo(payload, 0, 32, SocketFlags.None, target, callback, sender);
            }
            if (!done.WaitOne(120000)) { Console.Error.WriteLine("timed out"); return 1; }
        }
        double rate = n / watch.Elapsed.TotalSeconds;
        Console.WriteLine("{\"rate\": " + rate.ToString(System.Globalization.CultureInfo.InvariantCulture) + "}");
        sender.Close();
        receiver.Close();
        return 0;
    }
}
